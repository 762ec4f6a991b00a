"""flag acknowledgement notes

A safety flag is acknowledged with what was done (a choice and the clinician's
words), sealed with the patient's key in `safety_flags.acknowledgement`. Flags
acknowledged before this revision keep who and when, and have no note.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("safety_flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledgement", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("safety_flags", schema=None) as batch_op:
        batch_op.drop_column("acknowledgement")
