from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from journal.models import DosingSession
from journal.review.notes import NOTE_MAX
from journal.web.forms import Limit


class NoteForm(FlaskForm):
    session_id = SelectField(_l("Dosing session"), validate_choice=True)
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Limit(NOTE_MAX)])

    def set_sessions(
        self, sessions: Sequence[DosingSession], label: Callable[[datetime], str]
    ) -> None:
        self.session_id.choices = [
            SelectChoice(
                str(s.id),
                _("Session %(number)s · %(when)s", number=s.number, when=label(s.scheduled_at)),
            )
            for s in sessions
        ]


class NoteEditForm(FlaskForm):
    body = TextAreaField(_l("Note"), validators=[DataRequired(), Limit(NOTE_MAX)])
    version = HiddenField()
