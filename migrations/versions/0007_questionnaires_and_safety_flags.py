"""questionnaires and safety flags

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('questionnaire_assignments',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('cadence', sa.Enum('once', 'before_each_session', name='cadence', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('assigned_by', sa.Uuid(), nullable=False),
    sa.Column('assigned_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('ended_at', journal.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by'], ['users.id'], name=op.f('fk_questionnaire_assignments_assigned_by_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_questionnaire_assignments_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_assignments'))
    )
    with op.batch_alter_table('questionnaire_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_assignments_course_id'), ['course_id'], unique=False)

    op.create_table('questionnaire_responses',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('assignment_id', sa.Uuid(), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('result', sa.LargeBinary(), nullable=False),
    sa.Column('submitted_by', sa.Uuid(), nullable=False),
    sa.Column('submitted_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['questionnaire_assignments.id'], name=op.f('fk_questionnaire_responses_assignment_id_questionnaire_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_questionnaire_responses_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['dosing_sessions.id'], name=op.f('fk_questionnaire_responses_session_id_dosing_sessions')),
    sa.ForeignKeyConstraint(['submitted_by'], ['users.id'], name=op.f('fk_questionnaire_responses_submitted_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_responses'))
    )
    with op.batch_alter_table('questionnaire_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questionnaire_responses_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index('ix_questionnaire_responses_course_at', ['course_id', 'submitted_at'], unique=False)

    op.create_table('safety_flags',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('detail', sa.LargeBinary(), nullable=False),
    sa.Column('raised_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('acknowledged_by', sa.Uuid(), nullable=True),
    sa.Column('acknowledged_at', journal.db.UTCDateTime(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['acknowledged_by'], ['users.id'], name=op.f('fk_safety_flags_acknowledged_by_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_safety_flags_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_id'], ['questionnaire_responses.id'], name=op.f('fk_safety_flags_response_id_questionnaire_responses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_flags'))
    )
    with op.batch_alter_table('safety_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_flags_course_id'), ['course_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('safety_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_flags_course_id'))

    op.drop_table('safety_flags')
    with op.batch_alter_table('questionnaire_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_questionnaire_responses_course_at')
        batch_op.drop_index(batch_op.f('ix_questionnaire_responses_assignment_id'))

    op.drop_table('questionnaire_responses')
    with op.batch_alter_table('questionnaire_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questionnaire_assignments_course_id'))

    op.drop_table('questionnaire_assignments')
