"""Questionnaires as data: the shipped definitions, scoring against hand-computed cases
(every band edge, every flag rule), bad answers, and a broken definition file for each
check, including that the app refuses to start and names the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from journal import create_app
from journal.clinical.instruments import (
    BUILT_IN_FOLDER,
    AnswersError,
    Catalogue,
    FlagKind,
    Instrument,
    answers_from_form,
    load_catalogue,
    load_instrument,
    score,
)
from journal.config import ConfigError, Settings
from journal.core.definitions import DefinitionError
from tests.conftest import register_keys, runtime


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(BUILT_IN_FOLDER)


def answers(*values: int) -> dict[str, object]:
    return {f"q{n}": v for n, v in enumerate(values, start=1)}


# -- the shipped instruments -------------------------------------------------------


def test_the_three_instruments_ship(shipped: Catalogue) -> None:
    assert shipped.ids == ("ebi", "gad7", "meq30", "pcl5", "phq9")
    phq9, gad7, pcl5 = shipped.get("phq9"), shipped.get("gad7"), shipped.get("pcl5")
    assert (len(phq9.scored_items), phq9.min_score, phq9.max_score) == (9, 0, 27)
    assert (len(gad7.scored_items), gad7.min_score, gad7.max_score) == (7, 0, 21)
    assert (len(pcl5.scored_items), pcl5.min_score, pcl5.max_score) == (20, 0, 80)
    assert phq9.recall_period == gad7.recall_period == "the last 2 weeks"
    assert pcl5.recall_period == "the past month"
    for instrument in (phq9, gad7):
        assert "Spitzer" in instrument.licence and "Pfizer" in instrument.licence
    assert "National Center for PTSD" in pcl5.citation
    assert "Public domain" in pcl5.licence


PHQ9_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
    "If you checked off any problems, how difficult have these problems made it for you to do "
    "your work, take care of things at home, or get along with other people?",
]

GAD7_ITEMS = [
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
    "If you checked off any problems, how difficult have these made it for you to do your "
    "work, take care of things at home, or get along with other people?",
]

PCL5_ITEMS = [
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again "
    "(as if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience "
    "(for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, "
    "conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for example, "
    "having thoughts such as: I am bad, there is something seriously wrong with me, no one can "
    "be trusted, the world is completely dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or "
    "have loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    'Being "superalert" or watchful or on guard?',
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
]


@pytest.mark.parametrize(
    ("instrument_id", "texts"),
    [("phq9", PHQ9_ITEMS), ("gad7", GAD7_ITEMS), ("pcl5", PCL5_ITEMS)],
)
def test_item_texts_are_the_published_ones(
    shipped: Catalogue, instrument_id: str, texts: list[str]
) -> None:
    """A change to an item's wording must be deliberate: this list changes with it."""
    assert [i.text for i in shipped.get(instrument_id).items] == texts


def test_answer_labels_are_the_published_ones(shipped: Catalogue) -> None:
    frequency = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
    difficulty = [
        "Not difficult at all",
        "Somewhat difficult",
        "Very difficult",
        "Extremely difficult",
    ]
    for instrument_id in ("phq9", "gad7"):
        instrument = shipped.get(instrument_id)
        for item in instrument.items:
            expected = difficulty if item.id == "difficulty" else frequency
            assert [o.label for o in item.scale.options] == expected
            assert item.scale.values == (0, 1, 2, 3)
    bother = ["Not at all", "A little bit", "Moderately", "Quite a bit", "Extremely"]
    for item in shipped.get("pcl5").items:
        assert [o.label for o in item.scale.options] == bother
        assert item.scale.values == (0, 1, 2, 3, 4)


def test_difficulty_questions_are_asked_but_not_scored(shipped: Catalogue) -> None:
    for instrument_id in ("phq9", "gad7"):
        instrument = shipped.get(instrument_id)
        assert instrument.item("difficulty").required is False
        assert "difficulty" not in instrument.scored_items


def test_no_band_or_flag_wording_is_diagnostic(shipped: Catalogue) -> None:
    """Bands and flags report scores against cut-points; they never state a diagnosis."""
    for instrument in shipped.instruments:
        for text in [b.label for b in instrument.bands] + [f.label for f in instrument.flags]:
            lowered = text.lower()
            assert "diagnos" not in lowered or "not a diagnosis" in lowered
            assert "you have" not in lowered


# -- scoring: PHQ-9 ---------------------------------------------------------------

