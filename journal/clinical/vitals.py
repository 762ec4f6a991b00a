"""Vital signs on the dosing-session record: plausibility checks and the blood-pressure flag.

Two different things, kept apart on purpose:

* `check_vitals` refuses readings that cannot be real (a systolic pressure
  of 20 or 400 is a typing slip, not a patient), so that a form shows an
  error instead of storing nonsense. The ranges are wide: an unusual but
  possible reading is accepted.
* `pre_dose_bp_flag` marks a pre-dose reading at or above 140/90 for the
  clinician's attention. It is for display only: it never blocks a session,
  and it gives no advice.
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
