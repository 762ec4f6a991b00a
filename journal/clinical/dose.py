"""Dose sense on the dosing-session record: one rule for what is refused, and a notice
for a dose outside the clinic's usual range for its route.

* `refusal` is the one rule for a dose that cannot be right, the same whichever unit
  was typed: the dose is worked out in mg (and, with a weight, in mg/kg) from what
  was typed, and refused above `dose_refuse_mg` (2,000 mg by default) or, with a
  weight, above `dose_refuse_mg_per_kg` (20 mg/kg by default, above the highest
  intramuscular anaesthetic dose of the ketamine label, 13 mg/kg). 2,000 mg at 70 kg
  (28.6 mg/kg) is refused just as 28.6 mg/kg typed is.
* `dose_notice` compares the dose with the clinic's usual range for the route
  (settings `dose_range_<route>`, in mg or mg/kg; the defaults and their sources are
  in docs/clinical-content.md). A dose outside it is saved all the same: the notice
  is shown after saving and on the record, for the clinician to check (a tenfold
  slip, 5 mg/kg IV for 0.5, is caught here). The edges are inside the range, and
  mg/kg is compared unrounded. A range in mg/kg cannot be checked without a weight.

Neither gives advice; neither knows the patient beyond the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from journal.config import DEFAULT_DOSE_RANGES, DoseRange, Settings, parse_dose_range
from journal.core.labels import N_, Phrase

UNIT_WORDS = {"mg": "mg", "mg_per_kg": "mg/kg"}


# A dose outside the clinic's usual range, in words: one sentence each way, so that each
# language writes its own.
ABOVE_THE_RANGE = N_(
    "The dose, %(amount)s, is above the clinic's usual range for %(route)s doses "
    "(%(low)s to %(high)s %(unit)s). Please check it; it was saved as given"
)
BELOW_THE_RANGE = N_(
    "The dose, %(amount)s, is below the clinic's usual range for %(route)s doses "
    "(%(low)s to %(high)s %(unit)s). Please check it; it was saved as given"
)


@dataclass(frozen=True)
class DoseRules:
    """The clinic's dose settings, as the record checks them."""

    ranges: dict[str, DoseRange]
    refuse_mg: Decimal = Decimal("2000")
    refuse_mg_per_kg: Decimal = Decimal("20")

    @classmethod
    def of(cls, settings: Settings | None) -> DoseRules:
        defaults = {r: parse_dose_range(r, text) for r, text in DEFAULT_DOSE_RANGES.items()}
        if settings is None:
            return cls(defaults)
        return cls(
            {**defaults, **{r.route: r for r in settings.dose_ranges}},
            settings.dose_refuse_mg,
            settings.dose_refuse_mg_per_kg,
        )


def in_mg(dose: Decimal, unit: str, weight_kg: Decimal | None) -> Decimal | None:
    """The dose in mg, unrounded; None for mg/kg without a weight."""
    if unit == "mg":
        return dose
    return None if weight_kg is None else dose * weight_kg


def in_mg_per_kg(dose: Decimal, unit: str, weight_kg: Decimal | None) -> Decimal | None:
    """The dose in mg/kg, unrounded; None for mg without a weight."""
    if unit == "mg_per_kg":
        return dose
    return None if weight_kg is None else dose / weight_kg


def refusal(dose: Decimal, unit: str, weight_kg: Decimal | None, rules: DoseRules) -> str | None:
    """Why the dose cannot be right, or None: the same rule for mg and mg/kg."""
    mg = in_mg(dose, unit, weight_kg)
    per_kg = in_mg_per_kg(dose, unit, weight_kg)
    mg_limit, per_kg_limit = rules.refuse_mg, rules.refuse_mg_per_kg
    if mg is not None and mg > rules.refuse_mg:
        this = _round(mg, "0.1")
        if weight_kg is None:
            return N_(
                "A dose above %(mg)s mg cannot be right (this one is %(this)s mg).",
                mg=mg_limit,
                this=this,
            )
        return N_(
            "A dose above %(mg)s mg or %(per_kg)s mg/kg cannot be right (this one is %(this)s mg).",
            mg=mg_limit,
            per_kg=per_kg_limit,
            this=this,
        )
    if per_kg is not None and per_kg > rules.refuse_mg_per_kg:
        this = _round(per_kg, "0.01")
        if weight_kg is None:
            return N_(
                "A dose above %(mg)s mg cannot be right (this one is %(this)s mg/kg).",
                mg=mg_limit,
                this=this,
            )
        return N_(
            "A dose above %(mg)s mg or %(per_kg)s mg/kg cannot be right "
            "(this one is %(this)s mg/kg).",
            mg=mg_limit,
            per_kg=per_kg_limit,
            this=this,
        )
    return None


@dataclass(frozen=True)
class DoseNotice:
    """A dose outside the clinic's usual range for its route: saved, and pointed out."""

    route_label: str
    amount: str  # the dose in the range's unit, "5.00 mg/kg"
    usual: DoseRange
    above: bool

    @property
    def label(self) -> str:
        return self.in_words(self.route_label)

    def in_words(self, route_label: str) -> str:
        """The notice, with the route named as given (its label in the page's language)."""
        route = f"{route_label[:1].lower()}{route_label[1:]}"
        usual = self.usual
        unit = "mg/kg" if usual.unit == "mg_per_kg" else "mg"
        words = ABOVE_THE_RANGE if self.above else BELOW_THE_RANGE
        values = {"amount": self.amount, "route": route, "low": usual.low, "high": usual.high}
        return Phrase(words, {**values, "unit": unit})


def dose_notice(
    route: str,
    route_label: str,
    dose: Decimal,
    unit: str,
    weight_kg: Decimal | None,
    rules: DoseRules,
) -> DoseNotice | None:
    usual = rules.ranges.get(route)
    if usual is None:
        return None
    if usual.unit == "mg":
        value = in_mg(dose, unit, weight_kg)
        amount = None if value is None else f"{_round(value, '0.1')} mg"
    else:
        value = in_mg_per_kg(dose, unit, weight_kg)
        amount = None if value is None else f"{_round(value, '0.01')} mg/kg"
    if value is None or amount is None or usual.low <= value <= usual.high:
        return None
    return DoseNotice(route_label, amount, usual, above=value > usual.high)


def _round(value: Decimal, places: str) -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_HALF_UP)
