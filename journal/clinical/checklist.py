"""The screening checklist before a course: items as data, and which answers need review.

A clinician goes through the checklist with the patient and answers each
item yes, no or unknown, with a note. Any "yes" or "unknown" (or an item not
yet answered) shows "needs clinician review". Nothing here decides whether a
person may take part: the journal records the review, the clinician decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from journal.core.definitions import CONTENT_ROOT, Fields, read_toml, unique
from journal.core.errors import ValidationError

BUILT_IN_FILE = CONTENT_ROOT / "checklists" / "screening.toml"
NEEDS_REVIEW = "Needs clinician review"
NOTHING_RAISED = "No item raised for review"


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


def load_checklist(path: Path = BUILT_IN_FILE) -> Checklist:
    doc = Fields(path, read_toml(path))
    doc.only(("id", "title", "version", "items"))
    items = []
    for entry in doc.tables("items"):
        entry.only(("id", "text"))
        items.append(ChecklistItem(entry.slug("id"), entry.text("text")))
    unique(path, "item id", [i.id for i in items])
    return Checklist(doc.slug("id"), doc.text("title"), doc.text("version"), tuple(items))


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
        errors[key] = "This item is not part of the checklist."
    checked: dict[str, ScreeningAnswer] = {}
    for item in checklist.items:
        value = answers.get(item.id)
        if value is None or value == "":
            errors[item.id] = "Please answer yes, no or unknown."
            continue
        answer = _as_answer(value)
        if answer is None:
            errors[item.id] = "Please choose yes, no or unknown."
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
