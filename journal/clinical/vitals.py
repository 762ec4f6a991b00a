"""Vital signs on the dosing-session record: plausibility checks and the blood-pressure flag.

Two different things, kept apart on purpose:

* `check_vitals` refuses readings that cannot be real (a systolic pressure
  of 20 or 400 is a typing slip, not a patient), so that a form shows an
  error instead of storing nonsense. The ranges are wide: an unusual but
  possible reading is accepted.
* `bp_breaches` checks both readings of a record against the clinic's
  thresholds (`BpThresholds`, from the settings): a pre-dose reading at or
  above 140/90, any reading at or above 180/110, and a post-dose reading whose
  systolic or diastolic number rose 20% or more over the pre-dose one. Each
  breach becomes a safety flag for the care team (`session_records`). It never
  blocks a session, and it gives no advice.
* `pre_dose_bp_flag` is the pre-dose rule alone at the default 140/90 (the
  course summary's marker).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from journal.core.errors import ValidationError

# (lowest, highest) that a human reading can be; outside is a typing slip.
SYSTOLIC_RANGE = (50, 300)
DIASTOLIC_RANGE = (20, 200)
HEART_RATE_RANGE = (20, 250)
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


@dataclass(frozen=True)
class BloodPressureFlag:
    systolic: int
    diastolic: int

    @property
    def label(self) -> str:
        return (
            f"Pre-dose blood pressure {self.systolic}/{self.diastolic} is at or above "
            f"{FLAG_SYSTOLIC}/{FLAG_DIASTOLIC}"
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


# The rules a reading can breach, as stored (sealed) in a flag's source.
RULE_PRE_DOSE = "pre_dose"  # the pre-dose reading at or above the pre-dose pair
RULE_ANY = "any_reading"  # either reading at or above the "any reading" pair
RULE_RISE = "rise"  # the post-dose reading risen by rise_percent or more
# Per reading, the more serious rule wins: one breach per reading at most.
RULE_RANK = {RULE_PRE_DOSE: 1, RULE_RISE: 1, RULE_ANY: 2}
WHEN = {"pre": "before the dose", "post": "after the dose"}


@dataclass(frozen=True)
class BpBreach:
    """One reading past one of the clinic's thresholds."""

    reading: str  # "pre" or "post"
    rule: str  # RULE_PRE_DOSE, RULE_ANY or RULE_RISE
    systolic: int
    diastolic: int
    threshold: str  # what it breached, in words: "at or above 180/110"

    @property
    def label(self) -> str:
        return (
            f"Blood pressure {self.systolic}/{self.diastolic} {WHEN[self.reading]} "
            f"({self.threshold})"
        )


def _at_or_above(v: Vitals, systolic: int, diastolic: int) -> bool:
    assert v.systolic is not None and v.diastolic is not None
    return v.systolic >= systolic or v.diastolic >= diastolic


def _risen(before: int, after: int, percent: int) -> bool:
    """`after` is `percent`% or more above `before` (whole numbers, no rounding)."""
    return (after - before) * 100 >= percent * before


def bp_breaches(pre: Vitals, post: Vitals, limits: BpThresholds | None = None) -> list[BpBreach]:
    """The readings past the clinic's thresholds, pre-dose first; at most one per reading.

    A rise is measured number by number: the post-dose systolic over the pre-dose
    systolic, and the diastolic over the diastolic; either one rising by
    `rise_percent` or more is a rise. It needs both readings."""
    t = limits or BpThresholds()
    any_words = f"at or above {t.any_systolic}/{t.any_diastolic}"
    found: list[BpBreach] = []
    has_pre = pre.systolic is not None and pre.diastolic is not None
    if has_pre:
        assert pre.systolic is not None and pre.diastolic is not None
        if _at_or_above(pre, t.any_systolic, t.any_diastolic):
            found.append(BpBreach("pre", RULE_ANY, pre.systolic, pre.diastolic, any_words))
        elif _at_or_above(pre, t.pre_dose_systolic, t.pre_dose_diastolic):
            words = f"at or above {t.pre_dose_systolic}/{t.pre_dose_diastolic}"
            found.append(BpBreach("pre", RULE_PRE_DOSE, pre.systolic, pre.diastolic, words))
    if post.systolic is not None and post.diastolic is not None:
        if _at_or_above(post, t.any_systolic, t.any_diastolic):
            found.append(BpBreach("post", RULE_ANY, post.systolic, post.diastolic, any_words))
        elif has_pre:
            assert pre.systolic is not None and pre.diastolic is not None
            if _risen(pre.systolic, post.systolic, t.rise_percent) or _risen(
                pre.diastolic, post.diastolic, t.rise_percent
            ):
                words = (
                    f"a rise of {t.rise_percent}% or more over {pre.systolic}/{pre.diastolic} "
                    "before the dose"
                )
                found.append(BpBreach("post", RULE_RISE, post.systolic, post.diastolic, words))
    return found


def _outside(value: int, bounds: tuple[int, int]) -> bool:
    return not bounds[0] <= value <= bounds[1]


def vitals_problems(vitals: Vitals) -> dict[str, str]:
    """Field name -> what is wrong, for readings that cannot be real; empty if none."""
    problems: dict[str, str] = {}
    s, d, hr = vitals.systolic, vitals.diastolic, vitals.heart_rate
    if (s is None) != (d is None):
        missing = "systolic" if s is None else "diastolic"
        problems[missing] = "Please give both numbers of the blood pressure, or neither."
    if s is not None and _outside(s, SYSTOLIC_RANGE):
        problems["systolic"] = (
            f"A systolic pressure of {s} is not possible; "
            f"please check the reading ({SYSTOLIC_RANGE[0]}-{SYSTOLIC_RANGE[1]} mmHg)."
        )
    if d is not None and _outside(d, DIASTOLIC_RANGE):
        problems["diastolic"] = (
            f"A diastolic pressure of {d} is not possible; "
            f"please check the reading ({DIASTOLIC_RANGE[0]}-{DIASTOLIC_RANGE[1]} mmHg)."
        )
    if s is not None and d is not None and not problems and d >= s:
        problems["diastolic"] = (
            "The diastolic (lower) number must be below the systolic (upper) number."
        )
    if hr is not None and _outside(hr, HEART_RATE_RANGE):
        problems["heart_rate"] = (
            f"A heart rate of {hr} is not possible; "
            f"please check the reading ({HEART_RATE_RANGE[0]}-{HEART_RATE_RANGE[1]} per minute)."
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
        errors["dose_mg"] = "Please give the dose in mg, as a number above zero."
    low, high = WEIGHT_KG_RANGE
    if not weight_kg.is_finite() or not low <= weight_kg <= high:
        errors["weight_kg"] = f"Please give the weight used in kg ({low}-{high})."
    if errors:
        raise ValidationError(errors)
    return (dose_mg / weight_kg).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
