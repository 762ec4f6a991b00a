"""Courses of treatment, care teams and dosing sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Row, Select, bindparam, delete, func, select
from sqlalchemy.orm import Session

from journal.accounts import audit, session_notices
from journal.accounts import care_team as proposals
from journal.accounts.accounts import normalise_email
from journal.accounts.policy import (
    CourseAccess,
    administers,
    can_manage_sessions,
    course_access,
    require,
    treats,
    visible_courses_clause,
    works_at_the_clinic,
)
from journal.core.errors import Forbidden, NotFound, ValidationError
from journal.core.labels import N_
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import (
    CareTeamMember,
    Course,
    CourseStatus,
    DosingSession,
    Referral,
    Role,
    SessionStatus,
    User,
)

INDICATION_MAX = 500
MAX_SESSIONS = 60
NOT_MY_PATIENT = N_("No patient referred to you, or on one of your courses, has this email.")


@dataclass(frozen=True)
class NextSession:
    number: int
    scheduled_at: datetime


@dataclass(frozen=True)
class CourseRow:
    """A course as listed on a home page (no content)."""

    course: Course
    patient: User
    next_session: NextSession | None
    sessions_done: int
    sessions_total: int


def _check_indication(indication: str) -> str:
    indication = indication.strip()
    if len(indication) > INDICATION_MAX:
        raise ValidationError(
            {"indication": N_("Use at most %(limit)s characters.", limit=INDICATION_MAX)}
        )
    return indication


@atomic
def create_course(
    work: Work,
    *,
    patient_email: str,
    clinician_emails: list[str],
    started_on: date,
    indication: str = "",
) -> Course:
    """Open a course for a patient. A clinician who opens one joins its care team, and
    may open one only for a patient the clinic's intake referred to them or already on
    one of their courses: the answer is the same for an address that is nobody's."""
    require(works_at_the_clinic(work.actor.user))  # staff open courses
    indication = _check_indication(indication)
    patient = work.db.scalar(
        select(User).where(User.email == normalise_email(patient_email), User.role == Role.PATIENT)
    )
    if treats(work.actor.user):
        if patient is None or not patient.active or not _is_my_patient(work, patient.id):
            raise ValidationError({"patient_email": NOT_MY_PATIENT})
    elif patient is None or not patient.active:
        raise ValidationError({"patient_email": N_("No active patient account has this email.")})
    emails = {normalise_email(e) for e in clinician_emails if e.strip()}
    clinicians = list(
        work.db.scalars(select(User).where(User.email.in_(emails), User.role == Role.CLINICIAN))
    )
    if len(clinicians) != len(emails):
        raise ValidationError({"clinician_emails": N_("Each email must belong to a clinician.")})
    proposed: list[User] = []
    if treats(work.actor.user):
        if work.settings.care_team_consent == "patient":
            # The clinic asks the patient: the colleagues named are proposals.
            proposed = [c for c in clinicians if c.id != work.actor.id]
            clinicians = [work.actor.user]
        elif work.actor.user not in clinicians:
            clinicians.append(work.actor.user)
    if not clinicians:
        raise ValidationError({"clinician_emails": N_("A course needs at least one clinician.")})
    course = Course(
        id=new_id(),
        patient_id=patient.id,
        status=CourseStatus.ACTIVE,
        started_on=started_on,
        version=1,
    )
    if indication:
        course.indication = work.vault.seal_column(course, "indication", patient.id, indication)
    work.db.add(course)
    work.db.flush()  # no relationship() mappings, so order inserts by hand
    work.db.add_all(CareTeamMember(course_id=course.id, clinician_id=c.id) for c in clinicians)
    proposals.propose_colleagues(work, course, proposed)
    audit.record(
        work.db,
        "course.create",
        actor=work.actor,
        object_type="course",
        object_id=course.id,
        subject_id=patient.id,
    )
    return course


def _is_my_patient(work: Work, patient_id: uuid.UUID) -> bool:
    referred = work.db.get(Referral, (patient_id, work.actor.id)) is not None
    return referred or (
        work.db.scalar(
            select(CareTeamMember.course_id)
            .join(Course, Course.id == CareTeamMember.course_id)
            .where(Course.patient_id == patient_id, CareTeamMember.clinician_id == work.actor.id)
            .limit(1)
        )
        is not None
    )


