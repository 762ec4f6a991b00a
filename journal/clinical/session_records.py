"""The dosing-session record: one per session, written by care-team clinicians.

Route, dose (mg, and mg/kg with the weight used for IV and IM doses), time
given, adjuncts, vitals before and after, side effects, the clinician's
dissociation rating, setting, clinicians present and discharge notes. All of
it is stored as one encrypted JSON value under the patient's journal key.

Input is checked in full before anything is written: an impossible vital, a
dose without its unit or an IV dose without the weight used is a form error
and nothing is saved.

Each blood-pressure reading is checked against the clinic's thresholds
(`vitals.bp_breaches`; settings `bp_*`, by default a pre-dose reading at or above
140/90, any reading at or above 180/110, a post-dose rise of 20%). A reading past
one is marked on the record and the timeline, and saving it raises a safety flag
(`safety_flags`, what raised it sealed: from vitals, the record, the reading and
the rule) that the caseload counts and a clinician acknowledges like any other.
Saving the record again with the same breach raises no second flag; correcting
the reading leaves the flag raised until a clinician acknowledges it. None of it
blocks a session or gives advice.

The patient does not see the record (see docs/security.md, "Who may see
what"); clinicians outside the care team get "not found".
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.accounts import audit
from journal.accounts.courses import care_team, get_session
from journal.accounts.policy import CourseAccess, can_use_clinical_records, course_access
from journal.clinical.vitals import (
    RULE_RANK,
    WEIGHT_KG_RANGE,
    BloodPressureFlag,
    BpBreach,
    BpThresholds,
    Vitals,
    bp_breaches,
    mg_per_kg,
    pre_dose_bp_flag,
    vitals_problems,
)
from journal.config import Settings
from journal.core.errors import ConflictError, Forbidden, NotFound, ValidationError
from journal.core.limits import too_long
from journal.core.vault import Vault
from journal.core.work import Work
from journal.db import atomic, new_id, utcnow
from journal.models import DosingSession, SafetyFlag, SessionRecord, User

AUDIT_TYPE = "session_record"

# The routes, side effects and rating scale of the clinical brief.
ROUTES = {
    "intravenous": "Intravenous (IV)",
    "intramuscular": "Intramuscular (IM)",
    "intranasal": "Intranasal",
    "sublingual": "Sublingual or buccal lozenge",
    "oral": "Oral",
}
WEIGHT_ROUTES = frozenset({"intravenous", "intramuscular"})  # mg/kg needs the weight used
DOSE_UNITS = {"mg": "mg", "mg_per_kg": "mg/kg"}
SIDE_EFFECTS = {
    "nausea": "Nausea",
    "vomiting": "Vomiting",
    "dizziness": "Dizziness",
    "blurred_vision": "Blurred or double vision",
    "drowsiness": "Drowsiness",
    "dissociation": "Dissociation",
    "confusion": "Confusion",
    "anxiety": "Anxiety or agitation",
    "elevated_bp": "Elevated blood pressure",
    "headache": "Headache",
}
DISSOCIATION_SCALE = range(0, 11)  # 0 to 10, the clinician's rating

SHORT_TEXT_MAX = 1000
LONG_TEXT_MAX = 4000
DOSE_MAX = {"mg": Decimal("2000"), "mg_per_kg": Decimal("20")}
NUMBER_RE = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,3})?")
WHOLE_RE = re.compile(r"[0-9]{1,3}")
TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])(?::[0-5][0-9])?")
VITAL_FIELDS = ("systolic", "diastolic", "heart_rate")


@dataclass(frozen=True)
class RecordInput:
    """The record as a form posts it: text, checked by `check_record`."""

    route: str = ""
    dose: str = ""
    dose_unit: str = ""
    weight_kg: str = ""
    time_given: str = ""
    adjuncts: str = ""
    pre_systolic: str = ""
    pre_diastolic: str = ""
    pre_heart_rate: str = ""
    post_systolic: str = ""
    post_diastolic: str = ""
    post_heart_rate: str = ""
    side_effects: tuple[str, ...] = ()
    side_effects_other: str = ""
    dissociation: str = ""
    setting: str = ""
    clinicians_present: tuple[str, ...] = ()
    discharge_notes: str = ""


@dataclass(frozen=True)
class RecordData:
    """A checked record, as stored (encrypted) and shown."""

    route: str
    dose: Decimal
    dose_unit: str
    weight_kg: Decimal | None
    time_given: str | None  # "HH:MM", local time on the session's day
    adjuncts: str
    pre: Vitals
    post: Vitals
    side_effects: tuple[str, ...]
    side_effects_other: str
    dissociation: int | None
    setting: str
    clinicians_present: tuple[uuid.UUID, ...]
    discharge_notes: str

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

    @property
    def bp_flag(self) -> BloodPressureFlag | None:
        """The pre-dose rule at the default 140/90 (the course summary's marker)."""
        return pre_dose_bp_flag(self.pre)

    def bp_breaches(self, thresholds: BpThresholds) -> list[BpBreach]:
        """The readings past the clinic's thresholds, pre-dose first."""
        return bp_breaches(self.pre, self.post, thresholds)

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
                "pre": _vitals_json(self.pre),
                "post": _vitals_json(self.post),
                "side_effects": list(self.side_effects),
                "side_effects_other": self.side_effects_other,
                "dissociation": self.dissociation,
                "setting": self.setting,
                "clinicians_present": [str(c) for c in self.clinicians_present],
                "discharge_notes": self.discharge_notes,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> RecordData:
        raw: dict[str, Any] = json.loads(text)
        weight = raw.get("weight_kg")
        return cls(
            route=raw["route"],
            dose=Decimal(raw["dose"]),
            dose_unit=raw["dose_unit"],
            weight_kg=None if weight is None else Decimal(weight),
            time_given=raw.get("time_given"),
            adjuncts=raw.get("adjuncts", ""),
            pre=Vitals(**raw.get("pre", {})),
            post=Vitals(**raw.get("post", {})),
            side_effects=tuple(raw.get("side_effects", ())),
            side_effects_other=raw.get("side_effects_other", ""),
            dissociation=raw.get("dissociation"),
            setting=raw.get("setting", ""),
            clinicians_present=tuple(uuid.UUID(c) for c in raw.get("clinicians_present", ())),
            discharge_notes=raw.get("discharge_notes", ""),
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
            pre_systolic=num(self.pre.systolic),
            pre_diastolic=num(self.pre.diastolic),
            pre_heart_rate=num(self.pre.heart_rate),
            post_systolic=num(self.post.systolic),
            post_diastolic=num(self.post.diastolic),
            post_heart_rate=num(self.post.heart_rate),
            side_effects=self.side_effects,
            side_effects_other=self.side_effects_other,
            dissociation=num(self.dissociation),
            setting=self.setting,
            clinicians_present=tuple(str(c) for c in self.clinicians_present),
            discharge_notes=self.discharge_notes,
        )


def _vitals_json(v: Vitals) -> dict[str, int | None]:
    return {"systolic": v.systolic, "diastolic": v.diastolic, "heart_rate": v.heart_rate}


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
        errors[name] = "Please give a whole number, or leave it empty."
        return None
    return int(text)


def _text(value: str, name: str, limit: int, errors: dict[str, str]) -> str:
    value = value.strip()
    if problem := too_long(value, limit):
        errors[name] = problem
    return value


def _vitals(raw: RecordInput, prefix: str, errors: dict[str, str]) -> Vitals:
    values = {f: _whole(getattr(raw, prefix + f), prefix + f, errors) for f in VITAL_FIELDS}
    vitals = Vitals(**values)
    for name, problem in vitals_problems(vitals).items():
        errors.setdefault(prefix + name, problem)
    return vitals


def _dose(raw: RecordInput, errors: dict[str, str]) -> tuple[Decimal, str, Decimal | None]:
    dose = _decimal(raw.dose)
    unit = raw.dose_unit.strip()
    if not raw.dose.strip():
        errors["dose"] = "Please give the dose."
    elif dose is None or dose <= 0:
        errors["dose"] = "Please give the dose as a number above zero, such as 35 or 0.5."
    if not unit:
        errors["dose_unit"] = "Please choose the unit of the dose (mg or mg/kg)."
    elif unit not in DOSE_UNITS:
        errors["dose_unit"] = "Please choose mg or mg/kg."
    elif dose is not None and dose > DOSE_MAX[unit]:
        errors["dose"] = f"A dose above {DOSE_MAX[unit]} {DOSE_UNITS[unit]} cannot be right."
    weight: Decimal | None = None
    if raw.weight_kg.strip():
        weight = _decimal(raw.weight_kg)
        low, high = WEIGHT_KG_RANGE
        if weight is None or not low <= weight <= high:
            errors["weight_kg"] = f"Please give the weight in kg, from {low} to {high}."
            weight = None
    elif raw.route in WEIGHT_ROUTES:
        errors["weight_kg"] = (
            "For an intravenous or intramuscular dose, please give the weight used, in kg."
        )
    elif unit == "mg_per_kg":
        errors["weight_kg"] = "A dose in mg/kg needs the weight used, in kg."
    return dose or Decimal(0), unit, weight


def check_record(raw: RecordInput, team: set[uuid.UUID]) -> RecordData:
    """The record checked in full, or `ValidationError` naming every field to fix."""
    errors: dict[str, str] = {}
    if not raw.route:
        errors["route"] = "Please choose the route."
    elif raw.route not in ROUTES:
        errors["route"] = "Please choose one of the routes listed."
    dose, unit, weight = _dose(raw, errors)
    time_given = raw.time_given.strip()
    if time_given and not TIME_RE.fullmatch(time_given):
        errors["time_given"] = "Please give the time as hours and minutes, such as 10:30."
    pre = _vitals(raw, "pre_", errors)
    post = _vitals(raw, "post_", errors)
    unknown = [s for s in raw.side_effects if s not in SIDE_EFFECTS]
    if unknown:
        errors["side_effects"] = "Please choose side effects from the list."
    rating = _whole(raw.dissociation, "dissociation", errors)
    if rating is not None and rating not in DISSOCIATION_SCALE:
        errors["dissociation"] = "Please rate dissociation from 0 to 10."
    present: list[uuid.UUID] = []
    for text in raw.clinicians_present:
        try:
            clinician = uuid.UUID(text)
        except ValueError:
            clinician = None
        if clinician is None or clinician not in team:
            errors["clinicians_present"] = "Please choose clinicians from the care team."
        elif clinician not in present:
            present.append(clinician)
    data = RecordData(
        route=raw.route,
        dose=dose,
        dose_unit=unit,
        weight_kg=weight,
        time_given=time_given[:5] or None,
        adjuncts=_text(raw.adjuncts, "adjuncts", SHORT_TEXT_MAX, errors),
        pre=pre,
        post=post,
        side_effects=tuple(s for s in SIDE_EFFECTS if s in raw.side_effects),
        side_effects_other=_text(
            raw.side_effects_other, "side_effects_other", SHORT_TEXT_MAX, errors
        ),
        dissociation=rating,
        setting=_text(raw.setting, "setting", LONG_TEXT_MAX, errors),
        clinicians_present=tuple(present),
        discharge_notes=_text(raw.discharge_notes, "discharge_notes", LONG_TEXT_MAX, errors),
    )
    if errors:
        raise ValidationError(errors)
    return data


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


@dataclass(frozen=True)
class RecordPage:
    access: CourseAccess
    session: DosingSession
    team: list[User]
    record: RecordView | None


@dataclass(frozen=True)
class RecordMark:
    """What the timeline shows on a session's header: that a record exists, and the
    readings past the clinic's thresholds."""

    session_id: uuid.UUID
    breaches: tuple[BpBreach, ...] = ()


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


def record_page(work: Work, course_id: uuid.UUID, session_id: uuid.UUID) -> RecordPage:
    """The session's record (if any) and the care team; an opened record is audited."""
    access = _access(work, course_id)
    session = get_session(work.db, access, session_id)
    team = care_team(work.db, course_id)
    row = _record_of(work.db, session.id)
    if row is None:
        return RecordPage(access, session, team, None)
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
    )
    audit.record_read(work, object_type=AUDIT_TYPE, object_id=row.id, subject_id=owner)
    return RecordPage(access, session, team, view)


def names_of(db: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of the people a record mentions, in one query."""
    if not ids:
        return {}
    rows = db.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return dict(rows.all())


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
    data = check_record(raw, team)
    now = now or utcnow()
    owner = access.course.patient_id
    row = _record_of(work.db, session.id)
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
    return row


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
        flag.detail = work.vault.seal_column(flag, "detail", owner, breach.label)
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
    """Session id -> its record's mark, for the timeline; in one query. Clinicians only.
    `thresholds`: the clinic's (`bp_thresholds(settings)`), else the defaults."""
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
    """Session id -> its opened record, for the clinician's export; in one query.
    Nobody else gets any."""
    if not can_use_clinical_records(access):
        return {}
    owner = access.course.patient_id
    rows = db.scalars(select(SessionRecord).where(SessionRecord.course_id == access.course.id))
    return {
        row.session_id: RecordData.from_json(vault.open_column(row, "content", owner))
        for row in rows
    }
