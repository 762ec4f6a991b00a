"""Questionnaires as data: definition files, their checks, and scoring.

Each instrument is one TOML file (the shipped ones are in `journal/instruments/`;
a clinic adds its own in `instance/instruments/`). A file is checked in full
when it is loaded: every problem raises a `DefinitionError` naming the file,
and the app does not start. Scoring is a pure function of the definition and
the answers; it decides nothing clinical: bands and flags are the published
cut-points, shown to the clinician as they are.

An instrument is scored as the sum of its items (PHQ-9, GAD-7, PCL-5: whole
numbers, exactly as before) or as their mean (MEQ-30, EBI: a number with two
decimals); its subscales are scored the same way. An item may be reverse-keyed
(its answer counts as the scale's high + low - the answer), and a scale may be a
visual-analogue line from 0 to 100 instead of a list of labelled choices.

Languages: the files in the folder are the English versions. A published, validated
translation is a file of the same name in a folder named by its language code
(`journal/instruments/fr/phq9.toml`): it gives the translated words only (title,
instructions, the stem, every item's text, every option's label, and the citation of
the translation) and is checked against the English file, item by item and option
by option. Scoring, bands and flags always come from the English file, so a score
is the same whatever the language it was answered in. An instrument is offered in
English and in each language it has such a file for, and in no other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from functools import cached_property
from itertools import pairwise
from pathlib import Path

from journal.core.definitions import (
    CONTENT_ROOT,
    SLUG,
    DefinitionError,
    Fields,
    definition_files,
    read_toml,
    unique,
)
from journal.core.errors import ValidationError
from journal.core.labels import N_

BUILT_IN_FOLDER = CONTENT_ROOT / "instruments"
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,6}")  # ASCII digits only: no "٣", no "²"
CLINIC_FOLDER_NAME = "instruments"  # inside the instance folder
VAS_LOW, VAS_HIGH = 0, 100  # a visual-analogue item's answers: whole numbers in this range
BASE_LANGUAGE = "en"  # the language of the files in the folder itself
LANGUAGE_FOLDER = re.compile(r"^[a-z]{2,3}$")  # a translation folder: a language code

# A score: a whole number for a sum-scored instrument, a number with two decimals
# for a mean-scored one (bands, flags and charts take either).
Number = int | float


class Method(StrEnum):
    SUM = "sum"
    MEAN = "mean"


class ScaleKind(StrEnum):
    CHOICE = "choice"  # labelled options, answered with radio buttons
    VISUAL_ANALOGUE = "visual_analogue"  # 0-100 between two anchors: a slider and a number


def as_number(value: Fraction, method: Method) -> Number:
    """A sum stays a whole number; a mean is rounded to two decimals (half away from
    zero would need Decimal: a mean of whole answers over n items never sits on .xx5
    for the instruments shipped, and the flags compare the exact fraction anyway)."""
    if method is Method.SUM:
        assert value.denominator == 1
        return int(value)
    return round(float(value), 2)


def whole_or_decimal(value: Fraction) -> Number:
    """A range's end: 5 rather than 5.0 when it is whole ("3.2 of 5")."""
    return int(value) if value.denominator == 1 else round(float(value), 2)


def range_end(items: Sequence[Item], method: Method, *, high: bool) -> Number:
    """The lowest (or highest) score these items can give, summed or averaged."""
    total = Fraction(sum(i.scale.high if high else i.scale.low for i in items))
    return whole_or_decimal(total / len(items) if method is Method.MEAN else total)


def stored_number(value: object) -> Number:
    """A score read back from a stored result: an int stays an int, a float a float."""
    if isinstance(value, bool):
        raise ValueError(f"not a score: {value!r}")
    if isinstance(value, int | float):
        return value
    text = str(value)
    return float(text) if "." in text else int(text)


class FlagKind(StrEnum):
    """How a flag reaches people; neither kind is a diagnosis or an instruction."""

    SAFETY = "safety"  # the clinician's caseload at once; the patient sees crisis resources
    REVIEW = "review"  # a note beside the score for the clinician


