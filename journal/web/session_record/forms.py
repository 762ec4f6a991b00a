"""The record form. Fields are plain text here; the service checks every value,
so a wrong one is a form error beside its field and nothing is saved.

The vitals series is a number of rows (`rows`, posted back in a hidden field): the
expected points (pre-dose, about 40 minutes, discharge) are prompted as rows of their
own and a few empty rows follow; "Add more rows" sends the form back with more, and
keeps what was typed. Row i's fields are r{i}_point, r{i}_time, r{i}_systolic and so
on, the names the service's errors use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
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
    DISCHARGE,
    DISSOCIATION_SCALE,
    DOSE_UNITS,
    LONG_TEXT_MAX,
    MAX_READINGS,
    NOTE_MAX,
    PRE_SESSION,
    READING_FIELDS,
    ROUTES,
    SHORT_TEXT_MAX,
    SIDE_EFFECTS,
    ReadingInput,
    RecordInput,
)
from journal.clinical.vitals import EXPECTED_POINTS, POINT_OTHER, POINTS
from journal.models import User
from journal.web.forms import Limit
from journal.web.i18n import lazy_words, translate

NUMBER = {"inputmode": "decimal", "autocomplete": "off"}
WHOLE = {"inputmode": "numeric", "autocomplete": "off"}
EXTRA_ROWS = 3  # empty rows after the prompted ones, and how many "Add more rows" adds
READING_LABELS = {
    "time": _l("Time"),
    "systolic": _l("Systolic (upper, mmHg)"),
    "diastolic": _l("Diastolic (lower, mmHg)"),
    "heart_rate": _l("Heart rate (per minute)"),
    "spo2": _l("SpO2 (%)"),
    "breathing_rate": _l("Breathing rate (per minute)"),
    "note": _l("Note"),
}
YES_NO_CHOICES = [
    SelectChoice("yes", _l("Yes")),
    SelectChoice("no", _l("No")),
    SelectChoice("", _l("Not answered")),
]


class CheckboxesField(SelectMultipleField):
    """A list of checkboxes; the template draws them in a fieldset."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class RecordForm(FlaskForm):
    drug = RadioField(_l("Drug"), choices=[], validate_choice=False)
    modality = RadioField(_l("Modality"), choices=[], validate_choice=False)
    route = RadioField(
        _l("Route"),
        choices=[SelectChoice(k, lazy_words(v)) for k, v in ROUTES.items()],
        validate_choice=False,
    )
    dose = StringField(_l("Dose"), render_kw=NUMBER)
    dose_unit = SelectField(
        _l("Unit"),
        choices=[
            SelectChoice("", _l("Choose a unit")),
            *(SelectChoice(k, v) for k, v in DOSE_UNITS.items()),
        ],
        validate_choice=False,
    )
    weight_kg = StringField(
        _l("Weight used (kg)"),
        render_kw=NUMBER,
        description=_l(
            "Needed for intravenous and intramuscular doses; mg/kg is worked out from it."
        ),
    )
    time_given = StringField(_l("Time given"), render_kw={"type": "time"})
    adjuncts = TextAreaField(
        _l("Adjunct medications"),
        validators=[Limit(SHORT_TEXT_MAX)],
        description=_l("For example an antiemetic, with dose and time."),
    )
    side_effects = CheckboxesField(
        _l("Side effects"),
        choices=[SelectChoice(k, lazy_words(v)) for k, v in SIDE_EFFECTS.items()],
        validate_choice=False,
    )
    side_effects_other = TextAreaField(_l("Other side effects"), validators=[Limit(SHORT_TEXT_MAX)])
    dissociation = SelectField(
        _l("Dissociation (clinician's rating, 0 to 10)"),
        choices=[
            SelectChoice("", _l("Not rated")),
            *(SelectChoice(str(n), str(n)) for n in DISSOCIATION_SCALE),
        ],
        validate_choice=False,
        description=_l("0 is none, 10 the most intense."),
    )
    setting = TextAreaField(
        _l("Setting"),
        validators=[Limit(LONG_TEXT_MAX)],
        description=_l("Music, eyeshades, support person, the room."),
    )
    clinicians_present = CheckboxesField(_l("Clinicians present"), validate_choice=False)
    discharge_time = StringField(_l("Discharge time"), render_kw={"type": "time"})
    discharge_notes = TextAreaField(
        _l("Discharge notes"),
        validators=[Limit(LONG_TEXT_MAX)],
        description=_l("How the patient left, and who took them home. The patient reads these."),
    )
    completed = BooleanField(
        _l("The session was held: mark it as completed"),
        description=_l("Untick it to set a session completed by mistake back to scheduled."),
    )
    version = HiddenField()
    rows = HiddenField()

    # Filled in by `record_form`: the rows of the series and the checklist items.
    row_count: int = 0

    def set_team(self, team: Sequence[User]) -> None:
        self.clinicians_present.choices = [SelectChoice(str(u.id), u.name) for u in team]

    def set_lists(self, drugs: Sequence[str], modalities: Sequence[str]) -> None:
        """The clinic's lists, and the record's own value if no longer listed."""
        for f, names in ((self.drug, drugs), (self.modality, modalities)):
            listed = list(names)
            if f.data and f.data not in listed:
                listed.append(str(f.data))
            # The default names are marked (journal/config.py); a clinic's own read as written.
            f.choices = [SelectChoice(n, translate(n)) for n in listed]

    def reading_rows(self) -> list[dict[str, Field]]:
        return [
            {name: self[f"r{i}_{name}"] for name in ("point", *READING_LABELS)}
            for i in range(self.row_count)
        ]

    def items(self, prefix: str, items: Mapping[str, str]) -> list[tuple[Field, Field]]:
        return [(self[f"{prefix}{i}"], self[f"{prefix}{i}_note"]) for i in items]

    def check_items(self) -> list[tuple[Field, Field]]:
        return self.items("check_", PRE_SESSION)

    def discharge_items(self) -> list[tuple[Field, Field]]:
        return self.items("discharge_", DISCHARGE)

    def to_input(self) -> RecordInput:
        def text(name: str) -> str:
            data = self[name].data
            return "" if data is None else str(data)

        def answers(prefix: str, items: Mapping[str, str]) -> dict[str, str]:
            return {i: text(f"{prefix}{i}") for i in items}

        def notes(prefix: str, items: Mapping[str, str]) -> dict[str, str]:
            return {i: text(f"{prefix}{i}_note") for i in items}

        return RecordInput(
            route=text("route"),
            dose=text("dose"),
            dose_unit=text("dose_unit"),
            weight_kg=text("weight_kg"),
            time_given=text("time_given"),
            adjuncts=text("adjuncts"),
            drug=text("drug"),
            modality=text("modality"),
            readings=tuple(
                ReadingInput(**{name: text(f"r{i}_{name}") for name in ("point", *READING_LABELS)})
                for i in range(self.row_count)
            ),
            checks=answers("check_", PRE_SESSION),
            check_notes=notes("check_", PRE_SESSION),
            side_effects=tuple(str(v) for v in self.side_effects.data or ()),
            side_effects_other=text("side_effects_other"),
            dissociation=text("dissociation"),
            setting=text("setting"),
            clinicians_present=tuple(str(v) for v in self.clinicians_present.data or ()),
            discharge=answers("discharge_", DISCHARGE),
            discharge_criteria_notes=notes("discharge_", DISCHARGE),
            discharge_time=text("discharge_time"),
            discharge_notes=text("discharge_notes"),
            completed="yes" if self.completed.data else "no",
        )

    def expected_version(self) -> int | None:
        raw = self.version.data or ""
        if not raw:
            return None
        return int(raw) if raw.isdigit() and len(raw) < 10 else -1


