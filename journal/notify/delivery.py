"""Sending the messages the journal has written, from the worker.

Each message is a row (journal.models.messages). A job claims it (pending ->
sending) in its own transaction before anything leaves, so two workers, or a job
and its retry, never send it twice; a failure puts it back to pending and the job
is retried with growing waits; after the last try it is dead, on the admin's list,
to be sent again by hand. A worker that stops in the middle of a send leaves the
row "sending": the periodic scan moves it to the dead list rather than guess, so a
message is sent at most once and never silently dropped.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update

from journal.accounts import audit, invitations
from journal.core.mail import LINK, Attachment, compose, deliver
from journal.core.work import Work
from journal.db import utcnow
from journal.models.messages import DEAD, PENDING, SENDING, SENT, Message
from journal.notify import reminders, words_for

REMINDER = "reminder_"

log = logging.getLogger(__name__)

TRIES = 6  # by default with waits of 30 s, 1, 2, 4 and 8 minutes between them
# Untried this long after it was written, or after its last try (longer than the
# queue's own longest wait between tries): its job was lost, hand it over again.
HAND_OVER_AFTER = timedelta(minutes=10)
SENDING_AT_MOST = timedelta(minutes=10)  # claimed this long ago: the worker stopped


def _language(work: Work, message: Message) -> str:
    """The language the message was written in: its reader's, found as it was."""
    return words_for(work, message.to_user_id, message.to_address).language


class SendFailed(Exception):
    """The server refused or could not be reached: the queue tries again later."""


UnitMaker = Callable[[], Work]


def send(unit: UnitMaker, message_id: uuid.UUID) -> None:
    """One attempt at one message. Raises SendFailed when another attempt should follow."""
    with unit() as work:
        claim = work.db.execute(
            update(Message)
            .where(Message.id == message_id, Message.status == PENDING)
            .values(status=SENDING, attempts=Message.attempts + 1, claimed_at=utcnow())
        )
        if not cast("CursorResult[Any]", claim).rowcount:
            return  # sent, being sent, or dead: nothing to do
        message = work.db.get(Message, message_id)
        assert message is not None and message.body is not None
        body = message.body
        if message.link_id is not None:
            token = invitations.issue_token(work.db, message.link_id)
            if token is None:  # used, replaced or out of time: nothing worth sending
                message.status, message.last_error = DEAD, "link no longer valid"
                return
            body = body.replace(LINK, invitations.link_url(work.settings.base_url, token))
        email = compose(
            work.settings,
            message.to_address,
            message.subject,
            body,
            message.key,
            _list_headers(work, message),
            _attachment(message),
            _language(work, message),
        )
        settings, attempts = work.settings, message.attempts
    try:
        deliver(settings, email)
    except (OSError, smtplib.SMTPException) as exc:
        failed = DEAD if attempts >= TRIES else PENDING
        with unit() as work:
            work.db.execute(
                update(Message)
                .where(Message.id == message_id)
                .values(status=failed, last_error=type(exc).__name__)
            )
        log.warning("message not sent (attempt %s): %s", attempts, type(exc).__name__)
        if failed == PENDING:
            raise SendFailed(type(exc).__name__) from None
        return
    with unit() as work:
        work.db.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(status=SENT, sent_at=utcnow(), body=None, attachment=None, last_error=None)
        )
        sent = work.db.get(Message, message_id)
        assert sent is not None
        audit.record(
            work.db,
            f"mail.{sent.kind}",
            object_type="message",
            object_id=sent.id,
            subject_id=sent.to_user_id,
        )


def _attachment(message: Message) -> Attachment | None:
    if message.attachment is None or not message.attachment_name:
        return None
    kind = message.attachment_type or "application/octet-stream"
    return Attachment(message.attachment_name, kind, message.attachment)


def _list_headers(work: Work, message: Message) -> dict[str, str]:
    """A reminder carries a one-click "no more of these" link (RFC 8058); an invitation,
    a reset or a safety alert never does."""
    kind = message.kind.removeprefix(REMINDER)
    if not message.kind.startswith(REMINDER) or message.to_user_id is None:
        return {}
    settings = work.settings
    token = reminders.unsubscribe_token(settings.read_secret_key(), message.to_user_id, kind)
    return {
        "List-Unsubscribe": f"<{settings.base_url}/reminders/off/{token}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def scan(unit: UnitMaker, enqueue: Callable[[uuid.UUID], None]) -> None:
    """The periodic look: hand over what waits too long, and give up on interrupted sends."""
    now = utcnow()
    with unit() as work:
        work.db.execute(
            update(Message)
            .where(Message.status == SENDING, Message.claimed_at < now - SENDING_AT_MOST)
            .values(status=DEAD, last_error="interrupted")
        )
        waiting = list(
            work.db.scalars(
                select(Message.id).where(
                    Message.status == PENDING,
                    func.coalesce(Message.claimed_at, Message.created_at) < now - HAND_OVER_AFTER,
                )
            )
        )
    for message_id in waiting:
        enqueue(message_id)
