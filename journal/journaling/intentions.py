"""Intentions followed to outcomes across a course.

Intentions are set in preparation entries. An integration entry can record,
for any intention of the course its writer may read, how it went (addressed,
partly, not yet) with a short reflection, sealed with the patient's key. An
outcome is read only by those who may read the entry it was written in, so
the outcomes of a private entry stay with the patient. A new intention can
build on an earlier one of the same course.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import CourseAccess, course_access, readable_entries_clause
from journal.core.errors import ValidationError
from journal.core.labels import N_
from journal.core.limits import too_long
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import new_id, utcnow
from journal.models import (
    DosingSession,
    Entry,
    Intention,
    IntentionOutcome,
    OutcomeStatus,
    Phase,
    SessionStatus,
    User,
)

REFLECTION_MAX = 1000
REFLECTION_TOO_LONG = N_(
    "A reflection on an intention is %(length)s characters; the limit is %(limit)s. "
    "Nothing was saved yet."
)
OUTCOME_LABELS = {
    OutcomeStatus.ADDRESSED: N_("Addressed"),
    OutcomeStatus.PARTLY: N_("Partly"),
    OutcomeStatus.NOT_YET: N_("Not yet"),
}


@dataclass(frozen=True)
class OutcomeInput:
    status: OutcomeStatus
    reflection: str = ""


@dataclass(frozen=True)
class OutcomeView:
    entry_id: uuid.UUID
    session_number: int | None  # None: written between sessions
    status: OutcomeStatus
    reflection: str
    written_at: datetime
    author: str

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.status]


@dataclass(frozen=True)
class IntentionView:
    id: uuid.UUID
    text: str
    entry_id: uuid.UUID
    session_number: int | None  # None: set between sessions
    set_at: datetime
    builds_on_id: uuid.UUID | None
    # Its session is under way or over (an intention set between sessions counts as due).
    held: bool = True
    outcomes: list[OutcomeView] = field(default_factory=list)


def _readable_intentions(
    db: Session, access: CourseAccess
) -> list[tuple[Intention, Entry, DosingSession | None]]:
    return [
        (i, e, s)
        for i, e, s in db.execute(
            select(Intention, Entry, DosingSession)
            .join(Entry, Entry.id == Intention.entry_id)
            .outerjoin(DosingSession, DosingSession.id == Entry.session_id)
            .where(readable_entries_clause(access), Entry.phase == Phase.PREPARATION)
            .order_by(
                func.coalesce(DosingSession.scheduled_at, Entry.created_at),
                Entry.created_at,
                Intention.position,
            )
        ).all()
    ]


def _held(session: DosingSession | None, now: datetime) -> bool:
    return (
        session is None
        or session.scheduled_at <= now
        or session.status == (SessionStatus.COMPLETED)
    )


def readable_intention_refs(
    db: Session, access: CourseAccess, among: Collection[uuid.UUID] | None = None
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(intention id, its entry's id) for the intentions the reader may see,
    only those `among` the given ids when given.

    For checking a submitted form: the same rows as readable_intentions, but
    nothing is decrypted, and with `among` (the ids the form names) a save
    costs the same however many intentions the course has.
    """
    stmt = (
        select(Intention.id, Intention.entry_id)
        .join(Entry, Entry.id == Intention.entry_id)
        .where(readable_entries_clause(access), Entry.phase == Phase.PREPARATION)
    )
    if among is not None:
        if not among:
            return []  # a form naming no intention: nothing to look up
        stmt = stmt.where(Intention.id.in_(among))
    return [(row[0], row[1]) for row in db.execute(stmt)]


def readable_intentions(
    db: Session, vault: Vault, access: CourseAccess, now: datetime | None = None
) -> list[IntentionView]:
    """The course's intentions the reader may see, in session order (no outcomes)."""
    owner = access.course.patient_id
    now = now or utcnow()
    vault.preload([owner])
    return [
        IntentionView(
            id=i.id,
            text=vault.open_column(i, "text", owner),
            entry_id=e.id,
            session_number=s.number if s else None,
            set_at=e.created_at,
            builds_on_id=i.builds_on_id,
            held=_held(s, now),
        )
        for i, e, s in _readable_intentions(db, access)
    ]


def latest_statuses(
    db: Session, access: CourseAccess, ids: Collection[uuid.UUID], leave_out: uuid.UUID | None
) -> dict[uuid.UUID, OutcomeStatus]:
    """The newest outcome the reader may see for each intention (leaving out one entry's,
    the one being edited)."""
    if not ids:
        return {}
    stmt = (
        select(IntentionOutcome.intention_id, IntentionOutcome.status)
        .join(Entry, Entry.id == IntentionOutcome.entry_id)
        .where(IntentionOutcome.intention_id.in_(ids), readable_entries_clause(access))
        .order_by(Entry.created_at, IntentionOutcome.created_at)
    )
    if leave_out is not None:
        stmt = stmt.where(IntentionOutcome.entry_id != leave_out)
    return {row.intention_id: row.status for row in db.execute(stmt)}


def check_builds_on(
    db: Session, access: CourseAccess, intention_id: uuid.UUID, entry_id: uuid.UUID | None
) -> uuid.UUID:
    readable = {i.id: e.id for i, e, _ in _readable_intentions(db, access)}
    if intention_id not in readable or readable[intention_id] == entry_id:
        raise ValidationError({"builds_on": N_("Choose an earlier intention of this course.")})
    return intention_id


