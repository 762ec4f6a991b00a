from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice

from journal.clinical.instruments import Catalogue
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
