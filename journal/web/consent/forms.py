"""The consent record's form: the document's version, the date, the witness (one of the
care team, the view fills the choices), the clinic's checkboxes and a note."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from journal.clinical.consent import DOCUMENT_MAX, NOTE_MAX
from journal.web.forms import Limit


class ConsentForm(FlaskForm):
    document_version = StringField(
        _l("Version of the consent document"),
        validators=[Limit(DOCUMENT_MAX)],
        description=_l(
            "As printed on the document the patient read, e.g. “KAP consent v3 (2026-09)”."
        ),
    )
    consented_on = StringField(_l("Date of the consent"), render_kw={"type": "date"})
    witness_id = SelectField(_l("Witnessed by"), choices=[], validate_choice=False)
    checked = SelectMultipleField(
        _l("What was covered"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Limit(NOTE_MAX)], render_kw={"rows": 3})
    version = HiddenField()

    def expected_version(self) -> int | None:
        raw = self.version.data or ""
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else -1
