"""E-mail the journal sends: one row per message, so none is lost or sent twice.

A row is written in the transaction that causes the message; the worker claims it
(pending -> sending), sends it and marks it sent, dropping its text. What stays is
who it went to, what kind it was and when: never its words, which may hold a
one-time link.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
DIGEST_HOUR = 8  # a clinician who has chosen nothing gets the digest at 08:00, their time


class Message(UUIDPrimaryKey, Base):
    __tablename__ = "messages"

    # What makes a message one of a kind ("invite:<link id>", "reminder:<session>:<day>"):
    # a second row with the same key cannot be written.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    to_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)  # dropped once sent
    # A file sent with the message (an appointment's calendar file), dropped once sent.
    attachment_name: Mapped[str | None] = mapped_column(String(100))
    attachment_type: Mapped[str | None] = mapped_column(String(100))
    attachment: Mapped[str | None] = mapped_column(Text)
    # An invitation's or a reset's link: its secret is made by the worker as it sends, so
    # no copy of the database (or of a backup) ever holds a usable link.
    link_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("password_links.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))  # the error's kind only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReminderPreferences(Base):
    """What reminders a person wants, and when not to be disturbed (their own hours).
    No row: every reminder on, quiet from 21:00 to 08:00 in the clinic's time zone, and
    for a clinician the daily digest at 08:00."""

    __tablename__ = "reminder_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    preparation: Mapped[bool] = mapped_column(default=True)
    capture: Mapped[bool] = mapped_column(default=True)
    integration: Mapped[bool] = mapped_column(default=True)
    questionnaire: Mapped[bool] = mapped_column(default=True)
    quiet_from: Mapped[int] = mapped_column(default=21)  # hour, 0-23, local
    quiet_until: Mapped[int] = mapped_column(default=8)
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the clinic's
    # A clinician's daily digest: the local hour it is sent at, or None for no digest
    # (written only by the clinician's own choice; with no row, DIGEST_HOUR).
    digest_hour: Mapped[int | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