def row_count(posted: str | None, readings: Sequence[ReadingInput] = ()) -> int:
    """How many rows the series shows: the posted number (bounded), else the saved
    readings and the expected points missing from them, then a few empty rows."""
    if posted and posted.isdigit() and len(posted) < 4:
        return max(len(EXPECTED_POINTS), min(int(posted), MAX_READINGS))
    missing = [p for p in EXPECTED_POINTS if p not in {r.point for r in readings}]
    return min(len(readings) + len(missing) + EXTRA_ROWS, MAX_READINGS)


def prompted(readings: Sequence[ReadingInput], count: int) -> list[ReadingInput]:
    """The rows to show: the saved readings, then a row for each expected point they
    lack, then rows for another time."""
    shown = list(readings)
    shown += [
        ReadingInput(point=p) for p in EXPECTED_POINTS if p not in {r.point for r in readings}
    ]
    shown += [ReadingInput(point=POINT_OTHER)] * max(0, count - len(shown))
    return shown[:count]


def record_form(count: int, data: dict[str, Any] | None = None) -> RecordForm:
    """A record form with `count` rows in its series (from the request's form, or from
    `data` when given)."""

    class Form(RecordForm):
        pass

    for i in range(count):
        setattr(
            Form,
            f"r{i}_point",
            SelectField(
                _("When"),
                choices=[SelectChoice(k, translate(v)) for k, v in POINTS.items()],
                validate_choice=False,
                default=POINT_OTHER,
            ),
        )
        setattr(Form, f"r{i}_time", StringField(READING_LABELS["time"], render_kw={"type": "time"}))
        for name in READING_FIELDS:
            setattr(Form, f"r{i}_{name}", StringField(READING_LABELS[name], render_kw=WHOLE))
        setattr(Form, f"r{i}_note", StringField(_("Note"), validators=[Limit(NOTE_MAX)]))
    for prefix, items in (("check_", PRE_SESSION), ("discharge_", DISCHARGE)):
        for item, label in items.items():
            setattr(
                Form,
                f"{prefix}{item}",
                RadioField(translate(label), choices=YES_NO_CHOICES, validate_choice=False),
            )
            setattr(
                Form,
                f"{prefix}{item}_note",
                StringField(
                    _("Note on: %(item)s", item=translate(label).lower()),
                    validators=[Limit(NOTE_MAX)],
                ),
            )
    form = Form() if data is None else Form(data=data)
    # As plain text, so the page escapes its apostrophe as before (a lazy string is not).
    form.dissociation.label.text = str(form.dissociation.label.text)
    form.row_count = count
    return form


