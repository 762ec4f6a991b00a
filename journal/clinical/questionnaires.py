"""Questionnaires on a course: assigned by clinicians, filled in by the patient,
scored from the instrument's definition file, stored encrypted, drawn as trends.

Each cadence comes due at moments (slots) with windows: once; before each dosing
session (from `questionnaire_window_hours` before it until it ends); after each
session (from its end for `questionnaire_after_hours`, until the next one starts);
at the end of the course and at follow-ups months after it, on the closed course.
An answer is filed under the moment open when it is given, once per moment
(docs/clinical-content.md says the rules in full).

A safety flag (PHQ-9 item 9 above zero) is raised the moment the answers are
saved: it shows on the caseload and the course until a clinician acknowledges
it, and the patient is shown the clinic's crisis resources at once. What raised
a flag (its response, questionnaire, rule and time) is sealed; the caseload
counts open flags per course from the clear rows alone.
"""

from __future__ import annotations

import calendar
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.courses import list_sessions
from journal.accounts.policy import (
    CourseAccess,
    course_access,
    reader_params,
    visible_courses_rule,
)
from journal.clinical.charts import (
    DayOf,
    ScorePoint,
    TrendChart,
    WordsOf,
    day_label,
    same_words,
    trend_chart,
)
from journal.clinical.instruments import (
    BASE_LANGUAGE,
    Catalogue,
    FlagKind,
    Instrument,
    Number,
    ScoreResult,
    score,
    stored_number,
)
from journal.clinical.safety_flags import (
    Acknowledgement,
    check_acknowledgement,
    open_acknowledgement,
    seal_acknowledgement,
)
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_, Phrase, kept, read_kept
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
    QuestionnaireSlot,
    Role,
    SafetyFlag,
    SessionStatus,
    User,
)

# Follow-ups: the months a clinician is offered, the default, and how long each
# (and the end-of-course questionnaire) stays open once due.
FOLLOW_UP_MONTHS = range(1, 25)
DEFAULT_FOLLOW_UP_MONTHS = (1, 3, 6)
AFTER_COURSE_OPEN_DAYS = 30
# Cadences still due once the course is closed; every other one needs an active course.
AFTER_COURSE = (Cadence.END_OF_COURSE, Cadence.FOLLOW_UP)


def slot_label(
    slot: QuestionnaireSlot | str, session_number: int | None, month: int | None
) -> str | None:
    """The words for a due moment ("Before session 2", "3-month follow-up");
    None for a questionnaire assigned once."""
    match QuestionnaireSlot(slot):
        case QuestionnaireSlot.BEFORE_SESSION:
            if session_number:
                return N_("Before session %(number)s", number=session_number)
            return N_("Before a session")
        case QuestionnaireSlot.AFTER_SESSION:
            if session_number:
                return N_("After session %(number)s", number=session_number)
            return N_("After a session")
        case QuestionnaireSlot.END_OF_COURSE:
            return N_("End of course")
        case QuestionnaireSlot.FOLLOW_UP:
            return N_("%(month)s-month follow-up", month=month)
    return None


@dataclass(frozen=True)
class AssignmentView:
    id: uuid.UUID
    instrument: Instrument
    cadence: Cadence
    assigned_by: str
    assigned_at: datetime
    responses: int
    follow_up_months: tuple[int, ...] = ()


@dataclass(frozen=True)
class Due:
    assignment_id: uuid.UUID
    course_id: uuid.UUID
    instrument: Instrument
    session: DosingSession | None  # the session it is due before or after, for a per-session one
    slot: QuestionnaireSlot = QuestionnaireSlot.ONCE
    month: int | None = None  # a follow-up's month after the course's end
    closes_at: datetime | None = None  # None: open until answered (once)

    @property
    def key(self) -> str:
        """The moment within the assignment, as stored in `slot_key`."""
        match self.slot:
            case QuestionnaireSlot.BEFORE_SESSION | QuestionnaireSlot.AFTER_SESSION:
                assert self.session is not None
                kind = "before" if self.slot is QuestionnaireSlot.BEFORE_SESSION else "after"
                return f"{kind}:{self.session.id}"
            case QuestionnaireSlot.END_OF_COURSE:
                return "end"
            case QuestionnaireSlot.FOLLOW_UP:
                return f"month:{self.month}"
        return "once"

    @property
    def label(self) -> str | None:
        return slot_label(self.slot, self.session.number if self.session else None, self.month)


