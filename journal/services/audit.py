"""Audit events: who, role, action, object, outcome, time, address. No content."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from journal.models import AuditEvent, User
from journal.services.actor import Actor


def record(
    db: Session,
    action: str,
    *,
    actor: Actor | None = None,
    user: User | None = None,
    object_type: str | None = None,
    object_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    outcome: str = "ok",
    address: str | None = None,
) -> None:
    """Add an event to the current transaction (the caller commits)."""
    who = actor.user if actor else user
    db.add(
        AuditEvent(
            actor_id=who.id if who else None,
            actor_role=who.role.value if who else None,
            action=action,
            object_type=object_type,
            object_id=object_id,
            subject_id=subject_id,
            outcome=outcome,
            address=actor.address if actor else address,
        )
    )


def record_read(
    db: Session,
    actor: Actor,
    *,
    object_type: str,
    object_id: uuid.UUID,
    subject_id: uuid.UUID,
) -> None:
    """Record a read in its own short write transaction.

    The read transaction is ended first: on SQLite, upgrading a read snapshot
    to a write can fail at once under concurrent writers, while a transaction
    that starts with the write waits on the busy timeout.
    """
    db.commit()
    record(
        db,
        "read",
        actor=actor,
        object_type=object_type,
        object_id=object_id,
        subject_id=subject_id,
    )
    db.commit()
