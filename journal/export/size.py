"""How much there is to typeset, to cut a long PDF into parts of about equal work.

A unit is a course's cover and overview, or one of its sessions; its size
is roughly the characters it puts on paper (typesetting time follows the
number of lines). Parts are consecutive runs of units, so pages stay in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from journal.export.model import (
    CommentRecord,
    CourseDocument,
    EntryRecord,
    SessionRecord,
)

# Rough characters' worth of the lines around each piece (headings, meta lines).
PER_ENTRY = 300
PER_COMMENT = 150
PER_SESSION = 400


@dataclass(frozen=True)
class Unit:
    course: CourseDocument
    head: bool  # the course's cover and overview
    sessions: tuple[SessionRecord, ...]
    size: int


def _comment(c: CommentRecord) -> int:
    return PER_COMMENT + len(c.body) + len(c.quote or "") + sum(_comment(r) for r in c.replies)


def _entry(e: EntryRecord) -> int:
    return (
        PER_ENTRY
        + len(e.title)
        + len(e.body)
        + sum(len(i) for i in e.intentions)
        + sum(PER_COMMENT + len(r.title) + len(r.body) for r in e.revisions)
        + sum(_comment(c) for c in e.comments)
        + sum(PER_COMMENT + len(o.intention) + len(o.reflection) for o in e.outcomes)
    )


def _session(s: SessionRecord) -> int:
    notes = sum(PER_COMMENT + len(n.body) for n in s.psychotherapy_notes)
    return PER_SESSION + notes + sum(_entry(e) for e in s.entries)


def _head(doc: CourseDocument) -> int:
    return (
        2000
        + 200 * len(doc.sessions)
        + sum(
            80 + len(i.text) + sum(80 + len(o.reflection) for o in i.outcomes)
            for i in doc.intentions
        )
        + sum(3000 + 100 * len(q.scores) for q in doc.questionnaires)
        + 100 * len(doc.themes)
    )


def units_of(docs: list[CourseDocument]) -> list[Unit]:
    out: list[Unit] = []
    for doc in docs:
        out.append(Unit(doc, True, (), _head(doc)))
        out.extend(Unit(doc, False, (s,), _session(s)) for s in doc.sessions)
    return out


def split(units: list[Unit], parts: int) -> list[list[Unit]]:
    """`parts` consecutive runs of about equal size (fewer if there are fewer units)."""
    parts = max(1, min(parts, len(units)))
    total = sum(u.size for u in units)
    groups: list[list[Unit]] = []
    current: list[Unit] = []
    done = 0
    for index, unit in enumerate(units):
        later = parts - len(groups) - 1  # runs still to open after the current one
        past_share = done + unit.size / 2 > total * (len(groups) + 1) / parts
        if current and later > 0 and (past_share or len(units) - index <= later):
            groups.append(current)
            current = []
        current.append(unit)
        done += unit.size
    return [*groups, current] if current else groups