PHQ9_CASES = [
    # q1..q9, hand-added total, band
    ((0, 0, 0, 0, 0, 0, 0, 0, 0), 0, "Minimal"),
    ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "Minimal"),
    ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "Mild"),
    ((3, 3, 3, 0, 0, 0, 0, 0, 0), 9, "Mild"),
    ((3, 3, 3, 1, 0, 0, 0, 0, 0), 10, "Moderate"),
    ((2, 2, 2, 2, 2, 2, 2, 0, 0), 14, "Moderate"),
    ((3, 3, 3, 3, 3, 0, 0, 0, 0), 15, "Moderately severe"),
    ((3, 3, 3, 3, 3, 2, 2, 0, 0), 19, "Moderately severe"),
    ((3, 3, 3, 3, 3, 3, 2, 0, 0), 20, "Severe"),
    ((3, 3, 3, 3, 3, 3, 3, 3, 0), 24, "Severe"),
    ((3, 3, 3, 3, 3, 3, 3, 3, 3), 27, "Severe"),
]


@pytest.mark.parametrize(("values", "total", "band"), PHQ9_CASES)
def test_phq9_band_edges(
    shipped: Catalogue, values: tuple[int, ...], total: int, band: str
) -> None:
    result = score(shipped.get("phq9"), answers(*values))
    assert (result.total, result.band.label, result.max_score) == (total, band, 27)
    assert result.has_safety_flag is (values[8] > 0)


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_item9_above_zero_raises_a_safety_flag(shipped: Catalogue, item9: int) -> None:
    result = score(shipped.get("phq9"), answers(0, 0, 0, 0, 0, 0, 0, 0, item9))
    assert result.total == item9
    assert result.band.label == "Minimal"  # the flag does not depend on the total
    assert [(f.id, f.kind, f.value) for f in result.flags] == [
        ("self_harm_thoughts", FlagKind.SAFETY, item9)
    ]
    assert result.has_safety_flag


def test_phq9_item9_at_zero_raises_nothing_even_when_severe(shipped: Catalogue) -> None:
    result = score(shipped.get("phq9"), answers(3, 3, 3, 3, 3, 3, 3, 3, 0))
    assert result.band.label == "Severe"
    assert result.flags == ()


def test_phq9_difficulty_answer_is_kept_and_not_added(shipped: Catalogue) -> None:
    given = answers(1, 0, 0, 0, 0, 0, 0, 0, 0) | {"difficulty": 3}
    result = score(shipped.get("phq9"), given)
    assert result.total == 1
    assert result.answers["difficulty"] == 3
    without = score(shipped.get("phq9"), answers(1, 0, 0, 0, 0, 0, 0, 0, 0))
    assert "difficulty" not in without.answers


# -- scoring: GAD-7 ---------------------------------------------------------------

GAD7_CASES = [
    ((0, 0, 0, 0, 0, 0, 0), 0, "Minimal", False),
    ((1, 1, 1, 1, 0, 0, 0), 4, "Minimal", False),
    ((1, 1, 1, 1, 1, 0, 0), 5, "Mild", False),
    ((3, 3, 3, 0, 0, 0, 0), 9, "Mild", False),
    ((3, 3, 3, 1, 0, 0, 0), 10, "Moderate", True),
    ((2, 2, 2, 2, 2, 2, 2), 14, "Moderate", True),
    ((3, 3, 3, 3, 3, 0, 0), 15, "Severe", True),
    ((3, 3, 3, 3, 3, 3, 3), 21, "Severe", True),
]


@pytest.mark.parametrize(("values", "total", "band", "review"), GAD7_CASES)
def test_gad7_band_edges_and_further_evaluation_cut_point(
    shipped: Catalogue, values: tuple[int, ...], total: int, band: str, review: bool
) -> None:
    result = score(shipped.get("gad7"), answers(*values))
    assert (result.total, result.band.label, result.max_score) == (total, band, 21)
    expected = [("further_evaluation", FlagKind.REVIEW, total)] if review else []
    assert [(f.id, f.kind, f.value) for f in result.flags] == expected
    assert not result.has_safety_flag


# -- scoring: PCL-5 ---------------------------------------------------------------


