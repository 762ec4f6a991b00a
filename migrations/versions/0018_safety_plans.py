"""safety plans

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('safety_plans',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=False),
    sa.Column('updated_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_safety_plans_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_safety_plans_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plans')),
    sa.UniqueConstraint('course_id', name=op.f('uq_safety_plans_course_id'))
    )
    op.create_table('safety_plan_versions',
    sa.Column('plan_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('saved_by', sa.Uuid(), nullable=False),
    sa.Column('saved_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_safety_plan_versions_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['safety_plans.id'], name=op.f('fk_safety_plan_versions_plan_id_safety_plans'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by'], ['users.id'], name=op.f('fk_safety_plan_versions_saved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_safety_plan_versions')),
    sa.UniqueConstraint('plan_id', 'plan_version', name=op.f('uq_safety_plan_versions_plan_id'))
    )
    with op.batch_alter_table('safety_plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_safety_plan_versions_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_safety_plan_versions_plan_id'), ['plan_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('safety_plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_safety_plan_versions_plan_id'))
        batch_op.drop_index(batch_op.f('ix_safety_plan_versions_course_id'))

    op.drop_table('safety_plan_versions')
    op.drop_table('safety_plans')
