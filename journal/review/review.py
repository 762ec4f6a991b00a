"""Clinicians marking entries reviewed, and when each user last opened a course."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import (
    can_read_entry,
    can_review,
    course_access,
    readable_entries_clause,
)
from journal.core.errors import NotFound
from journal.core.work import Work
from journal.db import atomic, utcnow
from journal.models import CourseVisit, Entry, EntryReview, User, Visibility

STAFF_SESSION = "staff_session"  # a review of clinician-only entries only


@dataclass(frozen=True)
class Review:
    clinician_id: uuid.UUID
    clinician_name: str
    reviewed_at: datetime
    changed_since: bool  # the entry was edited after this review


def reviews_of(db: Session, entries: list[Entry]) -> dict[uuid.UUID, list[Review]]:
    """Every entry's reviews (oldest first), in one query."""
    found: dict[uuid.UUID, list[Review]] = {e.id: [] for e in entries}
    if not entries:
        return found
    versions = {e.id: e.version for e in entries}
    rows = db.execute(
        select(EntryReview, User.name)
        .join(User, User.id == EntryReview.clinician_id)
        .where(EntryReview.entry_id.in_(list(versions)))
        .order_by(EntryReview.reviewed_at)
    )
    for review, name in rows:
        changed = versions[review.entry_id] > review.entry_version
        found[review.entry_id].append(
            Review(review.clinician_id, name, review.reviewed_at, changed)
        )
    return found


def _mark(work: Work, entry: Entry, now: datetime) -> None:
    row = work.db.get(EntryReview, (entry.id, work.actor.id))
    if row is None:
        work.db.add(
            EntryReview(
                entry_id=entry.id,
                clinician_id=work.actor.id,
                course_id=entry.course_id,
                entry_version=entry.version,
                reviewed_at=now,
            )
        )
    else:
        row.entry_version, row.reviewed_at = entry.version, now


@atomic
def mark_reviewed(work: Work, entry_id: uuid.UUID, now: datetime | None = None) -> Entry:
    """A clinician on the care team marks one entry they can read as reviewed."""
    entry = work.db.get(Entry, entry_id)
    if entry is None:
        raise NotFound()
    access = course_access(work.db, work.actor.user, entry.course_id)
    if not (can_review(access) and can_read_entry(access, entry)):
        raise NotFound()
    _mark(work, entry, now or utcnow())
    audit.record(
        work.db,
        "entry.review",
        actor=work.actor,
        object_type="entry",
        object_id=entry.id,
        subject_id=access.course.patient_id,
    )
    return entry


@atomic
def mark_session_reviewed(
    work: Work,
    course_id: uuid.UUID,
    session_id: uuid.UUID,
    now: datetime | None = None,
) -> int:
    """Mark every entry of one dosing session the clinician can read; returns how many."""
    access = course_access(work.db, work.actor.user, course_id)
    if not can_review(access):
        raise NotFound()
    entries = list(
        work.db.scalars(
            select(Entry).where(readable_entries_clause(access), Entry.session_id == session_id)
        )
    )
    if not entries:
        raise NotFound()
    now = now or utcnow()
    for entry in entries:
        _mark(work, entry, now)
    staff_only = all(e.visibility == Visibility.CLINICIAN_ONLY for e in entries)
    audit.record(
        work.db,
        "session.review",
        actor=work.actor,
        # Only clinician-only entries: the patient's access log must not hint at them.
        object_type=STAFF_SESSION if staff_only else "session",
        object_id=session_id,
        subject_id=access.course.patient_id,
    )
    return len(entries)


def note_visit(db: Session, user: User, course_id: uuid.UUID, now: datetime) -> None:
    """Remember when the user opened the course; the caller holds a write transaction."""
    row = db.get(CourseVisit, (user.id, course_id))
    if row is None:
        db.add(CourseVisit(user_id=user.id, course_id=course_id, seen_at=now))
    else:
        row.seen_at = now