def form_data(raw: RecordInput, count: int) -> dict[str, Any]:
    """A saved record (or a new one's defaults) as the form's data."""
    data: dict[str, Any] = {
        "route": raw.route,
        "dose": raw.dose,
        "dose_unit": raw.dose_unit,
        "weight_kg": raw.weight_kg,
        "time_given": raw.time_given,
        "adjuncts": raw.adjuncts,
        "drug": raw.drug,
        "modality": raw.modality,
        "side_effects": list(raw.side_effects),
        "side_effects_other": raw.side_effects_other,
        "dissociation": raw.dissociation,
        "setting": raw.setting,
        "clinicians_present": list(raw.clinicians_present),
        "discharge_time": raw.discharge_time,
        "discharge_notes": raw.discharge_notes,
        "rows": str(count),
    }
    for i, row in enumerate(prompted(raw.readings, count)):
        for name in ("point", *READING_LABELS):
            data[f"r{i}_{name}"] = getattr(row, name)
    for prefix, answers, notes in (
        ("check_", raw.checks, raw.check_notes),
        ("discharge_", raw.discharge, raw.discharge_criteria_notes),
    ):
        for item, answer in answers.items():
            data[f"{prefix}{item}"] = answer or None
        for item, note in notes.items():
            data[f"{prefix}{item}_note"] = note
    return data
