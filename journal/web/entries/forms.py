from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from journal.models import DosingSession, Phase, Visibility
from journal.services.entries import BODY_MAX, TITLE_MAX, EntryInput
from journal.web.filters import PHASE_LABELS, STATUS_LABELS, VISIBILITY_LABELS


class EntryForm(FlaskForm):
    phase = SelectField("Phase", choices=[SelectChoice(p.value, PHASE_LABELS[p]) for p in Phase])
    session_id = SelectField("Dosing session", validate_choice=True)
    title = StringField("Title", validators=[DataRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(
        "Your words",
        validators=[Length(max=BODY_MAX)],
        description="Markdown works: *emphasis*, lists, > quotes.",
    )
    intentions = TextAreaField(
        "Intentions for this session",
        validators=[Optional(), Length(max=6000)],
        description="One per line. What would you like to bring into the session?",
    )
    mood = SelectField(
        "Mood right now",
        choices=[SelectChoice("", "Not recorded")]
        + [SelectChoice(str(n), str(n)) for n in range(1, 11)],
        validators=[Optional()],
        description="1 is very low, 10 is very good.",
    )
    visibility = RadioField("Who can read it")
    version = HiddenField()

    def set_choices(
        self,
        sessions: Sequence[DosingSession],
        visibilities: list[Visibility],
        label: Callable[[datetime], str],
    ) -> None:
        self.session_id.choices = [SelectChoice("", "Let the journal choose by date")] + [
            SelectChoice(
                str(s.id),
                f"Session {s.number} · {label(s.scheduled_at)} · {STATUS_LABELS[s.status]}",
            )
            for s in sessions
        ]
        self.visibility.choices = [
            SelectChoice(v.value, VISIBILITY_LABELS[v]) for v in visibilities
        ]
        if not self.visibility.data and visibilities:
            self.visibility.data = visibilities[0].value

    def to_input(self) -> EntryInput:
        return EntryInput(
            phase=Phase(self.phase.data),
            title=self.title.data or "",
            body=self.body.data or "",
            visibility=Visibility(self.visibility.data),
            session_id=uuid.UUID(self.session_id.data) if self.session_id.data else None,
            mood=int(self.mood.data) if self.mood.data else None,
            intentions=(self.intentions.data or "").splitlines(),
        )
