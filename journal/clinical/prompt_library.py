"""The prompt library as data: preparation, right-after-session and integration prompts.

The shipped library is a set of TOML files in `journal/prompts/`, one per
phase. Each file is checked when it is loaded (known phase and themes, unique
ids, a due timing on every integration prompt and on no other), and a problem
raises a `DefinitionError` naming the file. A clinic's own edits will live in
the database; this library is what a new clinic starts from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path

from journal.core.definitions import (
    CONTENT_ROOT,
    DefinitionError,
    Fields,
    definition_files,
    read_toml,
    unique,
)
from journal.core.labels import N_
from journal.models.enums import Phase

BUILT_IN_FOLDER = CONTENT_ROOT / "prompts"
MAX_PROMPT_CHARS = 500


class Due(StrEnum):
    """When an integration prompt comes back after a dosing session."""

    NEXT_DAY = "next_day"
    WEEK_LATER = "week_later"
    BEFORE_NEXT_SESSION = "before_next_session"

    def due_on(self, session_day: date, next_session_day: date | None) -> date | None:
        """The day the prompt is due, or None when it cannot be known yet.

        "Before the next session" is the day before it, but never earlier than
        the day after the session it follows; unknown until the next session
        is scheduled.
        """
        day_after = session_day + timedelta(days=1)
        if self is Due.NEXT_DAY:
            return day_after
        if self is Due.WEEK_LATER:
            return session_day + timedelta(days=7)
        if next_session_day is None:
            return None
        return max(day_after, next_session_day - timedelta(days=1))


THEMES: dict[Phase, dict[str, str]] = {
    Phase.PREPARATION: {
        "hopes_and_intentions": N_("Hopes and intentions"),
        "what_healing_looks_like": N_("What healing would look like"),
        "fears_and_concerns": N_("Fears and concerns"),
        "earlier_experiences": N_("Earlier experiences of altered states"),
        "grounding": N_("Grounding"),
        "support_plan": N_("Support for the day after"),
        "set_and_setting": N_("Set and setting"),
        "boundaries_and_consent": N_("Boundaries and consent"),
    },
    Phase.IN_SESSION: {
        "feelings": N_("Feelings"),
        "body_sensations": N_("Body sensations"),
        "images": N_("Images"),
        "word_or_phrase": N_("One word or phrase"),
        "insight": N_("One insight"),
    },
    Phase.INTEGRATION: {
        "compared_with_intention": N_("What came up, compared with the intention"),
        "emotions_and_body": N_("Emotions and body"),
        "meaning": N_("Meaning"),
        "relationships": N_("Relationships"),
        "carry_forward": N_("What to carry forward"),
        "difficult_material": N_("Difficult material and support"),
        "next_intention": N_("The next intention"),
    },
}


@dataclass(frozen=True)
class Prompt:
    id: str
    phase: Phase
    theme: str
    text: str
    due: Due | None  # integration prompts only

    @property
    def theme_label(self) -> str:
        return THEMES[self.phase][self.theme]


@dataclass(frozen=True)
class PromptLibrary:
    prompts: tuple[Prompt, ...]

    def get(self, prompt_id: str) -> Prompt:
        for p in self.prompts:
            if p.id == prompt_id:
                return p
        raise KeyError(prompt_id)

    def for_phase(self, phase: Phase) -> tuple[Prompt, ...]:
        return tuple(p for p in self.prompts if p.phase is phase)

    def due_at(self, due: Due) -> tuple[Prompt, ...]:
        return tuple(p for p in self.prompts if p.due is due)


def load_prompt_file(path: Path) -> list[Prompt]:
    doc = Fields(path, read_toml(path))
    doc.only(("phase", "prompts"))
    phase_name = doc.text("phase")
    try:
        phase = Phase(phase_name)
    except ValueError:
        raise doc.fail(
            f"'phase' = {phase_name!r} must be one of {', '.join(p.value for p in Phase)}"
        ) from None
    themes = THEMES[phase]
    prompts: list[Prompt] = []
    for entry in doc.tables("prompts"):
        entry.only(("id", "theme", "text", "due"))
        theme = entry.text("theme")
        if theme not in themes:
            raise doc.fail(
                f"'{entry.where}.theme' = {theme!r} is not one of the {phase.value} themes "
                f"({', '.join(themes)})"
            )
        text = entry.text("text")
        if len(text) > MAX_PROMPT_CHARS:
            raise doc.fail(f"'{entry.where}.text' is longer than {MAX_PROMPT_CHARS} characters")
        due: Due | None = None
        if phase is Phase.INTEGRATION:
            due_name = entry.text("due")
            try:
                due = Due(due_name)
            except ValueError:
                raise doc.fail(
                    f"'{entry.where}.due' = {due_name!r} must be one of "
                    f"{', '.join(d.value for d in Due)}"
                ) from None
        elif "due" in entry.table:
            raise doc.fail(f"'{entry.where}.due': only integration prompts come due")
        prompts.append(Prompt(entry.slug("id"), phase, theme, text, due))
    unique(path, "prompt id", [p.id for p in prompts])
    return prompts


def load_library(*folders: Path) -> PromptLibrary:
    """Every prompt in the folders' `*.toml` files; ids are unique across all files."""
    prompts: list[Prompt] = []
    where: dict[str, Path] = {}
    for folder in folders:
        for path in definition_files(folder):
            for prompt in load_prompt_file(path):
                if prompt.id in where:
                    raise DefinitionError(
                        path, f"prompt id {prompt.id!r} is already used in {where[prompt.id]}"
                    )
                where[prompt.id] = path
                prompts.append(prompt)
    return PromptLibrary(tuple(prompts))