def test_pcl5_clusters_hand_computed(shipped: Catalogue) -> None:
    # B = 4+3+2+1+0 = 10, C = 2+2 = 4, D = 7 x 1 = 7, E = 0+1+2+3+4+0 = 10; total 31
    values = (4, 3, 2, 1, 0, 2, 2, 1, 1, 1, 1, 1, 1, 1, 0, 1, 2, 3, 4, 0)
    result = score(shipped.get("pcl5"), answers(*values))
    assert result.total == 31
    assert [(s.id, s.score, s.max_score) for s in result.subscales] == [
        ("cluster_b", 10, 20),
        ("cluster_c", 4, 8),
        ("cluster_d", 7, 28),
        ("cluster_e", 10, 24),
    ]
    assert result.band.label == "Below the screening cut-point"
    assert result.flags == ()


PCL5_CASES = [
    # B and C full, D one item short of the pattern: only the total can raise a flag
    ((0,) * 20, 0, "Below the screening cut-point", False),
    ((4,) * 8 + (0,) * 12, 32, "Below the screening cut-point", False),
    ((4,) * 8 + (1,) + (0,) * 11, 33, "At or above the screening cut-point", True),
]


@pytest.mark.parametrize(("values", "total", "band", "positive"), PCL5_CASES)
def test_pcl5_cut_point_edges(
    shipped: Catalogue, values: tuple[int, ...], total: int, band: str, positive: bool
) -> None:
    result = score(shipped.get("pcl5"), answers(*values))
    assert (result.total, result.band.label, result.max_score) == (total, band, 80)
    if positive:
        (flag,) = result.flags
        assert (flag.id, flag.kind, flag.value) == ("probable_ptsd_screen", FlagKind.REVIEW, total)
        assert "probable PTSD screen positive" in flag.label
        assert "provisional" in flag.label
    else:
        assert result.flags == ()
    assert sum(s.score for s in result.subscales) == total


def test_pcl5_top_score_raises_both_readings(shipped: Catalogue) -> None:
    result = score(shipped.get("pcl5"), answers(*(4,) * 20))
    assert (result.total, result.band.label) == (80, "At or above the screening cut-point")
    assert [(f.id, f.value) for f in result.flags] == [
        ("probable_ptsd_screen", 80),
        ("probable_ptsd_pattern", 20),
    ]


# The smallest DSM-5 pattern: item 1 (B), item 6 (C), items 8 and 9 (D), items 15 and 16 (E)
# rated "Moderately"; everything else "Not at all". Total 12, far below the cut-point.
PATTERN = {1: 2, 6: 2, 8: 2, 9: 2, 15: 2, 16: 2}


def pcl5_answers(rated: dict[int, int]) -> dict[str, object]:
    return answers(*(rated.get(n, 0) for n in range(1, 21)))


def test_pcl5_symptom_pattern_raises_its_own_flag(shipped: Catalogue) -> None:
    result = score(shipped.get("pcl5"), pcl5_answers(PATTERN))
    assert result.total == 12
    (flag,) = result.flags
    assert (flag.id, flag.kind, flag.value) == ("probable_ptsd_pattern", FlagKind.REVIEW, 6)
    assert "provisional" in flag.label


@pytest.mark.parametrize("item", sorted(PATTERN))
def test_pcl5_pattern_one_item_short_raises_nothing(shipped: Catalogue, item: int) -> None:
    for lower in (1, 0):  # "A little bit" does not count as endorsed
        result = score(shipped.get("pcl5"), pcl5_answers(PATTERN | {item: lower}))
        assert result.flags == ()


def test_pcl5_items_rated_a_little_bit_never_form_the_pattern(shipped: Catalogue) -> None:
    result = score(shipped.get("pcl5"), answers(*(1,) * 20))
    assert (result.total, result.flags) == (20, ())


# -- bad answers ------------------------------------------------------------------


def test_an_incomplete_questionnaire_names_every_missing_item(shipped: Catalogue) -> None:
    given = answers(1, 1, 1, 1, 1, 1, 1)  # q8 and q9 left out
    with pytest.raises(AnswersError) as caught:
        score(shipped.get("phq9"), given)
    assert caught.value.missing == ("q8", "q9")
    assert caught.value.errors == {"q8": AnswersError.MISSING, "q9": AnswersError.MISSING}


def test_none_counts_as_unanswered(shipped: Catalogue) -> None:
    given: dict[str, object] = {**answers(*(0,) * 7), "q3": None}
    with pytest.raises(AnswersError) as caught:
        score(shipped.get("gad7"), given)
    assert caught.value.missing == ("q3",)


@pytest.mark.parametrize("bad", [-1, 4, 7, "2", 2.0, True, [1]])
def test_an_answer_outside_the_scale_is_refused(shipped: Catalogue, bad: object) -> None:
    given = answers(*(0,) * 9) | {"q2": bad}
    with pytest.raises(AnswersError) as caught:
        score(shipped.get("phq9"), given)
    assert caught.value.out_of_scale == ("q2",)
    assert caught.value.missing == ()
    assert caught.value.errors == {"q2": AnswersError.OUT_OF_SCALE}


