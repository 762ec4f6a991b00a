"""The clinician's caseload: every patient with what needs attention.

A fixed number of queries whatever the number of patients or entries: the
counts are grouped in SQL, never loaded row by row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, select
from sqlalchemy.orm import Session

from journal.db import UTCDateTime, utcnow
from journal.models import (
    Course,
    CourseStatus,
    CourseVisit,
    Entry,
    EntryReview,
    Role,
    User,
)
from journal.services.actor import Actor
from journal.services.comments import unread_comments_by_course
from journal.services.courses import CourseRow, courses_for
from journal.services.errors import Forbidden
from journal.services.policy import readable_entries_anywhere
from journal.services.questionnaires import open_flag_counts

SORTS = ("attention", "name", "next", "new", "unreviewed")
SHOWS = ("active", "closed", "all")


@dataclass(frozen=True)
class CaseloadRow:
    row: CourseRow
    new_entries: int  # by others since this clinician last opened the course
    unreviewed: int  # no clinician has reviewed the current version
    unread_comments: int  # replies and comments by others not yet opened
    last_visit: datetime | None
    open_flags: int = 0  # safety flags not yet acknowledged

    @property
    def needs_attention(self) -> bool:
        return bool(self.open_flags or self.new_entries or self.unreviewed or self.unread_comments)


def _grouped(db: Session, stmt: object) -> dict[uuid.UUID, int]:
    return {row[0]: row[1] for row in db.execute(stmt)}  # type: ignore[call-overload]


def caseload(
    db: Session,
    actor: Actor,
    *,
    sort: str = "attention",
    show: str = "active",
    name: str = "",
    attention_only: bool = False,
    now: datetime | None = None,
) -> list[CaseloadRow]:
    if actor.role != Role.CLINICIAN:
        raise Forbidden()
    user = actor.user
    rows = courses_for(db, actor, now or utcnow())
    if show in ("active", "closed"):
        rows = [r for r in rows if r.course.status == CourseStatus(show)]
    wanted = name.strip().casefold()
    if wanted:
        rows = [r for r in rows if wanted in r.patient.name.casefold()]
    readable = readable_entries_anywhere(user)
    # count() rather than count(Entry.id): the counts then come from the covering
    # indexes on entries alone (see the Entry model), without reading its rows.
    new = _grouped(
        db,
        _new_since_visit(user, Course.id, func.count())
        .where(readable, Entry.author_id != user.id)
        .group_by(Course.id),
    )
    reviewed = exists().where(
        EntryReview.entry_id == Entry.id, EntryReview.entry_version >= Entry.version
    )
    unreviewed = _grouped(
        db,
        select(Course.id, func.count())
        .join(Entry, Entry.course_id == Course.id)
        .where(readable, Entry.author_id == Course.patient_id, ~reviewed)
        .group_by(Course.id),
    )
    unread = _grouped(db, unread_comments_by_course(user))
    visits = {
        row[0]: row[1]
        for row in db.execute(
            select(CourseVisit.course_id, CourseVisit.seen_at).where(CourseVisit.user_id == user.id)
        )
    }
    flags = open_flag_counts(db, user)
    result = [
        CaseloadRow(
            row=r,
            new_entries=new.get(r.course.id, 0),
            unreviewed=unreviewed.get(r.course.id, 0),
            unread_comments=unread.get(r.course.id, 0),
            last_visit=visits.get(r.course.id),
            open_flags=flags.get(r.course.id, 0),
        )
        for r in rows
    ]
    if attention_only:
        result = [r for r in result if r.needs_attention]
    return sorted(result, key=_sort_key(sort if sort in SORTS else "attention"))


def _sort_key(sort: str) -> Callable[[CaseloadRow], tuple[Any, ...]]:
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)

    def by_next(r: CaseloadRow) -> tuple[datetime, str]:
        nxt = r.row.next_session
        return (nxt.scheduled_at if nxt else far, r.row.patient.name.casefold())

    keys: dict[str, Callable[[CaseloadRow], tuple[Any, ...]]] = {
        "name": lambda r: (r.row.patient.name.casefold(),),
        "next": by_next,
        "new": lambda r: (-r.new_entries, r.row.patient.name.casefold()),
        "unreviewed": lambda r: (-r.unreviewed, r.row.patient.name.casefold()),
        "attention": lambda r: (
            not r.needs_attention,
            -r.open_flags,
            -(r.unread_comments + r.unreviewed + r.new_entries),
            r.row.patient.name.casefold(),
        ),
    }
    return keys[sort]


def _new_since_visit(user: User, *columns: Any) -> Select[Any]:
    """Entries updated since the user last opened their course, per course.

    From each course to its visit to the entries after it: the database walks
    only the entries newer than the visit (an index range on
    course_id, updated_at), not every entry of every course.
    """
    visit = and_(CourseVisit.course_id == Course.id, CourseVisit.user_id == user.id)
    since = func.coalesce(CourseVisit.seen_at, literal(NEVER, UTCDateTime()))
    return (
        select(*columns)
        .select_from(Course)
        .outerjoin(CourseVisit, visit)
        .join(Entry, and_(Entry.course_id == Course.id, Entry.updated_at > since))
    )


NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # "since" for a course never opened
NOTICE_CAP = 100  # the navigation says "99+" from here: counting on would walk every entry


def clinician_notices(db: Session, user: User) -> int:
    """Entries by others on the clinician's active courses since they last opened
    each, counted up to NOTICE_CAP."""
    found = (
        _new_since_visit(user, literal(1))
        .where(
            readable_entries_anywhere(user),
            Course.status == CourseStatus.ACTIVE,
            Entry.author_id != user.id,
        )
        .limit(NOTICE_CAP)
    )
    return db.scalar(select(func.count()).select_from(found.subquery())) or 0
