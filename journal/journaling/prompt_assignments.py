"""Guided prompts in use: the clinic's library, prompts assigned for a session, what is due.

The shipped library (journal/clinical/prompt_library.py) is what a clinic starts from. Its
clinicians can edit a shipped prompt (a clinic copy under the same key
replaces it), hide one, or add their own; `clinic_library` merges the two.
Prompt texts are library wording, the same for every patient, so they are
stored in clear; the help text on the library page asks that no patient
details be written into them.

A care-team clinician assigns prompts for a dosing session. The patient sees
them on the entry form of the prompt's phase and in a "due" list:
- preparation prompts from the day they are assigned until the session's day;
- right-after-session prompts from the session's day;
- integration prompts from their `Due` day (the next day, a week later, or
  the day before the next session, once that is scheduled).
An assignment leaves the list when the patient writes an entry answering it.
Every function takes the day as an argument, so no rule reads the clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import (
    CourseAccess,
    can_answer_prompts,
    can_assign_prompts,
    can_edit_prompt_library,
    can_read_entry,
    course_access,
)
from journal.clinical.prompt_library import MAX_PROMPT_CHARS, THEMES, Due, Prompt, PromptLibrary
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.limits import too_long
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import (
    ClinicPrompt,
    DosingSession,
    Entry,
    Phase,
    PromptAssignment,
    SessionStatus,
    User,
)

UTC = ZoneInfo("UTC")
OWN_PREFIX = "clinic-"


# -- the clinic's library -------------------------------------------------------


@dataclass(frozen=True)
class LibraryPrompt:
    prompt: Prompt
    shipped: bool  # from the library the journal ships
    edited: bool  # a shipped prompt the clinic has changed
    hidden: bool


@dataclass
class PromptInput:
    phase: str
    theme: str
    text: str
    due: str | None = None
    hidden: bool = False


def _rows(db: Session) -> dict[str, ClinicPrompt]:
    return {r.key: r for r in db.scalars(select(ClinicPrompt))}


def _as_prompt(row: ClinicPrompt) -> Prompt:
    return Prompt(row.key, row.phase, row.theme, row.text, Due(row.due) if row.due else None)


def clinic_library(db: Session, shipped: PromptLibrary) -> list[LibraryPrompt]:
    """Every prompt, shipped and the clinic's own, hidden ones included, by phase."""
    rows = _rows(db)
    found: list[LibraryPrompt] = []
    for p in shipped.prompts:
        row = rows.pop(p.id, None)
        if row is None:
            found.append(LibraryPrompt(p, shipped=True, edited=False, hidden=False))
        else:
            found.append(LibraryPrompt(_as_prompt(row), True, row.text != p.text, row.hidden))
    found += [
        LibraryPrompt(_as_prompt(r), shipped=False, edited=False, hidden=r.hidden)
        for r in sorted(rows.values(), key=lambda r: r.updated_at)
    ]
    order = list(Phase)
    return sorted(found, key=lambda lp: order.index(lp.prompt.phase))


def library_prompt(db: Session, shipped: PromptLibrary, key: str) -> LibraryPrompt:
    for lp in clinic_library(db, shipped):
        if lp.prompt.id == key:
            return lp
    raise NotFound()


def _resolve(db: Session, shipped: PromptLibrary) -> dict[str, Prompt]:
    """Every key to its current prompt, hidden ones too (assignments keep their text)."""
    return {lp.prompt.id: lp.prompt for lp in clinic_library(db, shipped)}


def _check_input(data: PromptInput, fixed_phase: Phase | None) -> tuple[Phase, Due | None, str]:
    errors: dict[str, str] = {}
    phase: Phase | None = None
    try:
        phase = Phase(data.phase)
    except ValueError:
        errors["phase"] = N_("Choose one of the three phases.")
    if fixed_phase is not None and phase is not None and phase is not fixed_phase:
        errors["phase"] = N_("A shipped prompt keeps its phase; add a prompt of your own instead.")
    text = data.text.strip()
    if not text:
        errors["text"] = N_("Write the prompt.")
    elif problem := too_long(text, MAX_PROMPT_CHARS):
        errors["text"] = problem
    due: Due | None = None
    if phase is not None:
        if data.theme not in THEMES[phase]:
            errors["theme"] = N_("Choose one of the themes of this phase.")
        if phase is Phase.INTEGRATION:
            try:
                due = Due(data.due or "")
            except ValueError:
                errors["due"] = N_("Say when an integration prompt comes back.")
    if errors:
        raise ValidationError(errors)
    assert phase is not None
    return phase, due, text


