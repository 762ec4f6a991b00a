"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.String(length=20), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_id', sa.Uuid(), nullable=True),
    sa.Column('subject_id', sa.Uuid(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_subject_at', ['subject_id', 'at'], unique=False)

    op.create_table('master_keys',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('check_value', sa.String(length=64), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('retired_at', journal.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_master_keys'))
    )
    op.create_table('users',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.Enum('admin', 'clinician', 'patient', name='role', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', journal.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('courses',
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('active', 'closed', name='coursestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('indication', sa.LargeBinary(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['users.id'], name=op.f('fk_courses_patient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses'))
    )
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_courses_patient_id'), ['patient_id'], unique=False)

    op.create_table('data_keys',
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('scope', sa.Enum('journal', name='keyscope', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('master_key_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('retired_at', journal.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['master_key_id'], ['master_keys.id'], name=op.f('fk_data_keys_master_key_id_master_keys')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_data_keys_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_keys'))
    )
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_keys_owner_id'), ['owner_id'], unique=False)

    op.create_table('login_sessions',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('ended_at', journal.db.UTCDateTime(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_login_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('care_team_members',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('clinician_id', sa.Uuid(), nullable=False),
    sa.Column('added_at', journal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], name=op.f('fk_care_team_members_clinician_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_care_team_members_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('course_id', 'clinician_id', name=op.f('pk_care_team_members'))
    )
    with op.batch_alter_table('care_team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_team_members_clinician_id'), ['clinician_id'], unique=False)

    op.create_table('dosing_sessions',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('scheduled_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'completed', 'cancelled', name='sessionstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_dosing_sessions_course_id_courses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dosing_sessions'))
    )
    with op.batch_alter_table('dosing_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dosing_sessions_course_id'), ['course_id'], unique=False)

    op.create_table('entries',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('phase', sa.Enum('preparation', 'in_session', 'integration', name='phase', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('visibility', sa.Enum('private', 'care_team', 'clinician_only', name='visibility', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('title', sa.LargeBinary(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('mood', sa.LargeBinary(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_entries_author_id_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_entries_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['dosing_sessions.id'], name=op.f('fk_entries_session_id_dosing_sessions')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_entries_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_entries_course_created', ['course_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_entries_session_id'), ['session_id'], unique=False)

    op.create_table('entry_revisions',
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('entry_version', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('preparation', 'in_session', 'integration', name='phase', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('visibility', sa.Enum('private', 'care_team', 'clinician_only', name='visibility', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('title', sa.LargeBinary(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('mood', sa.LargeBinary(), nullable=True),
    sa.Column('written_by', sa.Uuid(), nullable=False),
    sa.Column('written_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_revisions_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['written_by'], ['users.id'], name=op.f('fk_entry_revisions_written_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entry_revisions'))
    )
    with op.batch_alter_table('entry_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_revisions_entry_id'), ['entry_id'], unique=False)

    op.create_table('intentions',
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_intentions_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_intentions_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intentions'))
    )
    with op.batch_alter_table('intentions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intentions_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intentions_entry_id'), ['entry_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('intentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intentions_entry_id'))
        batch_op.drop_index(batch_op.f('ix_intentions_course_id'))

    op.drop_table('intentions')
    with op.batch_alter_table('entry_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_revisions_entry_id'))

    op.drop_table('entry_revisions')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_session_id'))
        batch_op.drop_index('ix_entries_course_created')
        batch_op.drop_index(batch_op.f('ix_entries_author_id'))

    op.drop_table('entries')
    with op.batch_alter_table('dosing_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dosing_sessions_course_id'))

    op.drop_table('dosing_sessions')
    with op.batch_alter_table('care_team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_team_members_clinician_id'))

    op.drop_table('care_team_members')
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))

    op.drop_table('login_sessions')
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_keys_owner_id'))

    op.drop_table('data_keys')
    with op.batch_alter_table('courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_courses_patient_id'))

    op.drop_table('courses')
    op.drop_table('users')
    op.drop_table('master_keys')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject_at')

    op.drop_table('audit_events')
