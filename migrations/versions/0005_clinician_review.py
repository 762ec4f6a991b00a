"""clinician review, comments, notes and themes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('course_visits',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('seen_at', journal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_visits_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_course_visits_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'course_id', name=op.f('pk_course_visits'))
    )
    op.create_table('themes',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('people', 'feelings', 'images', 'places', name='themekind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('name', sa.LargeBinary(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_themes_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_themes_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_themes'))
    )
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_themes_course_id'), ['course_id'], unique=False)

    op.create_table('psychotherapy_notes',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_psychotherapy_notes_author_id_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_psychotherapy_notes_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['dosing_sessions.id'], name=op.f('fk_psychotherapy_notes_session_id_dosing_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_psychotherapy_notes'))
    )
    with op.batch_alter_table('psychotherapy_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_psychotherapy_notes_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_psychotherapy_notes_session_id'), ['session_id'], unique=False)

    op.create_table('comments',
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('visibility', sa.Enum('private', 'care_team', 'clinician_only', name='visibility', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('quote', sa.LargeBinary(), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_comments_author_id_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_comments_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_comments_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['comments.id'], name=op.f('fk_comments_parent_id_comments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_course_created', ['course_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_comments_parent_id'), ['parent_id'], unique=False)

    op.create_table('entry_reviews',
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('clinician_id', sa.Uuid(), nullable=False),
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('entry_version', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', journal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinician_id'], ['users.id'], name=op.f('fk_entry_reviews_clinician_id_users')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_entry_reviews_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_reviews_entry_id_entries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'clinician_id', name=op.f('pk_entry_reviews'))
    )
    with op.batch_alter_table('entry_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_reviews_course_id'), ['course_id'], unique=False)

    op.create_table('entry_themes',
    sa.Column('entry_id', sa.Uuid(), nullable=False),
    sa.Column('theme_id', sa.Uuid(), nullable=False),
    sa.Column('added_by', sa.Uuid(), nullable=False),
    sa.Column('added_at', journal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['added_by'], ['users.id'], name=op.f('fk_entry_themes_added_by_users')),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], name=op.f('fk_entry_themes_entry_id_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_entry_themes_theme_id_themes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('entry_id', 'theme_id', name=op.f('pk_entry_themes'))
    )
    with op.batch_alter_table('entry_themes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_themes_theme_id'), ['theme_id'], unique=False)

    op.create_table('comment_reads',
    sa.Column('comment_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('read_at', journal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_comment_reads_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_comment_reads_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('comment_id', 'user_id', name=op.f('pk_comment_reads'))
    )
    # Data keys gain a second scope: psychotherapy notes have keys of their own.
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_data_keys_keyscope'), type_='check')
        batch_op.create_check_constraint('keyscope', "scope IN ('journal', 'notes')")


def downgrade() -> None:
    op.drop_table('comment_reads')
    with op.batch_alter_table('entry_themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_themes_theme_id'))

    op.drop_table('entry_themes')
    with op.batch_alter_table('entry_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_reviews_course_id'))

    op.drop_table('entry_reviews')
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comments_parent_id'))
        batch_op.drop_index(batch_op.f('ix_comments_entry_id'))
        batch_op.drop_index('ix_comments_course_created')

    op.drop_table('comments')
    with op.batch_alter_table('psychotherapy_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_psychotherapy_notes_session_id'))
        batch_op.drop_index(batch_op.f('ix_psychotherapy_notes_course_id'))

    op.drop_table('psychotherapy_notes')
    with op.batch_alter_table('themes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_themes_course_id'))

    op.drop_table('themes')
    op.drop_table('course_visits')
    op.execute("DELETE FROM data_keys WHERE scope = 'notes'")
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_data_keys_keyscope'), type_='check')
        batch_op.create_check_constraint('keyscope', "scope IN ('journal')")
