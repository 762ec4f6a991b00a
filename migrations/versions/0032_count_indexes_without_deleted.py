"""count indexes without deleted entries

The covering indexes of the caseload's and the timeline's counts gain deleted_at,
which every count filters on since entries can be deleted (0026), so the counts are
read from the index alone again instead of from every row of the course; a partial
index finds a course's tombstones.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPDATED = ["course_id", "updated_at", "author_id", "visibility"]
AUTHOR = ["course_id", "author_id", "visibility", "version", "id", "session_id"]
DELETED = sa.text("deleted_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_entries_course_updated", table_name="entries")
    op.drop_index("ix_entries_course_author", table_name="entries")
    op.create_index("ix_entries_course_updated", "entries", [*UPDATED, "deleted_at"])
    op.create_index(
        "ix_entries_course_author", "entries", [*AUTHOR[:3], "deleted_at", *AUTHOR[3:]]
    )
    op.create_index(
        "ix_entries_tombstones",
        "entries",
        ["course_id", "created_at"],
        sqlite_where=DELETED,
        postgresql_where=DELETED,
    )


def downgrade() -> None:
    op.drop_index("ix_entries_tombstones", table_name="entries")
    op.drop_index("ix_entries_course_author", table_name="entries")
    op.drop_index("ix_entries_course_updated", table_name="entries")
    op.create_index("ix_entries_course_author", "entries", AUTHOR)
    op.create_index("ix_entries_course_updated", "entries", UPDATED)