@atomic
def save_prompt(
    work: Work,
    shipped: PromptLibrary,
    key: str | None,
    data: PromptInput,
    now: datetime | None = None,
) -> ClinicPrompt:
    """Add a prompt of the clinic's own (key None), or edit, hide or show one."""
    if not can_edit_prompt_library(work.actor.user):
        raise Forbidden()
    rows = _rows(work.db)
    shipped_ids = {p.id for p in shipped.prompts}
    if key is not None and key not in rows and key not in shipped_ids:
        raise NotFound()
    fixed = shipped.get(key).phase if key in shipped_ids else None
    phase, due, text = _check_input(data, fixed)
    row = rows.get(key) if key is not None else None
    if row is None:
        row = ClinicPrompt(id=new_id(), key=key or OWN_PREFIX + uuid.uuid4().hex[:12])
        work.db.add(row)
    row.phase, row.theme, row.text = phase, data.theme, text
    row.due = due.value if due else None
    row.hidden = data.hidden
    row.updated_by, row.updated_at = work.actor.id, now or utcnow()
    work.db.flush()
    audit.record(work.db, "prompt.save", actor=work.actor, object_type="prompt", object_id=row.id)
    return row


# -- assignments ------------------------------------------------------------------


@dataclass(frozen=True)
class AssignmentView:
    id: uuid.UUID
    session: DosingSession
    prompt: Prompt
    due_on: date | None
    answered_entry_id: uuid.UUID | None  # only when the reader may open that entry
    answered: bool  # as far as the reader may know
    assigned_by: str


def _day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def due_day(
    prompt: Prompt,
    session: DosingSession,
    next_session: DosingSession | None,
    assigned_at: datetime,
    zone: tzinfo = UTC,
) -> date | None:
    """The day an assigned prompt comes due (see the module's docstring)."""
    session_day = _day(session.scheduled_at, zone)
    if prompt.phase is Phase.PREPARATION:
        return min(_day(assigned_at, zone), session_day)
    if prompt.phase is Phase.IN_SESSION:
        return session_day
    assert prompt.due is not None
    return prompt.due.due_on(
        session_day, None if next_session is None else _day(next_session.scheduled_at, zone)
    )


def _next_sessions(db: Session, course_id: uuid.UUID) -> dict[uuid.UUID, DosingSession | None]:
    live = list(
        db.scalars(
            select(DosingSession)
            .where(
                DosingSession.course_id == course_id,
                DosingSession.status != SessionStatus.CANCELLED,
            )
            .order_by(DosingSession.scheduled_at, DosingSession.number)
        )
    )
    return {s.id: (live[i + 1] if i + 1 < len(live) else None) for i, s in enumerate(live)}


def _views(
    db: Session,
    access: CourseAccess,
    shipped: PromptLibrary,
    zone: tzinfo,
    phase: Phase | None = None,
) -> list[AssignmentView]:
    stmt = (
        select(PromptAssignment, DosingSession, User.name, Entry)
        .join(DosingSession, DosingSession.id == PromptAssignment.session_id)
        .join(User, User.id == PromptAssignment.assigned_by)
        .outerjoin(Entry, Entry.id == PromptAssignment.answered_entry_id)
        .where(PromptAssignment.course_id == access.course.id)
        .order_by(DosingSession.scheduled_at, PromptAssignment.assigned_at)
    )
    if phase is not None:
        stmt = stmt.where(PromptAssignment.phase == phase)
    rows = db.execute(stmt).all()
    if not rows:
        return []  # most courses: no prompt assigned, nothing else to read
    prompts = _resolve(db, shipped)
    following = _next_sessions(db, access.course.id)
    views = []
    for a, session, name, entry in rows:
        prompt = prompts.get(a.prompt_key)
        if prompt is None:
            continue
        readable = entry is not None and can_read_entry(access, entry)
        views.append(
            AssignmentView(
                id=a.id,
                session=session,
                prompt=prompt,
                due_on=None
                if session.status == SessionStatus.CANCELLED
                else due_day(prompt, session, following.get(session.id), a.assigned_at, zone),
                answered_entry_id=entry.id if readable and entry is not None else None,
                answered=readable,
                assigned_by=name,
            )
        )
    return views


def course_assignments(
    work: Work, shipped: PromptLibrary, course_id: uuid.UUID, zone: tzinfo = UTC
) -> tuple[CourseAccess, list[AssignmentView]]:
    """The course's assignments, for its care team (and the patient)."""
    access = course_access(work.db, work.actor.user, course_id)
    return access, _views(work.db, access, shipped, zone)


def assignable(db: Session, shipped: PromptLibrary) -> list[Prompt]:
    return [lp.prompt for lp in clinic_library(db, shipped) if not lp.hidden]