def test_pcl5_accepts_four_where_phq9_refuses_it(shipped: Catalogue) -> None:
    assert score(shipped.get("pcl5"), answers(*(4,) * 20)).total == 80
    with pytest.raises(AnswersError):
        score(shipped.get("phq9"), answers(*(4,) * 9))


def test_an_answer_to_a_question_not_asked_is_refused(shipped: Catalogue) -> None:
    with pytest.raises(AnswersError) as caught:
        score(shipped.get("gad7"), answers(*(0,) * 7) | {"q8": 1})
    assert caught.value.unknown == ("q8",)


def test_missing_and_out_of_scale_are_reported_together(shipped: Catalogue) -> None:
    given = {"q1": 9, "q2": 0, "q3": 0, "q4": 0, "q5": 0, "q6": 0}
    with pytest.raises(AnswersError) as caught:
        score(shipped.get("gad7"), given)
    assert caught.value.errors == {"q7": AnswersError.MISSING, "q1": AnswersError.OUT_OF_SCALE}


def test_form_strings_become_answers(shipped: Catalogue) -> None:
    gad7 = shipped.get("gad7")
    form = {f"q{n}": "2" for n in range(1, 8)} | {"difficulty": "", "csrf_token": "x"}
    parsed = answers_from_form(gad7, form)
    assert parsed == answers(*(2,) * 7) | {"difficulty": None}
    assert score(gad7, parsed).total == 14
    form |= {"q2": " 3 ", "q3": "-1", "q4": "two", "q5": "٣", "q6": "--1", "q7": "2.0"}
    parsed = answers_from_form(gad7, form)
    assert (parsed["q2"], parsed["q3"]) == (3, -1)
    assert (parsed["q4"], parsed["q5"], parsed["q6"], parsed["q7"]) == ("two", "٣", "--1", "2.0")
    with pytest.raises(AnswersError) as caught:
        score(gad7, parsed)  # a non-ASCII digit is not quietly read as 3
    assert caught.value.out_of_scale == ("q3", "q4", "q5", "q6", "q7")


# -- broken definition files ------------------------------------------------------

