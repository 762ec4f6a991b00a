"""The screening review of a course: one per course, recorded by a care-team clinician.

The checklist itself and the "needs clinician review" rule are in
`clinical/checklist.py`; this module stores a course's answers, notes and
review date as one encrypted JSON value under the patient's journal key,
with the reviewer (the clinician who saved it last) in clear. It records the
review; it never decides eligibility.

Before each later dosing session a care-team clinician re-checks it with the
patient (`recheck_screening`): "no change since last time", or the answers as
they are now. Each re-check is kept, sealed the same way, with who and when; the
answers now are those of the latest re-check that changed them (or of the
screening, if saved since).

Correcting the screening as first recorded keeps the version it replaces
(`amendments.keep_version`, in `clinical_versions`, with who saved it and when); the
history page and the clinician's export show each version with what it changed
(`screening_facts`, `screening_history_page`, `screening_history`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.accounts import names_of
from journal.accounts.policy import (
    CourseAccess,
    can_recheck_screening,
    can_use_clinical_records,
    course_access,
)
from journal.clinical.amendments import (
    ANSWERS,
    Facts,
    Saved,
    Version,
    history,
    keep_version,
    kept_versions,
    term,
)
from journal.clinical.checklist import (
    Checklist,
    ChecklistItem,
    ScreeningReview,
    check_answers,
    review,
)
from journal.core.errors import ConflictError, Forbidden, NotFound, ValidationError
from journal.core.labels import N_, DayInWords
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import DosingSession, Screening, ScreeningRecheck, VersionKind

AUDIT_TYPE = "screening"
NOTE_MAX = 1000


def answer_field(item_id: str) -> str:
    return f"answer_{item_id}"


def note_field(item_id: str) -> str:
    return f"note_{item_id}"


@dataclass(frozen=True)
class ScreeningInput:
    """As a form posts it: item id -> "yes", "no" or "unknown"; item id -> note."""

    answers: Mapping[str, str]
    notes: Mapping[str, str]
    reviewed_on: str


@dataclass(frozen=True)
class ScreeningData:
    answers: dict[str, str]
    notes: dict[str, str]
    reviewed_on: date
    checklist_version: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "answers": self.answers,
                "notes": self.notes,
                "reviewed_on": self.reviewed_on.isoformat(),
                "checklist_version": self.checklist_version,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ScreeningData:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            answers=dict(raw["answers"]),
            notes=dict(raw.get("notes", {})),
            reviewed_on=date.fromisoformat(raw["reviewed_on"]),
            checklist_version=raw.get("checklist_version", ""),
        )


@dataclass(frozen=True)
class RecheckInput:
    """As the re-check form posts it: "no change", or every item's answer and note;
    the session it comes before ("" for none) and a note on the re-check."""

    no_change: bool
    answers: Mapping[str, str]
    notes: Mapping[str, str]
    session_id: str = ""
    note: str = ""


@dataclass(frozen=True)
class RecheckData:
    """What a re-check found: no change, or the answers and notes as they are now."""

    no_change: bool
    answers: dict[str, str]  # empty when no change
    notes: dict[str, str]
    note: str
    checklist_version: str

    def to_json(self) -> str:
        return json.dumps(
            {
                "no_change": self.no_change,
                "answers": self.answers,
                "notes": self.notes,
                "note": self.note,
                "checklist_version": self.checklist_version,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> RecheckData:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            no_change=bool(raw["no_change"]),
            answers=dict(raw.get("answers", {})),
            notes=dict(raw.get("notes", {})),
            note=str(raw.get("note", "")),
            checklist_version=str(raw.get("checklist_version", "")),
        )


@dataclass(frozen=True)
class AnswerChange:
    """One item a re-check changed: its answer before and now, and its note now."""

    item: ChecklistItem
    before: str | None  # None: not answered
    after: str | None
    note: str


@dataclass(frozen=True)
class RecheckView:
    id: uuid.UUID
    checked_by: str
    checked_at: datetime
    session_number: int | None
    no_change: bool
    changes: tuple[AnswerChange, ...]  # empty when no change (or only notes changed)
    note: str


@dataclass(frozen=True)
class ScreeningView:
    data: ScreeningData  # as the screening was saved
    review: ScreeningReview  # of the answers now
    reviewer_name: str
    version: int
    updated_at: datetime
    answers_now: dict[str, str] = field(default_factory=dict)  # after the re-checks
    notes_now: dict[str, str] = field(default_factory=dict)
    rechecks: tuple[RecheckView, ...] = ()  # newest first


@dataclass(frozen=True)
class SessionChoice:
    id: uuid.UUID
    label: str  # "Session 2, Tue 01 Dec 2026"
    number: int = 0
    scheduled_at: datetime | None = None


@dataclass(frozen=True)
class ScreeningPage:
    access: CourseAccess
    screening: ScreeningView | None
    can_recheck: bool = False
    sessions: tuple[SessionChoice, ...] = ()  # to re-check before, in order
    next_session: uuid.UUID | None = None  # the first not yet past: the form's default


def _check_items(
    checklist: Checklist,
    answers: Mapping[str, str],
    notes: Mapping[str, str],
    errors: dict[str, str],
) -> tuple[dict[str, str], dict[str, str]]:
    """Every item answered yes, no or unknown and its note short enough: the answers and
    notes kept, the problems added to `errors`."""
    try:
        checked = check_answers(checklist, {k: v for k, v in answers.items() if v})
    except ValidationError as exc:
        errors.update({answer_field(k): v for k, v in exc.errors.items()})
        checked = {}
    kept_notes = {}
    for item in checklist.items:
        note = notes.get(item.id, "").strip()
        if len(note) > NOTE_MAX:
            errors[note_field(item.id)] = N_(
                "Please use at most %(limit)s characters.", limit=NOTE_MAX
            )
        elif note:
            kept_notes[item.id] = note
    return {k: v.value for k, v in checked.items()}, kept_notes


def check_screening(checklist: Checklist, raw: ScreeningInput, today: date) -> ScreeningData:
    """Every item answered, notes short enough, a plausible date; or `ValidationError`."""
    errors: dict[str, str] = {}
    answers, notes = _check_items(checklist, raw.answers, raw.notes, errors)
    reviewed_on = None
    try:
        reviewed_on = date.fromisoformat(raw.reviewed_on.strip())
    except ValueError:
        errors["reviewed_on"] = N_("Please give the date of the review.")
    if reviewed_on is not None and not date(2000, 1, 1) <= reviewed_on <= today + timedelta(1):
        errors["reviewed_on"] = N_("Please give the date of the review, not a date to come.")
    if errors:
        raise ValidationError(errors)
    assert reviewed_on is not None
    return ScreeningData(
        answers=answers,
        notes=notes,
        reviewed_on=reviewed_on,
        checklist_version=checklist.version,
    )


def _access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_use_clinical_records(access):
        raise NotFound()
    return access


def _row(db: Session, course_id: uuid.UUID) -> Screening | None:
    return db.scalar(select(Screening).where(Screening.course_id == course_id))


def _rechecks(
    db: Session, vault: Vault, owner: uuid.UUID, row: Screening
) -> list[tuple[ScreeningRecheck, RecheckData]]:
    found = db.scalars(
        select(ScreeningRecheck)
        .where(ScreeningRecheck.screening_id == row.id)
        .order_by(ScreeningRecheck.checked_at, ScreeningRecheck.id)
    )
    return [(r, RecheckData.from_json(vault.open_column(r, "content", owner))) for r in found]


def _changes(
    checklist: Checklist,
    before: Mapping[str, str],
    after: Mapping[str, str],
    notes: Mapping[str, str],
) -> tuple[AnswerChange, ...]:
    return tuple(
        AnswerChange(item, before.get(item.id), after.get(item.id), notes.get(item.id, ""))
        for item in checklist.items
        if before.get(item.id) != after.get(item.id)
    )


def _view(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist, row: Screening
) -> ScreeningView:
    """The screening as saved, the re-checks that followed, and the answers now: those of
    the latest change, a re-check's or the screening's own (saved again since)."""
    owner = access.course.patient_id
    data = ScreeningData.from_json(vault.open_column(row, "content", owner))
    kept = _rechecks(db, vault, owner, row)
    sessions = dict(
        db.execute(
            select(DosingSession.id, DosingSession.number).where(
                DosingSession.course_id == access.course.id
            )
        ).all()
    )
    names = names_of(db, {row.reviewer_id, *(r.checked_by for r, _ in kept)})
    answers, notes = dict(data.answers), dict(data.notes)
    views: list[RecheckView] = []
    saved_since = True  # the screening was saved after every re-check so far
    for r, found in kept:
        if saved_since and r.checked_at >= row.updated_at:
            answers, notes = dict(data.answers), dict(data.notes)
            saved_since = False
        changes: tuple[AnswerChange, ...] = ()
        if not found.no_change:
            changes = _changes(checklist, answers, found.answers, found.notes)
            answers, notes = dict(found.answers), dict(found.notes)
        views.append(
            RecheckView(
                id=r.id,
                checked_by=names.get(r.checked_by, ""),
                checked_at=r.checked_at,
                session_number=sessions.get(r.session_id) if r.session_id else None,
                no_change=found.no_change,
                changes=changes,
                note=found.note,
            )
        )
    if saved_since:  # a screening saved after the last re-check is the newer word
        answers, notes = dict(data.answers), dict(data.notes)
    return ScreeningView(
        data=data,
        review=review(checklist, answers),
        reviewer_name=names.get(row.reviewer_id, ""),
        version=row.version,
        updated_at=row.updated_at,
        answers_now=answers,
        notes_now=notes,
        rechecks=tuple(reversed(views)),
    )


def _session_choices(
    db: Session, course_id: uuid.UUID, now: datetime
) -> tuple[tuple[SessionChoice, ...], uuid.UUID | None]:
    rows = list(
        db.scalars(
            select(DosingSession)
            .where(DosingSession.course_id == course_id)
            .order_by(DosingSession.scheduled_at, DosingSession.number)
        )
    )
    choices = tuple(
        SessionChoice(
            d.id,
            N_(
                "Session %(number)s, %(day)s",
                number=d.number,
                day=d.scheduled_at.strftime("%a %d %b %Y"),
            ),
            d.number,
            d.scheduled_at,
        )
        for d in rows
    )
    coming = [d for d in rows if d.scheduled_at >= now - timedelta(hours=12)]
    default = coming[0].id if coming else (rows[-1].id if rows else None)
    return choices, default


def screening_page(
    work: Work, course_id: uuid.UUID, checklist: Checklist, *, now: datetime | None = None
) -> ScreeningPage:
    """The course's screening, if recorded, with its re-checks; opening it is audited."""
    access = _access(work, course_id)
    row = _row(work.db, course_id)
    if row is None:
        return ScreeningPage(access, None)
    view = _view(work.db, work.vault, access, checklist, row)
    owner = access.course.patient_id
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    sessions, next_session = _session_choices(work.db, course_id, now or utcnow())
    return ScreeningPage(access, view, can_recheck_screening(access), sessions, next_session)


