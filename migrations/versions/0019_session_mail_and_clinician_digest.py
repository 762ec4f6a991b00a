"""session mail and clinician digest

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # An appointment's calendar file travels with its message until it is sent.
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('attachment_name', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('attachment_type', sa.String(length=100), nullable=True))
        batch.add_column(sa.Column('attachment', sa.Text(), nullable=True))
    # A clinician's daily digest hour; rows so far are patients', for whom it means nothing.
    with op.batch_alter_table('reminder_preferences') as batch:
        batch.add_column(sa.Column('digest_hour', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reminder_preferences') as batch:
        batch.drop_column('digest_hour')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('attachment')
        batch.drop_column('attachment_type')
        batch.drop_column('attachment_name')
