"""Questionnaires as data: definition files, their checks, and scoring.

Each instrument is one TOML file (the shipped ones are in `journal/instruments/`;
a clinic adds its own in `instance/instruments/`). A file is checked in full
when it is loaded: every problem raises a `DefinitionError` naming the file,
and the app does not start. Scoring is a pure function of the definition and
the answers; it decides nothing clinical: bands and flags are the published
cut-points, shown to the clinician as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
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

BUILT_IN_FOLDER = CONTENT_ROOT / "instruments"
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,6}")  # ASCII digits only: no "٣", no "²"
CLINIC_FOLDER_NAME = "instruments"  # inside the instance folder


class FlagKind(StrEnum):
    """How a flag reaches people; neither kind is a diagnosis or an instruction."""

    SAFETY = "safety"  # the clinician's caseload at once; the patient sees crisis resources
    REVIEW = "review"  # a note beside the score for the clinician


class FlagOn(StrEnum):
    ITEM = "item"  # one item's answer is at least `at_least`
    SUBSCALE = "subscale"  # a subscale's sum is at least `at_least`
    TOTAL = "total"  # the total is at least `at_least`
    PATTERN = "pattern"  # in each subscale of `require`, enough items rated `at_least` or more


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Scale:
    id: str
    options: tuple[Option, ...]

    @property
    def values(self) -> tuple[int, ...]:
        return tuple(o.value for o in self.options)

    @property
    def low(self) -> int:
        return min(self.values)

    @property
    def high(self) -> int:
        return max(self.values)

    def label_for(self, value: int) -> str:
        return next(o.label for o in self.options if o.value == value)


@dataclass(frozen=True)
class Item:
    id: str
    number: int  # 1-based position in the questionnaire
    text: str
    scale: Scale
    required: bool


@dataclass(frozen=True)
class Band:
    min: int
    max: int
    label: str

    def contains(self, score: int) -> bool:
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
    at_least: int
    label: str
    require: tuple[tuple[str, int], ...] = ()  # a pattern's (subscale id, items needed)


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

    @cached_property
    def _by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.items}

    @cached_property
    def min_score(self) -> int:
        return sum(self.item(i).scale.low for i in self.scored_items)

    @cached_property
    def max_score(self) -> int:
        return sum(self.item(i).scale.high for i in self.scored_items)

    def item(self, item_id: str) -> Item:
        return self._by_id[item_id]

    def band_for(self, score: int) -> Band:
        return next(b for b in self.bands if b.contains(score))


# -- results ---------------------------------------------------------------------


@dataclass(frozen=True)
class RaisedFlag:
    id: str
    kind: FlagKind
    label: str
    value: int  # the item, subscale or total value that raised it


@dataclass(frozen=True)
class SubscaleScore:
    id: str
    label: str
    score: int
    max_score: int


@dataclass(frozen=True)
class ScoreResult:
    instrument_id: str
    version: str
    total: int
    max_score: int
    band: Band
    flags: tuple[RaisedFlag, ...]
    subscales: tuple[SubscaleScore, ...]
    answers: Mapping[str, int]  # every answered item, scored or not

    @property
    def has_safety_flag(self) -> bool:
        return any(f.kind is FlagKind.SAFETY for f in self.flags)


class AnswersError(ValidationError):
    """Answers that cannot be scored; `errors` maps each item id to what to fix."""

    MISSING = "Please answer this question."
    OUT_OF_SCALE = "Please choose one of the answers offered."
    UNKNOWN = "This question is not part of the questionnaire."

    def __init__(
        self, missing: Iterable[str], out_of_scale: Iterable[str], unknown: Iterable[str]
    ) -> None:
        self.missing = tuple(missing)
        self.out_of_scale = tuple(out_of_scale)
        self.unknown = tuple(unknown)
        errors = dict.fromkeys(self.missing, self.MISSING)
        errors |= dict.fromkeys(self.out_of_scale, self.OUT_OF_SCALE)
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
        if type(value) is not int or value not in item.scale.values:
            out_of_scale.append(item.id)
            continue
        checked[item.id] = value
    if missing or out_of_scale or unknown:
        raise AnswersError(missing, out_of_scale, unknown)
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


def score(instrument: Instrument, answers: Mapping[str, object]) -> ScoreResult:
    """Total, band, subscale sums and raised flags for one completed questionnaire."""
    checked = check_answers(instrument, answers)
    total = sum(checked[i] for i in instrument.scored_items)
    subscales = tuple(
        SubscaleScore(
            s.id,
            s.label,
            sum(checked[i] for i in s.items),
            sum(instrument.item(i).scale.high for i in s.items),
        )
        for s in instrument.subscales
    )
    by_subscale = {s.id: s.score for s in subscales}
    flags: list[RaisedFlag] = []
    value: int | None
    for rule in instrument.flags:
        if rule.on is FlagOn.PATTERN:
            endorsed = _pattern_endorsed(instrument, rule, checked)
            if endorsed is not None:
                flags.append(RaisedFlag(rule.id, rule.kind, rule.label, endorsed))
            continue
        if rule.on is FlagOn.TOTAL:
            value = total
        elif rule.on is FlagOn.SUBSCALE:
            value = by_subscale[rule.target]
        else:
            value = checked.get(rule.target)  # an optional item may be unanswered
        if value is not None and value >= rule.at_least:
            flags.append(RaisedFlag(rule.id, rule.kind, rule.label, value))
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
    method = scoring.text("method")
    if method != "sum":
        raise doc.fail(f"'scoring.method' = {method!r}: only \"sum\" is supported")
    scored = scoring.strings("items")
    unique(path, "scored item", scored)
    _known_items(doc, "scoring.items", scored, item_ids)
    for i in scored:
        if not by_id[i].required:
            raise doc.fail(f"item {i!r} is scored, so it cannot be optional (required = false)")

    subscales = _subscales(doc, item_ids, scored)
    low = sum(by_id[i].scale.low for i in scored)
    bands = _bands(doc, low, sum(by_id[i].scale.high for i in scored))
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
        scale.only(("options",))
        if not SLUG.match(name):
            raise doc.fail(f"scale name {name!r} must be lowercase letters, digits, '-' or '_'")
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
        entry.only(("id", "text", "scale", "required"))
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


def _bands(doc: Fields, low: int, high: int) -> list[Band]:
    bands: list[Band] = []
    for entry in doc.tables("bands"):
        entry.only(("min", "max", "label"))
        band = Band(entry.integer("min"), entry.integer("max"), entry.text("label"))
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
        if after.min != before.max + 1:
            raise doc.fail(f"bands leave a gap: no band covers {before.max + 1}-{after.min - 1}")
    return bands


def _flags(doc: Fields, instrument: Instrument) -> list[FlagRule]:
    rules: list[FlagRule] = []
    subscales = {s.id: s for s in instrument.subscales}
    item_ids = [i.id for i in instrument.items]
    for entry in doc.tables("flags", required=False):
        entry.only(("id", "kind", "on", "item", "subscale", "require", "at_least", "label"))
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
        at_least = entry.integer("at_least")
        require: tuple[tuple[str, int], ...] = ()
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
            low = sum(instrument.item(i).scale.low for i in subscales[target].items)
            high = sum(instrument.item(i).scale.high for i in subscales[target].items)
        else:
            target = ""
            low, high = instrument.min_score, instrument.max_score
        extra = {"item", "subscale", "require"} - {
            FlagOn.ITEM: {"item"},
            FlagOn.SUBSCALE: {"subscale"},
            FlagOn.PATTERN: {"require"},
            FlagOn.TOTAL: set(),
        }[on]
        for key in sorted(extra & set(entry.table)):
            raise doc.fail(f"'{entry.where}.{key}' does not apply to a flag on the {on.value}")
        if not low < at_least <= high:
            raise doc.fail(
                f"'{entry.where}.at_least' = {at_least} must be above {low} and at most {high}, "
                "or the flag would always or never be raised"
            )
        rules.append(
            FlagRule(entry.slug("id"), kind, on, target, at_least, entry.text("label"), require)
        )
    unique(doc.path, "flag id", [r.id for r in rules])
    return rules


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


# -- the catalogue -----------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    """Every instrument the app offers, by id, in a stable order."""

    instruments: tuple[Instrument, ...]

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


def load_catalogue(*folders: Path) -> Catalogue:
    """Load every `*.toml` file in the folders (a missing folder holds none).

    Two files defining the same instrument id are refused, naming both.
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
    return Catalogue(tuple(instruments))
