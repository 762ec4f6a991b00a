"""The dosing-session record: one per session, written by care-team clinicians.

The drug and the modality (the clinic's lists, settings `record_drugs` and
`record_modalities`), route, dose (mg, and mg/kg with the weight used for IV and
IM doses), time given, adjuncts, a pre-session checklist (each item yes or no with
a note), the vitals as a timed series (pre-dose, about 40 minutes, discharge and
any more: blood pressure, heart rate, oxygen saturation, breathing rate, a note),
side effects, the clinician's dissociation rating, setting, clinicians present,
the discharge criteria (each yes or no with a note), the discharge time and
discharge notes. All of it is stored as one encrypted JSON value under the
patient's journal key. A record stored before the series (one reading before the
dose and one after) is read as a series of a pre-dose reading and one at about 40
minutes; nothing stored needs rewriting.

Input is checked in full before anything is written: an impossible vital, a dose
without its unit, a dose that cannot be right (`dose.refusal`, the same rule for mg
and mg/kg) or an IV dose without the weight used is a form error and nothing is
saved. A dose outside the clinic's usual range for its route is saved, with a
notice (`dose.dose_notice`).

Each blood-pressure reading is checked against the clinic's thresholds
(`vitals.series_breaches`; settings `bp_*`, by default a pre-dose reading at or
above 140/90, any reading at or above 180/110, a rise of 20% over the pre-dose
baseline). A reading past one is marked on the record and the timeline, and saving
it raises a safety flag (`safety_flags`, what raised it sealed: from vitals, the
record, the reading and the rule) that the caseload counts and a clinician
acknowledges like any other. Saving the record again with the same breach raises
no second flag; correcting the reading leaves the flag raised until a clinician
acknowledges it. None of it blocks a session or gives advice.

Every change keeps the version it replaces (`amendments.keep_version`, in
`clinical_versions`, sealed the same way, with who saved it and when); the history
page and the clinician's export show each version with what it changed, in words
(`record_facts`, `record_history_page`, `record_histories`).

Saving the record with "the session was held" ticked sets the session completed;
unticking it sets a completed session back to scheduled. A new record starts
from the weight, route, drug, modality and dose unit of the previous session's
record (or mg).

The patient reads part of their own record (`PatientRecord`: what was given,
measured and how they left; not the clinician's ratings, observations and notes:
see docs/security.md, "Who may see what"); clinicians outside the care team get
"not found".
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.accounts import names_of
from journal.accounts.courses import care_team, get_session
from journal.accounts.policy import (
    CourseAccess,
    can_read_own_dosing_record,
    can_use_clinical_records,
    course_access,
)
from journal.clinical.amendments import (
    ANSWERS,
    Facts,
    Saved,
    Version,
    history,
    joined,
    keep_version,
    kept_versions,
    numbered_rows,
    term,
)
from journal.clinical.dose import DoseNotice, DoseRules, dose_notice, refusal
from journal.clinical.vitals import (
    POINT_40_MINUTES,
    POINT_DISCHARGE,
    POINT_OTHER,
    POINT_PRE_DOSE,
    POINTS,
    RULE_RANK,
    WEIGHT_KG_RANGE,
    BloodPressureFlag,
    BpBreach,
    BpThresholds,
    Vitals,
    VitalsPoint,
    mg_per_kg,
    pre_dose_bp_flag,
    series_breaches,
    vitals_problems,
)
from journal.config import DEFAULT_DRUGS, DEFAULT_MODALITIES, Settings
from journal.core.errors import ConflictError, Forbidden, NotFound, ValidationError
from journal.core.labels import N_, kept
from journal.core.limits import too_long
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import (
    DosingSession,
    SafetyFlag,
    SessionRecord,
    SessionStatus,
    User,
    VersionKind,
)

AUDIT_TYPE = "session_record"

# The routes, side effects and rating scale of the clinical brief.
ROUTES = {
    "intravenous": N_("Intravenous (IV)"),
    "intramuscular": N_("Intramuscular (IM)"),
    "intranasal": N_("Intranasal"),
    "sublingual": N_("Sublingual or buccal lozenge"),
    "oral": N_("Oral"),
}
WEIGHT_ROUTES = frozenset({"intravenous", "intramuscular"})  # mg/kg needs the weight used
DOSE_UNITS = {"mg": "mg", "mg_per_kg": "mg/kg"}
DEFAULT_DOSE_UNIT = "mg"
SIDE_EFFECTS = {
    "nausea": N_("Nausea"),
    "vomiting": N_("Vomiting"),
    "dizziness": N_("Dizziness"),
    "blurred_vision": N_("Blurred or double vision"),
    "drowsiness": N_("Drowsiness"),
    "dissociation": N_("Dissociation"),
    "confusion": N_("Confusion"),
    "anxiety": N_("Anxiety or agitation"),
    "elevated_bp": N_("Elevated blood pressure"),
    "headache": N_("Headache"),
}
DISSOCIATION_SCALE = range(0, 11)  # 0 to 10, the clinician's rating
# Asked before the dose, each answered yes or no with a note.
PRE_SESSION = {
    "fasting": N_("Fasting as instructed"),
    "escort_confirmed": N_("Escort or driver confirmed"),
    "new_medications": N_("New medications"),
    "pregnancy_possible": N_("Pregnancy possible"),
    "changes": N_("Changes since the last session"),
}
# Checked before the patient leaves, each yes or no with a note.
DISCHARGE = {
    "alert_oriented": N_("Alert and oriented"),
    "walking": N_("Walking unaided"),
    "vitals_baseline": N_("Vital signs near baseline"),
    "nausea_controlled": N_("Nausea controlled"),
    "escort_present": N_("Escort present"),
    "no_driving": N_("Told not to drive until the next day"),
}
YES_NO = {"yes": N_("Yes"), "no": N_("No")}

SHORT_TEXT_MAX = 1000
LONG_TEXT_MAX = 4000
NOTE_MAX = 500  # a note on one reading or one checklist item
MAX_READINGS = 30
NUMBER_RE = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,3})?")
WHOLE_RE = re.compile(r"[0-9]{1,3}")
TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::[0-5][0-9])?")
READING_FIELDS = ("systolic", "diastolic", "heart_rate", "spo2", "breathing_rate")


@dataclass(frozen=True)
class ReadingInput:
    """One row of the vitals series as a form posts it."""

    point: str = ""
    time: str = ""
    systolic: str = ""
    diastolic: str = ""
    heart_rate: str = ""
    spo2: str = ""
    breathing_rate: str = ""
    note: str = ""

    @property
    def blank(self) -> bool:
        """Nothing typed but where in the day: a prompted row left empty."""
        return not any(getattr(self, f).strip() for f in ("time", "note", *READING_FIELDS))


@dataclass(frozen=True)
class RecordInput:
    """The record as a form posts it: text, checked by `check_record`.

    `checks` and `discharge`: item id -> "yes", "no" or ""; `*_notes`: item id -> a
    note. `completed`: "yes" marks the session completed, "no" sets a completed
    session back to scheduled, "" leaves its status alone."""

    route: str = ""
    dose: str = ""
    dose_unit: str = ""
    weight_kg: str = ""
    time_given: str = ""
    adjuncts: str = ""
    drug: str = ""
    modality: str = ""
    readings: tuple[ReadingInput, ...] = ()
    checks: dict[str, str] = field(default_factory=dict)
    check_notes: dict[str, str] = field(default_factory=dict)
    side_effects: tuple[str, ...] = ()
    side_effects_other: str = ""
    dissociation: str = ""
    setting: str = ""
    clinicians_present: tuple[str, ...] = ()
    discharge: dict[str, str] = field(default_factory=dict)
    discharge_criteria_notes: dict[str, str] = field(default_factory=dict)
    discharge_time: str = ""
    discharge_notes: str = ""
    completed: str = ""


@dataclass(frozen=True)
class Answer:
    """One checklist item or discharge criterion: yes, no or unanswered, and a note."""

    item: str
    answer: str | None  # "yes", "no" or None
    note: str = ""

    @property
    def words(self) -> str:
        return YES_NO.get(self.answer or "", N_("Not answered"))


@dataclass(frozen=True)
class RecordData:
    """A checked record, as stored (encrypted) and shown."""

    route: str
    dose: Decimal
    dose_unit: str
    weight_kg: Decimal | None
    time_given: str | None  # "HH:MM", local time on the session's day
    adjuncts: str
    readings: tuple[VitalsPoint, ...]
    side_effects: tuple[str, ...]
    side_effects_other: str
    dissociation: int | None
    setting: str
    clinicians_present: tuple[uuid.UUID, ...]
    discharge_notes: str
    drug: str = ""
    modality: str = ""
    checks: tuple[Answer, ...] = ()  # PRE_SESSION items answered or noted, in its order
    discharge: tuple[Answer, ...] = ()  # DISCHARGE criteria answered or noted
    discharge_time: str | None = None

    @property
    def dose_mg(self) -> Decimal:
        if self.dose_unit == "mg":
            return self.dose
        assert self.weight_kg is not None
        return (self.dose * self.weight_kg).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def dose_mg_per_kg(self) -> Decimal | None:
        """Given for IV and IM doses, and whenever a weight was recorded."""
        if self.dose_unit == "mg_per_kg":
            return self.dose
        if self.weight_kg is None:
            return None
        return mg_per_kg(self.dose, self.weight_kg)

    def _first(self, point: str) -> Vitals:
        return next((r.vitals for r in self.readings if r.point == point), Vitals())

    @property
    def pre(self) -> Vitals:
        """The first pre-dose reading (the export's "before the dose")."""
        return self._first(POINT_PRE_DOSE)

    @property
    def post(self) -> Vitals:
        """The first reading at about 40 minutes (the export's "after the dose")."""
        return self._first(POINT_40_MINUTES)

    @property
    def bp_flag(self) -> BloodPressureFlag | None:
        """The pre-dose rule at the default 140/90 (the course summary's marker)."""
        return pre_dose_bp_flag(self.pre)

    def bp_breaches(self, thresholds: BpThresholds) -> list[BpBreach]:
        """The readings past the clinic's thresholds, in the order of the series."""
        return series_breaches(self.readings, thresholds)

    def dose_notice(self, rules: DoseRules) -> DoseNotice | None:
        return dose_notice(
            self.route, self.route_label, self.dose, self.dose_unit, self.weight_kg, rules
        )

    @property
    def route_label(self) -> str:
        return ROUTES[self.route]

    @property
    def side_effect_labels(self) -> list[str]:
        return [SIDE_EFFECTS[s] for s in self.side_effects]

    def to_json(self) -> str:
        return json.dumps(
            {
                "route": self.route,
                "dose": str(self.dose),
                "dose_unit": self.dose_unit,
                "weight_kg": None if self.weight_kg is None else str(self.weight_kg),
                "time_given": self.time_given,
                "adjuncts": self.adjuncts,
                "drug": self.drug,
                "modality": self.modality,
                "readings": [_reading_json(r) for r in self.readings],
                "checks": [_answer_json(a) for a in self.checks],
                "side_effects": list(self.side_effects),
                "side_effects_other": self.side_effects_other,
                "dissociation": self.dissociation,
                "setting": self.setting,
                "clinicians_present": [str(c) for c in self.clinicians_present],
                "discharge": [_answer_json(a) for a in self.discharge],
                "discharge_time": self.discharge_time,
                "discharge_notes": self.discharge_notes,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> RecordData:
        """A stored record, of either shape: the series, or (before it) one reading
        before the dose ("pre") and one after ("post")."""
        raw: dict[str, Any] = json.loads(text)
        weight = raw.get("weight_kg")
        if "readings" in raw:
            readings = tuple(
                VitalsPoint(
                    r["point"],
                    Vitals(**{f: r.get(f) for f in READING_FIELDS}),
                    r.get("time"),
                    r.get("note", ""),
                )
                for r in raw["readings"]
            )
        else:
            old = ((POINT_PRE_DOSE, raw.get("pre", {})), (POINT_40_MINUTES, raw.get("post", {})))
            readings = tuple(
                VitalsPoint(point, Vitals(**values))
                for point, values in old
                if not Vitals(**values).empty
            )
        return cls(
            route=raw["route"],
            dose=Decimal(raw["dose"]),
            dose_unit=raw["dose_unit"],
            weight_kg=None if weight is None else Decimal(weight),
            time_given=raw.get("time_given"),
            adjuncts=raw.get("adjuncts", ""),
            readings=readings,
            side_effects=tuple(raw.get("side_effects", ())),
            side_effects_other=raw.get("side_effects_other", ""),
            dissociation=raw.get("dissociation"),
            setting=raw.get("setting", ""),
            clinicians_present=tuple(uuid.UUID(c) for c in raw.get("clinicians_present", ())),
            discharge_notes=raw.get("discharge_notes", ""),
            drug=raw.get("drug", ""),
            modality=raw.get("modality", ""),
            checks=tuple(Answer(**a) for a in raw.get("checks", ())),
            discharge=tuple(Answer(**a) for a in raw.get("discharge", ())),
            discharge_time=raw.get("discharge_time"),
        )

    def as_input(self) -> RecordInput:
        """The record as a form shows it again for editing."""

        def num(value: int | None) -> str:
            return "" if value is None else str(value)

        return RecordInput(
            route=self.route,
            dose=str(self.dose),
            dose_unit=self.dose_unit,
            weight_kg="" if self.weight_kg is None else str(self.weight_kg),
            time_given=self.time_given or "",
            adjuncts=self.adjuncts,
            drug=self.drug,
            modality=self.modality,
            readings=tuple(
                ReadingInput(
                    point=r.point,
                    time=r.time or "",
                    note=r.note,
                    **{f: num(getattr(r.vitals, f)) for f in READING_FIELDS},
                )
                for r in self.readings
            ),
            checks={a.item: a.answer or "" for a in self.checks},
            check_notes={a.item: a.note for a in self.checks},
            side_effects=self.side_effects,
            side_effects_other=self.side_effects_other,
            dissociation=num(self.dissociation),
            setting=self.setting,
            clinicians_present=tuple(str(c) for c in self.clinicians_present),
            discharge={a.item: a.answer or "" for a in self.discharge},
            discharge_criteria_notes={a.item: a.note for a in self.discharge},
            discharge_time=self.discharge_time or "",
            discharge_notes=self.discharge_notes,
        )


def _reading_json(r: VitalsPoint) -> dict[str, Any]:
    return {
        "point": r.point,
        "time": r.time,
        **{f: getattr(r.vitals, f) for f in READING_FIELDS},
        "note": r.note,
    }


def _answer_json(a: Answer) -> dict[str, Any]:
    return {"item": a.item, "answer": a.answer, "note": a.note}


@dataclass(frozen=True)
class RecordChoices:
    """What a record chooses from and is checked against: the clinic's lists and dose
    settings (`of(settings)`), and the care team."""

    team: set[uuid.UUID]
    drugs: tuple[str, ...] = DEFAULT_DRUGS
    modalities: tuple[str, ...] = DEFAULT_MODALITIES
    dose: DoseRules = field(default_factory=lambda: DoseRules.of(None))
    kept: tuple[str, ...] = ()  # the saved record's drug and modality, kept if since unlisted

    @classmethod
    def of(
        cls, settings: Settings, team: set[uuid.UUID], kept: tuple[str, ...] = ()
    ) -> RecordChoices:
        return cls(
            team, settings.record_drugs, settings.record_modalities, DoseRules.of(settings), kept
        )


# -- checking ------------------------------------------------------------------


def _decimal(text: str) -> Decimal | None:
    text = text.strip().replace(",", ".")
    if not NUMBER_RE.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain numbers
        return None


def _whole(text: str, name: str, errors: dict[str, str]) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not WHOLE_RE.fullmatch(text):
        errors[name] = N_("Please give a whole number, or leave it empty.")
        return None
    return int(text)


def _text(value: str, name: str, limit: int, errors: dict[str, str]) -> str:
    value = value.strip()
    if problem := too_long(value, limit):
        errors[name] = problem
    return value


def _time(value: str, name: str, errors: dict[str, str]) -> str | None:
    value = value.strip()
    if value and not TIME_RE.fullmatch(value):
        errors[name] = N_("Please give the time as hours and minutes, such as 10:30.")
    return value[:5] or None


def _readings(raw: RecordInput, errors: dict[str, str]) -> tuple[VitalsPoint, ...]:
    """The rows typed in, in their order; rows left empty are dropped. Row i's
    fields are named r{i}_systolic and so on."""
    if len(raw.readings) > MAX_READINGS:
        errors["readings"] = N_("A record holds at most %(limit)s readings.", limit=MAX_READINGS)
    found = []
    for i, row in enumerate(raw.readings[:MAX_READINGS]):
        if row.blank:
            continue
        prefix = f"r{i}_"
        if row.point not in POINTS:
            errors[prefix + "point"] = N_("Please choose when the reading was taken.")
        values = {f: _whole(getattr(row, f), prefix + f, errors) for f in READING_FIELDS}
        vitals = Vitals(**values)
        for name, problem in vitals_problems(vitals).items():
            errors.setdefault(prefix + name, problem)
        found.append(
            VitalsPoint(
                row.point,
                vitals,
                _time(row.time, prefix + "time", errors),
                _text(row.note, prefix + "note", NOTE_MAX, errors),
            )
        )
    return tuple(found)


def _answers(
    items: dict[str, str],
    answers: dict[str, str],
    notes: dict[str, str],
    prefix: str,
    errors: dict[str, str],
) -> tuple[Answer, ...]:
    found = []
    for item in items:
        answer = answers.get(item, "").strip()
        if answer and answer not in YES_NO:
            errors[prefix + item] = N_("Please answer yes or no, or leave it unanswered.")
        note = _text(notes.get(item, ""), f"{prefix}{item}_note", NOTE_MAX, errors)
        if answer or note:
            found.append(Answer(item, answer or None, note))
    return tuple(found)


def _choice(value: str, name: str, listed: tuple[str, ...], errors: dict[str, str]) -> str:
    value = value.strip()
    if value and value not in listed:
        errors[name] = N_("Please choose one of those listed.")
    return value


def _dose(
    raw: RecordInput, rules: DoseRules, errors: dict[str, str]
) -> tuple[Decimal, str, Decimal | None]:
    dose = _decimal(raw.dose)
    unit = raw.dose_unit.strip()
    if not raw.dose.strip():
        errors["dose"] = N_("Please give the dose.")
    elif dose is None or dose <= 0:
        errors["dose"] = N_("Please give the dose as a number above zero, such as 35 or 0.5.")
    if not unit:
        errors["dose_unit"] = N_("Please choose the unit of the dose (mg or mg/kg).")
    elif unit not in DOSE_UNITS:
        errors["dose_unit"] = N_("Please choose mg or mg/kg.")
    weight: Decimal | None = None
    if raw.weight_kg.strip():
        weight = _decimal(raw.weight_kg)
        low, high = WEIGHT_KG_RANGE
        if weight is None or not low <= weight <= high:
            errors["weight_kg"] = N_(
                "Please give the weight in kg, from %(low)s to %(high)s.", low=low, high=high
            )
            weight = None
    elif raw.route in WEIGHT_ROUTES:
        errors["weight_kg"] = N_(
            "For an intravenous or intramuscular dose, please give the weight used, in kg."
        )
    elif unit == "mg_per_kg":
        errors["weight_kg"] = N_("A dose in mg/kg needs the weight used, in kg.")
    checkable = dose is not None and dose > 0 and unit in DOSE_UNITS
    if checkable and dose is not None and "weight_kg" not in errors:
        problem = refusal(dose, unit, weight, rules)
        if problem:
            errors["dose"] = problem
    return dose or Decimal(0), unit, weight


def check_record(raw: RecordInput, choices: RecordChoices | set[uuid.UUID]) -> RecordData:
    """The record checked in full, or `ValidationError` naming every field to fix.
    `choices`: the clinic's lists and the care team (a bare team: the default lists)."""
    if not isinstance(choices, RecordChoices):
        choices = RecordChoices(choices)
    errors: dict[str, str] = {}
    if not raw.route:
        errors["route"] = N_("Please choose the route.")
    elif raw.route not in ROUTES:
        errors["route"] = N_("Please choose one of the routes listed.")
    dose, unit, weight = _dose(raw, choices.dose, errors)
    time_given = _time(raw.time_given, "time_given", errors)
    drug = _choice(raw.drug, "drug", (*choices.drugs, *choices.kept), errors)
    modality = _choice(raw.modality, "modality", (*choices.modalities, *choices.kept), errors)
    readings = _readings(raw, errors)
    checks = _answers(PRE_SESSION, raw.checks, raw.check_notes, "check_", errors)
    discharge = _answers(
        DISCHARGE, raw.discharge, raw.discharge_criteria_notes, "discharge_", errors
    )
    unknown = [s for s in raw.side_effects if s not in SIDE_EFFECTS]
    if unknown:
        errors["side_effects"] = N_("Please choose side effects from the list.")
    rating = _whole(raw.dissociation, "dissociation", errors)
    if rating is not None and rating not in DISSOCIATION_SCALE:
        errors["dissociation"] = N_("Please rate dissociation from 0 to 10.")
    present: list[uuid.UUID] = []
    for text in raw.clinicians_present:
        try:
            clinician = uuid.UUID(text)
        except ValueError:
            clinician = None
        if clinician is None or clinician not in choices.team:
            errors["clinicians_present"] = N_("Please choose clinicians from the care team.")
        elif clinician not in present:
            present.append(clinician)
    if raw.completed not in ("", "yes", "no"):
        errors["completed"] = N_("Please tick the box or leave it empty.")
    data = RecordData(
        route=raw.route,
        dose=dose,
        dose_unit=unit,
        weight_kg=weight,
        time_given=time_given,
        adjuncts=_text(raw.adjuncts, "adjuncts", SHORT_TEXT_MAX, errors),
        readings=readings,
        side_effects=tuple(s for s in SIDE_EFFECTS if s in raw.side_effects),
        side_effects_other=_text(
            raw.side_effects_other, "side_effects_other", SHORT_TEXT_MAX, errors
        ),
        dissociation=rating,
        setting=_text(raw.setting, "setting", LONG_TEXT_MAX, errors),
        clinicians_present=tuple(present),
        discharge_notes=_text(raw.discharge_notes, "discharge_notes", LONG_TEXT_MAX, errors),
        drug=drug,
        modality=modality,
        checks=checks,
        discharge=discharge,
        discharge_time=_time(raw.discharge_time, "discharge_time", errors),
    )
    if errors:
        raise ValidationError(errors)
    return data


# -- what the patient reads ---------------------------------------------------------


@dataclass(frozen=True)
class PatientRecord:
    """The part of a record its patient reads: what was given, what was measured and
    how they left. Left out, field by field (docs/security.md, "Who may see what"):
    the dissociation rating, side effects, setting, clinicians present, the notes on
    readings and on checklist items, and the flags and dose notices."""

    drug: str
    modality: str
    route_label: str
    dose_mg: Decimal
    dose_mg_per_kg: Decimal | None
    weight_kg: Decimal | None
    time_given: str | None
    adjuncts: str
    readings: tuple[VitalsPoint, ...]  # without their notes
    checks: tuple[Answer, ...]  # without their notes
    discharge: tuple[Answer, ...]  # with their notes: the discharge is theirs to know
    discharge_time: str | None
    discharge_notes: str

    @classmethod
    def of(cls, data: RecordData) -> PatientRecord:
        return cls(
            drug=data.drug,
            modality=data.modality,
            route_label=data.route_label,
            dose_mg=data.dose_mg,
            dose_mg_per_kg=data.dose_mg_per_kg,
            weight_kg=data.weight_kg,
            time_given=data.time_given,
            adjuncts=data.adjuncts,
            readings=tuple(VitalsPoint(r.point, r.vitals, r.time) for r in data.readings),
            checks=tuple(Answer(a.item, a.answer) for a in data.checks if a.answer),
            discharge=data.discharge,
            discharge_time=data.discharge_time,
            discharge_notes=data.discharge_notes,
        )


# -- reading and writing ---------------------------------------------------------


@dataclass(frozen=True)
class RecordView:
    data: RecordData
    version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    present_names: list[str]
    breaches: list[BpBreach] = field(default_factory=list)  # readings past a threshold
    notice: DoseNotice | None = None  # a dose outside the clinic's usual range


@dataclass(frozen=True)
class RecordPage:
    access: CourseAccess
    session: DosingSession
    team: list[User]
    record: RecordView | None
    choices: RecordChoices | None = None
    # For a new record: what the previous session's record carries over, and its number.
    defaults: RecordInput = field(default_factory=lambda: RecordInput(dose_unit=DEFAULT_DOSE_UNIT))
    carried_from: int | None = None


@dataclass(frozen=True)
class RecordMark:
    """What the timeline shows on a session's header: that a record exists, and the
    readings past the clinic's thresholds."""

    session_id: uuid.UUID
    breaches: tuple[BpBreach, ...] = ()  # for the care team's clinicians only


VITALS_ORIGIN = "vitals"  # "origin" in the sealed source of a flag a reading raised


def bp_thresholds(settings: Settings) -> BpThresholds:
    """The clinic's blood-pressure thresholds, from its settings."""
    return BpThresholds(
        pre_dose_systolic=settings.bp_pre_dose_systolic,
        pre_dose_diastolic=settings.bp_pre_dose_diastolic,
        any_systolic=settings.bp_any_systolic,
        any_diastolic=settings.bp_any_diastolic,
        rise_percent=settings.bp_rise_percent,
    )


def _access(work: Work, course_id: uuid.UUID) -> CourseAccess:
    access = course_access(work.db, work.actor.user, course_id)
    if not can_use_clinical_records(access):
        raise NotFound()
    return access


def _record_of(db: Session, session_id: uuid.UUID) -> SessionRecord | None:
    return db.scalar(select(SessionRecord).where(SessionRecord.session_id == session_id))


def _carry_over(
    work: Work, access: CourseAccess, session: DosingSession
) -> tuple[RecordInput, int | None]:
    """The weight, route, drug, modality and dose unit of the record of the course's
    latest session before this one that has a record; else the default unit alone."""
    row = work.db.scalar(
        select(SessionRecord)
        .join(DosingSession, DosingSession.id == SessionRecord.session_id)
        .where(
            SessionRecord.course_id == access.course.id,
            DosingSession.scheduled_at < session.scheduled_at,
        )
        .order_by(DosingSession.scheduled_at.desc())
        .limit(1)
    )
    if row is None:
        return RecordInput(dose_unit=DEFAULT_DOSE_UNIT), None
    owner = access.course.patient_id
    data = RecordData.from_json(work.vault.open_column(row, "content", owner))
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    previous = work.db.get(DosingSession, row.session_id)
    return (
        RecordInput(
            route=data.route,
            dose_unit=data.dose_unit,
            weight_kg="" if data.weight_kg is None else str(data.weight_kg),
            drug=data.drug,
            modality=data.modality,
        ),
        None if previous is None else previous.number,
    )


def record_page(work: Work, course_id: uuid.UUID, session_id: uuid.UUID) -> RecordPage:
    """The session's record (if any), the care team and the clinic's lists; for a new
    record, what the previous one carries over. An opened record is audited."""
    access = _access(work, course_id)
    session = get_session(work.db, access, session_id)
    team = care_team(work.db, course_id)
    team_ids = {u.id for u in team}
    row = _record_of(work.db, session.id)
    if row is None:
        defaults, carried_from = _carry_over(work, access, session)
        choices = RecordChoices.of(work.settings, team_ids)
        return RecordPage(access, session, team, None, choices, defaults, carried_from)
    owner = access.course.patient_id
    data = RecordData.from_json(work.vault.open_column(row, "content", owner))
    names = names_of(work.db, _people(row, data))
    view = RecordView(
        data=data,
        version=row.version,
        created_by=names.get(row.created_by, ""),
        created_at=row.created_at,
        updated_by=names.get(row.updated_by, ""),
        updated_at=row.updated_at,
        present_names=[names[c] for c in data.clinicians_present if c in names],
        breaches=data.bp_breaches(bp_thresholds(work.settings)),
        notice=data.dose_notice(DoseRules.of(work.settings)),
    )
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    choices = RecordChoices.of(work.settings, team_ids, _kept(data))
    return RecordPage(access, session, team, view, choices)


def _kept(data: RecordData) -> tuple[str, ...]:
    return tuple(v for v in (data.drug, data.modality) if v)


@dataclass(frozen=True)
class PatientRecordPage:
    access: CourseAccess
    session: DosingSession
    record: PatientRecord


def patient_record_page(
    work: Work, course_id: uuid.UUID, session_id: uuid.UUID
) -> PatientRecordPage:
    """The patient's own view of a session's record; "not found" for anyone else, and
    when the session has no record."""
    access = course_access(work.db, work.actor.user, course_id)
    if not can_read_own_dosing_record(access):
        raise NotFound()
    session = get_session(work.db, access, session_id)
    row = _record_of(work.db, session.id)
    if row is None:
        raise NotFound()
    data = RecordData.from_json(work.vault.open_column(row, "content", access.course.patient_id))
    return PatientRecordPage(access, session, PatientRecord.of(data))


def _people(row: SessionRecord, data: RecordData) -> set[uuid.UUID]:
    return {row.created_by, row.updated_by, *data.clinicians_present}


@atomic
def save_record(
    work: Work,
    course_id: uuid.UUID,
    session_id: uuid.UUID,
    raw: RecordInput,
    *,
    expected_version: int | None,
    now: datetime | None = None,
) -> SessionRecord:
    """Write the session's record, or change it (`expected_version`: the one the form showed).

    A record changed by someone else since the form was opened is not
    overwritten: `ConflictError`.
    """
    access = _access(work, course_id)
    session = get_session(work.db, access, session_id)
    if not access.writable:
        raise Forbidden()
    team = {u.id for u in care_team(work.db, course_id)}
    owner = access.course.patient_id
    row = _record_of(work.db, session.id)
    kept: tuple[str, ...] = ()
    if row is not None and row.content is not None:
        kept = _kept(RecordData.from_json(work.vault.open_column(row, "content", owner)))
    data = check_record(raw, RecordChoices.of(work.settings, team, kept))
    now = now or utcnow()
    if row is None:
        if expected_version is not None:
            raise ConflictError()  # the form edited a record that no longer exists
        row = SessionRecord(
            id=new_id(),
            course_id=course_id,
            session_id=session.id,
            version=1,
            created_by=work.actor.id,
            created_at=now,
            updated_by=work.actor.id,
            updated_at=now,
        )
        action = "session_record.create"
        work.db.add(row)
    else:
        if expected_version != row.version:
            raise ConflictError()
        keep_version(
            work,
            VersionKind.SESSION_RECORD,
            row,
            owner,
            saved_by=row.updated_by,
            saved_at=row.updated_at,
        )
        row.version += 1
        row.updated_by = work.actor.id
        row.updated_at = now
        action = "session_record.update"
    row.content = work.vault.seal_column(row, "content", owner, data.to_json())
    audit.record(
        work.db,
        action,
        actor=work.actor,
        object_type=AUDIT_TYPE,
        object_id=row.id,
        subject_id=owner,
    )
    breaches = data.bp_breaches(bp_thresholds(work.settings))
    if breaches:
        _raise_bp_flags(work, row, owner, breaches, now)
    _complete(work, access, session, raw.completed, now)
    return row


def _complete(
    work: Work, access: CourseAccess, session: DosingSession, completed: str, now: datetime
) -> None:
    """ "yes": the session was held, so it is completed; "no": a session completed by
    mistake goes back to scheduled; "": its status is left alone."""
    if completed == "yes" and session.status != SessionStatus.COMPLETED:
        session.status = SessionStatus.COMPLETED
    elif completed == "no" and session.status == SessionStatus.COMPLETED:
        session.status = SessionStatus.SCHEDULED
    else:
        return
    session.updated_at = now
    audit.record(
        work.db,
        "session.update",
        actor=work.actor,
        object_type="dosing_session",
        object_id=session.id,
        subject_id=access.course.patient_id,
    )


def _raise_bp_flags(
    work: Work, row: SessionRecord, owner: uuid.UUID, breaches: list[BpBreach], now: datetime
) -> None:
    """A safety flag for each reading past a threshold, unless this record already
    raised one for the same reading by the same rule or a more serious one
    (acknowledged or not). What raised it is sealed; the row keeps its course in
    clear, so the caseload counts it like a questionnaire's flag."""
    raised: dict[str, int] = {}  # reading -> the most serious rule flagged for it
    for flag in work.db.scalars(select(SafetyFlag).where(SafetyFlag.course_id == row.course_id)):
        if flag.source is None:
            continue  # a questionnaire's flag from before 0013, not sealed yet
        source = json.loads(work.vault.open_column(flag, "source", owner))
        if source.get("origin") != VITALS_ORIGIN or source.get("record_id") != str(row.id):
            continue
        reading = str(source["reading"])
        rank = RULE_RANK.get(str(source["rule_id"]), 0)
        raised[reading] = max(raised.get(reading, 0), rank)
    for breach in breaches:
        if raised.get(breach.reading, 0) >= RULE_RANK[breach.rule]:
            continue
        flag = SafetyFlag(id=new_id(), course_id=row.course_id, version=1)
        flag.detail = work.vault.seal_column(flag, "detail", owner, kept(breach.label))
        flag.source = work.vault.seal_column(
            flag,
            "source",
            owner,
            json.dumps(
                {
                    "origin": VITALS_ORIGIN,
                    "record_id": str(row.id),
                    "reading": breach.reading,
                    "rule_id": breach.rule,
                    "response_id": None,
                    "instrument_id": None,
                    "raised_at": now.isoformat(),
                }
            ),
        )
        work.db.add(flag)


def record_marks(
    db: Session, vault: Vault, access: CourseAccess, thresholds: BpThresholds | None = None
) -> dict[uuid.UUID, RecordMark]:
    """Session id -> its record's mark, for the timeline; in one query. The care team's
    clinicians get the readings past `thresholds` (the clinic's, `bp_thresholds(settings)`,
    else the defaults); the patient only which sessions have a record to read."""
    if can_read_own_dosing_record(access):
        ids = db.scalars(
            select(SessionRecord.session_id).where(SessionRecord.course_id == access.course.id)
        )
        return {i: RecordMark(i) for i in ids}
    if not can_use_clinical_records(access):
        return {}
    limits = thresholds or BpThresholds()
    owner = access.course.patient_id
    rows = db.scalars(select(SessionRecord).where(SessionRecord.course_id == access.course.id))
    marks = {}
    for row in rows:
        data = RecordData.from_json(vault.open_column(row, "content", owner))
        marks[row.session_id] = RecordMark(row.session_id, tuple(data.bp_breaches(limits)))
    return marks


def course_records(db: Session, vault: Vault, access: CourseAccess) -> dict[uuid.UUID, RecordData]:
    """Session id -> its opened record, for the exports; in one query. The care team's
    clinicians and the patient (whose export shows only `PatientRecord`'s part) get
    them; nobody else."""
    if not (can_use_clinical_records(access) or can_read_own_dosing_record(access)):
        return {}
    owner = access.course.patient_id
    rows = db.scalars(select(SessionRecord).where(SessionRecord.course_id == access.course.id))
    return {
        row.session_id: RecordData.from_json(vault.open_column(row, "content", owner))
        for row in rows
    }


# -- amendment history -------------------------------------------------------------

# Where in the day a reading was taken, as a change line names it.
READING_WORDS = {
    POINT_PRE_DOSE: N_("Vitals before the dose"),
    POINT_40_MINUTES: N_("Vitals at about 40 minutes"),
    POINT_DISCHARGE: N_("Vitals at discharge"),
    POINT_OTHER: N_("Vitals at another time"),
}


FORMER_COLLEAGUE = term(N_("a former colleague"))  # a clinician present, since removed


def _number(value: int | None, unit: str = "") -> str:
    return "" if value is None else f"{value}{unit}"


def record_facts(data: RecordData, names: Mapping[uuid.UUID, str]) -> Facts:
    """A record in words, field by field in the form's order, the readings as rows
    (`amendments.changes` diffs two of them); `names`: the clinicians present."""
    per_kg = data.dose_mg_per_kg
    fields: list[tuple[str, str]] = [
        (N_("Drug"), term(data.drug)),
        (N_("Modality"), term(data.modality)),
        (N_("Route"), term(data.route_label)),
        (N_("Dose"), f"{data.dose_mg} mg"),
        (N_("Dose per kg"), "" if per_kg is None else f"{per_kg} mg/kg"),
        (N_("Weight used"), "" if data.weight_kg is None else f"{data.weight_kg} kg"),
        (N_("Time given"), data.time_given or ""),
        (N_("Adjunct medications"), data.adjuncts),
    ]
    checks = {a.item: a for a in data.checks}
    for item, label in PRE_SESSION.items():
        a = checks.get(item)
        fields.append((label, "" if a is None or not a.answer else ANSWERS[a.answer]))
        fields.append((N_("%(label)s, note", label=term(label)), "" if a is None else a.note))
    fields += [
        (N_("Side effects"), joined([term(s) for s in data.side_effect_labels])),
        (N_("Other side effects"), data.side_effects_other),
        (
            N_("Dissociation"),
            ""
            if data.dissociation is None
            else N_("%(score)s of %(max)s", score=data.dissociation, max=10),
        ),
        (N_("Setting"), data.setting),
        (
            N_("Clinicians present"),
            joined([names.get(c, FORMER_COLLEAGUE) for c in data.clinicians_present]),
        ),
    ]
    discharge = {a.item: a for a in data.discharge}
    for item, label in DISCHARGE.items():
        a = discharge.get(item)
        fields.append((label, "" if a is None or not a.answer else ANSWERS[a.answer]))
        fields.append((N_("%(label)s, note", label=term(label)), "" if a is None else a.note))
    fields += [
        (N_("Discharge time"), data.discharge_time or ""),
        (N_("Discharge notes"), data.discharge_notes),
    ]
    rows = numbered_rows(
        (
            READING_WORDS.get(r.point, POINTS.get(r.point, r.point)),
            (
                ("", f"{r.vitals.systolic}/{r.vitals.diastolic}" if r.vitals.has_bp else ""),
                (N_("at"), r.time or ""),
                (N_("heart rate"), _number(r.vitals.heart_rate, "/min")),
                ("SpO2", _number(r.vitals.spo2, "%")),
                (N_("breathing"), _number(r.vitals.breathing_rate, "/min")),
                (N_("note"), r.note),
            ),
        )
        for r in data.readings
    )
    return Facts(tuple(fields), rows)


def _record_versions(
    db: Session, vault: Vault, rows: list[SessionRecord], owner: uuid.UUID
) -> dict[uuid.UUID, tuple[Version, ...]]:
    """Record id -> every version of it, newest first, with what each changed."""
    kept = kept_versions(db, vault, VersionKind.SESSION_RECORD, [r.id for r in rows], owner)
    saved = {
        row.id: [
            *kept[row.id],
            Saved(
                row.version,
                row.updated_by,
                row.updated_at,
                vault.open_column(row, "content", owner),
            ),
        ]
        for row in rows
    }
    datas = {i: [RecordData.from_json(s.text) for s in versions] for i, versions in saved.items()}
    people = {s.saved_by for versions in saved.values() for s in versions}
    people |= {c for found in datas.values() for d in found for c in d.clinicians_present}
    names = names_of(db, people)
    return {
        i: history(versions, names, lambda text: record_facts(RecordData.from_json(text), names))
        for i, versions in saved.items()
    }


@dataclass(frozen=True)
class RecordHistoryPage:
    access: CourseAccess
    session: DosingSession
    versions: tuple[Version, ...]  # newest first: the current one, then the kept ones


def record_history_page(
    work: Work, course_id: uuid.UUID, session_id: uuid.UUID
) -> RecordHistoryPage:
    """Every version of the session's record with who saved it, when, and what it
    changed; care-team clinicians only ("not found" for anyone else, and when there is
    no record). Opening it is audited as reading the record."""
    access = _access(work, course_id)
    session = get_session(work.db, access, session_id)
    row = _record_of(work.db, session.id)
    if row is None:
        raise NotFound()
    owner = access.course.patient_id
    versions = _record_versions(work.db, work.vault, [row], owner)[row.id]
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    return RecordHistoryPage(access, session, versions)


def record_histories(
    db: Session, vault: Vault, access: CourseAccess
) -> dict[uuid.UUID, tuple[Version, ...]]:
    """Session id -> every version of its record (newest first), for a clinician's
    export; nothing for anyone else (the patient's export holds no history)."""
    if not can_use_clinical_records(access):
        return {}
    rows = list(
        db.scalars(select(SessionRecord).where(SessionRecord.course_id == access.course.id))
    )
    found = _record_versions(db, vault, rows, access.course.patient_id)
    return {row.session_id: found[row.id] for row in rows}
