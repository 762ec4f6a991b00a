"""A course as a line of dosing sessions, each with what was written around it.

One page at a time: the newest PAGE_SIZE readable entries on page 1, older
ones on the following pages. Loaded with a fixed number of queries whatever
the number of entries, and only the entries on the page are decrypted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.courses import care_team, course_indication, list_sessions
from journal.accounts.policy import CourseAccess, course_access, readable_entries_clause
from journal.core.rendering import plain_excerpt
from journal.core.work import Work
from journal.db import utcnow, write_soon
from journal.journaling.entries import default_session, intentions_of, open_words, suggested_phase
from journal.journaling.themes import ThemeTag, themes_of
from journal.models import DosingSession, Entry, Phase, Role, User
from journal.review.comments import comment_counts
from journal.review.review import Review, note_visit, reviews_of


@dataclass(frozen=True)
class EntryCard:
    id: uuid.UUID
    phase: Phase
    visibility: str
    title: str
    excerpt: str
    mood: int | None
    author_name: str
    by_patient: bool
    created_at: datetime
    edited: bool
    intentions: list[str]
    reviews: list[Review]
    comments: int
    themes: list[ThemeTag]

    @property
    def changed_since_review(self) -> bool:
        return bool(self.reviews) and all(r.changed_since for r in self.reviews)


PAGE_SIZE = 20


@dataclass
class SessionBlock:
    session: DosingSession
    total: int = 0  # readable entries of this session on all pages
    preparation: list[EntryCard] = field(default_factory=list)
    in_session: list[EntryCard] = field(default_factory=list)
    integration: list[EntryCard] = field(default_factory=list)

    def add(self, card: EntryCard) -> None:
        getattr(self, card.phase.value).append(card)


@dataclass(frozen=True)
class Timeline:
    access: CourseAccess
    patient: User
    team: list[User]
    indication: str
    blocks: list[SessionBlock]
    suggested_phase: Phase
    suggested_session: DosingSession | None
    entry_count: int  # readable entries on all pages
    page: int
    pages: int

    @property
    def shown(self) -> int:
        return sum(len(b.preparation) + len(b.in_session) + len(b.integration) for b in self.blocks)


def course_timeline(
    work: Work,
    course_id: uuid.UUID,
    now: datetime | None = None,
    page: int = 1,
) -> Timeline:
    """One page of the course's timeline; a page past the last shows the last."""
    now = now or utcnow()
    access = course_access(work.db, work.actor.user, course_id)
    owner = access.course.patient_id
    patient = work.db.get(User, owner)
    assert patient is not None
    sessions = list_sessions(work.db, course_id)
    readable = readable_entries_clause(access)
    totals = dict(
        work.db.execute(
            select(Entry.session_id, func.count()).where(readable).group_by(Entry.session_id)
        ).all()
    )
    entry_count = sum(totals.values())
    pages = max(1, -(-entry_count // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = work.db.execute(
        select(Entry, User.name, User.role)
        .join(User, User.id == Entry.author_id)
        .where(readable)
        .order_by(Entry.created_at.desc(), Entry.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()[::-1]
    ids = [r[0].id for r in rows]
    intentions = intentions_of(work.db, ids)
    reviews = reviews_of(work.db, [r[0] for r in rows])
    comments = comment_counts(work.db, access, ids)
    themes = themes_of(work.db, work.vault, access, ids)
    work.vault.preload([owner])
    blocks = {s.id: SessionBlock(s, totals.get(s.id, 0)) for s in sessions}
    for entry, author_name, author_role in rows:
        words = open_words(work.vault, entry, owner)
        blocks[entry.session_id].add(
            EntryCard(
                id=entry.id,
                phase=entry.phase,
                visibility=entry.visibility.value,
                title=words.title,
                excerpt=plain_excerpt(words.body),
                mood=words.mood,
                author_name=author_name,
                by_patient=author_role == Role.PATIENT,
                created_at=entry.created_at,
                edited=entry.version > 1,
                intentions=[work.vault.open_column(i, "text", owner) for i in intentions[entry.id]],
                reviews=reviews[entry.id],
                comments=comments.get(entry.id, 0),
                themes=themes[entry.id],
            )
        )
    phase = suggested_phase(sessions, now)
    timeline = Timeline(
        access=access,
        patient=patient,
        team=care_team(work.db, course_id),
        indication=course_indication(work.vault, access),
        blocks=list(blocks.values()),
        suggested_phase=phase,
        suggested_session=default_session(sessions, phase, now),
        entry_count=entry_count,
        page=page,
        pages=pages,
    )
    if access.as_clinician:
        # One short write: the read of another person's journal, and "last looked".
        def write(db: Session) -> None:
            note_visit(db, work.actor.user, course_id, now)
            audit.record(
                db,
                "read",
                actor=work.actor,
                object_type="course",
                object_id=course_id,
                subject_id=owner,
            )

        write_soon(work.db, write)
    return timeline