class FlagOn(StrEnum):
    ITEM = "item"  # one item's answer is at least `at_least`
    SUBSCALE = "subscale"  # a subscale's score is at least `at_least`
    TOTAL = "total"  # the total is at least `at_least`
    PATTERN = "pattern"  # in each subscale of `require`, enough items rated `at_least` or more
    SUBSCALES = "subscales"  # every subscale listed in `subscales` scores `at_least` or more


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Scale:
    id: str
    options: tuple[Option, ...]
    kind: ScaleKind = ScaleKind.CHOICE
    # A visual-analogue scale's words at its two ends (0 and 100); empty for choices.
    low_anchor: str = ""
    high_anchor: str = ""

    @property
    def is_visual_analogue(self) -> bool:
        return self.kind is ScaleKind.VISUAL_ANALOGUE

    @property
    def values(self) -> tuple[int, ...]:
        if self.is_visual_analogue:
            return tuple(range(VAS_LOW, VAS_HIGH + 1))
        return tuple(o.value for o in self.options)

    @property
    def low(self) -> int:
        return VAS_LOW if self.is_visual_analogue else min(self.values)

    @property
    def high(self) -> int:
        return VAS_HIGH if self.is_visual_analogue else max(self.values)

    def accepts(self, value: object) -> bool:
        """A whole number (not a bool) on the scale."""
        if type(value) is not int:
            return False
        if self.is_visual_analogue:
            return VAS_LOW <= value <= VAS_HIGH
        return value in self.values

    def label_for(self, value: int) -> str:
        if self.is_visual_analogue:
            return N_("%(value)s of %(high)s", value=value, high=VAS_HIGH)
        return next(o.label for o in self.options if o.value == value)


@dataclass(frozen=True)
class Item:
    id: str
    number: int  # 1-based position in the questionnaire
    text: str
    scale: Scale
    required: bool
    reverse: bool = False  # reverse-keyed: counts as scale.high + scale.low - the answer

    def scored_value(self, answer: int) -> int:
        return self.scale.high + self.scale.low - answer if self.reverse else answer


@dataclass(frozen=True)
class Band:
    min: Number
    max: Number
    label: str

    def contains(self, score: Number) -> bool:
        return self.min <= score <= self.max


@dataclass(frozen=True)
class Subscale:
    id: str
    label: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class FlagRule:
    id: str
    kind: FlagKind
    on: FlagOn
    target: str  # the item or subscale id; "" for the total or a pattern
    at_least: Number
    label: str
    require: tuple[tuple[str, int], ...] = ()  # a pattern's (subscale id, items needed)
    subscales: tuple[str, ...] = ()  # a `subscales` rule's subscale ids
    # What the patient reads beside a score that raised this review flag, in place of
    # score_details.PATIENT_REVIEW_NOTE; "" for the default.
    patient_note: str = ""


@dataclass(frozen=True)
class Instrument:
    id: str
    title: str
    short_title: str
    measures: str
    version: str
    recall_period: str
    instructions: str
    question: str  # the stem before the items, if the form has one
    citation: str
    licence: str
    items: tuple[Item, ...]
    scored_items: tuple[str, ...]
    subscales: tuple[Subscale, ...]
    bands: tuple[Band, ...]
    flags: tuple[FlagRule, ...]
    path: Path
    method: Method = Method.SUM
    # The language of its words: "en" for the English file, else its translation's.
    language: str = BASE_LANGUAGE

    @cached_property
    def _by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}

    @property
    def mean_scored(self) -> bool:
        return self.method is Method.MEAN

    @property
    def score_step(self) -> Number:
        """The smallest difference between two scores: 1 for a sum, 0.01 for a mean."""
        return 0.01 if self.mean_scored else 1

    def lowest(self, item_ids: Iterable[str]) -> Number:
        """The lowest score of these items (a sum, or a mean) by the instrument's method."""
        return range_end([self.item(i) for i in item_ids], self.method, high=False)

    def highest(self, item_ids: Iterable[str]) -> Number:
        return range_end([self.item(i) for i in item_ids], self.method, high=True)

    @cached_property
    def min_score(self) -> Number:
        return self.lowest(self.scored_items)

    @cached_property
    def max_score(self) -> Number:
        return self.highest(self.scored_items)

    def item(self, item_id: str) -> Item:
        return self._by_id[item_id]

    def band_for(self, score: Number) -> Band:
        return next(b for b in self.bands if b.contains(score))


# -- results ---------------------------------------------------------------------


@dataclass(frozen=True)
class RaisedFlag:
    id: str
    kind: FlagKind
    label: str
    # The item, subscale or total value that raised it; for a `subscales` rule the
    # lowest of those subscales' scores.
    value: Number


@dataclass(frozen=True)
class SubscaleScore:
    id: str
    label: str
    score: Number
    max_score: Number


@dataclass(frozen=True)
class ScoreResult:
    instrument_id: str
    version: str
    total: Number
    max_score: Number
    band: Band
    flags: tuple[RaisedFlag, ...]
    subscales: tuple[SubscaleScore, ...]
    answers: Mapping[str, int]  # every answered item, scored or not

    @property
    def has_safety_flag(self) -> bool:
        return any(f.kind is FlagKind.SAFETY for f in self.flags)


