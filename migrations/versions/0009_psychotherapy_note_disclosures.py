"""psychotherapy note disclosures

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('note_disclosures',
    sa.Column('course_id', sa.Uuid(), nullable=False),
    sa.Column('exported_by', sa.Uuid(), nullable=False),
    sa.Column('exported_at', journal.db.UTCDateTime(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.LargeBinary(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_note_disclosures_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exported_by'], ['users.id'], name=op.f('fk_note_disclosures_exported_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_disclosures'))
    )
    with op.batch_alter_table('note_disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_disclosures_course_id'), ['course_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('note_disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_disclosures_course_id'))

    op.drop_table('note_disclosures')