def course_indication(vault: Vault, access: CourseAccess) -> str:
    return vault.open_optional(access.course, "indication", access.course.patient_id) or ""


@atomic
def set_course_status(work: Work, course_id: uuid.UUID, status: CourseStatus) -> Course:
    if administers(work.actor.user):
        course = work.db.get(Course, course_id)
        if course is None:
            raise NotFound()
    else:
        access = course_access(work.db, work.actor.user, course_id)
        if not access.as_clinician:
            raise Forbidden()
        course = access.course
    course.status = status
    course.ended_on = utcnow().date() if status == CourseStatus.CLOSED else None
    audit.record(
        work.db,
        f"course.{status.value}",
        actor=work.actor,
        object_type="course",
        object_id=course.id,
        subject_id=course.patient_id,
    )
    return course


def care_team(db: Session, course_id: uuid.UUID) -> list[User]:
    return list(db.scalars(_care_team_statement(), {"course_id": course_id}))


# Built once: the timeline reads the care team and the sessions on every view.
@cache
def _care_team_statement() -> Select[User]:
    return (
        select(User)
        .join(CareTeamMember, CareTeamMember.clinician_id == User.id)
        .where(CareTeamMember.course_id == bindparam("course_id"))
        .order_by(User.name)
    )


@cache
def _sessions_statement() -> Select[DosingSession]:
    return (
        select(DosingSession)
        .where(DosingSession.course_id == bindparam("course_id"))
        .order_by(DosingSession.scheduled_at, DosingSession.number)
    )


@atomic
def remove_clinician(work: Work, course_id: uuid.UUID, clinician_id: uuid.UUID) -> None:
    require(administers(work.actor.user))
    course = work.db.get(Course, course_id)
    if course is None:
        raise NotFound()
    work.db.execute(
        delete(CareTeamMember).where(
            CareTeamMember.course_id == course_id, CareTeamMember.clinician_id == clinician_id
        )
    )
    # Nor may they open a new course for this patient on the intake's old referral.
    work.db.execute(
        delete(Referral).where(
            Referral.patient_id == course.patient_id, Referral.clinician_id == clinician_id
        )
    )
    audit.record(
        work.db,
        "care_team.remove",
        actor=work.actor,
        object_type="care_team",
        object_id=clinician_id,
        subject_id=course.patient_id,
    )


@dataclass(frozen=True)
class AdminCourseRow:
    """A course as the admin sees it: who and when, never what was written."""

    course: Course
    patient: User
    team: list[User]


def all_courses(work: Work) -> list[AdminCourseRow]:
    require(administers(work.actor.user))
    pairs = work.db.execute(
        select(Course, User).join(User, User.id == Course.patient_id).order_by(Course.created_at)
    ).all()
    teams: dict[uuid.UUID, list[User]] = {c.id: [] for c, _ in pairs}
    for member, clinician in work.db.execute(
        select(CareTeamMember, User)
        .join(User, User.id == CareTeamMember.clinician_id)
        .order_by(User.name)
    ):
        teams.setdefault(member.course_id, []).append(clinician)
    return [AdminCourseRow(course, patient, teams[course.id]) for course, patient in pairs]


def admin_course(work: Work, course_id: uuid.UUID) -> AdminCourseRow:
    require(administers(work.actor.user))
    course = work.db.get(Course, course_id)
    if course is None:
        raise NotFound()
    patient = work.db.get(User, course.patient_id)
    assert patient is not None
    return AdminCourseRow(course, patient, care_team(work.db, course_id))


