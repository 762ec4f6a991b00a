"""Questionnaires on a course: assigned by clinicians, filled in by the patient,
scored from the instrument's definition file, stored encrypted, drawn as trends.

A safety flag (PHQ-9 item 9 above zero) is raised the moment the answers are
saved: it shows on the caseload and the course until a clinician acknowledges
it, and the patient is shown the clinic's crisis resources at once. What raised
a flag (its response, questionnaire, rule and time) is sealed; the caseload
counts open flags per course from the clear rows alone.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.courses import list_sessions
from journal.accounts.policy import CourseAccess, course_access, visible_courses_clause
from journal.clinical.charts import ScorePoint, TrendChart, trend_chart
from journal.clinical.instruments import Catalogue, FlagKind, Instrument, ScoreResult, score
from journal.clinical.safety_flags import (
    Acknowledgement,
    check_acknowledgement,
    open_acknowledgement,
    seal_acknowledgement,
)
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import (
    Cadence,
    Course,
    CourseStatus,
    DosingSession,
    KeyScope,
    QuestionnaireAssignment,
    QuestionnaireResponse,
    SafetyFlag,
    SessionStatus,
    User,
)


@dataclass(frozen=True)
class AssignmentView:
    id: uuid.UUID
    instrument: Instrument
    cadence: Cadence
    assigned_by: str
    assigned_at: datetime
    responses: int


@dataclass(frozen=True)
class Due:
    assignment_id: uuid.UUID
    course_id: uuid.UUID
    instrument: Instrument
    session: DosingSession | None  # the session it is due before, for a per-session one


@dataclass(frozen=True)
class ResponseView:
    id: uuid.UUID
    instrument_id: str
    submitted_at: datetime
    total: int
    max_score: int
    band: str
    flags: list[dict[str, object]]
    session_number: int | None
    answers: dict[str, int] = field(default_factory=dict)  # item id -> value, scored or not
    subscales: list[dict[str, object]] = field(default_factory=list)  # id, label, score, max


@dataclass(frozen=True)
class FlagView:
    id: uuid.UUID
    detail: str
    instrument_id: str | None  # None only for a flag from before 0013 not yet sealed
    raised_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    # What was done (sealed); None while open, or for a flag acknowledged before 0015.
    acknowledgement: Acknowledgement | None = None


@dataclass(frozen=True)
class Measures:
    access: CourseAccess
    assignments: list[AssignmentView]
    charts: list[tuple[Instrument, TrendChart]]
    responses: list[ResponseView]
    flags: list[FlagView]


# -- assigning -------------------------------------------------------------------


def _clinician_access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    """Assigning, stopping and acknowledging are for care-team clinicians; others get 404."""
    access = course_access(work.db, work.actor.user, course_id)
    if not access.as_clinician:
        raise NotFound()
    return access


@atomic
def assign(
    work: Work,
    catalogue: Catalogue,
    course_id: uuid.UUID,
    instrument_id: str,
    cadence: str,
    now: datetime | None = None,
) -> QuestionnaireAssignment:
    access = _clinician_access(work, course_id)
    if not access.writable:
        raise Forbidden()
    errors = {}
    if instrument_id not in catalogue:
        errors["instrument_id"] = "Choose one of the listed questionnaires."
    if cadence not in {c.value for c in Cadence}:
        errors["cadence"] = "Choose once, or before every dosing session."
    if not errors and _active(work.db, course_id, instrument_id) is not None:
        errors["instrument_id"] = "This questionnaire is already assigned on this course."
    if errors:
        raise ValidationError(errors)
    row = QuestionnaireAssignment(
        id=new_id(),
        course_id=course_id,
        instrument_id=instrument_id,
        cadence=Cadence(cadence),
        assigned_by=work.actor.id,
        assigned_at=now or utcnow(),
    )
    work.db.add(row)
    audit.record(
        work.db,
        "questionnaire.assign",
        actor=work.actor,
        object_type="questionnaire",
        object_id=row.id,
        subject_id=access.course.patient_id,
    )
    return row


def _active(
    db: Session, course_id: uuid.UUID, instrument_id: str
) -> QuestionnaireAssignment | None:
    return db.scalar(
        select(QuestionnaireAssignment).where(
            QuestionnaireAssignment.course_id == course_id,
            QuestionnaireAssignment.instrument_id == instrument_id,
            QuestionnaireAssignment.ended_at.is_(None),
        )
    )


@atomic
def end_assignment(
    work: Work, assignment_id: uuid.UUID, now: datetime | None = None
) -> QuestionnaireAssignment:
    row = work.db.get(QuestionnaireAssignment, assignment_id)
    if row is None:
        raise NotFound()
    access = _clinician_access(work, row.course_id)
    if row.ended_at is None:
        row.ended_at = now or utcnow()
        audit.record(
            work.db,
            "questionnaire.end",
            actor=work.actor,
            object_type="questionnaire",
            object_id=row.id,
            subject_id=access.course.patient_id,
        )
    return row


# -- what is due -----------------------------------------------------------------


def _next_session(sessions: list[DosingSession], now: datetime) -> DosingSession | None:
    upcoming = [
        s for s in sessions if s.status != SessionStatus.CANCELLED and s.scheduled_at >= now
    ]
    return min(upcoming, key=lambda s: s.scheduled_at) if upcoming else None


def due_for_patient(
    work: Work,
    catalogue: Catalogue,
    course_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[Due]:
    """Questionnaires the patient should fill in now, on one course or all of theirs.
    Once: until answered. Before every session: until answered for the next one."""
    now = now or utcnow()
    stmt = (
        select(QuestionnaireAssignment)
        .join(Course, Course.id == QuestionnaireAssignment.course_id)
        .where(
            Course.patient_id == work.actor.id,
            QuestionnaireAssignment.ended_at.is_(None),
            Course.status == CourseStatus.ACTIVE,
        )
        .order_by(QuestionnaireAssignment.assigned_at)
    )
    if course_id is not None:
        stmt = stmt.where(QuestionnaireAssignment.course_id == course_id)
    assignments = [a for a in work.db.scalars(stmt) if a.instrument_id in catalogue]
    if not assignments:
        return []
    answered = {
        (r.assignment_id, r.session_id)
        for r in work.db.execute(
            select(QuestionnaireResponse.assignment_id, QuestionnaireResponse.session_id).where(
                QuestionnaireResponse.assignment_id.in_([a.id for a in assignments])
            )
        )
    }
    answered_at_all = {a for a, _ in answered}
    sessions: dict[uuid.UUID, DosingSession | None] = {}
    due = []
    for a in assignments:
        instrument = catalogue.get(a.instrument_id)
        if a.cadence == Cadence.ONCE:
            if a.id not in answered_at_all:
                due.append(Due(a.id, a.course_id, instrument, None))
            continue
        if a.course_id not in sessions:
            sessions[a.course_id] = _next_session(list_sessions(work.db, a.course_id), now)
        nxt = sessions[a.course_id]
        if nxt is not None and (a.id, nxt.id) not in answered:
            due.append(Due(a.id, a.course_id, instrument, nxt))
    return due


# -- answering -------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    result: ScoreResult
    safety_flag: bool


@atomic
def submit(
    work: Work,
    catalogue: Catalogue,
    assignment_id: uuid.UUID,
    answers: dict[str, object],
    now: datetime | None = None,
) -> Submitted:
    """Score and store the patient's answers; raise a flag at once if a rule says so.
    Incomplete or out-of-scale answers: ValidationError, nothing saved."""
    now = now or utcnow()
    assignment = work.db.get(QuestionnaireAssignment, assignment_id)
    if assignment is None:
        raise NotFound()
    access = course_access(work.db, work.actor.user, assignment.course_id)
    if not access.as_patient:
        raise NotFound()
    due = next(
        (
            d
            for d in due_for_patient(work, catalogue, assignment.course_id, now)
            if d.assignment_id == assignment_id
        ),
        None,
    )
    if due is None or not access.writable:
        raise Forbidden()  # answered already, ended, or the course is closed
    instrument = catalogue.get(assignment.instrument_id)
    result = score(instrument, answers)  # AnswersError is a ValidationError
    owner = access.course.patient_id
    response = QuestionnaireResponse(
        id=new_id(),
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        instrument_id=instrument.id,
        session_id=due.session.id if due.session else None,
        submitted_by=work.actor.id,
        submitted_at=now,
        version=1,
    )
    response.result = work.vault.seal_column(response, "result", owner, _result_json(result))
    work.db.add(response)
    work.db.flush()
    safety = [f for f in result.flags if f.kind is FlagKind.SAFETY]
    for flag in safety:
        row = SafetyFlag(id=new_id(), course_id=assignment.course_id, version=1)
        row.detail = work.vault.seal_column(
            row, "detail", owner, f"{instrument.short_title}: {flag.label} (answered {flag.value})"
        )
        row.source = work.vault.seal_column(
            row, "source", owner, _source_json(response.id, instrument.id, flag.id, now)
        )
        work.db.add(row)
    audit.record(
        work.db,
        "questionnaire.submit",
        actor=work.actor,
        object_type="questionnaire",
        object_id=response.id,
        subject_id=owner,
    )
    return Submitted(result, bool(safety))


def _source_json(
    response_id: uuid.UUID | None,
    instrument_id: str | None,
    rule_id: str | None,
    raised_at: datetime,
) -> str:
    """What raised a flag, sealed in `safety_flags.source`: nothing of it stays in clear.
    (A flag sealed from a clear row of before 0013 has no rule id: that row had none.)"""
    return json.dumps(
        {
            "response_id": None if response_id is None else str(response_id),
            "instrument_id": instrument_id,
            "rule_id": rule_id,
            "raised_at": raised_at.isoformat(),
        }
    )


def _result_json(result: ScoreResult) -> str:
    return json.dumps(
        {
            "version": result.version,
            "answers": dict(result.answers),
            "total": result.total,
            "max": result.max_score,
            "band": result.band.label,
            "subscales": [
                {"id": s.id, "label": s.label, "score": s.score, "max": s.max_score}
                for s in result.subscales
            ],
            "flags": [
                {"id": f.id, "kind": f.kind.value, "label": f.label, "value": f.value}
                for f in result.flags
            ],
        },
        ensure_ascii=False,
    )


# -- reading ---------------------------------------------------------------------


def course_measures(work: Work, catalogue: Catalogue, course_id: uuid.UUID) -> Measures:
    """Assignments, every response with its score, a trend chart per questionnaire,
    and the safety flags (for clinicians). The patient sees their own scores."""
    access = course_access(work.db, work.actor.user, course_id)
    owner = access.course.patient_id
    work.vault.preload([owner])
    sessions = list_sessions(work.db, course_id)
    numbers = {s.id: s.number for s in sessions}
    counts = {
        row[0]: row[1]
        for row in work.db.execute(
            select(QuestionnaireResponse.assignment_id, func.count(QuestionnaireResponse.id))
            .where(QuestionnaireResponse.course_id == course_id)
            .group_by(QuestionnaireResponse.assignment_id)
        )
    }
    assignments = [
        AssignmentView(
            a.id,
            catalogue.get(a.instrument_id),
            a.cadence,
            name,
            a.assigned_at,
            counts.get(a.id, 0),
        )
        for a, name in work.db.execute(
            select(QuestionnaireAssignment, User.name)
            .join(User, User.id == QuestionnaireAssignment.assigned_by)
            .where(
                QuestionnaireAssignment.course_id == course_id,
                QuestionnaireAssignment.ended_at.is_(None),
            )
            .order_by(QuestionnaireAssignment.assigned_at)
        )
        if a.instrument_id in catalogue
    ]
    responses = course_responses(work.db, work.vault, access, numbers)
    session_days = [s.scheduled_at.date() for s in sessions if s.status != SessionStatus.CANCELLED]
    charts = []
    for instrument_id in dict.fromkeys(r.instrument_id for r in responses):
        if instrument_id not in catalogue:
            continue
        instrument = catalogue.get(instrument_id)
        points = [
            ScorePoint(r.submitted_at.date(), r.total, any(f["kind"] == "safety" for f in r.flags))
            for r in responses
            if r.instrument_id == instrument_id
        ]
        charts.append(
            (
                instrument,
                trend_chart(instrument, points, session_days, chart_id=f"trend-{instrument.id}"),
            )
        )
    flags = course_flags(work.db, work.vault, access) if access.as_clinician else []
    if access.as_clinician and responses:
        audit.record_read(work, object_type="questionnaire", object_id=course_id, subject_id=owner)
    return Measures(access, assignments, charts, responses, flags)


def course_responses(
    db: Session, vault: Vault, access: CourseAccess, numbers: dict[uuid.UUID, int]
) -> list[ResponseView]:
    """Every answered questionnaire on the course, oldest first, opened.
    `numbers` maps session ids to session numbers. The caller audits the read."""
    owner = access.course.patient_id
    responses = []
    for r in db.scalars(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.course_id == access.course.id)
        .order_by(QuestionnaireResponse.submitted_at)
    ):
        data = json.loads(vault.open_column(r, "result", owner))
        responses.append(
            ResponseView(
                id=r.id,
                instrument_id=r.instrument_id,
                submitted_at=r.submitted_at,
                total=int(data["total"]),
                max_score=int(data["max"]),
                band=str(data["band"]),
                flags=list(data["flags"]),
                session_number=numbers.get(r.session_id) if r.session_id else None,
                answers={str(k): int(v) for k, v in data.get("answers", {}).items()},
                subscales=list(data.get("subscales", [])),
            )
        )
    return responses


def course_flags(db: Session, vault: Vault, access: CourseAccess) -> list[FlagView]:
    """Every safety flag on the course, open ones first, newest first within each
    (clinicians only). When a flag was raised is sealed, so the course's flags are
    opened and ordered here, in one query as before."""
    if not access.as_clinician:
        return []
    owner = access.course.patient_id
    rows = db.execute(
        select(SafetyFlag, User.name)
        .outerjoin(User, User.id == SafetyFlag.acknowledged_by)
        .where(SafetyFlag.course_id == access.course.id)
    ).all()
    flags = []
    for f, name in rows:
        instrument_id, raised_at = _opened_source(vault, f, owner)
        detail = vault.open_column(f, "detail", owner)
        ack = open_acknowledgement(vault, f, owner)
        flags.append(FlagView(f.id, detail, instrument_id, raised_at, name, f.acknowledged_at, ack))
    flags.sort(key=lambda f: f.raised_at, reverse=True)
    flags.sort(key=lambda f: f.acknowledged_at is not None)  # stable: open ones first
    return flags


def _opened_source(vault: Vault, flag: SafetyFlag, owner: uuid.UUID) -> tuple[str | None, datetime]:
    """The questionnaire and the time that raised a flag. A row from before 0013 that
    `flask init` has not sealed yet still has its time in clear: it is shown all the same."""
    if flag.source is None and flag.legacy_raised_at is not None:
        return None, flag.legacy_raised_at
    source = json.loads(vault.open_column(flag, "source", owner))
    return source["instrument_id"], datetime.fromisoformat(source["raised_at"])


def seal_clear_flags(db: Session, vault: Vault) -> int:
    """Seal what raised each flag stored in clear by a version before 0013 (the
    response, and through it the questionnaire, and the time) and empty the clear
    columns. Run by `flask init` after migrating; a second run finds nothing to do.
    Returns how many flags it sealed."""
    vault = vault.for_scope(KeyScope.JOURNAL)
    rows = db.execute(
        select(SafetyFlag, Course.patient_id, QuestionnaireResponse.instrument_id)
        .join(Course, Course.id == SafetyFlag.course_id)
        .outerjoin(QuestionnaireResponse, QuestionnaireResponse.id == SafetyFlag.legacy_response_id)
        .where(
            SafetyFlag.legacy_response_id.is_not(None) | SafetyFlag.legacy_raised_at.is_not(None)
        )
    ).all()
    for flag, owner, instrument_id in rows:
        if flag.source is None:
            assert flag.legacy_raised_at is not None  # NOT NULL before 0013
            flag.source = vault.seal_column(
                flag,
                "source",
                owner,
                _source_json(flag.legacy_response_id, instrument_id, None, flag.legacy_raised_at),
            )
        flag.legacy_response_id = flag.legacy_raised_at = None
    db.flush()
    return len(rows)


@atomic
def acknowledge(
    work: Work,
    flag_id: uuid.UUID,
    action: str,
    note: str = "",
    now: datetime | None = None,
) -> SafetyFlag:
    """A care-team clinician records what was done about the flag (one of
    safety_flags.ACTIONS, and a note: required for "no action needed"), sealed with
    the patient's key; who and when are kept in clear. A wrong choice or a missing
    reason: ValidationError, nothing saved. A flag already acknowledged stays as it was."""
    flag = work.db.get(SafetyFlag, flag_id)
    if flag is None:
        raise NotFound()
    access = _clinician_access(work, flag.course_id)
    if flag.acknowledged_at is None:
        ack = check_acknowledgement(action, note)
        seal_acknowledgement(work.vault, flag, access.course.patient_id, ack)
        flag.acknowledged_by, flag.acknowledged_at = work.actor.id, now or utcnow()
        audit.record(
            work.db,
            "flag.acknowledge",
            actor=work.actor,
            object_type="flag",
            object_id=flag.id,
            subject_id=access.course.patient_id,
        )
    return flag


def open_flag_counts(db: Session, user: User) -> dict[uuid.UUID, int]:
    """Unacknowledged safety flags per course the clinician may open (one query)."""
    rows = db.execute(
        select(SafetyFlag.course_id, func.count(SafetyFlag.id))
        .join(Course, Course.id == SafetyFlag.course_id)
        .where(visible_courses_clause(user), SafetyFlag.acknowledged_at.is_(None))
        .group_by(SafetyFlag.course_id)
    )
    return {row[0]: row[1] for row in rows}
