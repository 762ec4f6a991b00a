"""The admin's view of the messages: who, what kind, when, whether it went. Never a
message's words. Reminders, appointment notices, digests and safety alerts are only
counted: one by one, their times would tell a patient's dosing days, or which
clinician has a patient whose journal raised a flag."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, not_, or_, select, update

from journal.accounts import audit
from journal.accounts.policy import administers, require
from journal.core.errors import NotFound
from journal.core.work import Work
from journal.db import atomic
from journal.models.messages import DEAD, PENDING, Message

LIMIT = 200


@dataclass(frozen=True)
class MessageRow:
    id: uuid.UUID
    kind: str
    to: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


# An appointment notice's time would tell when a dosing session was booked or moved,
# and a digest who has patients: counted, like the reminders and alerts.
COUNTED_ONLY = (
    Message.kind.like("reminder_%"),
    Message.kind.in_(("safety_alert", "session_notice", "digest")),
)


@dataclass(frozen=True)
class Counts:
    sent: int
    waiting: int
    dead: int


def counted(work: Work) -> Counts:
    """Reminders and safety alerts, by state."""
    require(administers(work.actor.user))
    by_status = dict(
        work.db.execute(
            select(Message.status, func.count()).where(or_(*COUNTED_ONLY)).group_by(Message.status)
        ).all()
    )
    waiting = by_status.get(PENDING, 0) + by_status.get("sending", 0)
    return Counts(by_status.get("sent", 0), waiting, by_status.get(DEAD, 0))


@atomic
def send_counted_again(work: Work) -> int:
    """Every reminder and alert not sent goes back to the queue."""
    require(administers(work.actor.user))
    ids = list(
        work.db.scalars(select(Message.id).where(or_(*COUNTED_ONLY), Message.status == DEAD))
    )
    for message_id in ids:
        _requeue(work, message_id)
    return len(ids)


def recent(work: Work) -> list[MessageRow]:
    require(administers(work.actor.user))
    rows = work.db.execute(
        select(
            Message.id,
            Message.kind,
            Message.to_address,
            Message.subject,
            Message.status,
            Message.attempts,
            Message.last_error,
            Message.created_at,
            Message.sent_at,
        )
        .where(not_(or_(*COUNTED_ONLY)))
        .order_by(Message.created_at.desc())
        .limit(LIMIT)
    )
    return [MessageRow(*row) for row in rows]


@atomic
def send_again(work: Work, message_id: uuid.UUID) -> None:
    """A dead message goes back to the queue, with its tries counted afresh."""
    require(administers(work.actor.user))
    message = work.db.get(Message, message_id)
    if message is None or message.status != DEAD:
        raise NotFound()
    _requeue(work, message_id)


def _requeue(work: Work, message_id: uuid.UUID) -> None:
    message = work.db.get(Message, message_id)
    assert message is not None
    work.db.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status=PENDING, attempts=0, claimed_at=None, last_error=None)
    )
    audit.record(
        work.db,
        "mail.retry",
        actor=work.actor,
        object_type="message",
        object_id=message_id,
        subject_id=message.to_user_id,
    )
    work.hand_over(message_id)
