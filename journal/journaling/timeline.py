"""A course as a line of dosing sessions, each with what was written around it.

One page at a time: the newest PAGE_SIZE readable entries on page 1, older
ones on the following pages. Loaded with a fixed number of queries whatever
the number of entries, and only the entries on the page are decrypted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.courses import care_team, course_indication, list_sessions
from journal.accounts.policy import (
    CourseAccess,
    can_restore_entry,
    course_access,
    readable_entries_rule,
    reader_params,
    tombstones_rule,
)
from journal.core.vault import column_context
from journal.core.work import Work
from journal.db import utcnow, write_soon
from journal.journaling.entries import (
    between_label,
    default_session,
    open_card,
    suggested_phase,
)
from journal.journaling.themes import ThemeTag, themes_of
from journal.models import DosingSession, Entry, Intention, Phase, Role, SessionStatus, User
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


@dataclass(frozen=True)
class Tombstone:
    """What is left, for its readers, of an entry its writer deleted."""

    id: uuid.UUID
    phase: Phase
    written_at: datetime
    deleted_at: datetime
    writer: str
    mine: bool  # deleted by the reader
    restorable: bool  # by the reader: their own, words not yet erased, course open


@dataclass
class SessionBlock:
    """A session and its entries, or (session None) entries written between sessions."""

    session: DosingSession | None
    total: int = 0  # readable entries of this session on all pages
    label: str = ""  # between sessions: where, e.g. "Between sessions 1 and 2"
    preparation: list[EntryCard] = field(default_factory=list)
    in_session: list[EntryCard] = field(default_factory=list)
    integration: list[EntryCard] = field(default_factory=list)
    tombstones: list[Tombstone] = field(default_factory=list)

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


def _tombstones(work: Work, access: CourseAccess) -> list[tuple[Tombstone, uuid.UUID | None]]:
    """The course's deleted entries the reader could read (few; shown on every page)."""
    rows = work.db.execute(_tombstones_statement(access.as_clinician), _params(access)).all()
    return [
        (
            Tombstone(
                id=entry.id,
                phase=entry.phase,
                written_at=entry.created_at,
                deleted_at=entry.deleted_at,
                writer=name,
                mine=entry.author_id == access.user.id,
                restorable=can_restore_entry(access, entry),
            ),
            entry.session_id,
        )
        for entry, name in rows
        if entry.deleted_at is not None
    ]


# The page's statements are built once per shape (the reader's access) around the
# policy's parameters, and run with the reader's and the course's ids: building a
# statement cost more than running it (docs/performance.md, "Read path").
def _params(access: CourseAccess) -> dict[str, object]:
    return dict(reader_params(access.user, access.course.id))


@cache
def _tombstones_statement(as_clinician: bool) -> Select[Entry, str]:
    return (
        select(Entry, User.name)
        .join(User, User.id == Entry.author_id)
        .where(tombstones_rule(as_clinician))
        .order_by(Entry.created_at)
    )


@cache
def _totals_statement(as_clinician: bool) -> Select[uuid.UUID | None, int]:
    readable = readable_entries_rule(as_clinician)
    return select(Entry.session_id, func.count()).where(readable).group_by(Entry.session_id)


@cache
def _page_statement(as_clinician: bool) -> Select[Entry, str, Role]:
    return (
        select(Entry, User.name, User.role)
        .join(User, User.id == Entry.author_id)
        .where(readable_entries_rule(as_clinician))
        .order_by(Entry.created_at.desc(), Entry.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@cache
def _intentions_statement() -> Select[uuid.UUID, uuid.UUID, int, bytes]:
    return (
        select(Intention.id, Intention.entry_id, Intention.version, Intention.text)
        .where(Intention.entry_id.in_(bindparam("entries", expanding=True)))
        .order_by(Intention.position)
    )


def _intention_texts(
    work: Work, owner: uuid.UUID, entry_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The intentions of the page's entries, opened (as columns: no ORM objects)."""
    found: dict[uuid.UUID, list[str]] = {i: [] for i in entry_ids}
    if entry_ids:
        for row in work.db.execute(_intentions_statement(), {"entries": entry_ids}):
            where = column_context("intentions", "text", row.id, owner, row.version)
            found[row.entry_id].append(work.vault.open(row.text, where))
    return found


def _next_session(live: list[DosingSession], when: datetime) -> uuid.UUID | None:
    """The first session (not cancelled) after a moment; None after the last."""
    return next((s.id for s in live if s.scheduled_at > when), None)


def _in_order(
    sessions: list[DosingSession],
    blocks: dict[uuid.UUID, SessionBlock],
    between: dict[uuid.UUID | None, SessionBlock],
) -> list[SessionBlock]:
    """Session blocks in the course's order, each block of entries written between
    sessions just before the session that followed them (or at the end)."""
    ordered: list[SessionBlock] = []
    for session in sessions:
        if session.id in between:
            ordered.append(between[session.id])
        ordered.append(blocks[session.id])
    if None in between:
        ordered.append(between[None])
    return ordered


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
    params = _params(access)
    totals = dict(work.db.execute(_totals_statement(access.as_clinician), params).all())
    entry_count = sum(totals.values())
    pages = max(1, -(-entry_count // PAGE_SIZE))
    page = min(max(page, 1), pages)
    params |= {"limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE}
    rows = work.db.execute(_page_statement(access.as_clinician), params).all()[::-1]
    ids = [r[0].id for r in rows]
    work.vault.preload([owner])
    intentions = _intention_texts(work, owner, ids)
    reviews = reviews_of(work.db, [r[0] for r in rows])
    comments = comment_counts(work.db, access, ids)
    themes = themes_of(work.db, work.vault, access, ids)
    blocks = {s.id: SessionBlock(s, totals.get(s.id, 0)) for s in sessions}
    between: dict[uuid.UUID | None, SessionBlock] = {}
    live = sorted(
        (s for s in sessions if s.status != SessionStatus.CANCELLED), key=lambda s: s.scheduled_at
    )
    for entry, author_name, author_role in rows:
        words = open_card(work.vault, entry, owner)
        if entry.session_id is not None:
            block = blocks[entry.session_id]
        else:
            key = _next_session(live, entry.created_at)
            if key not in between:
                between[key] = SessionBlock(None, label=between_label(sessions, entry.created_at))
            block = between[key]
        block.add(
            EntryCard(
                id=entry.id,
                phase=entry.phase,
                visibility=entry.visibility.value,
                title=words.title,
                excerpt=words.excerpt,
                mood=words.mood,
                author_name=author_name,
                by_patient=author_role == Role.PATIENT,
                created_at=entry.created_at,
                edited=entry.version > 1,
                intentions=intentions[entry.id],
                reviews=reviews[entry.id],
                comments=comments.get(entry.id, 0),
                themes=themes[entry.id],
            )
        )
    for stone, session_id in _tombstones(work, access):
        if session_id is not None:
            blocks[session_id].tombstones.append(stone)
        else:
            key = _next_session(live, stone.written_at)
            if key not in between:
                between[key] = SessionBlock(None, label=between_label(sessions, stone.written_at))
            between[key].tombstones.append(stone)
    phase = suggested_phase(sessions, now)
    timeline = Timeline(
        access=access,
        patient=patient,
        team=care_team(work.db, course_id),
        indication=course_indication(work.vault, access),
        blocks=_in_order(sessions, blocks, between),
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