def screening_view(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist
) -> ScreeningView | None:
    """The screening with its re-checks, for a clinician's export (audited as a whole)."""
    if not can_use_clinical_records(access):
        return None
    row = _row(db, access.course.id)
    return None if row is None else _view(db, vault, access, checklist, row)


def screening_review(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist
) -> ScreeningReview | None:
    """For the clinician's timeline: what the course's screening shows now (after its
    re-checks), or None if none yet."""
    view = screening_view(db, vault, access, checklist)
    return None if view is None else view.review


@atomic
def save_screening(
    work: Work,
    course_id: uuid.UUID,
    checklist: Checklist,
    raw: ScreeningInput,
    *,
    expected_version: int | None,
    now: datetime | None = None,
) -> Screening:
    """Record the screening, or update it; the saving clinician becomes the reviewer."""
    access = _access(work, course_id)
    if not access.writable:
        raise Forbidden()
    now = now or utcnow()
    data = check_screening(checklist, raw, now.date())
    owner = access.course.patient_id
    row = _row(work.db, course_id)
    if row is None:
        if expected_version is not None:
            raise ConflictError()
        row = Screening(
            id=new_id(),
            course_id=course_id,
            version=1,
            reviewer_id=work.actor.id,
            created_at=now,
            updated_at=now,
        )
        action = "screening.create"
        work.db.add(row)
    else:
        if expected_version != row.version:
            raise ConflictError()
        keep_version(
            work,
            VersionKind.SCREENING,
            row,
            owner,
            saved_by=row.reviewer_id,
            saved_at=row.updated_at,
        )
        row.version += 1
        row.reviewer_id = work.actor.id
        row.updated_at = now
        action = "screening.update"
    row.content = work.vault.seal_column(row, "content", owner, data.to_json())
    audit.record(
        work.db,
        action,
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=row.id,
        subject_id=owner,
    )
    return row