@dataclass(frozen=True)
class ResponseView:
    id: uuid.UUID
    instrument_id: str
    submitted_at: datetime
    total: Number
    max_score: Number
    band: str
    flags: list[dict[str, object]]
    session_number: int | None  # the session it was filed under (before or after it)
    answers: dict[str, int] = field(default_factory=dict)  # item id -> value, scored or not
    subscales: list[dict[str, object]] = field(default_factory=list)  # id, label, score, max
    slot: QuestionnaireSlot = QuestionnaireSlot.ONCE
    follow_up_month: int | None = None
    # The language of the version answered ("en" for every answer of before it was kept).
    language: str = BASE_LANGUAGE

    @property
    def label(self) -> str | None:
        """Where it is filed: "Before session 2", "End of course", ...; None for once."""
        return slot_label(self.slot, self.session_number, self.follow_up_month)


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
    # The patient's own language (for clinicians: which version they will answer);
    # None when they have not chosen one, or for the patient's own view.
    patient_language: str | None = None


# -- assigning -------------------------------------------------------------------


def _clinician_access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    """Assigning, stopping and acknowledging are for care-team clinicians; others get 404."""
    access = course_access(work.db, work.actor.user, course_id)
    if not access.as_clinician:
        raise NotFound()
    return access


def parse_months(text: str) -> tuple[int, ...]:
    """Follow-up months as a clinician types them ("1, 3, 6"): whole months from 1 to
    24, each once, in order. Anything else: ValueError with the words to show."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    problem = N_(
        "Give whole months from %(first)s to %(last)s, separated by commas, such as 1, 3, 6.",
        first=FOLLOW_UP_MONTHS[0],
        last=FOLLOW_UP_MONTHS[-1],
    )
    if not parts or len(text) > 40 or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(problem)
    months = sorted({int(p) for p in parts})
    if months[0] not in FOLLOW_UP_MONTHS or months[-1] not in FOLLOW_UP_MONTHS:
        raise ValueError(problem)
    return tuple(months)


def _months_of(row: QuestionnaireAssignment) -> tuple[int, ...]:
    if row.cadence is not Cadence.FOLLOW_UP or not row.follow_up_months:
        return ()
    return tuple(int(m) for m in row.follow_up_months.split(","))


@atomic
def assign(
    work: Work,
    catalogue: Catalogue,
    course_id: uuid.UUID,
    instrument_id: str,
    cadence: str,
    now: datetime | None = None,
    follow_up_months: str | Sequence[int] = DEFAULT_FOLLOW_UP_MONTHS,
) -> QuestionnaireAssignment:
    """A care-team clinician assigns a questionnaire with a cadence; follow-up months
    count only for the follow-up cadence. The same questionnaire may be assigned again
    with another cadence (before each session and at follow-ups, say), not twice with one."""
    access = _clinician_access(work, course_id)
    if not access.writable:
        raise Forbidden()
    errors = {}
    if instrument_id not in catalogue:
        errors["instrument_id"] = N_("Choose one of the listed questionnaires.")
    if cadence not in {c.value for c in Cadence}:
        errors["cadence"] = N_("Choose when the questionnaire is due.")
    months: tuple[int, ...] = ()
    if cadence == Cadence.FOLLOW_UP:
        try:
            months = parse_months(
                follow_up_months
                if isinstance(follow_up_months, str)
                else ",".join(str(m) for m in follow_up_months)
            )
        except ValueError as exc:
            errors["follow_up_months"] = exc.args[0]  # the words, with their values
    if not errors and _active(work.db, course_id, instrument_id, Cadence(cadence)) is not None:
        errors["instrument_id"] = N_(
            "This questionnaire is already assigned on this course with this timing."
        )
    if errors:
        raise ValidationError(errors)
    row = QuestionnaireAssignment(
        id=new_id(),
        course_id=course_id,
        instrument_id=instrument_id,
        cadence=Cadence(cadence),
        follow_up_months=",".join(str(m) for m in months) or None,
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
    db: Session, course_id: uuid.UUID, instrument_id: str, cadence: Cadence
) -> QuestionnaireAssignment | None:
    return db.scalar(
        select(QuestionnaireAssignment).where(
            QuestionnaireAssignment.course_id == course_id,
            QuestionnaireAssignment.instrument_id == instrument_id,
            QuestionnaireAssignment.cadence == cadence,
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


@dataclass(frozen=True)
class Timing:
    """The clinic's windows, from its settings."""

    before: timedelta  # "before each session" opens this long before the start
    length: timedelta  # a session ends this long after its start (or when marked completed)
    after: timedelta  # "after each session" stays open this long after the end

    @classmethod
    def of(cls, work: Work) -> Timing:
        s = work.settings
        return cls(
            timedelta(hours=s.questionnaire_window_hours),
            timedelta(hours=s.session_length_hours),
            timedelta(hours=s.questionnaire_after_hours),
        )


