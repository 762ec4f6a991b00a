"""shared erasure ledger

No schema change: the erasure ledger must outlive a restore of an older database, so
it stays in the key folder (on storage every app server mounts when there are
several), never in a table; see docs/security.md, "Several servers: one key folder".

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

from collections.abc import Sequence

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass  # nothing in the database changes


def downgrade() -> None:
    pass
