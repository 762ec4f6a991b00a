"""The sealed search index: each course's searchable words, kept in shards sealed
under the patient's own journal key, opened only in memory.

A shard holds up to SHARD_ENTRIES entries of one course: for each, its id and its
words as search matches them (title, body, intentions and the outcome reflections
written in it, casefolded). Sealed with the same key as the entries, a shard tells
a copy of the database nothing the entries do not; key rotation re-seals it like any
sealed column, and erasing a patient deletes it with the course.

Layout of a shard's plain text (one str, so the vault seals it as it seals words):

    <id hex>:<length> <id hex>:<length> ...\\n<words>\\x1f<words>\\x1f...

\\x1f separates the entries' words: the query parser splits on it as on any white
space, so no query word can match across two entries.

The index is a filter that never misses: every entry whose words contain a word is
found, and search checks each hit against the entry itself before showing it. It is
kept up to date in the unit of work that writes an entry (create, edit, delete,
restore, erase); entries it does not hold yet (entries.search_shard is None) are
searched the slow way and indexed when the search ends.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from journal.core.vault import Vault, column_context
from journal.db import new_id
from journal.models import Course, Entry, Intention, IntentionOutcome, SearchShard

SHARD_ENTRIES = 128
SHARD_CHARS = 400_000  # a shard rewritten on every save stays a few hundred KB
SEPARATOR = "\x1f"


class EntryWords(Protocol):
    """An entry's row, or the columns of it that hold its words."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def version(self) -> int: ...
    @property
    def title(self) -> bytes: ...
    @property
    def body(self) -> bytes: ...


# -- the layout ------------------------------------------------------------------------


def pack(words: dict[str, str]) -> str:
    """A shard's plain text from {entry id hex: folded words}, in order."""
    head = " ".join(f"{key}:{len(text)}" for key, text in words.items())
    return head + "\n" + SEPARATOR.join(words.values())


def unpack(text: str) -> dict[str, str]:
    head, _, rest = text.partition("\n")
    words: dict[str, str] = {}
    start = 0
    for item in head.split(" ") if head else []:
        key, length = item.split(":")
        words[key] = rest[start : start + int(length)]
        start += int(length) + 1
    return words


def matching(text: str, terms: Sequence[str]) -> list[str]:
    """The ids (hex) of the entries in a shard's plain text that contain every term.

    The first term is looked for through the whole text, moving on to the next entry
    after each hit, so each entry costs at most one search; the other terms only in
    the entries that matched so far."""
    end = text.find("\n")
    hit = text.find(terms[0], end + 1) if end > 0 else -1
    if hit == -1:
        return []  # most shards, for a rare word: the header need not be read
    keys, starts, ends = [], [], []
    at = end + 1
    for item in text[:end].split(" "):
        key, length = item.split(":")
        keys.append(key)
        starts.append(at)
        at += int(length)
        ends.append(at)
        at += 1
    found: list[int] = []
    while hit != -1:
        n = bisect.bisect_right(starts, hit) - 1
        found.append(n)
        if n + 1 == len(starts):
            break
        hit = text.find(terms[0], starts[n + 1])
    for term in terms[1:]:
        found = [n for n in found if text.find(term, starts[n], ends[n]) != -1]
    return [keys[n] for n in found]


# -- an entry's words ------------------------------------------------------------------


def folded_words(title: str, body: str, attached: Iterable[str]) -> str:
    """What search matches: the same text the search without an index looked through."""
    return "\n".join([title, body, *attached]).casefold()


def attached_texts(
    db: Session,
    vault: Vault,
    owners: Mapping[uuid.UUID, uuid.UUID],
    intentions: ColumnElement[bool],
    outcomes: ColumnElement[bool],
) -> dict[uuid.UUID, list[str]]:
    """Entries' intentions and outcome reflections, opened, by entry id: `intentions`
    and `outcomes` pick the rows; `owners` gives each entry's patient."""
    found: dict[uuid.UUID, list[str]] = {}
    for row in db.execute(
        select(Intention.id, Intention.entry_id, Intention.version, Intention.text)
        .where(intentions)
        .order_by(Intention.position)
    ):
        at = column_context("intentions", "text", row.id, owners[row.entry_id], row.version)
        found.setdefault(row.entry_id, []).append(vault.open(row.text, at))
    for out in db.execute(
        select(
            IntentionOutcome.id,
            IntentionOutcome.entry_id,
            IntentionOutcome.version,
            IntentionOutcome.reflection,
        ).where(outcomes, IntentionOutcome.reflection.is_not(None))
    ):
        if out.reflection is None:
            continue
        owner = owners[out.entry_id]
        at = column_context("intention_outcomes", "reflection", out.id, owner, out.version)
        found.setdefault(out.entry_id, []).append(vault.open(out.reflection, at))
    return found


