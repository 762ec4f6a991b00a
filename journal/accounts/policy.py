"""The one home of access rules.

Every page, query and export asks here who may see what:
- a patient sees their own courses and every entry on them except
  clinician-only ones, and their own private entries;
- a clinician sees the courses of their care teams, never a patient's private
  entries;
- an admin sees no journal content at all.
Membership is read from the database on every request, so removing a
clinician from a care team takes effect at once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from journal.core.errors import Forbidden, NotFound
from journal.models import CareTeamMember, Course, CourseStatus, Entry, Role, User, Visibility

# -- what each role does: every role check of the domain packages is one of these --


def administers(user: User) -> bool:
    """An admin runs accounts, courses and care teams, and reads no content."""
    return user.role == Role.ADMIN


def treats(user: User) -> bool:
    """A clinician cares for the patients of the courses they are on."""
    return user.role == Role.CLINICIAN


def keeps_a_journal(user: User) -> bool:
    """A patient writes the journal of their own courses."""
    return user.role == Role.PATIENT


def works_at_the_clinic(user: User) -> bool:
    """Staff (clinicians and admins): they sign in with a second factor."""
    return user.role in (Role.CLINICIAN, Role.ADMIN)


def require(allowed: bool) -> None:
    """Refuse (403) what a role may not do at all."""
    if not allowed:
        raise Forbidden()


@dataclass(frozen=True)
class CourseAccess:
    """What the acting user is to one course."""

    course: Course
    user: User
    as_patient: bool
    as_clinician: bool

    @property
    def writable(self) -> bool:
        return self.course.status == CourseStatus.ACTIVE


def is_on_care_team(db: Session, course_id: uuid.UUID, clinician_id: uuid.UUID) -> bool:
    return bool(db.scalar(_membership(), {"course_id": course_id, "clinician_id": clinician_id}))


@cache
def _membership() -> Select[bool]:
    """Built once: every page of a course asks it for a clinician."""
    return select(
        exists().where(
            CareTeamMember.course_id == bindparam("course_id"),
            CareTeamMember.clinician_id == bindparam("clinician_id"),
        )
    )


def course_access(db: Session, user: User, course_id: uuid.UUID) -> CourseAccess:
    """The actor's access to a course, or NotFound (never reveals that it exists)."""
    course = db.get(Course, course_id)
    if course is None or user.role == Role.ADMIN:
        raise NotFound()
    if user.role == Role.PATIENT and course.patient_id == user.id:
        return CourseAccess(course, user, as_patient=True, as_clinician=False)
    if user.role == Role.CLINICIAN and is_on_care_team(db, course.id, user.id):
        return CourseAccess(course, user, as_patient=False, as_clinician=True)
    raise NotFound()


def readable_entry(db: Session, user: User, entry_id: uuid.UUID) -> tuple[Entry, CourseAccess]:
    """An entry the user may read, with their access to its course; NotFound otherwise
    (never reveals that it exists)."""
    entry = db.get(Entry, entry_id)
    if entry is None:
        raise NotFound()
    access = course_access(db, user, entry.course_id)
    if not can_read_entry(access, entry):
        raise NotFound()
    return entry, access


# The rules below are built around bound parameters named READER and COURSE. A hot
# page builds its statement once per shape (the reader's role, their access) with the
# parameters empty and passes the ids when it runs it (`reader_params`; see
# docs/performance.md, "Read path"); the functions taking a user or an access build
# the same rule with the values filled in.
READER = "policy_reader"
COURSE = "policy_course"
Bound = BindParameter[uuid.UUID]


def reader_params(user: User, course_id: uuid.UUID | None = None) -> dict[str, uuid.UUID]:
    """The values of a prebuilt rule's parameters."""
    found = {READER: user.id}
    if course_id is not None:
        found[COURSE] = course_id
    return found


def _visible_courses(role: Role, reader: Bound) -> ColumnElement[bool]:
    if role == Role.PATIENT:
        return Course.patient_id == reader
    if role == Role.CLINICIAN:
        return Course.id.in_(
            select(CareTeamMember.course_id).where(CareTeamMember.clinician_id == reader)
        )
    return Course.id.is_(None)  # admins: none


@cache
def visible_courses_rule(role: Role) -> ColumnElement[bool]:
    """visible_courses_clause's rule, the reader as a parameter."""
    return _visible_courses(role, bindparam(READER))


def visible_courses_clause(user: User) -> ColumnElement[bool]:
    """Courses the user may open, as a WHERE clause on Course."""
    return _visible_courses(user.role, bindparam(READER, user.id, unique=True))