class AnswersError(ValidationError):
    """Answers that cannot be scored; `errors` maps each item id to what to fix."""

    MISSING = N_("Please answer this question.")
    OUT_OF_SCALE = N_("Please choose one of the answers offered.")
    OUT_OF_RANGE = N_(
        "Please give a whole number from %(low)s to %(high)s.", low=VAS_LOW, high=VAS_HIGH
    )
    UNKNOWN = N_("This question is not part of the questionnaire.")

    def __init__(
        self,
        missing: Iterable[str],
        out_of_scale: Iterable[str],
        unknown: Iterable[str],
        visual_analogue: Iterable[str] = (),
    ) -> None:
        self.missing = tuple(missing)
        self.out_of_scale = tuple(out_of_scale)
        self.unknown = tuple(unknown)
        typed = set(visual_analogue)  # answered by typing a number, not by choosing
        errors = dict.fromkeys(self.missing, self.MISSING)
        errors |= {
            i: self.OUT_OF_RANGE if i in typed else self.OUT_OF_SCALE for i in self.out_of_scale
        }
        errors |= dict.fromkeys(self.unknown, self.UNKNOWN)
        super().__init__(errors)


# -- scoring ---------------------------------------------------------------------


def check_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, int]:
    """The answers as item id -> value, or `AnswersError` naming every item to fix.

    A value must be one of the item's scale values, as an int (not a bool or a
    string: parse form input with `answers_from_form` first). `None` means
    unanswered; every required item must be answered.
    """
    known = {i.id for i in instrument.items}
    unknown = sorted(k for k in answers if k not in known)
    missing: list[str] = []
    out_of_scale: list[str] = []
    checked: dict[str, int] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is None:
            if item.required:
                missing.append(item.id)
            continue
        if not item.scale.accepts(value):
            out_of_scale.append(item.id)
            continue
        assert type(value) is int
        checked[item.id] = value
    if missing or out_of_scale or unknown:
        typed = [i.id for i in instrument.items if i.scale.is_visual_analogue]
        raise AnswersError(missing, out_of_scale, unknown, typed)
    return checked


def answers_from_form(instrument: Instrument, form: Mapping[str, str]) -> dict[str, object]:
    """Form strings to values for `score`: blank is unanswered, digits become ints.

    Anything else is passed through as it came, so that `score` reports it as
    outside the scale. Keys other than the instrument's items are ignored.
    """
    parsed: dict[str, object] = {}
    for item in instrument.items:
        raw = form.get(item.id)
        if raw is None or not raw.strip():
            parsed[item.id] = None
        elif WHOLE_NUMBER.fullmatch(raw.strip()):
            parsed[item.id] = int(raw.strip())
        else:
            parsed[item.id] = raw
    return parsed


def _exact(instrument: Instrument, counted: Mapping[str, int], item_ids: Iterable[str]) -> Fraction:
    """The exact sum or mean of these items' counted values (reverse keying applied)."""
    ids = list(item_ids)
    total = Fraction(sum(counted[i] for i in ids))
    return total / len(ids) if instrument.mean_scored else total


def score(instrument: Instrument, answers: Mapping[str, object]) -> ScoreResult:
    """Total, band, subscale scores and raised flags for one completed questionnaire.

    Rules compare exact values (a mean as a fraction), so a mean of 2.996 never passes
    a threshold of 3 by rounding; the result shows two decimals."""
    checked = check_answers(instrument, answers)
    counted = {i: instrument.item(i).scored_value(checked[i]) for i in instrument.scored_items}
    exact_total = _exact(instrument, counted, instrument.scored_items)
    total = as_number(exact_total, instrument.method)
    exact_subscales = {s.id: _exact(instrument, counted, s.items) for s in instrument.subscales}
    subscales = tuple(
        SubscaleScore(
            s.id,
            s.label,
            as_number(exact_subscales[s.id], instrument.method),
            instrument.highest(s.items),
        )
        for s in instrument.subscales
    )
    by_subscale = {s.id: s.score for s in subscales}
    flags: list[RaisedFlag] = []
    for rule in instrument.flags:
        threshold = Fraction(str(rule.at_least))
        if rule.on is FlagOn.PATTERN:
            endorsed = _pattern_endorsed(instrument, rule, counted)
            if endorsed is not None:
                flags.append(RaisedFlag(rule.id, rule.kind, rule.label, endorsed))
            continue
        if rule.on is FlagOn.SUBSCALES:
            if all(exact_subscales[s] >= threshold for s in rule.subscales):
                lowest = min(by_subscale[s] for s in rule.subscales)
                flags.append(RaisedFlag(rule.id, rule.kind, rule.label, lowest))
            continue
        exact: Fraction | None
        shown: Number | None
        if rule.on is FlagOn.TOTAL:
            exact, shown = exact_total, total
        elif rule.on is FlagOn.SUBSCALE:
            exact, shown = exact_subscales[rule.target], by_subscale[rule.target]
        else:
            shown = checked.get(rule.target)  # the answer as given; optional may be unanswered
            exact = None if shown is None else Fraction(shown)
        if exact is not None and shown is not None and exact >= threshold:
            flags.append(RaisedFlag(rule.id, rule.kind, rule.label, shown))
    return ScoreResult(
        instrument_id=instrument.id,
        version=instrument.version,
        total=total,
        max_score=instrument.max_score,
        band=instrument.band_for(total),
        flags=tuple(flags),
        subscales=subscales,
        answers=checked,
    )


