from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from journal.clinical.prompt_library import MAX_PROMPT_CHARS, THEMES, Due, Prompt
from journal.journaling.prompt_assignments import PromptInput
from journal.models import DosingSession, Phase, SessionStatus
from journal.web.filters import PHASE_LABELS
from journal.web.forms import Limit

DUE_LABELS = {
    Due.NEXT_DAY: "The day after the session",
    Due.WEEK_LATER: "A week after the session",
    Due.BEFORE_NEXT_SESSION: "The day before the next session",
}


class PromptForm(FlaskForm):
    phase = SelectField("Phase", choices=[SelectChoice(p.value, PHASE_LABELS[p]) for p in Phase])
    theme = SelectField(
        "Theme",
        choices=[
            SelectChoice(key, f"{PHASE_LABELS[phase]}: {label}")
            for phase, themes in THEMES.items()
            for key, label in themes.items()
        ],
        description="Choose a theme of the prompt's phase.",
    )
    text = TextAreaField(
        "Prompt",
        validators=[Limit(MAX_PROMPT_CHARS)],
        description="Plain, warm words, the same for every patient. No patient's details here.",
    )
    due = SelectField(
        "Comes back (integration prompts)",
        choices=[SelectChoice("", "Not an integration prompt")]
        + [SelectChoice(d.value, DUE_LABELS[d]) for d in Due],
    )
    hidden = BooleanField("Hide this prompt: it cannot be assigned any more")

    def to_input(self) -> PromptInput:
        return PromptInput(
            phase=self.phase.data or "",
            theme=self.theme.data or "",
            text=self.text.data or "",
            due=self.due.data or None,
            hidden=bool(self.hidden.data),
        )


class AssignForm(FlaskForm):
    session_id = SelectField("Dosing session")
    prompt_key = SelectField("Prompt")

    def set_choices(
        self,
        sessions: Sequence[DosingSession],
        prompts: Sequence[Prompt],
        label: Callable[[datetime], str],
    ) -> None:
        self.session_id.choices = [
            SelectChoice(str(s.id), f"Session {s.number} · {label(s.scheduled_at)}")
            for s in sessions
            if s.status != SessionStatus.CANCELLED
        ]
        self.prompt_key.choices = [
            SelectChoice(p.id, f"{PHASE_LABELS[p.phase]} · {p.theme_label}: {p.text[:90]}")
            for p in prompts
        ]


class UnassignForm(FlaskForm):
    assignment_id = HiddenField()
