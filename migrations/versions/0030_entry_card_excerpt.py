"""entry card excerpt

Each entry's card excerpt, sealed with its words when it is saved, so that the
timeline does not render every card's Markdown on every read. Entries saved before
this revision have none; their excerpt is made when they are read, as before.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column: added in place on every database (no table copy).
    op.add_column("entries", sa.Column("excerpt", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("entries", "excerpt")