def _pattern_endorsed(
    instrument: Instrument, rule: FlagRule, checked: Mapping[str, int]
) -> int | None:
    # `checked` holds the scored items' counted values (reverse keying applied).
    """How many items of the required subscales are rated `at_least` or more, if every
    required subscale has enough of them; None if any falls short."""
    subscales = {s.id: s for s in instrument.subscales}
    endorsed = 0
    for subscale_id, needed in rule.require:
        count = sum(1 for i in subscales[subscale_id].items if checked[i] >= rule.at_least)
        if count < needed:
            return None
        endorsed += count
    return endorsed


# -- loading and checking ----------------------------------------------------------


TOP_KEYS = (
    "id",
    "title",
    "short_title",
    "measures",
    "version",
    "recall_period",
    "instructions",
    "question",
    "source",
    "scales",
    "items",
    "scoring",
    "subscales",
    "bands",
    "flags",
)


def load_instrument(path: Path) -> Instrument:
    """Read and check one definition file; `DefinitionError` names the file and problem."""
    doc = Fields(path, read_toml(path))
    doc.only(TOP_KEYS)
    source = doc.table_of("source")
    source.only(("citation", "licence"))
    scales = _scales(doc)
    items = _items(doc, scales)
    item_ids = [i.id for i in items]
    by_id = {i.id: i for i in items}

    scoring = doc.table_of("scoring")
    scoring.only(("method", "items"))
    method_name = scoring.text("method")
    try:
        method = Method(method_name)
    except ValueError:
        raise doc.fail(f'\'scoring.method\' = {method_name!r} must be "sum" or "mean"') from None
    scored = scoring.strings("items")
    unique(path, "scored item", scored)
    _known_items(doc, "scoring.items", scored, item_ids)
    for i in scored:
        if not by_id[i].required:
            raise doc.fail(f"item {i!r} is scored, so it cannot be optional (required = false)")
    for item in items:
        if item.reverse and item.id not in scored:
            raise doc.fail(
                f"item {item.id!r} is reverse-keyed (reverse = true) but not scored: "
                "reverse keying only changes how an item counts in the score"
            )

    subscales = _subscales(doc, item_ids, scored)
    counted = [by_id[i] for i in scored]
    bands = _bands(
        doc,
        range_end(counted, method, high=False),
        range_end(counted, method, high=True),
        0.01 if method is Method.MEAN else 1,
    )
    instrument_id = doc.slug("id")
    instrument = Instrument(
        id=instrument_id,
        title=doc.text("title"),
        short_title=doc.optional_text("short_title", instrument_id),
        measures=doc.optional_text("measures"),
        version=doc.text("version"),
        recall_period=doc.text("recall_period"),
        instructions=doc.text("instructions"),
        question=doc.optional_text("question"),
        citation=source.text("citation"),
        licence=source.text("licence"),
        items=tuple(items),
        scored_items=tuple(scored),
        subscales=tuple(subscales),
        bands=tuple(bands),
        flags=(),
        path=path,
        method=method,
    )
    flags = _flags(doc, instrument)
    return replace(instrument, flags=tuple(flags))


def _scales(doc: Fields) -> dict[str, Scale]:
    table = doc.table_of("scales")
    if not table.table:
        raise doc.fail("'scales' must define at least one answer scale")
    scales: dict[str, Scale] = {}
    for name in table.table:
        scale = table.table_of(name)
        if not SLUG.match(name):
            raise doc.fail(f"scale name {name!r} must be lowercase letters, digits, '-' or '_'")
        kind_name = scale.optional_text("kind", ScaleKind.CHOICE.value)
        try:
            kind = ScaleKind(kind_name)
        except ValueError:
            raise doc.fail(
                f"'scales.{name}.kind' = {kind_name!r} must be one of "
                f"{', '.join(k.value for k in ScaleKind)}"
            ) from None
        if kind is ScaleKind.VISUAL_ANALOGUE:
            # Always 0-100 between two anchors: the words at each end, as published.
            scale.only(("kind", "low_anchor", "high_anchor"))
            scales[name] = Scale(
                name, (), kind, scale.text("low_anchor"), scale.text("high_anchor")
            )
            continue
        scale.only(("kind", "options"))
        options = []
        for option in scale.tables("options"):
            option.only(("value", "label"))
            options.append(Option(option.integer("value"), option.text("label")))
        if len(options) < 2:
            raise doc.fail(f"scale {name!r} needs at least two options")
        values = [o.value for o in options]
        unique(doc.path, f"scale {name!r}: value", [str(v) for v in values])
        unique(doc.path, f"scale {name!r}: label", [o.label for o in options])
        if values != sorted(values):
            raise doc.fail(f"scale {name!r}: option values must be listed in increasing order")
        if min(values) < 0:
            raise doc.fail(f"scale {name!r}: option values must not be negative")
        scales[name] = Scale(name, tuple(options))
    return scales