def can_read(access: CourseAccess, visibility: Visibility, author_id: uuid.UUID) -> bool:
    """Whether words at this visibility, by this author, on this course, are readable."""
    if visibility == Visibility.PRIVATE:
        return author_id == access.user.id
    if visibility == Visibility.CARE_TEAM:
        return access.as_patient or access.as_clinician
    return access.as_clinician


def can_read_entry(access: CourseAccess, entry: Entry) -> bool:
    """A deleted entry is read by no one: what is left of it is its tombstone."""
    return (
        entry.course_id == access.course.id
        and entry.deleted_at is None
        and can_read(access, entry.visibility, entry.author_id)
    )


def _visible_entries(as_clinician: bool, reader: Bound, course: Bound) -> ColumnElement[bool]:
    own_private = and_(Entry.visibility == Visibility.PRIVATE, Entry.author_id == reader)
    shared = Entry.visibility == Visibility.CARE_TEAM
    parts = [own_private, shared]
    if as_clinician:
        parts.append(Entry.visibility == Visibility.CLINICIAN_ONLY)
    return and_(Entry.course_id == course, or_(*parts))


@cache
def readable_entries_rule(as_clinician: bool) -> ColumnElement[bool]:
    """readable_entries_clause's rule, the reader and the course as parameters
    (`reader_params(user, course_id)`); `as_clinician` is the access's."""
    reader: Bound = bindparam(READER)
    course: Bound = bindparam(COURSE)
    return and_(_visible_entries(as_clinician, reader, course), Entry.deleted_at.is_(None))


def _bound(access: CourseAccess) -> tuple[Bound, Bound]:
    return (
        bindparam(READER, access.user.id, unique=True),
        bindparam(COURSE, access.course.id, unique=True),
    )


def readable_entries_clause(access: CourseAccess) -> ColumnElement[bool]:
    """The same rule as can_read_entry, as SQL, for list queries and counts."""
    visible = _visible_entries(access.as_clinician, *_bound(access))
    return and_(visible, Entry.deleted_at.is_(None))


@cache
def tombstones_rule(as_clinician: bool) -> ColumnElement[bool]:
    """Deleted entries the reader could read before: their tombstones (date, phase,
    who deleted), never their words; a private entry's stays with its writer. The
    reader and the course as parameters (`reader_params(user, course_id)`)."""
    reader: Bound = bindparam(READER)
    course: Bound = bindparam(COURSE)
    return and_(_visible_entries(as_clinician, reader, course), Entry.deleted_at.is_not(None))


def can_delete_entry(access: CourseAccess, entry: Entry) -> bool:
    """A patient may delete what they wrote themselves, while the course is open."""
    return access.as_patient and can_edit_entry(access, entry)


def can_restore_entry(access: CourseAccess, entry: Entry) -> bool:
    """Its writer, while the words are still kept (see entries.purge_deleted)."""
    return (
        access.as_patient
        and access.writable
        and entry.author_id == access.user.id
        and entry.deleted_at is not None
        and entry.erased_at is None
    )


def can_edit_entry(access: CourseAccess, entry: Entry) -> bool:
    return access.writable and entry.author_id == access.user.id and can_read_entry(access, entry)


def can_attach_entry(access: CourseAccess, entry: Entry) -> bool:
    """An entry written between sessions can be linked to one later: by a clinician of
    the care team who may read it, or by its author, while the course is open."""
    return (
        access.writable
        and entry.session_id is None
        and (access.as_clinician or entry.author_id == access.user.id)
        and can_read_entry(access, entry)
    )


def visibilities_for(role: Role) -> list[Visibility]:
    """Levels a writer may choose, the first preselected: patients never write
    clinician-only entries, clinicians write no private entries on a patient's course.
    A clinician's note stays among clinicians unless they choose to let the patient
    read it; a patient's entry goes to the care team unless they keep it private."""
    if role == Role.PATIENT:
        return [Visibility.CARE_TEAM, Visibility.PRIVATE]
    if role == Role.CLINICIAN:
        return [Visibility.CLINICIAN_ONLY, Visibility.CARE_TEAM]
    return []


def can_manage_sessions(access: CourseAccess) -> bool:
    return access.as_clinician and access.writable


# -- review, comments, psychotherapy notes ------------------------------------


def can_review(access: CourseAccess) -> bool:
    """Marking entries reviewed is a care-team clinician's act."""
    return access.as_clinician


def comment_visibilities(access: CourseAccess) -> list[Visibility]:
    """Clinicians comment for the patient or for the team only; patients only reply."""
    return [Visibility.CARE_TEAM, Visibility.CLINICIAN_ONLY] if access.as_clinician else []


