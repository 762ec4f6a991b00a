"""The clinician's caseload: every patient with what needs attention.

A fixed number of queries whatever the number of patients or entries: the
counts are grouped in SQL, never loaded row by row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    exists,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from journal.accounts.courses import CourseRow, courses_for
from journal.accounts.policy import (
    READER,
    readable_anywhere_rule,
    reader_params,
    require,
    treats,
)
from journal.clinical.questionnaires import open_flag_counts
from journal.clinical.score_details import latest_review_flags
from journal.core.work import Work
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
from journal.review.comments import unread_comments_by_course

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
    # questionnaires whose latest answer raised a review flag (a quieter marker:
    # not counted in "needs attention")
    review_flags: tuple[str, ...] = ()

    @property
    def needs_attention(self) -> bool:
        return bool(self.open_flags or self.new_entries or self.unreviewed or self.unread_comments)

    @property
    def new_shown(self) -> str:
        return shown_count(self.new_entries)

    @property
    def unreviewed_shown(self) -> str:
        return shown_count(self.unreviewed)


def shown_count(count: int) -> str:
    """A capped count as people read it: "99+" once it reaches COUNT_CAP."""
    return f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count)


def _grouped(db: Session, stmt: Select[Any], params: dict[str, Any]) -> dict[uuid.UUID, int]:
    return {row[0]: row[1] for row in db.execute(stmt, params)}


# The page's statements are built once per process around the policy's READER
# parameter and a list of course ids, and run with the ids (docs/performance.md).
@cache
def _counts_statement() -> Select[uuid.UUID, int, int]:
    """Per course: entries by others since the clinician's visit, and the patient's
    entries no clinician has reviewed in their current version (both capped)."""
    reader: BindParameter[uuid.UUID] = bindparam(READER)
    readable = readable_anywhere_rule(Role.CLINICIAN)
    reviewed = exists().where(
        EntryReview.entry_id == Entry.id, EntryReview.entry_version >= Entry.version
    )
    new_entries = select(literal(1)).where(
        Entry.course_id == Course.id,
        Entry.updated_at > _last_visit(),  # an index range: only entries after the visit
        readable,
        Entry.author_id != reader,
    )
    not_reviewed = select(literal(1)).where(
        Entry.course_id == Course.id, readable, Entry.author_id == Course.patient_id, ~reviewed
    )
    return (
        select(Course.id, _capped(new_entries), _capped(not_reviewed))
        .select_from(Course)
        .outerjoin(CourseVisit, _visit(reader))
        .where(Course.id.in_(bindparam("courses", expanding=True)))
    )


@cache
def _visits_statement() -> Select[uuid.UUID, datetime]:
    return select(CourseVisit.course_id, CourseVisit.seen_at).where(
        CourseVisit.user_id == bindparam(READER)
    )


def caseload(
    work: Work,
    *,
    sort: str = "attention",
    show: str = "active",
    name: str = "",
    attention_only: bool = False,
    now: datetime | None = None,
) -> list[CaseloadRow]:
    require(treats(work.actor.user))
    user = work.actor.user
    rows = courses_for(work, now or utcnow())
    if show in ("active", "closed"):
        rows = [r for r in rows if r.course.status == CourseStatus(show)]
    wanted = name.strip().casefold()
    if wanted:
        rows = [r for r in rows if wanted in r.patient.name.casefold()]
    params = reader_params(user) | {"courses": [r.course.id for r in rows]}
    counts = {
        course_id: (new, unreviewed)
        for course_id, new, unreviewed in work.db.execute(_counts_statement(), params)
    }
    unread = _grouped(work.db, unread_comments_by_course(user.role), params)
    visits = {row[0]: row[1] for row in work.db.execute(_visits_statement(), params)}
    flags = open_flag_counts(work.db, user)
    reviews = latest_review_flags(
        work.db, work.vault, work.clinical.instruments, [r.course.id for r in rows]
    )
    result = [
        CaseloadRow(
            row=r,
            new_entries=counts[r.course.id][0],
            unreviewed=counts[r.course.id][1],
            unread_comments=unread.get(r.course.id, 0),
            last_visit=visits.get(r.course.id),
            open_flags=flags.get(r.course.id, 0),
            review_flags=reviews.get(r.course.id, ()),
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


def _capped(rows: Select[Any]) -> ScalarSelect[int]:
    """How many rows a per-course query finds, up to COUNT_CAP.

    Counting stops at the cap, so a course with years of unreviewed writing
    costs no more than one with a hundred entries (both correlated to the
    outer query's course).
    """
    inner = rows.correlate(Course, CourseVisit).limit(COUNT_CAP).subquery()
    return select(func.count()).select_from(inner).scalar_subquery()


def _visit(reader: BindParameter[uuid.UUID]) -> ColumnElement[bool]:
    """Joins a course to the reader's visit of it (outer: there may be none)."""
    return and_(CourseVisit.course_id == Course.id, CourseVisit.user_id == reader)


def _last_visit() -> ColumnElement[datetime]:
    return func.coalesce(CourseVisit.seen_at, literal(NEVER, UTCDateTime()))


NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # "since" for a course never opened
# Counts say "99+" from here, on the caseload and in the navigation: counting on
# would walk every entry of every course.
COUNT_CAP = 100


@cache
def _notices_statement() -> Select[Any]:
    """Entries by others on the reader's active courses since they last opened each,
    up to COUNT_CAP: from each course to its visit to the entries after it, so the
    database walks only the entries newer than the visit (an index range on
    course_id, updated_at), not every entry of every course."""
    reader: BindParameter[uuid.UUID] = bindparam(READER)
    found = (
        select(literal(1))
        .select_from(Course)
        .outerjoin(CourseVisit, _visit(reader))
        .join(Entry, and_(Entry.course_id == Course.id, Entry.updated_at > _last_visit()))
        .where(
            readable_anywhere_rule(Role.CLINICIAN),
            Course.status == CourseStatus.ACTIVE,
            Entry.author_id != reader,
        )
        .limit(COUNT_CAP)
    )
    return select(func.count()).select_from(found.subquery())


def clinician_notices(db: Session, user: User) -> int:
    """Entries by others on the clinician's active courses since they last opened
    each, counted up to COUNT_CAP."""
    require(treats(user))
    return db.scalar(_notices_statement(), reader_params(user)) or 0