def _items(doc: Fields, scales: Mapping[str, Scale]) -> list[Item]:
    items: list[Item] = []
    for n, entry in enumerate(doc.tables("items"), start=1):
        entry.only(("id", "text", "scale", "required", "reverse"))
        scale_name = entry.text("scale")
        if scale_name not in scales:
            raise doc.fail(
                f"'{entry.where}.scale' = {scale_name!r} is not one of the scales defined "
                f"({', '.join(sorted(scales))})"
            )
        items.append(
            Item(
                id=entry.slug("id"),
                number=n,
                text=entry.text("text"),
                scale=scales[scale_name],
                required=entry.boolean("required", True),
                reverse=entry.boolean("reverse", False),
            )
        )
    unique(doc.path, "item id", [i.id for i in items])
    return items


def _known_items(doc: Fields, where: str, ids: Iterable[str], item_ids: list[str]) -> None:
    for i in ids:
        if i not in item_ids:
            raise doc.fail(f"'{where}' refers to item {i!r}, which is not defined")


def _subscales(doc: Fields, item_ids: list[str], scored: list[str]) -> list[Subscale]:
    subscales: list[Subscale] = []
    for entry in doc.tables("subscales", required=False):
        entry.only(("id", "label", "items"))
        ids = entry.strings("items")
        unique(doc.path, f"'{entry.where}': item", ids)
        _known_items(doc, f"{entry.where}.items", ids, item_ids)
        for i in ids:
            if i not in scored:
                raise doc.fail(f"'{entry.where}' includes item {i!r}, which is not scored")
        subscales.append(Subscale(entry.slug("id"), entry.text("label"), tuple(ids)))
    unique(doc.path, "subscale id", [s.id for s in subscales])
    return subscales


def _bands(doc: Fields, low: Number, high: Number, step: Number) -> list[Band]:
    """Bands cover every possible score without gap or overlap: each starts one step
    (1 for a sum, 0.01 for a mean) after the one before it ends."""
    bands: list[Band] = []
    for entry in doc.tables("bands"):
        entry.only(("min", "max", "label"))
        if step == 1:
            band = Band(entry.integer("min"), entry.integer("max"), entry.text("label"))
        else:
            band = Band(_hundredths(entry, "min"), _hundredths(entry, "max"), entry.text("label"))
        if band.min > band.max:
            raise doc.fail(f"'{entry.where}': min {band.min} is above max {band.max}")
        bands.append(band)
    unique(doc.path, "band label", [b.label for b in bands])
    bands.sort(key=lambda b: b.min)
    if bands[0].min != low:
        raise doc.fail(f"bands must start at the lowest possible score {low}, not {bands[0].min}")
    if bands[-1].max != high:
        raise doc.fail(f"bands must end at the highest possible score {high}, not {bands[-1].max}")
    for before, after in pairwise(bands):
        if after.min <= before.max:
            raise doc.fail(f"bands {before.min}-{before.max} and {after.min}-{after.max} overlap")
        gap = Fraction(str(after.min)) - Fraction(str(before.max))
        if gap != Fraction(str(step)):
            first = whole_or_decimal(Fraction(str(before.max)) + Fraction(str(step)))
            last = whole_or_decimal(Fraction(str(after.min)) - Fraction(str(step)))
            raise doc.fail(f"bands leave a gap: no band covers {first}-{last}")
    return bands


def _hundredths(entry: Fields, key: str) -> Number:
    """A number with at most two decimals (a mean-scored instrument's band or threshold)."""
    value = entry.table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return entry.integer(key)  # missing or not a number: the usual message
    if (Fraction(str(value)) * 100).denominator != 1:
        raise entry.fail(
            f"'{entry.where}.{key}' = {value!r}: a mean score has at most two decimals"
        )
    return value


