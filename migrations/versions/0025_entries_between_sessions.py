"""entries between sessions

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.alter_column('session_id', existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    # An entry written between sessions goes to the course's first session, the nearest
    # place the older schema has for it.
    op.execute(
        "UPDATE entries SET session_id = (SELECT s.id FROM dosing_sessions s"
        " WHERE s.course_id = entries.course_id ORDER BY s.scheduled_at LIMIT 1)"
        " WHERE session_id IS NULL"
    )
    left = op.get_bind().execute(
        sa.text("SELECT count(*) FROM entries WHERE session_id IS NULL")
    ).scalar_one()
    if left:
        raise RuntimeError(
            f"{left} entries belong to courses with no dosing session; schedule one first"
        )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.alter_column('session_id', existing_type=sa.Uuid(), nullable=False)
