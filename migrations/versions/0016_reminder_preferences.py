"""reminder preferences

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import journal.db

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reminder_preferences',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('preparation', sa.Boolean(), nullable=False),
    sa.Column('capture', sa.Boolean(), nullable=False),
    sa.Column('integration', sa.Boolean(), nullable=False),
    sa.Column('questionnaire', sa.Boolean(), nullable=False),
    sa.Column('quiet_from', sa.Integer(), nullable=False),
    sa.Column('quiet_until', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('updated_at', journal.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reminder_preferences'))
    )


def downgrade() -> None:
    op.drop_table('reminder_preferences')
