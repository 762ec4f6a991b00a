"""clinical amendments

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('clinical_versions',
    sa.Column('kind', sa.Enum('session_record', 'screening', name='versionkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('object_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('object_version', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('saved_by', sa.Uuid(), nullable=False),
    sa.Column('saved_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_clinical_versions_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by'], ['users.id'], name=op.f('fk_clinical_versions_saved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinical_versions')),
    sa.UniqueConstraint('kind', 'object_id', 'object_version', name=op.f('uq_clinical_versions_kind'))
    )
    with op.batch_alter_table('clinical_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinical_versions_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinical_versions_object_id'), ['object_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('clinical_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinical_versions_object_id'))
        batch_op.drop_index(batch_op.f('ix_clinical_versions_course_id'))

    op.drop_table('clinical_versions')
