"""Amendment history of the clinical records changed in place: what each version said,
who saved it and when, and what changed, in words a clinician reads.

A session record and a screening keep the version each save replaces in
`clinical_versions` (`keep_version`, called in the same unit of work as the save,
before the record is overwritten), sealed again under the patient's journal key.
The safety plan and the consent record keep theirs in tables of their own.

What changed is worked out here, from each version put into words (`Facts`: the
record's fields as (label, value) pairs, and its rows, such as the vitals series,
each with its parts): `changes` is a pure function of two versions, so it is the
same on the page and in every export format ("Dose: 60 mg → 70 mg", "Vitals at about
40 minutes: 150/95 → 145/92", a reading added or removed).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.core.labels import N_, Phrase
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import new_id
from journal.models import ClinicalVersion, Screening, SessionRecord, VersionKind

ARROW = "→"


def term(words: str) -> str:
    """Words the catalogues may hold (a field's label, a checklist item, "ticked"), kept
    so that the page and the export translate them where they show them (a `Phrase`
    without values); words the catalogues do not hold read as they are. Never for what
    people wrote: that is not passed through the catalogue."""
    if not words or isinstance(words, Phrase):
        return words
    found = str.__new__(Phrase, words)  # not Phrase(): no values to put into the words
    found.words, found.values = words, {}
    return found


def joined(items: Sequence[str]) -> str:
    """Words in a list ("Nausea, Headache"), each translated where it is shown."""
    if len(items) < 2:
        return items[0] if items else ""
    values = {f"v{n}": item for n, item in enumerate(items)}
    return Phrase(", ".join(f"%({key})s" for key in values), values)


NONE = "none"  # a value that is not there, in a change line (each line says it in words)
# An answer in a change line, as it reads after the field's label.
ANSWERS = {"yes": term(N_("yes")), "no": term(N_("no")), "unknown": term(N_("unknown"))}


@dataclass(frozen=True)
class Row:
    """A row of a version that can be added or removed (a vitals reading): its label,
    unique within the version ("Vitals at about 40 minutes"), and its parts as (name,
    value) pairs; a part named "" shows its value alone ("150/95")."""

    label: str
    parts: tuple[tuple[str, str], ...]

    @property
    def summary(self) -> str:
        return joined(
            [
                N_("%(name)s %(value)s", name=term(name), value=value) if name else value
                for name, value in self.parts
                if value
            ]
        )


@dataclass(frozen=True)
class Facts:
    """One version of a record in words: its fields (label, value), in the form's order,
    each label once, "" for a field left empty; and its rows."""

    fields: tuple[tuple[str, str], ...]
    rows: tuple[Row, ...] = ()


def changes(before: Facts, after: Facts) -> tuple[str, ...]:
    """What changed from `before` to `after`, one line per field or row, in `after`'s
    order (fields first, then rows; what only `before` had comes after what both
    have). Nothing changed: an empty tuple."""
    lines: list[str] = []
    old = dict(before.fields)
    new = dict(after.fields)
    for label, value in after.fields:
        was = old.get(label, "")
        if was != value:
            lines.append(_changed(label, was, value))
    for label, was in before.fields:
        if label not in new and was:
            lines.append(_changed(label, was, ""))
    old_rows = {r.label: r for r in before.rows}
    new_rows = {r.label for r in after.rows}
    for row in after.rows:
        prior = old_rows.get(row.label)
        if prior is None:
            label = term(row.label)
            lines.append(
                N_("%(label)s: added (%(row)s)", label=label, row=row.summary)
                if row.summary
                else N_("%(label)s: added (none)", label=label)
            )
            continue
        parts = _part_changes(prior.parts, row.parts)
        if parts:
            lines.append(N_("%(label)s: %(changes)s", label=term(row.label), changes=parts))
    for row in before.rows:
        if row.label not in new_rows:
            label = term(row.label)
            lines.append(
                N_("%(label)s: removed (%(row)s)", label=label, row=row.summary)
                if row.summary
                else N_("%(label)s: removed (none)", label=label)
            )
    return tuple(lines)


# "none" is in the sentences themselves: a translation says it as the sentence needs.
def _changed(label: str, was: str, now: str) -> str:
    """A field's change ("Discharge time: none → 12:10"); `was` and `now` differ."""
    label = term(label)
    if not was:
        return N_("%(label)s: none → %(now)s", label=label, now=now)
    if not now:
        return N_("%(label)s: %(was)s → none", label=label, was=was)
    return N_("%(label)s: %(was)s → %(now)s", label=label, was=was, now=now)


def _part_changed(name: str, was: str, now: str) -> str:
    """A part of a row changed ("heart rate 80/min → 92/min", "150/95 → 145/92")."""
    if not name:
        if not was:
            return N_("none → %(now)s", now=now)
        if not now:
            return N_("%(was)s → none", was=was)
        return N_("%(was)s → %(now)s", was=was, now=now)
    name = term(name)
    if not was:
        return N_("%(name)s none → %(now)s", name=name, now=now)
    if not now:
        return N_("%(name)s %(was)s → none", name=name, was=was)
    return N_("%(name)s %(was)s → %(now)s", name=name, was=was, now=now)


def _part_changes(before: Sequence[tuple[str, str]], after: Sequence[tuple[str, str]]) -> str:
    """What changed in a row's parts ("heart rate 80/min → 92/min; note none → calm"),
    "" for nothing."""
    old = dict(before)
    names = list(dict.fromkeys([n for n, _ in after] + [n for n, _ in before]))
    new = dict(after)
    found = ""
    for name in names:
        was, now = old.get(name, ""), new.get(name, "")
        if was == now:
            continue
        part = _part_changed(name, was, now)
        found = N_("%(first)s; %(next)s", first=found, next=part) if found else part
    return found


def numbered_rows(rows: Iterable[tuple[str, tuple[tuple[str, str], ...]]]) -> tuple[Row, ...]:
    """Rows whose labels may repeat (two readings "at another time") made unique: the
    second and later of a label get their number ("Vitals at another time (2)")."""
    seen: dict[str, int] = {}
    found = []
    for label, parts in rows:
        seen[label] = seen.get(label, 0) + 1
        n = seen[label]
        found.append(
            Row(
                label if n == 1 else N_("%(label)s (%(number)s)", label=term(label), number=n),
                parts,
            )
        )
    return tuple(found)


# -- the versions -----------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One version of a record: its number, who saved it and when, the record in words
    and what it changed from the version before (empty for the first)."""

    number: int
    saved_by: str
    saved_at: datetime
    facts: Facts
    changes: tuple[str, ...] = ()

    @property
    def first(self) -> bool:
        return self.number == 1


@dataclass(frozen=True)
class Saved:
    """A version as stored, before it is put into words: its number, who saved it, when,
    and its JSON."""

    number: int
    saved_by: uuid.UUID
    saved_at: datetime
    text: str


def history(
    saved: Sequence[Saved], words: Mapping[uuid.UUID, str], facts_of: Callable[[str], Facts]
) -> tuple[Version, ...]:
    """Every version, newest first, each with what it changed from the one before it
    (`saved` in any order; `words`: the savers' names; `facts_of`: a version in words)."""
    ordered = sorted(saved, key=lambda s: s.number)
    found: list[Version] = []
    previous: Facts | None = None
    for s in ordered:
        facts = facts_of(s.text)
        found.append(
            Version(
                s.number,
                words.get(s.saved_by, ""),
                s.saved_at,
                facts,
                () if previous is None else changes(previous, facts),
            )
        )
        previous = facts
    return tuple(reversed(found))


def keep_version(
    work: Work,
    kind: VersionKind,
    row: SessionRecord | Screening,
    owner: uuid.UUID,
    *,
    saved_by: uuid.UUID,
    saved_at: datetime,
) -> ClinicalVersion:
    """Keep the version of `row` about to be overwritten, sealed again under the kept
    row's own id (a value is bound to its row); call before changing `row`."""
    kept = ClinicalVersion(
        id=new_id(),
        kind=kind,
        object_id=row.id,
        course_id=row.course_id,
        object_version=row.version,
        saved_by=saved_by,
        saved_at=saved_at,
        version=1,
    )
    kept.content = work.vault.seal_column(
        kept, "content", owner, work.vault.open_column(row, "content", owner)
    )
    work.db.add(kept)
    return kept


def kept_versions(
    db: Session, vault: Vault, kind: VersionKind, object_ids: Sequence[uuid.UUID], owner: uuid.UUID
) -> dict[uuid.UUID, list[Saved]]:
    """The kept versions of the records `object_ids`, opened, by record; in one query."""
    found: dict[uuid.UUID, list[Saved]] = {i: [] for i in object_ids}
    if not object_ids:
        return found
    rows = db.scalars(
        select(ClinicalVersion)
        .where(ClinicalVersion.kind == kind, ClinicalVersion.object_id.in_(object_ids))
        .order_by(ClinicalVersion.object_version)
    )
    for k in rows:
        found[k.object_id].append(
            Saved(k.object_version, k.saved_by, k.saved_at, vault.open_column(k, "content", owner))
        )
    return found
