"""The screening form and the re-check form: the date, session and note here; one answer
and one note per checklist item, named after the item (see
clinical/screenings.answer_field), read by the view."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from journal.clinical.screenings import NOTE_MAX
from journal.web.forms import Limit


class ScreeningForm(FlaskForm):
    reviewed_on = StringField(_l("Date of the review"), render_kw={"type": "date"})
    version = HiddenField()

    def expected_version(self) -> int | None:
        raw = self.version.data or ""
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else -1


class RecheckForm(FlaskForm):
    """The re-check before a session: "no change since last time" (the quick button), or
    every item answered again (named as on the screening form, read by the view)."""

    session_id = SelectField(_l("Before"), choices=[], validate_choice=False)
    note = TextAreaField(
        _l("Note on the re-check (optional)"),
        validators=[Limit(NOTE_MAX)],
        render_kw={"rows": 2},
    )
    no_change = HiddenField()
