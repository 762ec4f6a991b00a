"""sealed flag sources and erasure reasons

What raised a safety flag (its response, and so its questionnaire, and its time)
and an erasure's reason move out of clear columns into sealed ones. A migration
holds no keys: this revision adds the sealed columns and keeps the clear values,
renamed `legacy_*` and nullable, for `flask init` to seal and empty right after
migrating (journal.bootstrap.initialise). Erasure reasons are sealed with the
erasing admin's key of a new scope, `admin`.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Data keys gain a third scope: what an admin records about a patient.
    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_data_keys_keyscope'), type_='check')
        batch_op.create_check_constraint('keyscope', "scope IN ('journal', 'notes', 'admin')")

    with op.batch_alter_table('safety_flags', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_safety_flags_response_id_questionnaire_responses'), type_='foreignkey'
        )
        batch_op.alter_column(
            'response_id',
            new_column_name='legacy_response_id',
            existing_type=sa.Uuid(),
            nullable=True,
        )
        batch_op.alter_column(
            'raised_at',
            new_column_name='legacy_raised_at',
            existing_type=sa.DateTime(),
            nullable=True,
        )
        batch_op.add_column(sa.Column('source', sa.LargeBinary(), nullable=True))

    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.alter_column(
            'reason',
            new_column_name='legacy_reason',
            existing_type=sa.String(length=200),
            nullable=True,
        )
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column('version', sa.Integer(), nullable=False, server_default=sa.text('1'))
        )


def downgrade() -> None:
    # A sealed value cannot go back into clear without the keys, which a migration
    # does not hold: refuse rather than lose a flag's source or an erasure's reason.
    conn = op.get_bind()
    sealed = conn.execute(
        sa.text(
            "SELECT (SELECT COUNT(*) FROM safety_flags WHERE legacy_raised_at IS NULL)"
            " + (SELECT COUNT(*) FROM erasures WHERE legacy_reason IS NULL)"
        )
    ).scalar()
    if sealed:
        raise RuntimeError(
            f"{sealed} safety flags or erasure reasons are stored only sealed;"
            " revision 0013 cannot be downgraded without losing them"
        )
    op.execute("DELETE FROM data_keys WHERE scope = 'admin'")
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.drop_column('version')
        batch_op.drop_column('reason')
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.alter_column(
            'legacy_reason',
            new_column_name='reason',
            existing_type=sa.String(length=200),
            nullable=False,
        )

    with op.batch_alter_table('safety_flags', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.alter_column(
            'legacy_raised_at',
            new_column_name='raised_at',
            existing_type=sa.DateTime(),
            nullable=False,
        )
        batch_op.alter_column(
            'legacy_response_id',
            new_column_name='response_id',
            existing_type=sa.Uuid(),
            nullable=False,
        )
    with op.batch_alter_table('safety_flags', schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f('fk_safety_flags_response_id_questionnaire_responses'),
            'questionnaire_responses',
            ['response_id'],
            ['id'],
            ondelete='CASCADE',
        )

    with op.batch_alter_table('data_keys', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_data_keys_keyscope'), type_='check')
        batch_op.create_check_constraint('keyscope', "scope IN ('journal', 'notes')")
