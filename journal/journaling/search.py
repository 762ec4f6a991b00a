"""Search by decrypting within the reader's scope; no index ever reaches the disk.

The entries a person may read are loaded (the same visibility rule as every
page), opened in memory, and matched there. Nothing derived from the words,
not even a keyed token, is stored, so search leaks nothing at rest. The cost
grows with the number of readable entries: a caseload of 40 patients with
60 entries each is a few thousand decryptions (see bench/search_bench.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.policy import (
    administers,
    course_access,
    readable_entries_anywhere,
    readable_entries_clause,
)
from journal.core.errors import NotFound, ValidationError
from journal.core.rendering import plain_text, stand_in_title
from journal.core.vault import column_context
from journal.core.work import Work
from journal.db import write_soon
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
CONTEXT = 80  # characters of context on each side of the first match

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
        raise ValidationError({"q": "Type a word or phrase to search for."})
    if len(text) > QUERY_MAX:
        raise ValidationError({"q": f"Use at most {QUERY_MAX} characters."})
    terms = list(dict.fromkeys(t.casefold() for t in text.split(" ")))
    if len(terms) > TERMS_MAX:
        raise ValidationError({"q": f"Use at most {TERMS_MAX} words."})
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
    # Columns, not ORM objects: a caseload is thousands of rows read once.
    stmt = (
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
    )
    if course_id is not None:
        stmt = stmt.where(
            readable_entries_clause(course_access(work.db, work.actor.user, course_id))
        )
    else:
        stmt = stmt.where(readable_entries_anywhere(work.actor.user))
    rows = work.db.execute(stmt.order_by(Entry.created_at.desc())).all()
    work.vault.preload({row.patient_id for row in rows})
    owners = {row.id: row.patient_id for row in rows}
    attached = _attached_texts(work, stmt.with_only_columns(Entry.id), owners)
    hits: list[Hit] = []
    more = False
    for entry in rows:
        owner = entry.patient_id
        title = work.vault.open(
            entry.title, column_context("entries", "title", entry.id, owner, entry.version)
        )
        body = work.vault.open(
            entry.body, column_context("entries", "body", entry.id, owner, entry.version)
        )
        texts = [plain_text(body), *attached.get(entry.id, [])]
        haystack = "\n".join([title, body, *texts[1:]]).casefold()
        if not all(t in haystack for t in terms):
            continue
        shown = next((t for t in texts if any(term in t.casefold() for term in terms)), texts[0])
        if len(hits) == RESULTS_MAX:
            more = True
            break
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
    _audit(work, hits, {row.course_id: row.patient_id for row in rows})
    return Results(" ".join(raw_query.split()), hits, len(rows), more)


def _attached_texts(
    work: Work, readable: Select[tuple[uuid.UUID]], owners: dict[uuid.UUID, uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """Each readable entry's intentions and outcome reflections, opened: two
    statements for the whole search, restricted by the same rule as the entries."""
    found: dict[uuid.UUID, list[str]] = {}
    intentions = select(Intention.id, Intention.entry_id, Intention.version, Intention.text)
    for row in work.db.execute(
        intentions.where(Intention.entry_id.in_(readable)).order_by(Intention.position)
    ):
        owner = owners[row.entry_id]
        where = column_context("intentions", "text", row.id, owner, row.version)
        found.setdefault(row.entry_id, []).append(work.vault.open(row.text, where))
    outcomes = select(
        IntentionOutcome.id,
        IntentionOutcome.entry_id,
        IntentionOutcome.version,
        IntentionOutcome.reflection,
    ).where(IntentionOutcome.entry_id.in_(readable), IntentionOutcome.reflection.is_not(None))
    for out in work.db.execute(outcomes):
        if out.reflection is None:
            continue
        owner = owners[out.entry_id]
        where = column_context("intention_outcomes", "reflection", out.id, owner, out.version)
        found.setdefault(out.entry_id, []).append(work.vault.open(out.reflection, where))
    return found


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