def check_outcomes(
    db: Session, access: CourseAccess, phase: Phase, outcomes: dict[uuid.UUID, OutcomeInput]
) -> None:
    if not outcomes:
        return
    if phase is not Phase.INTEGRATION:
        raise ValidationError({"outcomes": N_("How intentions went is recorded in integration.")})
    readable = {i.id for i, _, _ in _readable_intentions(db, access)}
    if not set(outcomes) <= readable:
        raise ValidationError(
            {"outcomes": N_("Record outcomes only for intentions of this course.")}
        )
    for o in outcomes.values():
        if problem := too_long(o.reflection, REFLECTION_MAX, REFLECTION_TOO_LONG):
            raise ValidationError({"outcomes": problem})


def store_outcomes(
    db: Session,
    vault: Vault,
    entry: Entry,
    owner: uuid.UUID,
    outcomes: dict[uuid.UUID, OutcomeInput],
    replace: bool,
) -> None:
    """Write the entry's outcomes (checked by check_outcomes); on edit, the form's set
    replaces the old one, keeping row ids of outcomes that stay."""
    existing = {
        o.intention_id: o
        for o in db.scalars(select(IntentionOutcome).where(IntentionOutcome.entry_id == entry.id))
    }
    for intention_id, data in outcomes.items():
        row = existing.pop(intention_id, None)
        if row is None:
            row = IntentionOutcome(
                id=new_id(),
                intention_id=intention_id,
                entry_id=entry.id,
                course_id=entry.course_id,
                version=1,
                created_at=entry.updated_at,
            )
            db.add(row)
        else:
            row.version += 1
        row.status = data.status
        reflection = data.reflection.strip()
        row.reflection = (
            vault.seal_column(row, "reflection", owner, reflection) if reflection else None
        )
    if replace:
        for row in existing.values():
            db.delete(row)


def outcomes_of_entry(
    db: Session, vault: Vault, owner: uuid.UUID, entry_id: uuid.UUID
) -> dict[uuid.UUID, OutcomeInput]:
    """An entry's outcomes (the caller has checked it may read the entry)."""
    return {
        o.intention_id: OutcomeInput(o.status, vault.open_optional(o, "reflection", owner) or "")
        for o in db.scalars(select(IntentionOutcome).where(IntentionOutcome.entry_id == entry_id))
    }


def course_intentions(work: Work, course_id: uuid.UUID) -> tuple[CourseAccess, list[IntentionView]]:
    """Each intention the reader may see with the outcomes they may see, in order."""
    access = course_access(work.db, work.actor.user, course_id)
    views = readable_intentions(work.db, work.vault, access)
    owner = access.course.patient_id
    by_id = {v.id: v for v in views}
    rows = work.db.execute(
        select(IntentionOutcome, Entry, DosingSession, User.name)
        .join(Entry, Entry.id == IntentionOutcome.entry_id)
        .outerjoin(DosingSession, DosingSession.id == Entry.session_id)
        .join(User, User.id == Entry.author_id)
        .where(IntentionOutcome.course_id == course_id, readable_entries_clause(access))
        .order_by(func.coalesce(DosingSession.scheduled_at, Entry.created_at), Entry.created_at)
    ).all()
    for outcome, entry, session, name in rows:
        view = by_id.get(outcome.intention_id)
        if view is None:
            continue
        view.outcomes.append(
            OutcomeView(
                entry_id=entry.id,
                session_number=session.number if session else None,
                status=outcome.status,
                reflection=work.vault.open_optional(outcome, "reflection", owner) or "",
                written_at=entry.created_at,
                author=name,
            )
        )
    if views and work.actor.id != owner:
        audit.record_read(work, object_type="intentions", object_id=course_id, subject_id=owner)
    return access, views


def builds_on_of(db: Session, entry_id: uuid.UUID) -> uuid.UUID | None:
    """The earlier intention an entry's first intention builds on (access checked by caller)."""
    return db.scalar(
        select(Intention.builds_on_id).where(
            Intention.entry_id == entry_id, Intention.position == 0
        )
    )


@dataclass(frozen=True)
class EntryOutcome:
    intention_id: uuid.UUID
    intention: str
    status: OutcomeStatus
    reflection: str

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.status]


def entry_outcomes(
    db: Session, vault: Vault, access: CourseAccess, entry_id: uuid.UUID
) -> list[EntryOutcome]:
    """The outcomes recorded in one entry (the caller has checked it may read the entry),
    for the intentions the reader may still read."""
    owner = access.course.patient_id
    # Only this entry's outcomes, joined to intentions whose own entry the reader may read.
    rows = db.execute(
        select(IntentionOutcome, Intention)
        .join(Intention, Intention.id == IntentionOutcome.intention_id)
        .join(Entry, Entry.id == Intention.entry_id)
        .where(IntentionOutcome.entry_id == entry_id, readable_entries_clause(access))
        .order_by(IntentionOutcome.created_at)
    ).all()
    return [
        EntryOutcome(
            intention_id=o.intention_id,
            intention=vault.open_column(intention, "text", owner),
            status=o.status,
            reflection=vault.open_optional(o, "reflection", owner) or "",
        )
        for o, intention in rows
    ]
