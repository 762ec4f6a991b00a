"""The admin's view of the messages: who, what kind, when, whether it went. Never a
message's words (an invitation's words hold the person's one-time link)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

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
