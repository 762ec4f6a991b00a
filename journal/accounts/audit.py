"""Audit events: who, role, action, object, outcome, time, address. No content.

Each event is appended to a hash chain (see journal.models.audit): the chain's
head row is locked while appending, so concurrent writers on several servers
still produce one unbroken sequence.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journal.core.actor import Actor
from journal.core.labels import N_
from journal.core.work import Work
from journal.crypto import audit_chain_mac
from journal.db import new_id, utcnow, write_soon
from journal.models import AuditEvent, AuditHead, User

GENESIS = "0" * 64
STAFF_SEARCH = "staff_search"  # object type: a search that showed clinician-only entries only
AUDIT_KEY = "audit_key"


def _key(db: Session) -> bytes:
    key = db.info.get(AUDIT_KEY)
    if not key:
        raise RuntimeError("this database session has no audit key")
    return bytes(key)


def _fields(event: AuditEvent) -> str:
    values = (
        event.seq,
        event.at.isoformat(),
        event.actor_id,
        event.actor_role,
        event.action,
        event.object_type,
        event.object_id,
        event.subject_id,
        event.outcome,
        event.address,
    )
    return "|".join("" if v is None else str(v) for v in values)


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
    """Append an event to the chain in the current transaction (the caller commits)."""
    key = _key(db)
    head = db.scalar(select(AuditHead).where(AuditHead.id == 1).with_for_update())
    if head is None:
        head = AuditHead(id=1, seq=0, mac=GENESIS)
        db.add(head)
    who = actor.user if actor else user
    event = AuditEvent(
        id=new_id(),
        at=utcnow(),
        actor_id=who.id if who else None,
        actor_role=who.role.value if who else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        subject_id=subject_id,
        outcome=outcome,
        address=actor.address if actor else address,
        seq=head.seq + 1,
    )
    event.mac = audit_chain_mac(key, head.mac, _fields(event))
    head.seq, head.mac = event.seq or 0, event.mac
    db.add(event)
    db.flush()


def record_read(
    work: Work,
    *,
    object_type: str,
    object_id: uuid.UUID,
    subject_id: uuid.UUID,
    action: str = "read",
) -> None:
    """Record a read (or an export: `action`): at once in a unit of work that writes,
    at the end of one that reads (journal.db.write_soon). Either way the event is
    committed before the response leaves, or the response is an error page."""

    def write(db: Session) -> None:
        record(
            db,
            action,
            actor=work.actor,
            object_type=object_type,
            object_id=object_id,
            subject_id=subject_id,
        )

    write_soon(work.db, write)


@dataclass(frozen=True)
class ChainReport:
    events: int
    intact: bool
    problem: str = ""


def verify_chain(db: Session) -> ChainReport:
    """Walk the whole chain; report the first event that does not fit."""
    key = _key(db)
    previous, expected_seq, count = GENESIS, 1, 0
    for event in _in_order(db):
        count += 1
        if event.seq != expected_seq:
            # Event numbers read as written in the trail, without a thousands mark.
            missing = N_(
                "event %(seq)s is missing (found %(found)s)",
                seq=str(expected_seq),
                found=str(event.seq),
            )
            return ChainReport(count, False, missing)
        if event.mac != audit_chain_mac(key, previous, _fields(event)):
            return ChainReport(count, False, N_("event %(seq)s was changed", seq=str(event.seq)))
        previous, expected_seq = event.mac, expected_seq + 1
    head = db.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.mac != previous):
        ends = N_(
            "the chain ends at %(last)s, not %(head)s",
            last=str(expected_seq - 1),
            head=str(head.seq),
        )
        return ChainReport(count, False, ends)
    unchained = db.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) or 0
    if unchained:
        return ChainReport(
            count, False, N_("%(num)s events are outside the chain", num=str(unchained))
        )
    return ChainReport(count, True)


def _in_order(db: Session) -> Iterator[AuditEvent]:
    yield from db.scalars(
        select(AuditEvent)
        .where(AuditEvent.seq.is_not(None))
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=1000)
    )
