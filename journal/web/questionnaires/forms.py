from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from journal.clinical.instruments import Catalogue
from journal.clinical.safety_flags import ACTIONS
from journal.models import Cadence

CADENCE_LABELS = {
    Cadence.ONCE: "Once",
    Cadence.BEFORE_EACH_SESSION: "Before every dosing session",
}


class AssignForm(FlaskForm):
    instrument_id = SelectField("Questionnaire", validate_choice=False)
    cadence = RadioField(
        "When",
        choices=[SelectChoice(c.value, label) for c, label in CADENCE_LABELS.items()],
        default=Cadence.BEFORE_EACH_SESSION.value,
        validate_choice=False,
    )

    def set_choices(self, catalogue: Catalogue) -> None:
        self.instrument_id.choices = [
            SelectChoice(i, f"{catalogue.get(i).short_title}: {catalogue.get(i).measures}")
            for i in catalogue.ids
        ]


class AcknowledgeForm(FlaskForm):
    """What was done about a safety flag; the service checks the choice and the reason.
    The template writes the fields out itself, with ids unique to each flag."""

    action = RadioField(
        "What was done",
        choices=[SelectChoice(k, label) for k, label in ACTIONS.items()],
        validate_choice=False,
    )
    note = TextAreaField("Note (required for \u201cno action needed\u201d: say why)")
