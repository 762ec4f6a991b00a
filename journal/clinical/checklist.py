"""The screening checklist before a course: items as data, and which answers need review.

A clinician goes through the checklist with the patient and answers each
item yes, no or unknown, with a note. Any "yes" or "unknown" (or an item not
yet answered) shows "needs clinician review". Nothing here decides whether a
person may take part: the journal records the review, the clinician decides.

A clinic adds items of its own in a file of its own (`load_item_file`, the
setting `screening_extra_file`): read and checked at start-up, a broken file
stops it with the file's name and the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from journal.core.definitions import CONTENT_ROOT, DefinitionError, Fields, read_toml, unique
from journal.core.errors import ValidationError
from journal.core.labels import N_

BUILT_IN_FILE = CONTENT_ROOT / "checklists" / "screening.toml"
NEEDS_REVIEW = N_("Needs clinician review")
NOTHING_RAISED = N_("No item raised for review")


class ScreeningAnswer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: str


@dataclass(frozen=True)
class Checklist:
    id: str
    title: str
    version: str
    items: tuple[ChecklistItem, ...]

    def item(self, item_id: str) -> ChecklistItem:
        return next(i for i in self.items if i.id == item_id)


@dataclass(frozen=True)
class ScreeningReview:
    """What the checklist's answers show; never a decision about eligibility."""

    needs_clinician_review: bool
    to_review: tuple[ChecklistItem, ...]  # answered yes or unknown, or not answered
    unanswered: tuple[ChecklistItem, ...]

    @property
    def label(self) -> str:
        return NEEDS_REVIEW if self.needs_clinician_review else NOTHING_RAISED


def load_checklist(path: Path = BUILT_IN_FILE, extra: Path | None = None) -> Checklist:
    """The shipped checklist, with the clinic's own items (`extra`) after its own; the
    version then names both ("2+clinic-3")."""
    doc = Fields(path, read_toml(path))
    doc.only(("id", "title", "version", "items"))
    items = []
    for entry in doc.tables("items"):
        entry.only(("id", "text"))
        items.append(ChecklistItem(entry.slug("id"), entry.text("text")))
    unique(path, "item id", [i.id for i in items])
    version = doc.text("version")
    if extra is not None:
        added = load_item_file(extra, taken={i.id for i in items})
        items.extend(added.items)
        version = f"{version}+clinic-{added.version}" if added.version else f"{version}+clinic"
    return Checklist(doc.slug("id"), doc.text("title"), version, tuple(items))


@dataclass(frozen=True)
class ItemFile:
    """A clinic's list of items: the screening's added items, the consent record's."""

    version: str  # "" when the file names none
    items: tuple[ChecklistItem, ...]


def _line_of(lines: list[str], pattern: re.Pattern[str], nth: int = 0) -> int | None:
    """The 1-based number of the line where `pattern` matches for the nth time."""
    seen = 0
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            if seen == nth:
                return number
            seen += 1
    return None


def _at(path: Path, line: int | None, problem: str) -> DefinitionError:
    return DefinitionError(path, f"line {line}: {problem}" if line else problem)


def load_item_file(path: Path, *, taken: set[str] | frozenset[str] = frozenset()) -> ItemFile:
    """Read a clinic's item file: an optional `version` and `[[items]]` of `id` and `text`.

    A file that is missing or not TOML, an unknown key, an item without its id or text,
    an id used twice (or already one of `taken`): `DefinitionError` naming the file and,
    where it can be told, the line."""
    if not path.is_file():
        raise DefinitionError(path, "is missing (a setting names it: create it or unset it)")
    raw = read_toml(path)  # tomllib's own message names the line
    lines = path.read_text(encoding="utf-8").splitlines()
    doc = Fields(path, raw)
    for key in sorted(set(raw) - {"version", "items"}):
        line = _line_of(lines, re.compile(rf"^\s*\[*\s*{re.escape(key)}\s*[=\].]"))
        raise _at(path, line, f"unknown key '{key}' (a file of items holds version and [[items]])")
    version = doc.optional_text("version") if "version" in raw else ""
    headers = re.compile(r"^\s*\[\[\s*items\s*\]\]")
    items: list[ChecklistItem] = []
    seen = set(taken)
    for n, entry in enumerate(doc.tables("items")):
        line = _line_of(lines, headers, n)
        try:
            entry.only(("id", "text"))
            item = ChecklistItem(entry.slug("id"), entry.text("text"))
        except DefinitionError as exc:
            raise _at(path, line, exc.problem) from None
        if item.id in seen:
            raise _at(path, line, f"item id {item.id!r} is used more than once")
        seen.add(item.id)
        items.append(item)
    return ItemFile(version, tuple(items))


def _as_answer(value: object) -> ScreeningAnswer | None:
    if isinstance(value, ScreeningAnswer):
        return value
    if isinstance(value, str):
        try:
            return ScreeningAnswer(value)
        except ValueError:
            return None
    return None


def check_answers(
    checklist: Checklist, answers: Mapping[str, object]
) -> dict[str, ScreeningAnswer]:
    """Every item answered yes, no or unknown, or `ValidationError` naming each item to fix."""
    errors: dict[str, str] = {}
    known = {i.id for i in checklist.items}
    for key in sorted(set(answers) - known):
        errors[key] = N_("This item is not part of the checklist.")
    checked: dict[str, ScreeningAnswer] = {}
    for item in checklist.items:
        value = answers.get(item.id)
        if value is None or value == "":
            errors[item.id] = N_("Please answer yes, no or unknown.")
            continue
        answer = _as_answer(value)
        if answer is None:
            errors[item.id] = N_("Please choose yes, no or unknown.")
            continue
        checked[item.id] = answer
    if errors:
        raise ValidationError(errors)
    return checked


def review(checklist: Checklist, answers: Mapping[str, object]) -> ScreeningReview:
    """Which items need a clinician's review: any yes, unknown, or unanswered item.

    An answer that is not yes, no or unknown counts as unknown: the review is
    never quieter than the answers allow.
    """
    to_review: list[ChecklistItem] = []
    unanswered: list[ChecklistItem] = []
    for item in checklist.items:
        value = answers.get(item.id)
        if value is None or value == "":
            unanswered.append(item)
            to_review.append(item)
        elif _as_answer(value) is not ScreeningAnswer.NO:
            to_review.append(item)
    return ScreeningReview(bool(to_review), tuple(to_review), tuple(unanswered))