MINI = """\
id = "mini"
title = "Mini scale"
version = "1"
recall_period = "the last week"
instructions = "How often?"

[source]
citation = "A fictional scale for tests."
licence = "Tests only."

[scales.freq]
options = [
    { value = 0, label = "Never" },
    { value = 1, label = "Sometimes" },
    { value = 2, label = "Often" },
]

[[items]]
id = "a"
text = "First question"
scale = "freq"

[[items]]
id = "b"
text = "Second question"
scale = "freq"

[[items]]
id = "note"
text = "A question asked but not scored"
scale = "freq"
required = false

[scoring]
method = "sum"
items = ["a", "b"]

[[subscales]]
id = "first"
label = "First only"
items = ["a"]

[[bands]]
min = 0
max = 1
label = "Low"

[[bands]]
min = 2
max = 4
label = "High"

[[flags]]
id = "a_high"
kind = "safety"
on = "item"
item = "a"
at_least = 2
label = "First question answered Often"
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def mutate(old: str, new: str) -> str:
    assert MINI.count(old) == 1, f"{old!r} must occur once in the sample"
    return MINI.replace(old, new)


def test_the_sample_definition_is_valid(tmp_path: Path) -> None:
    mini = load_instrument(write(tmp_path, "mini.toml", MINI))
    assert (mini.min_score, mini.max_score) == (0, 4)
    result = score(mini, {"a": 2, "b": 1})
    assert (result.total, result.band.label) == (3, "High")
    assert [f.id for f in result.flags] == ["a_high"]
    assert [(s.id, s.score) for s in result.subscales] == [("first", 2)]


BROKEN = {
    "not_toml": (('id = "mini"', "id = "), "is not valid TOML"),
    "missing_key": (('title = "Mini scale"\n', ""), "'title' is missing"),
    "unknown_key": (('version = "1"\n', 'version = "1"\ncolour = "red"\n'), "unknown key: colour"),
    "bad_id": (('id = "mini"', 'id = "Mini Scale"'), "'id' = 'Mini Scale' must be lowercase"),
    "empty_text": (
        ('text = "First question"', 'text = "  "'),
        "'items[1].text' must be",
    ),
    "duplicate_item": (('id = "b"', 'id = "a"'), "item id 'a' appears more than once"),
    "unknown_scale": (
        ('text = "Second question"\nscale = "freq"', 'text = "Second question"\nscale = "other"'),
        "'items[2].scale' = 'other' is not one of the scales defined",
    ),
    "scale_not_int": (("value = 1,", "value = 1.5,"), "must be a whole number, not 1.5"),
    "scale_string": (("value = 2,", 'value = "2",'), "must be a whole number, not '2'"),
    "scale_duplicate_value": (("value = 2,", "value = 1,"), "value '1' appears more than once"),
    "scale_order": (
        ('{ value = 0, label = "Never" },', '{ value = 3, label = "Never" },'),
        "increasing order",
    ),
    "scale_negative": (("value = 0,", "value = -1,"), "must not be negative"),
    "scale_one_option": (
        ('    { value = 1, label = "Sometimes" },\n    { value = 2, label = "Often" },\n', ""),
        "needs at least two options",
    ),
    "scoring_unknown_item": (('items = ["a", "b"]', 'items = ["a", "z"]'), "refers to item 'z'"),
    "scoring_optional_item": (
        ('items = ["a", "b"]', 'items = ["a", "b", "note"]'),
        "item 'note' is scored, so it cannot be optional",
    ),
    "scoring_twice": (('items = ["a", "b"]', 'items = ["a", "a"]'), "scored item 'a' appears"),
    "scoring_method": (('method = "sum"', 'method = "median"'), 'must be "sum" or "mean"'),
    "subscale_unknown_item": (('items = ["a"]', 'items = ["zz"]'), "refers to item 'zz'"),
    "subscale_unscored_item": (('items = ["a"]', 'items = ["note"]'), "which is not scored"),
    "band_gap": (("min = 0\nmax = 1\n", "min = 0\nmax = 0\n"), "no band covers 1-1"),
    "band_overlap": (("min = 2\nmax = 4\n", "min = 1\nmax = 4\n"), "bands 0-1 and 1-4 overlap"),
    "band_start": (("min = 0\nmax = 1\n", "min = 1\nmax = 1\n"), "start at the lowest possible"),
    "band_end": (
        ("min = 2\nmax = 4\n", "min = 2\nmax = 5\n"),
        "end at the highest possible",
    ),
    "band_reversed": (("min = 2\nmax = 4\n", "min = 5\nmax = 4\n"), "min 5 is above max 4"),
    "band_label_twice": (('label = "High"', 'label = "Low"'), "band label 'Low' appears"),
    "flag_unknown_item": (('item = "a"', 'item = "z"'), "'flags[1].item' refers to item 'z'"),
    "flag_unknown_kind": (('kind = "safety"', 'kind = "urgent"'), "must be one of safety, review"),
    "flag_unknown_on": (('on = "item"', 'on = "mood"'), "must be one of item, subscale, total"),
    "flag_never": (("at_least = 2", "at_least = 3"), "must be above 0 and at most 2"),
    "flag_always": (("at_least = 2", "at_least = 0"), "would always or never be raised"),
    "flag_unknown_subscale": (
        ('on = "item"\nitem = "a"', 'on = "subscale"\nsubscale = "second"'),
        "refers to subscale 'second'",
    ),
    "flag_key_not_applicable": (
        ('on = "item"\nitem = "a"', 'on = "total"\nitem = "a"'),
        "'flags[1].item' does not apply to a flag on the total",
    ),
    "pattern_unknown_subscale": (
        ('on = "item"\nitem = "a"', 'on = "pattern"\nrequire = { second = 1 }'),
        "'flags[1].require' refers to subscale 'second'",
    ),
    "pattern_needs_too_many": (
        ('on = "item"\nitem = "a"', 'on = "pattern"\nrequire = { first = 2 }'),
        "'flags[1].require.first' = 2 must be between 1 and 1",
    ),
    "pattern_needs_none": (
        ('on = "item"\nitem = "a"', 'on = "pattern"\nrequire = { first = 0 }'),
        "must be between 1 and 1",
    ),
    "pattern_empty": (
        ('on = "item"\nitem = "a"', 'on = "pattern"\nrequire = {}'),
        "must name at least one subscale",
    ),
    "pattern_missing_require": (
        ('on = "item"\nitem = "a"', 'on = "pattern"'),
        "'flags[1].require' is missing",
    ),
    "pattern_threshold": (
        (
            'on = "item"\nitem = "a"\nat_least = 2',
            'on = "pattern"\nrequire = { first = 1 }\nat_least = 3',
        ),
        "must be above 0 and at most 2",
    ),
    "require_on_an_item_flag": (
        ('item = "a"', 'item = "a"\nrequire = { first = 1 }'),
        "'flags[1].require' does not apply to a flag on the item",
    ),
    "flag_total_out_of_range": (
        ('on = "item"\nitem = "a"\nat_least = 2', 'on = "total"\nat_least = 5'),
        "must be above 0 and at most 4",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_definition_is_refused_naming_file_and_problem(
    tmp_path: Path, case: str
) -> None:
    (old, new), problem = BROKEN[case]
    path = write(tmp_path, f"{case}.toml", mutate(old, new))
    with pytest.raises(DefinitionError) as caught:
        load_instrument(path)
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}: ")


def test_missing_bands_are_refused(tmp_path: Path) -> None:
    text = MINI.split("[[bands]]")[0] + "[[flags]]" + MINI.split("[[flags]]")[1]
    path = write(tmp_path, "nobands.toml", text)
    with pytest.raises(DefinitionError, match="'bands' is missing"):
        load_instrument(path)


def test_a_pattern_flag_in_a_clinics_definition(tmp_path: Path) -> None:
    text = mutate('on = "item"\nitem = "a"', 'on = "pattern"\nrequire = { first = 1 }')
    mini = load_instrument(write(tmp_path, "pattern.toml", text))
    assert [(f.id, f.value) for f in score(mini, {"a": 2, "b": 0}).flags] == [("a_high", 1)]
    assert score(mini, {"a": 1, "b": 2}).flags == ()


def test_a_flag_on_a_subscale_is_checked_and_scored(tmp_path: Path) -> None:
    text = mutate('on = "item"\nitem = "a"', 'on = "subscale"\nsubscale = "first"')
    mini = load_instrument(write(tmp_path, "sub.toml", text))
    assert [f.id for f in score(mini, {"a": 2, "b": 0}).flags] == ["a_high"]
    assert score(mini, {"a": 1, "b": 2}).flags == ()


def test_the_same_instrument_twice_is_refused_naming_both_files(tmp_path: Path) -> None:
    first = write(tmp_path / "one", "mini.toml", MINI)
    second = write(tmp_path / "two", "again.toml", MINI)
    with pytest.raises(DefinitionError) as caught:
        load_catalogue(tmp_path / "one", tmp_path / "two")
    assert caught.value.path == second
    assert str(first) in caught.value.problem


def test_a_clinic_cannot_redefine_a_shipped_instrument(tmp_path: Path) -> None:
    write(tmp_path, "phq9.toml", mutate('id = "mini"', 'id = "phq9"'))
    with pytest.raises(DefinitionError, match="instrument id 'phq9' is already defined"):
        load_catalogue(BUILT_IN_FOLDER, tmp_path)


def test_a_missing_folder_holds_no_instruments(tmp_path: Path) -> None:
    assert load_catalogue(tmp_path / "absent").instruments == ()


def test_non_toml_files_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "not a definition")
    write(tmp_path, "mini.toml", MINI)
    assert load_catalogue(tmp_path).ids == ("mini",)


# -- start-up -----------------------------------------------------------------------


def test_the_app_offers_the_shipped_and_the_clinics_instruments(settings: Settings) -> None:
    register_keys(settings)
    write(settings.instance_path / "instruments", "mini.toml", MINI)
    app = create_app(settings)
    try:
        catalogue = runtime(app).clinical.instruments
        assert catalogue.ids == ("ebi", "gad7", "meq30", "pcl5", "phq9", "mini")
        assert isinstance(catalogue.get("mini"), Instrument)
        assert len(runtime(app).clinical.prompts.prompts) >= 30
        assert len(runtime(app).clinical.screening.items) == 14
    finally:
        runtime(app).database.dispose()


def test_a_broken_definition_stops_start_up_naming_the_file(settings: Settings) -> None:
    register_keys(settings)
    path = write(
        settings.instance_path / "instruments",
        "mini.toml",
        mutate("min = 2\nmax = 4\n", "min = 3\nmax = 4\n"),
    )
    with pytest.raises(ConfigError) as caught:
        app = create_app(settings)
        runtime(app).database.dispose()  # only reached if it wrongly started
    message = str(caught.value)
    assert str(path) in message
    assert "no band covers 2-2" in message
    path.unlink()
    app = create_app(settings)  # fixed: it starts again
    runtime(app).database.dispose()
