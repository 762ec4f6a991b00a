"""Search through the sealed index of each course in the reader's scope.

The shards of the courses the reader may open are opened in memory (sealed under
each patient's own key, like the entries: see journal.journaling.search_index)
and give the entries that hold every word. Which of those the reader may read is
then asked of the database with the same visibility rule as every page, and only
the newest hits are opened, checked against the entry itself and shown. Nothing
derived from the words is stored unsealed. See bench/search_index_bench.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import (
    administers,
    course_access,
    readable_entries_anywhere,
    readable_entries_clause,
    visible_courses_clause,
)
from journal.core.errors import NotFound, ValidationError
from journal.core.labels import N_
from journal.core.rendering import plain_text, stand_in_title
from journal.core.vault import column_context
from journal.core.work import Work
from journal.db import after_commit, write_soon
from journal.journaling import search_index
from journal.journaling.search_index import folded_words
from journal.models import (
    Course,
    DosingSession,
    Entry,
    Intention,
    IntentionOutcome,
    Phase,
    User,
    Visibility,
)

QUERY_MAX = 200
TERMS_MAX = 10
RESULTS_MAX = 100
# Courses a search indexes when it meets entries written before the index (in a unit
# of its own once the search has committed): a first caseload-wide search after an
# upgrade must not hold the write lock for the whole caseload.
INDEX_COURSES_PER_SEARCH = 5

CONTEXT = 80  # characters of context on each side of the first match
CHECK_BATCH = 64  # candidate entries opened per round trip
BY_ID_MAX = 500  # up to this many candidates, the database filters them by id
PAGE = 1000  # readable entries walked per query when candidates are many

Segment = tuple[str, bool]  # (text, is a match)


@dataclass(frozen=True)
class Hit:
    entry_id: uuid.UUID
    course_id: uuid.UUID
    patient_name: str
    session_number: int | None  # None: written between sessions
    phase: Phase
    created_at: datetime
    title: list[Segment]
    snippet: list[Segment]
    staff_only: bool = False  # a clinician-only entry


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]
    searched: int  # entries looked through
    more: bool  # more matches than shown


def parse_query(raw: str) -> list[str]:
    text = " ".join(raw.split())
    if not text:
        raise ValidationError({"q": N_("Type a word or phrase to search for.")})
    if len(text) > QUERY_MAX:
        raise ValidationError({"q": N_("Use at most %(limit)s characters.", limit=QUERY_MAX)})
    terms = list(dict.fromkeys(t.casefold() for t in text.split(" ")))
    if len(terms) > TERMS_MAX:
        raise ValidationError({"q": N_("Use at most %(limit)s words.", limit=TERMS_MAX)})
    return terms


def _fold(text: str) -> tuple[str, list[int]]:
    """The text casefolded, and for each folded character the index of the character
    it came from (casefolding can change lengths: ß -> ss)."""
    owners = [i for i, ch in enumerate(text) for _ in ch.casefold()]
    return "".join(ch.casefold() for ch in text), owners


def highlight(text: str, terms: list[str]) -> list[Segment]:
    """Split text into plain and matching parts (the template escapes both)."""
    folded, owners = _fold(text)
    marks = [False] * len(text)
    for term in terms:
        start = folded.find(term)
        while start != -1:
            for i in range(owners[start], owners[start + len(term) - 1] + 1):
                marks[i] = True
            start = folded.find(term, start + len(term))
    segments: list[Segment] = []
    for ch, marked in zip(text, marks, strict=True):
        if segments and segments[-1][1] == marked:
            segments[-1] = (segments[-1][0] + ch, marked)
        else:
            segments.append((ch, marked))
    return segments


def _snippet(text: str, terms: list[str]) -> str:
    folded, owners = _fold(text)
    found = [folded.find(t) for t in terms if folded.find(t) != -1]
    if not found:
        return text[: 2 * CONTEXT]
    first = owners[min(found)]
    start, end = max(0, first - CONTEXT), min(len(text), first + CONTEXT)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def search(
    work: Work,
    raw_query: str,
    course_id: uuid.UUID | None = None,
) -> Results:
    """Entries that contain every word of the query, newest first. An entry's
    intentions and the outcome reflections written in it are part of its words.

    Patients search their own courses; clinicians one course or their whole
    caseload; admins nothing."""
    terms = parse_query(raw_query)
    if administers(work.actor.user):
        raise NotFound()
    if course_id is not None:
        readable = readable_entries_clause(course_access(work.db, work.actor.user, course_id))
        courses = Course.id == course_id
    else:
        readable = readable_entries_anywhere(work.actor.user)
        courses = visible_courses_clause(work.actor.user)
    found = search_index.find(work.db, work.vault, courses, terms)
    if found.unindexed:
        # Written before the index (or by a path that skipped it): searched the slow
        # way below, and indexed after this unit has committed, in a unit of its own.
        pending = sorted(found.unindexed)[:INDEX_COURSES_PER_SEARCH]
        after_commit(work.db, lambda: _index_later(work, pending))
    maybe = found.entries.union(*found.unindexed.values())
    searched = work.db.scalar(
        select(func.count())
        .select_from(Entry)
        .join(Course, Course.id == Entry.course_id)
        .where(readable)
    )
    hits: list[Hit] = []
    more = False
    owners: dict[uuid.UUID, uuid.UUID] = {}
    for batch in _readable_newest_first(work, readable, maybe):
        for entry, texts, title, body in _opened(work, batch, owners):
            # The index never misses but may hold words since removed: check the entry.
            if not all(t in folded_words(title, body, texts[1:]) for t in terms):
                continue
            if len(hits) == RESULTS_MAX:
                more = True
                break
            shown = next(
                (t for t in texts if any(term in t.casefold() for term in terms)), texts[0]
            )
            hits.append(
                Hit(
                    entry_id=entry.id,
                    staff_only=entry.visibility == Visibility.CLINICIAN_ONLY,
                    course_id=entry.course_id,
                    patient_name=entry.name,
                    session_number=entry.number,
                    phase=entry.phase,
                    created_at=entry.created_at,
                    title=highlight(title or stand_in_title(body), terms),
                    snippet=highlight(_snippet(shown, terms), terms),
                )
            )
        if more:
            break
    _audit(work, hits, owners)
    return Results(" ".join(raw_query.split()), hits, searched or 0, more)


def _readable_newest_first(
    work: Work, readable: ColumnElement[bool], maybe: set[str]
) -> Iterator[list[uuid.UUID]]:
    """The entries of `maybe` (ids in hex) the reader may read, newest first, in
    batches. A few are asked for by id; many (a word in most entries) by walking the
    readable entries a page at a time, which stops once enough hits are shown."""
    newest = (
        select(Entry.id)
        .join(Course, Course.id == Entry.course_id)
        .where(readable)
        .order_by(Entry.created_at.desc(), Entry.id)
    )
    if not maybe:
        return
    if len(maybe) <= BY_ID_MAX:
        chosen = work.db.scalars(newest.where(Entry.id.in_([uuid.UUID(h) for h in maybe]))).all()
        for start in range(0, len(chosen), CHECK_BATCH):
            yield list(chosen[start : start + CHECK_BATCH])
        return
    page, seen = 0, set()
    while ids := work.db.scalars(newest.limit(PAGE).offset(page * PAGE)).all():
        # Each once, even if an entry saved meanwhile shifted the pages.
        chosen = [i for i in ids if i.hex in maybe and i not in seen]
        seen.update(chosen)
        for start in range(0, len(chosen), CHECK_BATCH):
            yield chosen[start : start + CHECK_BATCH]
        page += 1


def _opened(
    work: Work, batch: list[uuid.UUID], owners: dict[uuid.UUID, uuid.UUID]
) -> list[tuple[Any, list[str], str, str]]:
    """The entries of `batch` (readable, in that order), opened: each row, its texts
    to show a snippet from (the body as plain text, then its intentions and outcome
    reflections), its title and its body. Records each course's patient in `owners`."""
    rows = work.db.execute(
        select(
            Entry.id,
            Entry.course_id,
            Entry.version,
            Entry.title,
            Entry.body,
            Entry.phase,
            Entry.visibility,
            Entry.created_at,
            Course.patient_id,
            User.name,
            DosingSession.number,
        )
        .join(Course, Course.id == Entry.course_id)
        .join(User, User.id == Course.patient_id)
        .outerjoin(DosingSession, DosingSession.id == Entry.session_id)
        .where(Entry.id.in_(batch))
    ).all()
    by_id = {row.id: row for row in rows}
    work.vault.preload({row.patient_id for row in rows})
    entry_owner = {row.id: row.patient_id for row in rows}
    owners.update({row.course_id: row.patient_id for row in rows})
    attached = search_index.attached_texts(
        work.db,
        work.vault,
        entry_owner,
        Intention.entry_id.in_(batch),
        IntentionOutcome.entry_id.in_(batch),
    )
    opened: list[tuple[Any, list[str], str, str]] = []
    for entry_id in batch:
        entry = by_id[entry_id]
        owner = entry.patient_id
        title = work.vault.open(
            entry.title, column_context("entries", "title", entry.id, owner, entry.version)
        )
        body = work.vault.open(
            entry.body, column_context("entries", "body", entry.id, owner, entry.version)
        )
        opened.append((entry, [plain_text(body), *attached.get(entry.id, [])], title, body))
    return opened


def _index_later(work: Work, course_ids: list[uuid.UUID]) -> None:
    """Index what a search found missing, in a unit of its own once the search's unit
    has committed. It never waits on another writer (`waiting=False`): a course or an
    entry being saved is left to that save or to a later search."""
    with work.another_unit() as unit:
        search_index.index_missing(unit.db, unit.vault, course_ids, waiting=False)


def _audit(work: Work, hits: list[Hit], owners: dict[uuid.UUID, uuid.UUID]) -> None:
    """A search that shows another person's words is a read of their course."""
    others = sorted({h.course_id for h in hits if owners[h.course_id] != work.actor.id})
    if not others:
        return

    def write(db: Session) -> None:
        for course in others:
            # Hits only on clinician-only entries: the patient's access log must not hint at them.
            staff_only = all(h.staff_only for h in hits if h.course_id == course)
            audit.record(
                db,
                "read",
                actor=work.actor,
                object_type=audit.STAFF_SEARCH if staff_only else "search",
                object_id=course,
                subject_id=owners[course],
            )

    write_soon(work.db, write)