@atomic
def recheck_screening(
    work: Work,
    course_id: uuid.UUID,
    checklist: Checklist,
    raw: RecheckInput,
    *,
    now: datetime | None = None,
) -> ScreeningRecheck:
    """Keep a re-check of the screening before a session: no change since last time, or
    the answers as they are now (answers the same as before count as no change, unless a
    note changed). The screening itself is left as it was saved."""
    access = _access(work, course_id)
    if not can_recheck_screening(access):
        raise Forbidden()
    row = _row(work.db, course_id)
    if row is None:
        raise ValidationError({"screening": N_("Record the screening first; then re-check it.")})
    errors: dict[str, str] = {}
    session_id = None
    if raw.session_id:
        try:
            session_id = uuid.UUID(raw.session_id)
        except ValueError:
            session_id = None
        session = work.db.get(DosingSession, session_id) if session_id else None
        if session is None or session.course_id != course_id:
            errors["session_id"] = N_("Please choose a session of this course.")
    note = raw.note.replace("\r\n", "\n").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = N_("Please use at most %(limit)s characters.", limit=NOTE_MAX)
    answers: dict[str, str] = {}
    notes: dict[str, str] = {}
    if not raw.no_change:
        answers, notes = _check_items(checklist, raw.answers, raw.notes, errors)
    if errors:
        raise ValidationError(errors)
    owner = access.course.patient_id
    no_change = raw.no_change
    if not no_change:
        current = _view(work.db, work.vault, access, checklist, row)
        no_change = answers == current.answers_now and notes == current.notes_now
    data = RecheckData(
        no_change=no_change,
        answers={} if no_change else answers,
        notes={} if no_change else notes,
        note=note,
        checklist_version=checklist.version,
    )
    recheck = ScreeningRecheck(
        id=new_id(),
        screening_id=row.id,
        course_id=course_id,
        session_id=session_id,
        checked_by=work.actor.id,
        checked_at=now or utcnow(),
        version=1,
    )
    recheck.content = work.vault.seal_column(recheck, "content", owner, data.to_json())
    work.db.add(recheck)
    audit.record(
        work.db,
        "screening.recheck",
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=recheck.id,
        subject_id=owner,
    )
    work.db.flush()
    return recheck