def _flags(doc: Fields, instrument: Instrument) -> list[FlagRule]:
    rules: list[FlagRule] = []
    subscales = {s.id: s for s in instrument.subscales}
    item_ids = [i.id for i in instrument.items]
    for entry in doc.tables("flags", required=False):
        entry.only(
            (
                "id",
                "kind",
                "on",
                "item",
                "subscale",
                "subscales",
                "require",
                "at_least",
                "label",
                "patient_note",
            )
        )
        kind_name, on_name = entry.text("kind"), entry.text("on")
        try:
            kind = FlagKind(kind_name)
        except ValueError:
            raise doc.fail(
                f"'{entry.where}.kind' = {kind_name!r} must be one of "
                f"{', '.join(k.value for k in FlagKind)}"
            ) from None
        try:
            on = FlagOn(on_name)
        except ValueError:
            raise doc.fail(
                f"'{entry.where}.on' = {on_name!r} must be one of "
                f"{', '.join(o.value for o in FlagOn)}"
            ) from None
        # A mean (of a mean-scored total or subscale) may be compared with a decimal.
        mean_target = instrument.mean_scored and on in (
            FlagOn.TOTAL,
            FlagOn.SUBSCALE,
            FlagOn.SUBSCALES,
        )
        at_least = _hundredths(entry, "at_least") if mean_target else entry.integer("at_least")
        require: tuple[tuple[str, int], ...] = ()
        listed: tuple[str, ...] = ()
        low: Number
        high: Number
        if on is FlagOn.PATTERN:
            target = ""
            require = _pattern_require(doc, entry, subscales)
            scales = [instrument.item(i).scale for s, _ in require for i in subscales[s].items]
            low, high = max(sc.low for sc in scales), min(sc.high for sc in scales)
        elif on is FlagOn.ITEM:
            target = entry.text("item")
            _known_items(doc, f"{entry.where}.item", [target], item_ids)
            low, high = instrument.item(target).scale.low, instrument.item(target).scale.high
        elif on is FlagOn.SUBSCALE:
            target = entry.text("subscale")
            if target not in subscales:
                raise doc.fail(
                    f"'{entry.where}.subscale' refers to subscale {target!r}, which is not defined"
                )
            low = instrument.lowest(subscales[target].items)
            high = instrument.highest(subscales[target].items)
        elif on is FlagOn.SUBSCALES:
            target = ""
            listed = _listed_subscales(doc, entry, subscales)
            # Every listed subscale must be able to reach the threshold and to fall below it.
            low = max(instrument.lowest(subscales[s].items) for s in listed)
            high = min(instrument.highest(subscales[s].items) for s in listed)
        else:
            target = ""
            low, high = instrument.min_score, instrument.max_score
        extra = {"item", "subscale", "subscales", "require"} - {
            FlagOn.ITEM: {"item"},
            FlagOn.SUBSCALE: {"subscale"},
            FlagOn.PATTERN: {"require"},
            FlagOn.SUBSCALES: {"subscales"},
            FlagOn.TOTAL: set(),
        }[on]
        for key in sorted(extra & set(entry.table)):
            raise doc.fail(f"'{entry.where}.{key}' does not apply to a flag on the {on.value}")
        if not low < at_least <= high:
            raise doc.fail(
                f"'{entry.where}.at_least' = {at_least} must be above {low} and at most {high}, "
                "or the flag would always or never be raised"
            )
        patient_note = entry.optional_text("patient_note")
        if patient_note and kind is not FlagKind.REVIEW:
            raise doc.fail(
                f"'{entry.where}.patient_note' applies only to a review flag: after a safety "
                "flag the patient is shown the clinic's crisis resources"
            )
        rules.append(
            FlagRule(
                entry.slug("id"),
                kind,
                on,
                target,
                at_least,
                entry.text("label"),
                require,
                listed,
                patient_note,
            )
        )
    unique(doc.path, "flag id", [r.id for r in rules])
    return rules


def _listed_subscales(
    doc: Fields, entry: Fields, subscales: Mapping[str, Subscale]
) -> tuple[str, ...]:
    listed = entry.strings("subscales")
    unique(doc.path, f"'{entry.where}.subscales': subscale", listed)
    for subscale_id in listed:
        if subscale_id not in subscales:
            raise doc.fail(
                f"'{entry.where}.subscales' refers to subscale {subscale_id!r}, "
                "which is not defined"
            )
    return tuple(listed)


def _pattern_require(
    doc: Fields, entry: Fields, subscales: Mapping[str, Subscale]
) -> tuple[tuple[str, int], ...]:
    table = entry.table_of("require")
    if not table.table:
        raise doc.fail(f"'{entry.where}.require' must name at least one subscale")
    require: list[tuple[str, int]] = []
    for subscale_id in table.table:
        if subscale_id not in subscales:
            raise doc.fail(
                f"'{entry.where}.require' refers to subscale {subscale_id!r}, which is not defined"
            )
        needed = table.integer(subscale_id)
        size = len(subscales[subscale_id].items)
        if not 1 <= needed <= size:
            raise doc.fail(
                f"'{entry.where}.require.{subscale_id}' = {needed} must be between 1 and {size}, "
                "the number of items in that subscale"
            )
        require.append((subscale_id, needed))
    return tuple(require)