def _ended(s: DosingSession, now: datetime, timing: Timing) -> bool:
    """A session has ended once its length has passed, or, from its start, once it is
    marked completed."""
    start = s.scheduled_at
    return now >= start + timing.length or (s.status == SessionStatus.COMPLETED and now >= start)


def _session_due(
    cadence: Cadence, sessions: list[DosingSession], now: datetime, timing: Timing
) -> tuple[DosingSession, datetime] | None:
    """The session a per-session questionnaire answered now belongs to, and when that
    window closes; None between windows. `sessions`: not cancelled, in time order.

    Before: the first session that has not ended, from `timing.before` before its
    start until it ends (never the next one because its start has passed). After: the
    latest session that has ended, from its end until `timing.after` past its planned
    end (start + length) or the next session's start, whichever comes first."""
    if cadence is Cadence.BEFORE_EACH_SESSION:
        for s in sessions:
            if not _ended(s, now, timing):
                if now >= s.scheduled_at - timing.before:
                    return s, s.scheduled_at + timing.length
                return None
        return None
    ended = [s for s in sessions if _ended(s, now, timing)]
    if not ended:
        return None
    last = ended[-1]
    closes = last.scheduled_at + timing.length + timing.after
    later = [s.scheduled_at for s in sessions if s.scheduled_at > last.scheduled_at]
    if later:
        closes = min(closes, later[0])
    return (last, closes) if now < closes else None