def _words_of(
    db: Session, vault: Vault, owner: uuid.UUID, rows: Sequence[EntryWords], course_id: uuid.UUID
) -> dict[str, str]:
    """The folded words of entries of one course, by id (hex)."""
    if not rows:
        return {}
    owners = _Everyone(owner)
    if len(rows) == 1:
        only = rows[0].id
        attached = attached_texts(
            db, vault, owners, Intention.entry_id == only, IntentionOutcome.entry_id == only
        )
    else:
        attached = attached_texts(
            db,
            vault,
            owners,
            Intention.course_id == course_id,
            IntentionOutcome.course_id == course_id,
        )
    words = {}
    for row in rows:
        title = vault.open(
            row.title, column_context("entries", "title", row.id, owner, row.version)
        )
        body = vault.open(row.body, column_context("entries", "body", row.id, owner, row.version))
        words[row.id.hex] = folded_words(title, body, attached.get(row.id, []))
    return words


class _Everyone(dict[uuid.UUID, uuid.UUID]):
    """Every entry of one course has the same owner."""

    def __init__(self, owner: uuid.UUID) -> None:
        super().__init__()
        self.owner = owner

    def __missing__(self, _: uuid.UUID) -> uuid.UUID:
        return self.owner


# -- shards ----------------------------------------------------------------------------


def _lock_course(db: Session, course_id: uuid.UUID, *, waiting: bool = True) -> bool:
    """One writer of a course's index at a time (PostgreSQL; SQLite has one writer).
    NO KEY UPDATE: it does not wait for the key-share locks of rows being inserted.
    Not `waiting`: False at once if another writer holds it (filling the index after
    a search must never wait on a save that waits on it)."""
    stmt = select(Course.id).where(Course.id == course_id)
    locked = db.scalar(stmt.with_for_update(key_share=True, skip_locked=not waiting))
    return locked is not None  # (SQLite ignores FOR UPDATE: its one writer holds it)


def _shard(db: Session, course_id: uuid.UUID, number: int) -> SearchShard | None:
    db.flush()  # re-read below: what this unit already changed must not be lost
    return db.scalar(
        select(SearchShard)
        .where(SearchShard.course_id == course_id, SearchShard.number == number)
        .execution_options(populate_existing=True)
    )


def _open(vault: Vault, shard: SearchShard, owner: uuid.UUID) -> dict[str, str]:
    return unpack(vault.open_column(shard, "payload", owner))


def _store(vault: Vault, shard: SearchShard, owner: uuid.UUID, words: dict[str, str]) -> None:
    shard.version += 1
    shard.entry_count = len(words)
    shard.payload = vault.seal_column(shard, "payload", owner, pack(words))


def _new_shard(db: Session, course_id: uuid.UUID, number: int) -> SearchShard:
    shard = SearchShard(id=new_id(), course_id=course_id, number=number, entry_count=0, version=0)
    db.add(shard)
    return shard


