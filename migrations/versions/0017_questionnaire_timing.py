"""questionnaire timing

New cadences (after each session, end of course, follow-ups at months after
the course's end) and, on every answered questionnaire, the due moment it
answers: `slot` (and `follow_up_month`), and `slot_key`, unique within the
assignment, so each moment is filed once.

Existing responses keep their session: none is re-filed. One with a session
is recorded as answering "before" that session (the only per-session cadence
there was), one without as answering "once", even where the old rule filed an
answer given during session 1 under session 2. Should two old responses claim
the same moment (two answers sent at the same instant), the later ones keep
their session and kind under a key of their own ("legacy:<response id>").

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_CADENCES = "cadence IN ('once', 'before_each_session')"
NEW_CADENCES = (
    "cadence IN ('once', 'before_each_session', 'after_each_session', 'end_of_course',"
    " 'follow_up')"
)
SLOTS = (
    "slot IN ('once', 'before_session', 'after_session', 'end_of_course', 'follow_up')"
)

responses = sa.table(
    'questionnaire_responses',
    sa.column('id', sa.Uuid()),
    sa.column('session_id', sa.Uuid()),
    sa.column('submitted_at', sa.DateTime()),
    sa.column('assignment_id', sa.Uuid()),
    sa.column('slot', sa.String(20)),
    sa.column('slot_key', sa.String(50)),
)


def upgrade() -> None:
    with op.batch_alter_table('questionnaire_assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follow_up_months', sa.String(length=40), nullable=True))
        batch_op.drop_constraint(op.f('ck_questionnaire_assignments_cadence'), type_='check')
        batch_op.create_check_constraint('cadence', NEW_CADENCES)

    with op.batch_alter_table('questionnaire_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('follow_up_month', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('slot_key', sa.String(length=50), nullable=True))

    conn = op.get_bind()
    taken: set[tuple[object, str]] = set()
    rows = conn.execute(
        sa.select(responses.c.id, responses.c.assignment_id, responses.c.session_id).order_by(
            responses.c.submitted_at, responses.c.id
        )
    ).all()
    for response_id, assignment_id, session_id in rows:
        slot, key = ('before_session', f'before:{session_id}') if session_id else ('once', 'once')
        if (assignment_id, key) in taken:
            key = f'legacy:{response_id}'
        taken.add((assignment_id, key))
        conn.execute(
            responses.update()
            .where(responses.c.id == response_id)
            .values(slot=slot, slot_key=key)
        )

    with op.batch_alter_table('questionnaire_responses', schema=None) as batch_op:
        batch_op.alter_column('slot', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('slot_key', existing_type=sa.String(length=50), nullable=False)
        batch_op.create_check_constraint('questionnaireslot', SLOTS)
        batch_op.create_unique_constraint(
            batch_op.f('uq_questionnaire_responses_assignment_id'), ['assignment_id', 'slot_key']
        )


def downgrade() -> None:
    conn = op.get_bind()
    newer = conn.execute(
        sa.text(
            "SELECT count(*) FROM questionnaire_assignments WHERE cadence NOT IN"
            " ('once', 'before_each_session')"
        )
    ).scalar()
    if newer:
        raise RuntimeError(
            "questionnaires are assigned with cadences revision 0016 cannot hold: "
            "stop those assignments (and delete them) before going back"
        )
    with op.batch_alter_table('questionnaire_responses', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_questionnaire_responses_assignment_id'), type_='unique'
        )
        batch_op.drop_constraint(
            op.f('ck_questionnaire_responses_questionnaireslot'), type_='check'
        )
        batch_op.drop_column('slot_key')
        batch_op.drop_column('follow_up_month')
        batch_op.drop_column('slot')

    with op.batch_alter_table('questionnaire_assignments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_questionnaire_assignments_cadence'), type_='check')
        batch_op.create_check_constraint('cadence', OLD_CADENCES)
        batch_op.drop_column('follow_up_months')
