"""The audit trail: who did what to which record. Never content.

Events form a hash chain: each carries a sequence number and a MAC over the
previous event's MAC and its own fields, keyed with the audit key from the key
file. An edited, inserted or deleted event breaks the chain.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from journal.db import Base, UTCDateTime, UUIDPrimaryKey, utcnow


class AuditEvent(UUIDPrimaryKey, Base):
    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[uuid.UUID | None]
    subject_id: Mapped[uuid.UUID | None]  # the patient whose record it is
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    address: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    mac: Mapped[str | None] = mapped_column(String(64))

    # The admin's trail pages newest first by (at, id), filtered by a person, an action
    # or a patient: each filter has an index in that order (migration 0020).
    __table_args__ = (
        Index("ix_audit_events_subject_at", "subject_id", "at"),
        Index("ix_audit_events_at_id", "at", "id"),
        Index("ix_audit_events_actor_at", "actor_id", "at", "id"),
        Index("ix_audit_events_action_at", "action", "at", "id"),
    )


class AuditHead(Base):
    """The end of the chain; locked while an event is appended."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    mac: Mapped[str] = mapped_column(String(64))
