"""covering indexes for the caseload and timeline counts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_course_updated', ['course_id', 'updated_at', 'author_id', 'visibility'], unique=False)
        batch_op.create_index('ix_entries_course_author', ['course_id', 'author_id', 'visibility', 'version', 'id', 'session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_course_author')
        batch_op.drop_index('ix_entries_course_updated')