# -- amendment history -------------------------------------------------------------


def screening_facts(data: ScreeningData, checklist: Checklist) -> Facts:
    """The screening as saved, in words: each item's answer ("yes", "no", "unknown") and
    note in the checklist's order (an item since dropped from the list by its id), the
    review date and the checklist's version (`amendments.changes` diffs two of them)."""
    texts = {item.id: item.text for item in checklist.items}
    ids = [*texts, *(i for i in [*data.answers, *data.notes] if i not in texts)]
    fields: list[tuple[str, str]] = []
    for item_id in dict.fromkeys(ids):
        label = texts.get(item_id, item_id)
        answer = data.answers.get(item_id, "")
        fields.append((label, ANSWERS.get(answer, answer)))
        fields.append((N_("%(label)s, note", label=term(label)), data.notes.get(item_id, "")))
    fields += [
        (N_("Reviewed on"), DayInWords(data.reviewed_on)),
        (N_("Checklist version"), data.checklist_version),
    ]
    return Facts(tuple(fields))


def _history(
    db: Session, vault: Vault, row: Screening, owner: uuid.UUID, checklist: Checklist
) -> tuple[Version, ...]:
    kept = kept_versions(db, vault, VersionKind.SCREENING, [row.id], owner)[row.id]
    current = Saved(
        row.version, row.reviewer_id, row.updated_at, vault.open_column(row, "content", owner)
    )
    saved = [*kept, current]
    names = names_of(db, {s.saved_by for s in saved})
    return history(
        saved, names, lambda text: screening_facts(ScreeningData.from_json(text), checklist)
    )


@dataclass(frozen=True)
class ScreeningHistoryPage:
    access: CourseAccess
    versions: tuple[Version, ...]  # newest first: the current one, then the kept ones


def screening_history_page(
    work: Work, course_id: uuid.UUID, checklist: Checklist
) -> ScreeningHistoryPage:
    """Every version of the screening as recorded (not its re-checks, which the
    screening page lists), with who saved it, when and what it changed; care-team
    clinicians only. Opening it is audited as reading the screening."""
    access = _access(work, course_id)
    row = _row(work.db, course_id)
    if row is None:
        raise NotFound()
    owner = access.course.patient_id
    versions = _history(work.db, work.vault, row, owner, checklist)
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    return ScreeningHistoryPage(access, versions)


def screening_history(
    db: Session, vault: Vault, access: CourseAccess, checklist: Checklist
) -> tuple[Version, ...]:
    """Every version of the screening (newest first), for a clinician's export; nothing
    for anyone else."""
    if not can_use_clinical_records(access):
        return ()
    row = _row(db, access.course.id)
    if row is None:
        return ()
    return _history(db, vault, row, access.course.patient_id, checklist)