@atomic
def assign_prompt(
    work: Work,
    shipped: PromptLibrary,
    course_id: uuid.UUID,
    session_id: uuid.UUID | None,
    prompt_key: str,
    now: datetime | None = None,
) -> PromptAssignment:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_assign_prompts(access):
        raise NotFound() if not access.as_clinician else Forbidden()
    errors: dict[str, str] = {}
    session = work.db.get(DosingSession, session_id) if session_id else None
    if session is None or session.course_id != course_id:
        errors["session_id"] = N_("Choose a dosing session of this course.")
    elif session.status == SessionStatus.CANCELLED:
        errors["session_id"] = N_("This session was cancelled; choose another.")
    prompt = next((p for p in assignable(work.db, shipped) if p.id == prompt_key), None)
    if prompt is None:
        errors["prompt_key"] = N_("Choose a prompt from the library.")
    if not errors and work.db.scalar(
        select(PromptAssignment.id).where(
            PromptAssignment.session_id == session_id, PromptAssignment.prompt_key == prompt_key
        )
    ):
        errors["prompt_key"] = N_("This prompt is already assigned for that session.")
    if errors:
        raise ValidationError(errors)
    assert session is not None and prompt is not None
    row = PromptAssignment(
        id=new_id(),
        course_id=course_id,
        session_id=session.id,
        prompt_key=prompt.id,
        phase=prompt.phase,
        assigned_by=work.actor.id,
        assigned_at=now or utcnow(),
    )
    work.db.add(row)
    work.db.flush()
    audit.record(
        work.db,
        "prompt.assign",
        actor=work.actor,
        object_type="prompt_assignment",
        object_id=row.id,
        subject_id=access.course.patient_id,
    )
    return row


@atomic
def unassign_prompt(work: Work, course_id: uuid.UUID, assignment_id: uuid.UUID | None) -> None:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_assign_prompts(access):
        raise NotFound() if not access.as_clinician else Forbidden()
    row = work.db.get(PromptAssignment, assignment_id) if assignment_id else None
    if row is None or row.course_id != course_id:
        raise ValidationError({"assignment_id": N_("That prompt is not assigned on this course.")})
    work.db.delete(row)
    audit.record(
        work.db,
        "prompt.unassign",
        actor=work.actor,
        object_type="prompt_assignment",
        object_id=row.id,
        subject_id=access.course.patient_id,
    )


# -- what the patient sees ---------------------------------------------------------


def open_prompts(
    work: Work,
    shipped: PromptLibrary,
    course_id: uuid.UUID,
    phase: Phase,
    zone: tzinfo = UTC,
) -> list[AssignmentView]:
    """Unanswered prompts of one phase, for the patient's entry form (none for others)."""
    access = course_access(work.db, work.actor.user, course_id)
    if not can_answer_prompts(access):
        return []
    return [v for v in _views(work.db, access, shipped, zone, phase) if not v.answered]


def due_prompts(
    work: Work,
    shipped: PromptLibrary,
    course_id: uuid.UUID,
    today: date,
    zone: tzinfo = UTC,
) -> list[AssignmentView]:
    """The patient's "due" list: unanswered prompts whose day has come, oldest first."""
    access = course_access(work.db, work.actor.user, course_id)
    if not can_answer_prompts(access):
        return []
    due = []
    for v in _views(work.db, access, shipped, zone):
        if v.answered or v.due_on is None or v.due_on > today:
            continue
        if v.prompt.phase is Phase.PREPARATION and today > _day(v.session.scheduled_at, zone):
            continue  # the session it prepared for has passed
        due.append(v)
    return sorted(due, key=lambda v: (v.due_on or today, v.session.scheduled_at))


def check_answer(
    db: Session, access: CourseAccess, assignment_id: uuid.UUID, phase: Phase
) -> PromptAssignment:
    """The assignment an entry being written answers; called by journaling/entries."""
    row = db.get(PromptAssignment, assignment_id)
    if (
        row is None
        or row.course_id != access.course.id
        or not can_answer_prompts(access)
        or row.answered_entry_id is not None
    ):
        raise ValidationError({"prompt": N_("This prompt is not waiting for an answer here.")})
    if row.phase is not phase:
        raise ValidationError({"prompt": N_("This prompt belongs to another phase.")})
    return row


def answered_prompt(db: Session, shipped: PromptLibrary, entry_id: uuid.UUID) -> Prompt | None:
    """The prompt an entry answered (the caller has checked it may read the entry)."""
    key = db.scalar(
        select(PromptAssignment.prompt_key).where(PromptAssignment.answered_entry_id == entry_id)
    )
    return None if key is None else _resolve(db, shipped).get(key)
