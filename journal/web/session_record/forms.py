"""The record form. Fields are plain text here; the service checks every value,
so a wrong one is a form error beside its field and nothing is saved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice

from journal.clinical.session_records import (
    DISSOCIATION_SCALE,
    DOSE_UNITS,
    LONG_TEXT_MAX,
    ROUTES,
    SHORT_TEXT_MAX,
    SIDE_EFFECTS,
    RecordInput,
)
from journal.models import User
from journal.web.forms import Limit

NUMBER = {"inputmode": "decimal", "autocomplete": "off"}
WHOLE = {"inputmode": "numeric", "autocomplete": "off"}


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes; the template draws them in a fieldset."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RecordForm(FlaskForm):
    route = RadioField(
        "Route", choices=[SelectChoice(k, v) for k, v in ROUTES.items()], validate_choice=False
    )
    dose = StringField("Dose", render_kw=NUMBER)
    dose_unit = SelectField(
        "Unit",
        choices=[
            SelectChoice("", "Choose a unit"),
            *(SelectChoice(k, v) for k, v in DOSE_UNITS.items()),
        ],
        validate_choice=False,
    )
    weight_kg = StringField(
        "Weight used (kg)",
        render_kw=NUMBER,
        description="Needed for intravenous and intramuscular doses; mg/kg is worked out from it.",
    )
    time_given = StringField("Time given", render_kw={"type": "time"})
    adjuncts = TextAreaField(
        "Adjunct medications",
        validators=[Limit(SHORT_TEXT_MAX)],
        description="For example an antiemetic, with dose and time.",
    )
    pre_systolic = StringField("Systolic (upper, mmHg)", render_kw=WHOLE)
    pre_diastolic = StringField("Diastolic (lower, mmHg)", render_kw=WHOLE)
    pre_heart_rate = StringField("Heart rate (per minute)", render_kw=WHOLE)
    post_systolic = StringField("Systolic (upper, mmHg)", render_kw=WHOLE)
    post_diastolic = StringField("Diastolic (lower, mmHg)", render_kw=WHOLE)
    post_heart_rate = StringField("Heart rate (per minute)", render_kw=WHOLE)
    side_effects = CheckboxesField(
        "Side effects",
        choices=[SelectChoice(k, v) for k, v in SIDE_EFFECTS.items()],
        validate_choice=False,
    )
    side_effects_other = TextAreaField("Other side effects", validators=[Limit(SHORT_TEXT_MAX)])
    dissociation = SelectField(
        "Dissociation (clinician's rating, 0 to 10)",
        choices=[
            SelectChoice("", "Not rated"),
            *(SelectChoice(str(n), str(n)) for n in DISSOCIATION_SCALE),
        ],
        validate_choice=False,
        description="0 is none, 10 the most intense.",
    )
    setting = TextAreaField(
        "Setting",
        validators=[Limit(LONG_TEXT_MAX)],
        description="Music, eyeshades, support person, the room.",
    )
    clinicians_present = CheckboxesField("Clinicians present", validate_choice=False)
    discharge_notes = TextAreaField(
        "Discharge notes",
        validators=[Limit(LONG_TEXT_MAX)],
        description="How the patient left, and who took them home.",
    )
    version = HiddenField()

    def set_team(self, team: Sequence[User]) -> None:
        self.clinicians_present.choices = [SelectChoice(str(u.id), u.name) for u in team]

    def to_input(self) -> RecordInput:
        values: dict[str, object] = {}
        for f in fields(RecordInput):
            data = getattr(self, f.name).data
            if isinstance(data, list):
                values[f.name] = tuple(str(v) for v in data)
            else:
                values[f.name] = "" if data is None else str(data)
        return RecordInput(**values)  # type: ignore[arg-type]

    def expected_version(self) -> int | None:
        raw = self.version.data or ""
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else -1