# -- the journal's words about the shipped instruments --------------------------------

# What each shipped file says about a score (what it measures, its bands, clusters and
# flags), marked for the catalogues: pages show them in the reader's language. These
# are the journal's words, not the questionnaire's: an item or an answer is never
# translated this way, only by a published translation file. (The MEQ-30 flag's label,
# with its "60%", is left in English: a bare % does not survive the catalogues.)
SCORE_WORDS = (
    N_("depression"),
    N_("anxiety"),
    N_("post-traumatic stress"),
    N_("mystical-type experience in a session"),
    N_("emotional breakthrough in a session"),
    N_("Minimal"),
    N_("Mild"),
    N_("Moderate"),
    N_("Moderately severe"),
    N_("Severe"),
    N_("Below the screening cut-point"),
    N_("At or above the screening cut-point"),
    N_("Mean rating from 0 to 100"),
    N_("Mean rating from 0 (none) to 5 (extreme)"),
    N_("Intrusion (cluster B)"),
    N_("Avoidance (cluster C)"),
    N_("Negative alterations in cognitions and mood (cluster D)"),
    N_("Alterations in arousal and reactivity (cluster E)"),
    N_("Mystical (internal and external unity, noetic quality, sacredness)"),
    N_("Positive mood"),
    N_("Transcendence of time and space"),
    N_("Ineffability"),
    N_(
        'Item 9 (thoughts of being better off dead or of self-harm) answered above "Not at '
        'all": please review promptly'
    ),
    N_("Total at or above 10, the published cut-point at which further evaluation is recommended"),
    N_(
        "Total at or above 33: probable PTSD screen positive (provisional; a clinical "
        "assessment is needed to confirm)"
    ),
    N_(
        "Items rated Moderately or higher in every symptom cluster (at least 1 B, 1 C, 2 D, "
        "2 E): probable PTSD screen positive by the symptom pattern (provisional; a clinical "
        "assessment is needed to confirm)"
    ),
    N_(
        "Your ratings were strong in every part of this questionnaire. If you wish, you can "
        "talk the experience through with your clinician."
    ),
)


# -- translations ------------------------------------------------------------------


TRANSLATION_KEYS = (
    "id",
    "title",
    "short_title",
    "instructions",
    "question",
    "source",
    "scales",
    "items",
)


def load_translation(path: Path, base: Instrument, language: str) -> Instrument:
    """A published translation of `base` (the English file): its words, checked against
    the English file's structure, with everything that scores taken from `base`.

    The file must give the same scales with the same option values in the same order,
    and the same items in the same order on the same scales; it cannot change what is
    scored, the bands or the flags (it has no such keys)."""
    doc = Fields(path, read_toml(path))
    doc.only(TRANSLATION_KEYS)
    if doc.slug("id") != base.id:
        raise doc.fail(f"'id' must be {base.id!r}, the id of the English file it translates")
    source = doc.table_of("source")
    source.only(("citation", "licence"))
    scales = _translated_scales(doc, base)
    entries = doc.tables("items")
    if [e.table.get("id") for e in entries] != [i.id for i in base.items]:
        raise doc.fail(
            "'items' must list the English file's items, in the same order: "
            + ", ".join(i.id for i in base.items)
        )
    items = []
    for entry, item in zip(entries, base.items, strict=True):
        entry.only(("id", "text"))
        items.append(replace(item, text=entry.text("text"), scale=scales[item.scale.id]))
    question = doc.optional_text("question")
    if bool(question) != bool(base.question):
        state = "has" if base.question else "has no"
        raise doc.fail(
            f"the English file {state} 'question' (the stem); the translation must match"
        )
    return replace(
        base,
        title=doc.text("title"),
        short_title=doc.optional_text("short_title", base.short_title),
        instructions=doc.text("instructions"),
        question=question,
        citation=source.text("citation"),
        licence=source.text("licence"),
        items=tuple(items),
        path=path,
        language=language,
    )


