"""Vital signs on the dosing-session record: plausibility checks and the blood-pressure flag.

Two different things, kept apart on purpose:

* `check_vitals` refuses readings that cannot be real (a systolic pressure
  of 20 or 400 is a typing slip, not a patient), so that a form shows an
  error instead of storing nonsense. The ranges are wide: an unusual but
  possible reading is accepted.
* `series_breaches` checks every reading of a record's series against the
  clinic's thresholds (`BpThresholds`, from the settings): a pre-dose reading at
  or above 140/90, any reading at or above 180/110, and a reading after the dose
  whose systolic or diastolic number rose 20% or more over the baseline (the
  last pre-dose reading). Each breach becomes a safety flag for the care team
  (`session_records`). It never blocks a session, and it gives no advice.
  `bp_breaches` is the same for one reading before and one after.
* `pre_dose_bp_flag` is the pre-dose rule alone at the default 140/90 (the
  course summary's marker).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from journal.core.errors import ValidationError
from journal.core.labels import N_, Phrase

# (lowest, highest) that a human reading can be; outside is a typing slip.
SYSTOLIC_RANGE = (50, 300)
DIASTOLIC_RANGE = (20, 200)
HEART_RATE_RANGE = (20, 250)
SPO2_RANGE = (50, 100)  # oxygen saturation, %
BREATHING_RATE_RANGE = (4, 60)  # breaths per minute
WEIGHT_KG_RANGE = (Decimal("20"), Decimal("350"))

FLAG_SYSTOLIC = 140
FLAG_DIASTOLIC = 90
SEVERE_SYSTOLIC = 180
SEVERE_DIASTOLIC = 110
RISE_PERCENT = 20


@dataclass(frozen=True)
class Vitals:
    """One set of readings; any of them may be left out."""

    systolic: int | None = None
    diastolic: int | None = None
    heart_rate: int | None = None
    spo2: int | None = None  # oxygen saturation, %
    breathing_rate: int | None = None  # breaths per minute

    @property
    def has_bp(self) -> bool:
        return self.systolic is not None and self.diastolic is not None

    @property
    def empty(self) -> bool:
        return all(
            v is None
            for v in (
                self.systolic,
                self.diastolic,
                self.heart_rate,
                self.spo2,
                self.breathing_rate,
            )
        )


@dataclass(frozen=True)
class BloodPressureFlag:
    systolic: int
    diastolic: int

    @property
    def label(self) -> str:
        return N_(
            "Pre-dose blood pressure %(systolic)s/%(diastolic)s is at or above "
            "%(flag_systolic)s/%(flag_diastolic)s",
            systolic=self.systolic,
            diastolic=self.diastolic,
            flag_systolic=FLAG_SYSTOLIC,
            flag_diastolic=FLAG_DIASTOLIC,
        )


def pre_dose_bp_flag(pre_dose: Vitals) -> BloodPressureFlag | None:
    """A flag when the pre-dose systolic is at least 140 or the diastolic at least 90."""
    s, d = pre_dose.systolic, pre_dose.diastolic
    if s is None or d is None:
        return None
    if s >= FLAG_SYSTOLIC or d >= FLAG_DIASTOLIC:
        return BloodPressureFlag(s, d)
    return None


@dataclass(frozen=True)
class BpThresholds:
    """The clinic's blood-pressure thresholds (settings `bp_*`); a reading at or above
    one number of a pair breaches it."""

    pre_dose_systolic: int = FLAG_SYSTOLIC
    pre_dose_diastolic: int = FLAG_DIASTOLIC
    any_systolic: int = SEVERE_SYSTOLIC
    any_diastolic: int = SEVERE_DIASTOLIC
    rise_percent: int = RISE_PERCENT


# The points of a dosing day's series of readings, in the order they are prompted.
POINT_PRE_DOSE = "pre_dose"
POINT_40_MINUTES = "about_40_minutes"
POINT_DISCHARGE = "discharge"
POINT_OTHER = "other"
POINTS = {
    POINT_PRE_DOSE: N_("Pre-dose"),
    POINT_40_MINUTES: N_("About 40 minutes after the dose"),
    POINT_DISCHARGE: N_("At discharge"),
    POINT_OTHER: N_("Another time after the dose"),
}
EXPECTED_POINTS = (POINT_PRE_DOSE, POINT_40_MINUTES, POINT_DISCHARGE)


@dataclass(frozen=True)
class VitalsPoint:
    """One timed reading of the series: where in the day it was taken, at what time,
    the numbers and a short note."""

    point: str  # one of POINTS
    vitals: Vitals
    time: str | None = None  # "HH:MM", local time on the session's day
    note: str = ""


def reading_keys(points: Sequence[VitalsPoint]) -> list[str]:
    """A stable name for each reading of a series, as a flag's source stores it: the
    first pre-dose reading is "pre", the first at about 40 minutes "post" (the names
    of the record's two readings before the series), the first at discharge
    "discharge"; a further one of a point adds its number ("pre_dose_2", "other_1")."""
    first = {POINT_PRE_DOSE: "pre", POINT_40_MINUTES: "post", POINT_DISCHARGE: "discharge"}
    seen: dict[str, int] = {}
    keys = []
    for p in points:
        seen[p.point] = seen.get(p.point, 0) + 1
        n = seen[p.point]
        keys.append(first[p.point] if n == 1 and p.point in first else f"{p.point}_{n}")
    return keys


# The rules a reading can breach, as stored (sealed) in a flag's source.
RULE_PRE_DOSE = "pre_dose"  # the pre-dose reading at or above the pre-dose pair
RULE_ANY = "any_reading"  # either reading at or above the "any reading" pair
RULE_RISE = "rise"  # the post-dose reading risen by rise_percent or more
# Per reading, the more serious rule wins: one breach per reading at most.
RULE_RANK = {RULE_PRE_DOSE: 1, RULE_RISE: 1, RULE_ANY: 2}
# When a reading was taken, in words: a `Phrase` (with no values) so that the label
# it goes into is translated with it (journal/web/i18n.py `translate`).
BEFORE_THE_DOSE = Phrase(N_("before the dose"), {})
AFTER_THE_DOSE = Phrase(N_("after the dose"), {})
WHEN = {"pre": BEFORE_THE_DOSE, "post": AFTER_THE_DOSE}


@dataclass(frozen=True)
class BpBreach:
    """One reading past one of the clinic's thresholds."""

    reading: str  # "pre", "post" or another key of `reading_keys`
    rule: str  # RULE_PRE_DOSE, RULE_ANY or RULE_RISE
    systolic: int
    diastolic: int
    threshold: str  # what it breached, in words: "at or above 180/110"
    when: str = ""  # when it was taken, in words; empty: from `reading`

    @property
    def label(self) -> str:
        when = self.when or WHEN.get(self.reading, AFTER_THE_DOSE)
        return N_(
            "Blood pressure %(systolic)s/%(diastolic)s %(when)s (%(threshold)s)",
            systolic=self.systolic,
            diastolic=self.diastolic,
            when=when,
            threshold=self.threshold,
        )


def _at_or_above(v: Vitals, systolic: int, diastolic: int) -> bool:
    assert v.systolic is not None and v.diastolic is not None
    return v.systolic >= systolic or v.diastolic >= diastolic


def _risen(before: int, after: int, percent: int) -> bool:
    """`after` is `percent`% or more above `before` (whole numbers, no rounding)."""
    return (after - before) * 100 >= percent * before


def _when(point: VitalsPoint, key: str) -> str:
    if key in WHEN:
        return WHEN[key]
    if point.point == POINT_DISCHARGE:
        if point.time:
            return N_("at discharge at %(time)s", time=point.time)
        return Phrase(N_("at discharge"), {})
    if point.point == POINT_PRE_DOSE:
        if point.time:
            return N_("before the dose at %(time)s", time=point.time)
        return BEFORE_THE_DOSE
    if point.time:
        return N_("after the dose at %(time)s", time=point.time)
    return AFTER_THE_DOSE


def series_breaches(
    points: Sequence[VitalsPoint], limits: BpThresholds | None = None
) -> list[BpBreach]:
    """The readings past the clinic's thresholds, in the order of the series; at most
    one per reading (the more serious rule wins).

    Pre-dose readings are checked against the pre-dose pair and the "any reading"
    pair; every other reading against the "any reading" pair and for a rise over the
    baseline, the last pre-dose reading before it in the series. A rise is measured
    number by number: systolic over systolic, diastolic over diastolic; either one
    rising by `rise_percent` or more is a rise. Without a baseline there is no rise."""
    t = limits or BpThresholds()
    any_words = N_(
        "at or above %(systolic)s/%(diastolic)s", systolic=t.any_systolic, diastolic=t.any_diastolic
    )
    found: list[BpBreach] = []
    baseline: Vitals | None = None
    for point, key in zip(points, reading_keys(points), strict=True):
        v = point.vitals
        if v.systolic is None or v.diastolic is None:
            continue
        when = _when(point, key)

        def breach(rule: str, words: str, v: Vitals = v, key: str = key, when: str = when) -> None:
            assert v.systolic is not None and v.diastolic is not None
            found.append(BpBreach(key, rule, v.systolic, v.diastolic, words, when))

        if _at_or_above(v, t.any_systolic, t.any_diastolic):
            breach(RULE_ANY, any_words)
        elif point.point == POINT_PRE_DOSE:
            if _at_or_above(v, t.pre_dose_systolic, t.pre_dose_diastolic):
                words = N_(
                    "at or above %(systolic)s/%(diastolic)s",
                    systolic=t.pre_dose_systolic,
                    diastolic=t.pre_dose_diastolic,
                )
                breach(RULE_PRE_DOSE, words)
        elif baseline is not None:
            assert baseline.systolic is not None and baseline.diastolic is not None
            if _risen(baseline.systolic, v.systolic, t.rise_percent) or _risen(
                baseline.diastolic, v.diastolic, t.rise_percent
            ):
                breach(
                    RULE_RISE,
                    N_(
                        "a rise of %(percent)s%% or more over %(systolic)s/%(diastolic)s "
                        "before the dose",
                        percent=t.rise_percent,
                        systolic=baseline.systolic,
                        diastolic=baseline.diastolic,
                    ),
                )
        if point.point == POINT_PRE_DOSE:
            baseline = v
    return found


def bp_breaches(pre: Vitals, post: Vitals, limits: BpThresholds | None = None) -> list[BpBreach]:
    """`series_breaches` of one reading before the dose and one about 40 minutes after."""
    return series_breaches(
        [VitalsPoint(POINT_PRE_DOSE, pre), VitalsPoint(POINT_40_MINUTES, post)], limits
    )


def _outside(value: int, bounds: tuple[int, int]) -> bool:
    return not bounds[0] <= value <= bounds[1]


def vitals_problems(vitals: Vitals) -> dict[str, str]:
    """Field name -> what is wrong, for readings that cannot be real; empty if none.
    The numbers are measurements, written without a thousands mark (never "1,200")."""
    problems: dict[str, str] = {}
    s, d, hr = vitals.systolic, vitals.diastolic, vitals.heart_rate
    if (s is None) != (d is None):
        missing = "systolic" if s is None else "diastolic"
        problems[missing] = N_("Please give both numbers of the blood pressure, or neither.")
    if s is not None and _outside(s, SYSTOLIC_RANGE):
        problems["systolic"] = N_(
            "A systolic pressure of %(value)s is not possible; "
            "please check the reading (%(low)s-%(high)s mmHg).",
            value=str(s),
            low=str(SYSTOLIC_RANGE[0]),
            high=str(SYSTOLIC_RANGE[1]),
        )
    if d is not None and _outside(d, DIASTOLIC_RANGE):
        problems["diastolic"] = N_(
            "A diastolic pressure of %(value)s is not possible; "
            "please check the reading (%(low)s-%(high)s mmHg).",
            value=str(d),
            low=str(DIASTOLIC_RANGE[0]),
            high=str(DIASTOLIC_RANGE[1]),
        )
    if s is not None and d is not None and not problems and d >= s:
        problems["diastolic"] = N_(
            "The diastolic (lower) number must be below the systolic (upper) number."
        )
    if hr is not None and _outside(hr, HEART_RATE_RANGE):
        problems["heart_rate"] = N_(
            "A heart rate of %(value)s is not possible; "
            "please check the reading (%(low)s-%(high)s per minute).",
            value=str(hr),
            low=str(HEART_RATE_RANGE[0]),
            high=str(HEART_RATE_RANGE[1]),
        )
    if vitals.spo2 is not None and _outside(vitals.spo2, SPO2_RANGE):
        problems["spo2"] = N_(
            "An oxygen saturation of %(value)s%% is not possible; "
            "please check the reading (%(low)s-%(high)s%%).",
            value=str(vitals.spo2),
            low=str(SPO2_RANGE[0]),
            high=str(SPO2_RANGE[1]),
        )
    rr = vitals.breathing_rate
    if rr is not None and _outside(rr, BREATHING_RATE_RANGE):
        low, high = BREATHING_RATE_RANGE
        problems["breathing_rate"] = N_(
            "A breathing rate of %(value)s is not possible; "
            "please check the reading (%(low)s-%(high)s per minute).",
            value=str(rr),
            low=str(low),
            high=str(high),
        )
    return problems


def check_vitals(vitals: Vitals, prefix: str = "") -> Vitals:
    """The readings unchanged, or `ValidationError` with one message per field.

    `prefix` names the form's fields, e.g. "pre_" gives "pre_systolic".
    """
    problems = vitals_problems(vitals)
    if problems:
        raise ValidationError({prefix + k: v for k, v in problems.items()})
    return vitals


def mg_per_kg(dose_mg: Decimal, weight_kg: Decimal) -> Decimal:
    """The dose per kilogram of body weight, to two decimals (for IV and IM doses).

    Raises `ValidationError` for a dose that is not positive or a weight that
    cannot be a person's.
    """
    errors: dict[str, str] = {}
    if not dose_mg.is_finite() or dose_mg <= 0:
        errors["dose_mg"] = N_("Please give the dose in mg, as a number above zero.")
    low, high = WEIGHT_KG_RANGE
    if not weight_kg.is_finite() or not low <= weight_kg <= high:
        errors["weight_kg"] = N_(
            "Please give the weight used in kg (%(low)s-%(high)s).", low=low, high=high
        )
    if errors:
        raise ValidationError(errors)
    return (dose_mg / weight_kg).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