def _append(
    db: Session, vault: Vault, course_id: uuid.UUID, owner: uuid.UUID, words: dict[str, str]
) -> dict[str, int]:
    """Add entries' words after the course's last shard's (or in new shards); returns
    the shard number of each entry."""
    placed: dict[str, int] = {}
    if not words:
        return placed
    db.flush()  # re-read below: what this unit already changed must not be lost
    last = db.scalar(
        select(SearchShard)
        .where(SearchShard.course_id == course_id)
        .order_by(SearchShard.number.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    if last is None or last.entry_count >= SHARD_ENTRIES:
        shard, held = _new_shard(db, course_id, 0 if last is None else last.number + 1), {}
    else:
        shard, held = last, _open(vault, last, owner)
    size = sum(len(t) for t in held.values())
    for key, text in words.items():
        if held and (len(held) >= SHARD_ENTRIES or size + len(text) > SHARD_CHARS):
            _store(vault, shard, owner, held)
            shard, held, size = _new_shard(db, course_id, shard.number + 1), {}, 0
        held[key] = text
        size += len(text)
        placed[key] = shard.number
    _store(vault, shard, owner, held)
    return placed


def _remove(vault: Vault, shard: SearchShard, owner: uuid.UUID, keys: set[str]) -> None:
    held = _open(vault, shard, owner)
    kept = {k: t for k, t in held.items() if k not in keys}
    if len(kept) != len(held):
        _store(vault, shard, owner, kept)


# -- kept up to date by the writes -----------------------------------------------------


def entries_with_outcomes_on(db: Session, entry_id: uuid.UUID) -> list[uuid.UUID]:
    """Other entries holding outcomes of this entry's intentions: removing one of its
    intentions deletes those outcomes too, so their words change. Asked before the
    write, passed to index_entry or drop_entry after it."""
    return list(
        db.scalars(
            select(IntentionOutcome.entry_id)
            .join(Intention, Intention.id == IntentionOutcome.intention_id)
            .where(Intention.entry_id == entry_id, IntentionOutcome.entry_id != entry_id)
            .distinct()
        )
    )


def _take_course(db: Session, entry: Entry) -> None:
    """Become the writer of the entry's course's index, with its shard number as the
    last writer left it. (The session does not flush before queries: the index reads
    the rows this unit wrote.)"""
    db.flush()
    _lock_course(db, entry.course_id)
    db.refresh(entry, ["search_shard"])


def index_entry(
    db: Session,
    vault: Vault,
    entry: Entry,
    owner: uuid.UUID,
    also: Iterable[uuid.UUID] = (),
) -> None:
    """Put the entry's current words in its course's index, in this unit of work
    (and again those of `also`, other entries of the course whose words changed)."""
    _take_course(db, entry)
    _reindex(db, vault, entry.course_id, owner, [entry])
    _refresh(db, vault, entry.course_id, owner, also)


def drop_entry(
    db: Session,
    vault: Vault,
    entry: Entry,
    owner: uuid.UUID,
    also: Iterable[uuid.UUID] = (),
) -> None:
    """Take a deleted entry's words out of the index (and index `also` again)."""
    _take_course(db, entry)
    if entry.search_shard is not None:
        shard = _shard(db, entry.course_id, entry.search_shard)
        if shard is not None:
            _remove(vault, shard, owner, {entry.id.hex})
        entry.search_shard = None
    _refresh(db, vault, entry.course_id, owner, also)


def _refresh(
    db: Session, vault: Vault, course_id: uuid.UUID, owner: uuid.UUID, ids: Iterable[uuid.UUID]
) -> None:
    wanted = set(ids)
    if wanted:
        rows = db.scalars(
            select(Entry)
            .where(
                Entry.id.in_(wanted), Entry.deleted_at.is_(None), Entry.search_shard.is_not(None)
            )
            .execution_options(populate_existing=True)
        ).all()
        _reindex(db, vault, course_id, owner, list(rows))


def _reindex(
    db: Session, vault: Vault, course_id: uuid.UUID, owner: uuid.UUID, rows: Sequence[Entry]
) -> None:
    """Replace the words of entries already in a shard; append the others."""
    for row in rows:
        text = _words_of(db, vault, owner, [row], course_id)[row.id.hex]
        shard = _shard(db, course_id, row.search_shard) if row.search_shard is not None else None
        if shard is None:
            row.search_shard = _append(db, vault, course_id, owner, {row.id.hex: text})[row.id.hex]
            continue
        held = _open(vault, shard, owner)
        held[row.id.hex] = text
        _store(vault, shard, owner, held)


# -- building ----------------------------------------------------------------------------


def rebuild_course_index(db: Session, vault: Vault, course_id: uuid.UUID) -> int:
    """Index every entry of a course from scratch (the `search-index rebuild`
    command, and a course written before the index existed). Returns how many."""
    db.flush()
    _lock_course(db, course_id)
    owner = db.scalar(select(Course.patient_id).where(Course.id == course_id))
    if owner is None:
        return 0
    vault.preload([owner])
    db.execute(delete(SearchShard).where(SearchShard.course_id == course_id))
    db.execute(
        update(Entry).where(Entry.course_id == course_id).values(search_shard=None),
        execution_options={"synchronize_session": "fetch"},
    )
    return _index_missing(db, vault, course_id, owner)


def index_missing(
    db: Session, vault: Vault, course_ids: Iterable[uuid.UUID], *, waiting: bool = True
) -> int:
    """Index the live entries of these courses that the index does not hold yet. Not
    `waiting` (after a search): a course or an entry another writer holds is skipped,
    left to that writer or to a later search."""
    done = 0
    for course_id in sorted(set(course_ids)):
        if not _lock_course(db, course_id, waiting=waiting):
            continue
        owner = db.scalar(select(Course.patient_id).where(Course.id == course_id))
        if owner is not None:
            done += _index_missing(db, vault, course_id, owner, waiting=waiting)
    return done


def _index_missing(
    db: Session, vault: Vault, course_id: uuid.UUID, owner: uuid.UUID, *, waiting: bool = True
) -> int:
    stmt = (
        select(Entry.id, Entry.version, Entry.title, Entry.body)
        .where(
            Entry.course_id == course_id,
            Entry.deleted_at.is_(None),
            Entry.search_shard.is_(None),
        )
        .order_by(Entry.created_at, Entry.id)
    )
    if not waiting:  # an entry being saved now is indexed by its own save
        stmt = stmt.with_for_update(of=Entry, skip_locked=True)
    rows = db.execute(stmt).all()
    placed = _append(db, vault, course_id, owner, _words_of(db, vault, owner, rows, course_id))
    for number in sorted(set(placed.values())):
        ids = [uuid.UUID(k) for k, n in placed.items() if n == number]
        db.execute(
            update(Entry).where(Entry.id.in_(ids)).values(search_shard=number),
            execution_options={"synchronize_session": "fetch"},
        )
    db.flush()
    return len(rows)


def unindexed_courses(db: Session) -> list[uuid.UUID]:
    """Courses with live entries the index does not hold."""
    return list(
        db.scalars(
            select(Entry.course_id)
            .where(Entry.deleted_at.is_(None), Entry.search_shard.is_(None))
            .group_by(Entry.course_id)
            .having(func.count() > 0)
        )
    )


# -- searching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    # Entries (ids in hex: cheaper than a UUID each when a word is everywhere) whose
    # indexed words hold every term, and the live entries the index does not hold.
    entries: set[str]
    unindexed: dict[uuid.UUID, set[str]]  # by course


def find(db: Session, vault: Vault, courses: ColumnElement[bool], terms: Sequence[str]) -> Found:
    """Open the shards of the courses `courses` (a clause on Course) picks and find the
    entries that hold every term. The shards are opened here, in memory, and dropped."""
    shards = db.execute(
        select(
            SearchShard.id,
            SearchShard.version,
            SearchShard.payload,
            Course.patient_id,
        )
        .join(Course, Course.id == SearchShard.course_id)
        .where(courses)
    ).all()
    vault.preload({s.patient_id for s in shards})
    # Rarer terms first: the other terms are then looked for in fewer entries.
    ordered = sorted(terms, key=len, reverse=True)
    found: set[str] = set()
    for s in shards:
        text = vault.open(
            s.payload, column_context("search_shards", "payload", s.id, s.patient_id, s.version)
        )
        found.update(matching(text, ordered))
    unindexed: dict[uuid.UUID, set[str]] = {}
    for entry_id, course_id in db.execute(
        select(Entry.id, Entry.course_id)
        .join(Course, Course.id == Entry.course_id)
        .where(courses, Entry.search_shard.is_(None), Entry.deleted_at.is_(None))
    ):
        unindexed.setdefault(course_id, set()).add(entry_id.hex)
    return Found(found, unindexed)
