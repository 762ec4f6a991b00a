"""screening items and consent

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('consents',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=False),
    sa.Column('updated_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_consents_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_consents_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents')),
    sa.UniqueConstraint('course_id', name=op.f('uq_consents_course_id'))
    )
    op.create_table('consent_versions',
    sa.Column('consent_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('consent_version', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('saved_by', sa.Uuid(), nullable=False),
    sa.Column('saved_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_consent_versions_consent_id_consents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_consent_versions_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by'], ['users.id'], name=op.f('fk_consent_versions_saved_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_versions')),
    sa.UniqueConstraint('consent_id', 'consent_version', name=op.f('uq_consent_versions_consent_id'))
    )
    with op.batch_alter_table('consent_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_versions_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_versions_course_id'), ['course_id'], unique=False)

    op.create_table('screening_rechecks',
    sa.Column('screening_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('checked_by', sa.Uuid(), nullable=False),
    sa.Column('checked_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['checked_by'], ['users.id'], name=op.f('fk_screening_rechecks_checked_by_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_screening_rechecks_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['screening_id'], ['screenings.id'], name=op.f('fk_screening_rechecks_screening_id_screenings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['dosing_sessions.id'], name=op.f('fk_screening_rechecks_session_id_dosing_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_rechecks'))
    )
    with op.batch_alter_table('screening_rechecks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_rechecks_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_rechecks_screening_id'), ['screening_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_rechecks_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('screening_rechecks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_rechecks_session_id'))
        batch_op.drop_index(batch_op.f('ix_screening_rechecks_screening_id'))
        batch_op.drop_index(batch_op.f('ix_screening_rechecks_course_id'))

    op.drop_table('screening_rechecks')
    with op.batch_alter_table('consent_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_versions_course_id'))
        batch_op.drop_index(batch_op.f('ix_consent_versions_consent_id'))

    op.drop_table('consent_versions')
    op.drop_table('consents')
