"""The screening form: the date here; one answer and one note per checklist item,
named after the item (see clinical/screenings.answer_field), read by the view."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField


class ScreeningForm(FlaskForm):
    reviewed_on = StringField("Date of the review", render_kw={"type": "date"})
    version = HiddenField()

    def expected_version(self) -> int | None:
        raw = self.version.data or ""
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else -1