def courses_for(work: Work, now: datetime | None = None) -> list[CourseRow]:
    """Courses the actor may open, with next session and progress, in three queries."""
    now = now or utcnow()
    pairs = work.db.execute(
        select(Course, User)
        .join(User, User.id == Course.patient_id)
        .where(visible_courses_clause(work.actor.user))
        .order_by(User.name, Course.started_on)
    ).all()
    ids = [c.id for c, _ in pairs]
    # Plain rows, not ORM objects: a caseload of 40 courses has hundreds of sessions.
    sessions: dict[uuid.UUID, list[Row[uuid.UUID, int, datetime, SessionStatus]]] = {
        i: [] for i in ids
    }
    if ids:
        for s in work.db.execute(
            select(
                DosingSession.course_id,
                DosingSession.number,
                DosingSession.scheduled_at,
                DosingSession.status,
            )
            .where(DosingSession.course_id.in_(ids))
            .order_by(DosingSession.scheduled_at)
        ):
            sessions[s.course_id].append(s)
    rows = []
    for course, patient in pairs:
        own = sessions[course.id]
        upcoming = [s for s in own if s.status == SessionStatus.SCHEDULED and s.scheduled_at >= now]
        rows.append(
            CourseRow(
                course=course,
                patient=patient,
                next_session=NextSession(upcoming[0].number, upcoming[0].scheduled_at)
                if upcoming
                else None,
                sessions_done=sum(s.status == SessionStatus.COMPLETED for s in own),
                sessions_total=sum(s.status != SessionStatus.CANCELLED for s in own),
            )
        )
    return rows


# -- dosing sessions --------------------------------------------------------


def list_sessions(db: Session, course_id: uuid.UUID) -> list[DosingSession]:
    return list(db.scalars(_sessions_statement(), {"course_id": course_id}))


def _check_session_time(scheduled_at: datetime) -> None:
    if scheduled_at.tzinfo is None:
        raise ValidationError({"scheduled_at": N_("Give a date and time.")})
    if not 2000 <= scheduled_at.year <= 2100:
        raise ValidationError({"scheduled_at": N_("Give a date between 2000 and 2100.")})


@atomic
def schedule_session(
    work: Work,
    course_id: uuid.UUID,
    *,
    scheduled_at: datetime,
    number: int | None = None,
    status: SessionStatus = SessionStatus.SCHEDULED,
) -> DosingSession:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_manage_sessions(access):
        raise Forbidden()
    _check_session_time(scheduled_at)
    count = work.db.scalar(select(func.count()).where(DosingSession.course_id == course_id)) or 0
    if count >= MAX_SESSIONS:
        raise ValidationError(
            {"scheduled_at": N_("A course holds at most %(limit)s sessions.", limit=MAX_SESSIONS)}
        )
    if number is None:
        number = int(count) + 1
    elif not 1 <= number <= MAX_SESSIONS:
        raise ValidationError(
            {"number": N_("Use a number from 1 to %(limit)s.", limit=MAX_SESSIONS)}
        )
    session = DosingSession(
        id=new_id(), course_id=course_id, number=number, scheduled_at=scheduled_at, status=status
    )
    work.db.add(session)
    audit.record(
        work.db,
        "session.create",
        actor=work.actor,
        object_type="dosing_session",
        object_id=session.id,
        subject_id=access.course.patient_id,
    )
    session_notices.after_schedule(work, access.course.patient_id, session)
    return session


def get_session(db: Session, access: CourseAccess, session_id: uuid.UUID) -> DosingSession:
    session = db.get(DosingSession, session_id)
    if session is None or session.course_id != access.course.id:
        raise NotFound()
    return session


@atomic
def update_session(
    work: Work,
    course_id: uuid.UUID,
    session_id: uuid.UUID,
    *,
    scheduled_at: datetime,
    number: int,
    status: SessionStatus,
) -> DosingSession:
    """Move, renumber, complete or cancel a session: all one ordinary edit."""
    access = course_access(work.db, work.actor.user, course_id)
    session = get_session(work.db, access, session_id)
    if not can_manage_sessions(access):
        raise Forbidden()
    _check_session_time(scheduled_at)
    if not 1 <= number <= MAX_SESSIONS:
        raise ValidationError(
            {"number": N_("Use a number from 1 to %(limit)s.", limit=MAX_SESSIONS)}
        )
    was_at, was = session.scheduled_at, session.status
    session.scheduled_at = scheduled_at
    session.number = number
    session.status = status
    session.updated_at = utcnow()
    audit.record(
        work.db,
        "session.update",
        actor=work.actor,
        object_type="dosing_session",
        object_id=session.id,
        subject_id=access.course.patient_id,
    )
    session_notices.after_update(work, access.course.patient_id, session, was_at, was)
    return session