def _translated_scales(doc: Fields, base: Instrument) -> dict[str, Scale]:
    english = {i.scale.id: i.scale for i in base.items}
    table = doc.table_of("scales")
    if sorted(table.table) != sorted(english):
        raise doc.fail(f"'scales' must be the English file's: {', '.join(sorted(english))}")
    scales: dict[str, Scale] = {}
    for name, scale in english.items():
        entry = table.table_of(name)
        if scale.is_visual_analogue:
            entry.only(("kind", "low_anchor", "high_anchor"))
            if entry.optional_text("kind") != scale.kind.value:
                raise doc.fail(f"'scales.{name}.kind' must be {scale.kind.value!r}, as in English")
            scales[name] = replace(
                scale, low_anchor=entry.text("low_anchor"), high_anchor=entry.text("high_anchor")
            )
            continue
        entry.only(("kind", "options"))
        if entry.optional_text("kind", ScaleKind.CHOICE.value) != ScaleKind.CHOICE.value:
            raise doc.fail(
                f"'scales.{name}.kind' must be {ScaleKind.CHOICE.value!r}, as in English"
            )
        options = []
        for option in entry.tables("options"):
            option.only(("value", "label"))
            options.append(Option(option.integer("value"), option.text("label")))
        if [o.value for o in options] != list(scale.values):
            raise doc.fail(
                f"scale {name!r}: the option values must be the English file's, in order: "
                + ", ".join(str(v) for v in scale.values)
            )
        unique(doc.path, f"scale {name!r}: label", [o.label for o in options])
        scales[name] = replace(scale, options=tuple(options))
    return scales


# -- the catalogue -----------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """Every instrument the app offers, by id, in a stable order (in English, or in
    one language: see `in_language`), and their published translations."""

    instruments: tuple[Instrument, ...]
    translations: tuple[Instrument, ...] = ()

    def get(self, instrument_id: str) -> Instrument:
        for i in self.instruments:
            if i.id == instrument_id:
                return i
        raise KeyError(instrument_id)

    def __contains__(self, instrument_id: object) -> bool:
        return any(i.id == instrument_id for i in self.instruments)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.instruments)

    def _versions(self, instrument_id: str) -> list[Instrument]:
        found = [i for i in (*self.instruments, *self.translations) if i.id == instrument_id]
        if not found:
            raise KeyError(instrument_id)
        return found

    def languages(self, instrument_id: str) -> tuple[str, ...]:
        """The languages it is offered in: English, then each published translation's."""
        found = {i.language for i in self._versions(instrument_id)} - {BASE_LANGUAGE}
        return (BASE_LANGUAGE, *sorted(found))

    def offered_in(self, instrument_id: str, language: str) -> bool:
        return language in self.languages(instrument_id)

    def version(self, instrument_id: str, language: str) -> Instrument:
        """Its version in that language if there is one, else the English one (its
        `language` says which: never a mix of the two)."""
        versions = {i.language: i for i in self._versions(instrument_id)}
        return versions.get(language) or versions[BASE_LANGUAGE]

    def in_language(self, language: str) -> Catalogue:
        """The same catalogue with each instrument in that language where it has a
        published version, else in English; scoring is the same either way."""
        every = {(i.id, i.language): i for i in (*self.instruments, *self.translations)}
        chosen = tuple(
            every.get((i.id, language)) or every[(i.id, BASE_LANGUAGE)] for i in self.instruments
        )
        others = tuple(i for i in every.values() if i not in chosen)
        return Catalogue(chosen, others)


def load_catalogue(*folders: Path) -> Catalogue:
    """Load every `*.toml` file in the folders (a missing folder holds none), then the
    translations in their language folders (`fr/*.toml`), each of an instrument loaded.

    Two files defining the same instrument id (or two translations of it into the
    same language) are refused, naming both.
    """
    seen: dict[str, Path] = {}
    instruments: list[Instrument] = []
    for folder in folders:
        for path in definition_files(folder):
            instrument = load_instrument(path)
            if instrument.id in seen:
                first = seen[instrument.id]
                raise DefinitionError(
                    path, f"instrument id {instrument.id!r} is already defined in {first}"
                )
            seen[instrument.id] = path
            instruments.append(instrument)
    by_id = {i.id: i for i in instruments}
    translated: dict[tuple[str, str], Path] = {}
    translations: list[Instrument] = []
    for folder in folders:
        for language, path in _translation_files(folder):
            instrument_id = path.stem
            if instrument_id not in by_id:
                raise DefinitionError(
                    path, f"translates {instrument_id!r}, but no instrument has that id"
                )
            if (instrument_id, language) in translated:
                first = translated[(instrument_id, language)]
                raise DefinitionError(
                    path, f"{instrument_id!r} in {language!r} is already defined in {first}"
                )
            translated[(instrument_id, language)] = path
            translations.append(load_translation(path, by_id[instrument_id], language))
    return Catalogue(tuple(instruments), tuple(translations))


def _translation_files(folder: Path) -> list[tuple[str, Path]]:
    """(language, file) for each file in the folder's language folders (`fr/`, ...)."""
    if not folder.is_dir():
        return []
    return [
        (sub.name, path)
        for sub in sorted(folder.iterdir())
        if sub.is_dir() and LANGUAGE_FOLDER.match(sub.name) and sub.name != BASE_LANGUAGE
        for path in definition_files(sub)
    ]
