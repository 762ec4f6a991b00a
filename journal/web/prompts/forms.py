from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from journal.clinical.prompt_library import MAX_PROMPT_CHARS, THEMES, Due, Prompt
from journal.journaling.prompt_assignments import PromptInput
from journal.models import DosingSession, Phase, SessionStatus
from journal.web.filters import PHASE_LABELS
from journal.web.forms import Limit
from journal.web.i18n import lazy_words, translate

DUE_LABELS = {
    Due.NEXT_DAY: _l("The day after the session"),
    Due.WEEK_LATER: _l("A week after the session"),
    Due.BEFORE_NEXT_SESSION: _l("The day before the next session"),
}


class PromptForm(FlaskForm):
    phase = SelectField(
        _l("Phase"), choices=[SelectChoice(p.value, lazy_words(PHASE_LABELS[p])) for p in Phase]
    )
    theme = SelectField(
        _l("Theme"),
        choices=[
            SelectChoice(
                key,
                _l(
                    "%(phase)s: %(theme)s",
                    phase=lazy_words(PHASE_LABELS[phase]),
                    theme=lazy_words(label),
                ),
            )
            for phase, themes in THEMES.items()
            for key, label in themes.items()
        ],
        description=_l("Choose a theme of the prompt's phase."),
    )
    text = TextAreaField(
        _l("Prompt"),
        validators=[Limit(MAX_PROMPT_CHARS)],
        description=_l("Plain, warm words, the same for every patient. No patient's details here."),
    )
    due = SelectField(
        _l("Comes back (integration prompts)"),
        choices=[SelectChoice("", _l("Not an integration prompt"))]
        + [SelectChoice(d.value, DUE_LABELS[d]) for d in Due],
    )
    hidden = BooleanField(_l("Hide this prompt: it cannot be assigned any more"))

    def to_input(self) -> PromptInput:
        return PromptInput(
            phase=self.phase.data or "",
            theme=self.theme.data or "",
            text=self.text.data or "",
            due=self.due.data or None,
            hidden=bool(self.hidden.data),
        )


class AssignForm(FlaskForm):
    session_id = SelectField(_l("Dosing session"))
    prompt_key = SelectField(_l("Prompt"))

    def set_choices(
        self,
        sessions: Sequence[DosingSession],
        prompts: Sequence[Prompt],
        label: Callable[[datetime], str],
    ) -> None:
        self.session_id.choices = [
            SelectChoice(
                str(s.id),
                _("Session %(number)s · %(when)s", number=s.number, when=label(s.scheduled_at)),
            )
            for s in sessions
            if s.status != SessionStatus.CANCELLED
        ]
        self.prompt_key.choices = [
            SelectChoice(
                p.id,
                _(
                    "%(phase)s · %(theme)s: %(text)s",
                    phase=translate(PHASE_LABELS[p.phase]),
                    theme=translate(p.theme_label),
                    text=translate(p.text)[:90],
                ),
            )
            for p in prompts
        ]


class UnassignForm(FlaskForm):
    assignment_id = HiddenField()