def _add_months(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def _after_course_due(
    row: QuestionnaireAssignment, course: Course, now: datetime
) -> tuple[int | None, datetime] | None:
    """End of course or a follow-up, on a closed course: (the follow-up's month, or None
    for the end of course; when it closes), or None when nothing is open now.
    The end of course opens on the day the course was closed; a follow-up on the same
    day of the month so many months later; each stays open AFTER_COURSE_OPEN_DAYS days
    (a follow-up no later than the next one opens)."""
    if course.status != CourseStatus.CLOSED or course.ended_on is None:
        return None
    open_for = timedelta(days=AFTER_COURSE_OPEN_DAYS)
    if row.cadence is Cadence.END_OF_COURSE:
        opens = _midnight(course.ended_on)
        return (None, opens + open_for) if opens <= now < opens + open_for else None
    months = _months_of(row)
    for i, month in enumerate(months):
        opens = _midnight(_add_months(course.ended_on, month))
        closes = opens + open_for
        if i + 1 < len(months):
            closes = min(closes, _midnight(_add_months(course.ended_on, months[i + 1])))
        if opens <= now < closes:
            return month, closes
    return None


def _open_slot(
    row: QuestionnaireAssignment,
    course: Course,
    instrument: Instrument,
    sessions: list[DosingSession],
    now: datetime,
    timing: Timing,
) -> Due | None:
    """The moment an assignment is open for now, answered or not; None outside any."""
    if row.cadence in AFTER_COURSE:
        found = _after_course_due(row, course, now)
        if found is None:
            return None
        month, closes = found
        kind = QuestionnaireSlot.END_OF_COURSE if month is None else QuestionnaireSlot.FOLLOW_UP
        return Due(row.id, course.id, instrument, None, kind, month, closes)
    if course.status != CourseStatus.ACTIVE:
        return None
    if row.cadence is Cadence.ONCE:
        return Due(row.id, course.id, instrument, None)
    session = _session_due(row.cadence, sessions, now, timing)
    if session is None:
        return None
    kind = (
        QuestionnaireSlot.BEFORE_SESSION
        if row.cadence is Cadence.BEFORE_EACH_SESSION
        else QuestionnaireSlot.AFTER_SESSION
    )
    return Due(row.id, course.id, instrument, session[0], kind, None, session[1])


def due_for_patient(
    work: Work,
    catalogue: Catalogue,
    course_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[Due]:
    """Questionnaires the patient should fill in now, on one course or all of theirs:
    each assignment's moment open now (see `_open_slot`) that has no answer yet. On a
    closed course only the end-of-course questionnaire and the follow-ups come due."""
    now = now or utcnow()
    stmt = (
        select(QuestionnaireAssignment, Course)
        .join(Course, Course.id == QuestionnaireAssignment.course_id)
        .where(
            Course.patient_id == work.actor.id,
            QuestionnaireAssignment.ended_at.is_(None),
            or_(
                Course.status == CourseStatus.ACTIVE,
                QuestionnaireAssignment.cadence.in_(AFTER_COURSE),
            ),
        )
        .order_by(QuestionnaireAssignment.assigned_at)
    )
    if course_id is not None:
        stmt = stmt.where(QuestionnaireAssignment.course_id == course_id)
    rows = [(a, c) for a, c in work.db.execute(stmt) if a.instrument_id in catalogue]
    if not rows:
        return []
    answered = set(
        work.db.execute(
            select(QuestionnaireResponse.assignment_id, QuestionnaireResponse.slot_key).where(
                QuestionnaireResponse.assignment_id.in_([a.id for a, _ in rows])
            )
        ).all()
    )
    timing = Timing.of(work)
    sessions: dict[uuid.UUID, list[DosingSession]] = {}
    due = []
    for a, course in rows:
        per_session = a.cadence in (Cadence.BEFORE_EACH_SESSION, Cadence.AFTER_EACH_SESSION)
        if per_session and course.id not in sessions:
            sessions[course.id] = [
                s for s in list_sessions(work.db, course.id) if s.status != SessionStatus.CANCELLED
            ]
        slot = _open_slot(
            a, course, catalogue.get(a.instrument_id), sessions.get(course.id, []), now, timing
        )
        if slot is not None and (a.id, slot.key) not in answered:
            due.append(slot)
    return due


def closed_courses_to_follow(db: Session, now: datetime) -> list[tuple[User, uuid.UUID]]:
    """Active patients and their closed courses with an end-of-course questionnaire or
    follow-ups still assigned and possibly open (for the reminders' scan)."""
    latest = now.date() - timedelta(days=31 * FOLLOW_UP_MONTHS[-1] + AFTER_COURSE_OPEN_DAYS + 1)
    rows = db.execute(
        select(User, Course.id)
        .join(Course, Course.patient_id == User.id)
        .where(
            User.active.is_(True),
            Course.status == CourseStatus.CLOSED,
            Course.ended_on >= latest,
            select(QuestionnaireAssignment.id)
            .where(
                QuestionnaireAssignment.course_id == Course.id,
                QuestionnaireAssignment.ended_at.is_(None),
                QuestionnaireAssignment.cadence.in_(AFTER_COURSE),
            )
            .exists(),
        )
    ).all()
    return [(user, course_id) for user, course_id in rows]


# -- answering -------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    result: ScoreResult
    safety_flag: bool
    response_id: uuid.UUID | None = None


@atomic
def submit(
    work: Work,
    catalogue: Catalogue,
    assignment_id: uuid.UUID,
    answers: dict[str, object],
    now: datetime | None = None,
) -> Submitted:
    """Score and store the patient's answers, filed under the moment open now (its
    session and kind, or follow-up month); raise a flag at once if a rule says so.
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
    if due is None:
        raise Forbidden()  # answered already, stopped, outside its window, or the course is closed
    if not access.writable and due.slot not in (
        QuestionnaireSlot.END_OF_COURSE,
        QuestionnaireSlot.FOLLOW_UP,
    ):
        raise Forbidden()  # a closed course takes only what comes after it
    instrument = catalogue.get(assignment.instrument_id)
    result = score(instrument, answers)  # AnswersError is a ValidationError
    owner = access.course.patient_id
    response = QuestionnaireResponse(
        id=new_id(),
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        instrument_id=instrument.id,
        session_id=due.session.id if due.session else None,
        slot=due.slot,
        follow_up_month=due.month,
        slot_key=due.key,
        submitted_by=work.actor.id,
        submitted_at=now,
        version=1,
    )
    response.result = work.vault.seal_column(
        response, "result", owner, _result_json(result, instrument.language)
    )
    try:
        with work.db.begin_nested():
            work.db.add(response)
            work.db.flush()
    except IntegrityError:
        raise Forbidden() from None  # the same moment answered a moment ago (a second tab)
    safety = [f for f in result.flags if f.kind is FlagKind.SAFETY]
    for flag in safety:
        row = SafetyFlag(id=new_id(), course_id=assignment.course_id, version=1)
        detail = N_(
            "%(questionnaire)s: %(flag)s (answered %(answer)s)",
            questionnaire=instrument.short_title,
            flag=Phrase(flag.label, {}),
            answer=flag.value,
        )
        row.detail = work.vault.seal_column(row, "detail", owner, kept(detail))
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
    return Submitted(result, bool(safety), response.id)


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


def _result_json(result: ScoreResult, language: str = BASE_LANGUAGE) -> str:
    """The sealed result, with the language of the version answered (the scoring is
    the same in every language; the words the patient read are not)."""
    return json.dumps(
        {
            "version": result.version,
            "language": language,
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


def course_measures(
    work: Work,
    catalogue: Catalogue,
    course_id: uuid.UUID,
    *,
    words: WordsOf = same_words,
    day: DayOf = day_label,
) -> Measures:
    """Assignments, every response with its score, a trend chart per questionnaire
    (its words and dates in the reader's language: `words`, `day`), and the safety
    flags (for clinicians). The patient sees their own scores."""
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
            _months_of(a),
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
                trend_chart(
                    instrument,
                    points,
                    session_days,
                    chart_id=f"trend-{instrument.id}",
                    words=words,
                    day=day,
                ),
            )
        )
    flags = course_flags(work.db, work.vault, access) if access.as_clinician else []
    patient_language = (
        work.db.scalar(select(User.language).where(User.id == owner))
        if access.as_clinician
        else None
    )
    if access.as_clinician and responses:
        audit.record_read(work, object_type="questionnaire", object_id=course_id, subject_id=owner)
    return Measures(access, assignments, charts, responses, flags, patient_language)


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
                total=stored_number(data["total"]),  # a mean keeps its decimals
                max_score=stored_number(data["max"]),
                band=str(data["band"]),
                flags=list(data["flags"]),
                session_number=numbers.get(r.session_id) if r.session_id else None,
                answers={str(k): int(v) for k, v in data.get("answers", {}).items()},
                subscales=list(data.get("subscales", [])),
                slot=r.slot,
                follow_up_month=r.follow_up_month,
                language=str(data.get("language", BASE_LANGUAGE)),
            )
        )
    return responses


@dataclass(frozen=True)
class OwnAnswer:
    response: ResponseView
    course_id: uuid.UUID
    instrument: Instrument | None  # None: no longer in the catalogue


def own_answer(work: Work, catalogue: Catalogue, response_id: uuid.UUID) -> OwnAnswer:
    """One questionnaire the signed-in patient answered, opened for the page that thanks
    them (it can be reloaded and bookmarked); NotFound for anyone else's."""
    row = work.db.get(QuestionnaireResponse, response_id)
    if row is None:
        raise NotFound()
    access = course_access(work.db, work.actor.user, row.course_id)  # NotFound for others
    if not access.as_patient:
        raise NotFound()
    numbers = {s.id: s.number for s in list_sessions(work.db, row.course_id)}
    found = next(
        r for r in course_responses(work.db, work.vault, access, numbers) if r.id == row.id
    )
    instrument = catalogue.get(row.instrument_id) if row.instrument_id in catalogue else None
    return OwnAnswer(found, row.course_id, instrument)


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
        detail = read_kept(vault.open_column(f, "detail", owner))
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
    rows = db.execute(_open_flags_statement(user.role), reader_params(user))
    return {row[0]: row[1] for row in rows}


@cache
def _open_flags_statement(role: Role) -> Select[uuid.UUID, int]:
    """Built once per role (it runs on every page a clinician opens, for the navigation)."""
    return (
        select(SafetyFlag.course_id, func.count(SafetyFlag.id))
        .join(Course, Course.id == SafetyFlag.course_id)
        .where(visible_courses_rule(role), SafetyFlag.acknowledged_at.is_(None))
        .group_by(SafetyFlag.course_id)
    )
