"""guided prompts and intention outcomes

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('clinic_prompts',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('phase', sa.Enum('preparation', 'in_session', 'integration', name='phase', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('theme', sa.String(length=60), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('due', sa.String(length=30), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=False),
    sa.Column('updated_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_clinic_prompts_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinic_prompts')),
    sa.UniqueConstraint('key', name=op.f('uq_clinic_prompts_key'))
    )
    op.create_table('prompt_assignments',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('prompt_key', sa.String(length=80), nullable=False),
    sa.Column('phase', sa.Enum('preparation', 'in_session', 'integration', name='phase', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('assigned_by', sa.Uuid(), nullable=False),
    sa.Column('assigned_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('answered_entry_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['answered_entry_id'], ['entries.id'], name=op.f('fk_prompt_assignments_answered_entry_id_entries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assigned_by'], ['users.id'], name=op.f('fk_prompt_assignments_assigned_by_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_prompt_assignments_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['dosing_sessions.id'], name=op.f('fk_prompt_assignments_session_id_dosing_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_prompt_assignments')),
    sa.UniqueConstraint('session_id', 'prompt_key', name='uq_prompt_assignments_session_prompt')
    )
    with op.batch_alter_table('prompt_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompt_assignments_answered_entry_id'), ['answered_entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prompt_assignments_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_prompt_assignments_session_id'), ['session_id'], unique=False)

    op.create_table('intention_outcomes',
    sa.Column('intention_id', sa.Uuid(), nullable=False),
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('addressed', 'partly', 'not_yet', name='outcomestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('reflection', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_intention_outcomes_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_intention_outcomes_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['intention_id'], ['intentions.id'], name=op.f('fk_intention_outcomes_intention_id_intentions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intention_outcomes')),
    sa.UniqueConstraint('entry_id', 'intention_id', name='uq_intention_outcomes_entry_intention')
    )
    with op.batch_alter_table('intention_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intention_outcomes_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intention_outcomes_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intention_outcomes_intention_id'), ['intention_id'], unique=False)

    with op.batch_alter_table('intentions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('builds_on_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_intentions_builds_on_id_intentions'), 'intentions', ['builds_on_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('intentions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_intentions_builds_on_id_intentions'), type_='foreignkey')
        batch_op.drop_column('builds_on_id')

    with op.batch_alter_table('intention_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intention_outcomes_intention_id'))
        batch_op.drop_index(batch_op.f('ix_intention_outcomes_entry_id'))
        batch_op.drop_index(batch_op.f('ix_intention_outcomes_course_id'))

    op.drop_table('intention_outcomes')
    with op.batch_alter_table('prompt_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prompt_assignments_session_id'))
        batch_op.drop_index(batch_op.f('ix_prompt_assignments_course_id'))
        batch_op.drop_index(batch_op.f('ix_prompt_assignments_answered_entry_id'))

    op.drop_table('prompt_assignments')
    op.drop_table('clinic_prompts')