def can_read_comment(access: CourseAccess, visibility: Visibility) -> bool:
    """Comments are never private: care-team ones reach the patient, the rest do not."""
    if visibility == Visibility.CARE_TEAM:
        return access.as_patient or access.as_clinician
    return visibility == Visibility.CLINICIAN_ONLY and access.as_clinician


def can_use_notes(access: CourseAccess) -> bool:
    """Psychotherapy notes: care-team clinicians only; a patient never reaches them."""
    return access.as_clinician


def _anywhere(role: Role, deleted_too: bool, reader: Bound) -> ColumnElement[bool]:
    own_private = and_(Entry.visibility == Visibility.PRIVATE, Entry.author_id == reader)
    shared = Entry.visibility == Visibility.CARE_TEAM
    live = true() if deleted_too else Entry.deleted_at.is_(None)
    if role == Role.PATIENT:
        return and_(_visible_courses(role, reader), or_(own_private, shared), live)
    if role == Role.CLINICIAN:
        staff = Entry.visibility == Visibility.CLINICIAN_ONLY
        return and_(_visible_courses(role, reader), or_(shared, staff), live)
    return Course.id.is_(None)


@cache
def readable_anywhere_rule(role: Role, deleted_too: bool = False) -> ColumnElement[bool]:
    """readable_entries_anywhere's rule, the reader as a parameter (`reader_params`)."""
    return _anywhere(role, deleted_too, bindparam(READER))


def readable_entries_anywhere(user: User, *, deleted_too: bool = False) -> ColumnElement[bool]:
    """Entries the user may read on any of their courses, for counts across a caseload.
    The same rule as readable_entries_clause, joined to Course. `deleted_too`: also the
    ones deleted since, for the patient's access log of what happened to them."""
    return _anywhere(user.role, deleted_too, bindparam(READER, user.id, unique=True))


def readable_comment_levels(role: Role) -> list[Visibility]:
    if role == Role.PATIENT:
        return [Visibility.CARE_TEAM]
    if role == Role.CLINICIAN:
        return [Visibility.CARE_TEAM, Visibility.CLINICIAN_ONLY]
    return []


def can_use_clinical_records(access: CourseAccess) -> bool:
    """The dosing-session record and the screening: care-team clinicians only.

    Clinicians write them for each other; the patient does not see them whole (see
    docs/security.md, "Who may see what", and `can_read_own_dosing_record`)."""
    return access.as_clinician


def can_read_own_dosing_record(access: CourseAccess) -> bool:
    """The patient reads their own dosing-session records, in part: what was given,
    measured and how they left, never the clinicians' ratings, observations and notes
    (docs/security.md, "Who may see what"). Nobody else reads this view."""
    return access.as_patient


# -- guided prompts, intention outcomes, quick capture -------------------------


def can_edit_prompt_library(user: User) -> bool:
    """The clinic's prompt library is edited by its clinicians (it holds no patient data)."""
    return user.role == Role.CLINICIAN and user.active


def can_assign_prompts(access: CourseAccess) -> bool:
    """Care-team clinicians assign prompts for a session of an open course."""
    return access.as_clinician and access.writable


def can_answer_prompts(access: CourseAccess) -> bool:
    """Assigned prompts are the patient's to answer."""
    return access.as_patient and access.writable


def can_quick_capture(access: CourseAccess) -> bool:
    """The quick capture after a session is the patient's own form."""
    return access.as_patient and access.writable


# -- the safety plan ---------------------------------------------------------------


def can_read_safety_plan(access: CourseAccess) -> bool:
    """The patient and the care team's clinicians read the plan they write together."""
    return access.as_patient or access.as_clinician


def can_edit_safety_plan(access: CourseAccess) -> bool:
    """Either of them changes it while the course is open; a closed course's plan stays
    readable."""
    return can_read_safety_plan(access) and access.writable


# -- the screening's re-checks, the consent record --------------------------------


def can_recheck_screening(access: CourseAccess) -> bool:
    """A care-team clinician re-checks the screening before a session of an open course."""
    return can_use_clinical_records(access) and access.writable


def can_read_consent(access: CourseAccess) -> bool:
    """The consent record is the patient's record too: they and the care team's
    clinicians read it."""
    return access.as_patient or access.as_clinician


def can_record_consent(access: CourseAccess) -> bool:
    """A care-team clinician enters or amends it while the course is open; the patient
    reads it only."""
    return access.as_clinician and access.writable


# -- a PDF the worker makes ----------------------------------------------------------


def can_fetch_export(user: User, requested_by: uuid.UUID) -> bool:
    """A PDF the worker made (its progress page, its download) is for the person who
    asked for it alone; a course's PDF also needs the course to be theirs still
    (course_access, asked by journal/export/jobs.py)."""
    return user.id == requested_by
