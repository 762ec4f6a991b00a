"""Measures of the experience itself: the MEQ-30 and the EBI (mean-scored, the EBI on
0-100 visual-analogue lines) and the CADSS-6 (a sum), scored against hand-worked answer
sets at every edge; the engine's reverse keying and load-time checks on small files;
the item wording against the published lists; the chart's axes; and an MEQ-30 and an
EBI assigned "after each session", answered after one, and read by both sides."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from journal.clinical.charts import ScorePoint, trend_chart
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
from journal.clinical.score_details import PATIENT_REVIEW_NOTE, patient_note
from journal.core.definitions import DefinitionError
from journal.models import QuestionnaireAssignment, QuestionnaireResponse, SessionStatus
from tests.conftest import Clinic, runtime

CADSS6_FILE = BUILT_IN_FOLDER / "licence-needed" / "cadss6.toml"
MEQ_NOTE = (
    "Your ratings were strong in every part of this questionnaire. "
    "If you wish, you can talk the experience through with your clinician."
)


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(BUILT_IN_FOLDER)


@pytest.fixture(scope="module")
def meq(shipped: Catalogue) -> Instrument:
    return shipped.get("meq30")


@pytest.fixture(scope="module")
def ebi(shipped: Catalogue) -> Instrument:
    return shipped.get("ebi")


@pytest.fixture(scope="module")
def cadss6() -> Instrument:
    return load_instrument(CADSS6_FILE)


# -- the wording, as published ------------------------------------------------------------

# The stand-alone MEQ-30 of Barrett, Johnson & Griffiths 2015, in its order, with the
# subscale of each item (M mystical, P positive mood, T transcendence of time and
# space, I ineffability), written out from the published form.
MEQ30_ITEMS = [
    ("T", "Loss of your usual sense of time"),
    ("P", "Experience of amazement"),
    ("I", "Sense that the experience cannot be described adequately in words"),
    ("M", "Gain of insightful knowledge experienced at an intuitive level"),
    ("M", "Feeling that you experienced eternity or infinity"),
    (
        "M",
        "Experience of oneness or unity with objects and/or persons perceived in your surroundings",
    ),
    ("T", "Loss of your usual sense of space"),
    ("P", "Feelings of tenderness and gentleness"),
    (
        "M",
        "Certainty of encounter with ultimate reality (in the sense of being able to “know” "
        "and “see” what is really real at some point during your experience",
    ),
    ("I", "Feeling that you could not do justice to your experience by describing it in words"),
    ("T", "Loss of usual awareness of where you were"),
    ("P", "Feelings of peace and tranquility"),
    ("T", "Sense of being “outside of” time, beyond past and future"),
    (
        "M",
        "Freedom from the limitations of your personal self and feeling a unity or bond with "
        "what was felt to be greater than your personal self",
    ),
    ("M", "Sense of being at a spiritual height"),
    ("M", "Experience of pure being and pure awareness (beyond the world of sense impressions)"),
    ("P", "Experience of ecstasy"),
    ("M", "Experience of the insight that “all is One”"),
    ("T", "Being in a realm with no space boundaries"),
    ("M", "Experience of oneness in relation to an “inner world” within"),
    ("M", "Sense of reverence"),
    ("T", "Experience of timelessness"),
    (
        "M",
        "You are convinced now, as you look back on your experience, that in it you "
        "encountered ultimate reality (i.e., that you “knew” and “saw” what was really real)",
    ),
    ("M", "Feeling that you experienced something profoundly sacred and holy"),
    ("M", "Awareness of the life or living presence in all things"),
    ("M", "Experience of the fusion of your personal self into a larger whole"),
    ("P", "Sense of awe or awesomeness"),
    ("M", "Experience of unity with ultimate reality"),
    (
        "I",
        "Feeling that it would be difficult to communicate your own experience to others who "
        "have not had similar experiences",
    ),
    ("P", "Feelings of joy"),
]
MEQ30_ANCHORS = [
    "0 – none; not at all",
    "1 – so slight cannot decide",
    "2 – slight",
    "3 – moderate",
    "4 – strong (equivalent in degree to any other strong experience)",
    "5 – extreme (more than ever before in my life and stronger than 4)",
]
SUBSCALE_OF = {"M": "mystical", "P": "positive_mood", "T": "transcendence", "I": "ineffability"}

# The six items of the validated EBI (Roseman et al. 2019).
EBI_ITEMS = [
    "I faced emotionally difficult feelings that I usually push aside",
    "I experienced a resolution of a personal conflict/trauma",
    "I felt able to explore challenging emotions and memories",
    "I had an emotional breakthrough",
    "I was able to get a sense of closure on an emotional problem",
    "I achieved an emotional release followed by a sense of relief",
]

# CADSS questions 1, 2, 6, 7 and 15 as printed in Bremner et al. 1998; question 22's
# wording was not found, and the file must say so rather than offer a guess.
CADSS_CONFIRMED = {
    "q1": "Do things seem to be moving in slow motion?",
    "q2": "Do things seem to be unreal to you, as if you are in a dream?",
    "q6": "Do you feel disconnected from your own body?",
    "q7": "Does your sense of your own body feel changed: for instance, does your own body "
    "feel unusually large or unusually small?",
    "q15": "Do you space out, or in some other way lose track of what is going on?",
}


def test_the_meq30_items_anchors_and_subscales_are_the_published_ones(meq: Instrument) -> None:
    assert [i.text for i in meq.items] == [text for _, text in MEQ30_ITEMS]
    assert [o.label for o in meq.items[0].scale.options] == MEQ30_ANCHORS
    assert [o.value for o in meq.items[0].scale.options] == [0, 1, 2, 3, 4, 5]
    assert {i.scale.id for i in meq.items} == {"degree"}
    expected = {
        name: tuple(f"q{n}" for n, (f, _) in enumerate(MEQ30_ITEMS, 1) if f == letter)
        for letter, name in SUBSCALE_OF.items()
    }
    assert {s.id: s.items for s in meq.subscales} == expected
    assert [len(s.items) for s in meq.subscales] == [15, 6, 6, 3]
    assert meq.mean_scored and (meq.min_score, meq.max_score) == (0, 5)
    assert "Barrett" in meq.citation and "29(11):1182-1190" in meq.citation
    assert "MacLean" in meq.citation
    assert "to be confirmed by the clinic" in meq.licence.lower()


def test_the_ebi_items_and_its_visual_analogue_lines(ebi: Instrument) -> None:
    assert [i.text for i in ebi.items] == EBI_ITEMS
    scale = ebi.items[0].scale
    assert scale.is_visual_analogue and (scale.low, scale.high) == (0, 100)
    assert scale.low_anchor == "No, not more than usually"
    assert scale.high_anchor == "Yes, entirely/completely more than usually"
    assert ebi.mean_scored and (ebi.min_score, ebi.max_score) == (0, 100)
    assert "Roseman" in ebi.citation and "33(9):1076-1087" in ebi.citation


def test_the_cadss6_is_not_offered_and_names_its_unconfirmed_item(
    shipped: Catalogue, cadss6: Instrument
) -> None:
    assert "cadss6" not in shipped  # outside the loaded folder until a clinic licenses it
    assert [i.id for i in cadss6.items] == ["q1", "q2", "q6", "q7", "q15", "q22"]
    assert {i.id: i.text for i in cadss6.items[:5]} == CADSS_CONFIRMED
    placeholder = cadss6.items[5].text
    assert placeholder.startswith("[") and "licensed form" in placeholder
    text = CADSS6_FILE.read_text(encoding="utf-8")
    assert "UNCONFIRMED" in text and "Who fills it in" in text
    assert "Rodrigues" in cadss6.citation and "282:160-164" in cadss6.citation
    assert "Mapi Research Trust" in cadss6.licence


# -- MEQ-30: means, subscale means and the "complete" rule ---------------------------------


def meq_answers(**by_subscale: int) -> dict[str, object]:
    """Every item of a subscale given the same answer (M=, P=, T=, I=)."""
    return {f"q{n}": by_subscale[f] for n, (f, _) in enumerate(MEQ30_ITEMS, start=1)}


def means(result: object) -> dict[str, float]:
    return {s.id: s.score for s in result.subscales}  # type: ignore[attr-defined]


def test_meq30_all_minimum_and_all_maximum(meq: Instrument) -> None:
    low = score(meq, meq_answers(M=0, P=0, T=0, I=0))
    assert (low.total, low.max_score, low.flags) == (0.0, 5, ())
    assert type(low.total) is float
    assert means(low) == dict.fromkeys(SUBSCALE_OF.values(), 0.0)
    assert [s.max_score for s in low.subscales] == [5, 5, 5, 5]
    high = score(meq, meq_answers(M=5, P=5, T=5, I=5))
    assert high.total == 5.0 and means(high) == dict.fromkeys(SUBSCALE_OF.values(), 5.0)
    (flag,) = high.flags
    assert (flag.id, flag.kind, flag.value) == (
        "complete_mystical_experience",
        FlagKind.REVIEW,
        5.0,
    )
    assert not high.has_safety_flag


def test_meq30_every_subscale_at_60_percent_is_complete(meq: Instrument) -> None:
    result = score(meq, meq_answers(M=3, P=3, T=3, I=3))
    assert result.total == 3.0 and means(result) == dict.fromkeys(SUBSCALE_OF.values(), 3.0)
    assert [(f.id, f.value) for f in result.flags] == [("complete_mystical_experience", 3.0)]


# One answer lowered from 3 to 2 in one subscale: that mean falls just under 3.0
# (mystical 44/15, positive mood and transcendence 17/6, ineffability 8/3), the total
# to 89/30, and the experience is no longer "complete".
JUST_UNDER = {
    "M": ("q4", 2.93),
    "P": ("q2", 2.83),
    "T": ("q1", 2.83),
    "I": ("q3", 2.67),
}


@pytest.mark.parametrize("letter", sorted(JUST_UNDER))
def test_meq30_one_subscale_just_under_60_percent_is_not_complete(
    meq: Instrument, letter: str
) -> None:
    item, mean = JUST_UNDER[letter]
    answers = meq_answers(M=3, P=3, T=3, I=3) | {item: 2}
    result = score(meq, answers)
    expected = dict.fromkeys(SUBSCALE_OF.values(), 3.0) | {SUBSCALE_OF[letter]: mean}
    assert means(result) == expected
    assert result.total == 2.97  # 89 / 30 = 2.966...
    assert result.flags == ()
    # Every other subscale at the maximum changes nothing: each one must reach 3.0.
    lifted = dict.fromkeys(answers, 5) | {
        f"q{n}": 3 for n, (f, _) in enumerate(MEQ30_ITEMS, 1) if f == letter
    }
    assert score(meq, lifted | {item: 2}).flags == ()
    assert [f.value for f in score(meq, lifted).flags] == [3.0]  # the lowest subscale


def test_meq30_a_mixed_hand_worked_set(meq: Instrument) -> None:
    # Mystical all 4 (60), positive mood all 2 (12), transcendence all 5 (30), ineffability
    # 1, 2 and 3 (6): means 4, 2, 5 and 2; total 108 / 30 = 3.6; positive mood falls short.
    answers = meq_answers(M=4, P=2, T=5, I=0) | {"q3": 1, "q10": 2, "q29": 3}
    result = score(meq, answers)
    assert means(result) == {
        "mystical": 4.0,
        "positive_mood": 2.0,
        "transcendence": 5.0,
        "ineffability": 2.0,
    }
    assert result.total == 3.6 and result.flags == ()
    assert result.band.label == "Mean rating from 0 (none) to 5 (extreme)"
    assert result.answers["q29"] == 3  # answers are kept as given


def test_the_meq30_note_for_the_patient_is_its_own(meq: Instrument, shipped: Catalogue) -> None:
    complete = score(meq, meq_answers(M=4, P=4, T=4, I=4))
    assert patient_note(complete, meq) == MEQ_NOTE
    assert patient_note(score(meq, meq_answers(M=2, P=4, T=4, I=4)), meq) is None
    # Other instruments keep the shared sentence.
    pcl5 = shipped.get("pcl5")
    positive = score(pcl5, {f"q{n}": 2 for n in range(1, 21)})
    assert patient_note(positive, pcl5) == PATIENT_REVIEW_NOTE
    assert patient_note(positive) == PATIENT_REVIEW_NOTE


# -- EBI: the mean of six 0-100 lines ---------------------------------------------------

EBI_CASES = {
    "all minimum": ([0, 0, 0, 0, 0, 0], 0.0),
    "all maximum": ([100, 100, 100, 100, 100, 100], 100.0),
    "one at 100": ([100, 0, 0, 0, 0, 0], 16.67),  # 100 / 6 = 16.666...
    "one at 1": ([1, 0, 0, 0, 0, 0], 0.17),  # 1 / 6 = 0.1666...
    "two near the middle": ([50, 51, 0, 0, 0, 0], 16.83),  # 101 / 6 = 16.833...
    "one short of the top": ([99, 100, 100, 100, 100, 100], 99.83),  # 599 / 6
    "halves": ([50, 50, 50, 51, 50, 50], 50.17),  # 301 / 6
    "an even mean": ([10, 20, 30, 40, 50, 60], 35.0),
}


@pytest.mark.parametrize("case", sorted(EBI_CASES))
def test_ebi_means(ebi: Instrument, case: str) -> None:
    values, total = EBI_CASES[case]
    result = score(ebi, {f"q{n}": v for n, v in enumerate(values, start=1)})
    assert result.total == total and type(result.total) is float
    assert (result.max_score, result.flags, result.subscales) == (100, (), ())


BAD_VAS = {"101": "101", "-1": "-1", "letters": "abc", "a decimal": "50.5", "a space": " "}


@pytest.mark.parametrize("case", sorted(BAD_VAS))
def test_a_visual_analogue_answer_must_be_a_whole_number_from_0_to_100(
    ebi: Instrument, case: str
) -> None:
    form = {f"q{n}": "50" for n in range(1, 7)} | {"q4": BAD_VAS[case]}
    with pytest.raises(AnswersError) as caught:
        score(ebi, answers_from_form(ebi, form))
    expected = AnswersError.MISSING if case == "a space" else AnswersError.OUT_OF_RANGE
    assert caught.value.errors == {"q4": expected}
    assert AnswersError.OUT_OF_RANGE == "Please give a whole number from 0 to 100."


def test_the_ends_of_a_visual_analogue_line_are_accepted_and_empty_is_missing(
    ebi: Instrument,
) -> None:
    form = {"q1": "0", "q2": "100", "q3": " 7 ", "q4": "0", "q5": "0", "q6": ""}
    with pytest.raises(AnswersError) as caught:
        score(ebi, answers_from_form(ebi, form))
    assert caught.value.errors == {"q6": AnswersError.MISSING}
    assert score(ebi, answers_from_form(ebi, form | {"q6": "1"})).total == 18.0  # 108 / 6
    for value in (True, 50.0, "50"):
        with pytest.raises(AnswersError):
            score(ebi, {f"q{n}": 0 for n in range(1, 6)} | {"q6": value})


# -- CADSS-6: a sum of six items 0-4 ------------------------------------------------------

CADSS_CASES = {
    "all minimum": ([0, 0, 0, 0, 0, 0], 0),
    "all maximum": ([4, 4, 4, 4, 4, 4], 24),
    "one slightly": ([1, 0, 0, 0, 0, 0], 1),
    "one short of the top": ([4, 4, 4, 4, 4, 3], 23),
    "mixed": ([1, 2, 3, 4, 0, 1], 11),
}


@pytest.mark.parametrize("case", sorted(CADSS_CASES))
def test_cadss6_sums(cadss6: Instrument, case: str) -> None:
    values, total = CADSS_CASES[case]
    ids = [i.id for i in cadss6.items]
    result = score(cadss6, dict(zip(ids, values, strict=True)))
    assert (result.total, result.max_score) == (total, 24) and type(result.total) is int
    assert result.band.label == "Sum from 0 to 24"
    with pytest.raises(AnswersError):
        score(cadss6, dict(zip(ids, [5, 0, 0, 0, 0, 0], strict=True)))


def test_the_summed_instruments_still_score_whole_numbers(shipped: Catalogue) -> None:
    phq9 = shipped.get("phq9")
    result = score(phq9, {f"q{n}": 2 for n in range(1, 10)})
    assert (result.total, result.max_score) == (18, 27) and type(result.total) is int
    pcl5 = score(shipped.get("pcl5"), {f"q{n}": 1 for n in range(1, 21)})
    assert [type(s.score) for s in pcl5.subscales] == [int] * 4


# -- the engine on small definition files: reverse keying and the checks ---------------

SMALL = """\
id = "small"
title = "Small scale"
version = "1"
recall_period = "the session"
instructions = "How much?"

[source]
citation = "A fictional scale for tests."
licence = "Tests only."

[scales.amount]
options = [
    { value = 0, label = "None" },
    { value = 1, label = "Some" },
    { value = 2, label = "More" },
    { value = 3, label = "Most" },
    { value = 4, label = "All" },
]

[scales.line]
kind = "visual_analogue"
low_anchor = "Not at all"
high_anchor = "Completely"

[[items]]
id = "a"
text = "First"
scale = "amount"
reverse = true

[[items]]
id = "b"
text = "Second"
scale = "amount"

[[items]]
id = "c"
text = "Third"
scale = "amount"

[scoring]
method = "mean"
items = ["a", "b", "c"]

[[subscales]]
id = "pair"
label = "First and second"
items = ["a", "b"]

[[subscales]]
id = "last"
label = "Third"
items = ["c"]

[[bands]]
min = 0
max = 2.49
label = "Lower"

[[bands]]
min = 2.5
max = 4
label = "Higher"

[[flags]]
id = "both_high"
kind = "review"
on = "subscales"
subscales = ["pair", "last"]
at_least = 2.5
label = "Both subscales at least 2.5"
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def small(tmp_path: Path, old: str = "", new: str = "", name: str = "small.toml") -> Instrument:
    if old:
        assert SMALL.count(old) == 1, old
    return load_instrument(write(tmp_path, name, SMALL.replace(old, new) if old else SMALL))


def test_a_reverse_keyed_item_counts_from_the_other_end(tmp_path: Path) -> None:
    mini = small(tmp_path)
    # a answered 0 counts 4: (4 + 0 + 0) / 3 = 1.33; the pair (4 + 0) / 2 = 2.0.
    result = score(mini, {"a": 0, "b": 0, "c": 0})
    assert (result.total, {s.id: s.score for s in result.subscales}) == (
        1.33,
        {"pair": 2.0, "last": 0.0},
    )
    assert result.answers == {"a": 0, "b": 0, "c": 0}  # kept as answered
    # a answered 4 counts 0; a answered 1 counts 3.
    assert score(mini, {"a": 4, "b": 4, "c": 4}).total == 2.67  # 8 / 3
    high = score(mini, {"a": 1, "b": 2, "c": 3})  # 3 + 2 + 3 = 8 / 3; pair 2.5, last 3
    assert high.total == 2.67 and high.band.label == "Higher"
    assert [(f.id, f.value) for f in high.flags] == [("both_high", 2.5)]
    assert score(mini, {"a": 2, "b": 2, "c": 3}).flags == ()  # pair 2.0
    assert score(mini, {"a": 0, "b": 0, "c": 1}).band.label == "Lower"  # 1.67
    # Summed, the same answers count the same way: 3 + 2 + 3 = 8 of 12.
    text = SMALL
    for old, new in (
        ('method = "mean"', 'method = "sum"'),
        ("max = 2.49", "max = 7"),
        ("min = 2.5", "min = 8"),
        ("max = 4\n", "max = 12\n"),
        ("at_least = 2.5", "at_least = 3"),
    ):
        text = text.replace(old, new)
    summed = load_instrument(write(tmp_path, "summed.toml", text))
    result = score(summed, {"a": 1, "b": 2, "c": 3})
    assert (result.total, result.max_score, result.band.label) == (8, 12, "Higher")
    assert {s.id: s.score for s in result.subscales} == {"pair": 5, "last": 3}
    assert [f.value for f in result.flags] == [3]


def test_a_visual_analogue_item_in_a_clinics_file(tmp_path: Path) -> None:
    text = SMALL.replace('scale = "amount"\n\n[scoring]', 'scale = "line"\n\n[scoring]')
    mini = load_instrument(write(tmp_path, "line.toml", text.replace("max = 4\n", "max = 36\n")))
    assert mini.item("c").scale.is_visual_analogue
    # (4 + 4 + 100) / 3 = 36: the item lines are not rescaled, as the file asks.
    assert mini.max_score == 36 and score(mini, {"a": 0, "b": 4, "c": 100}).total == 36.0


BROKEN = {
    "unknown method": (('method = "mean"', 'method = "median"'), 'must be "sum" or "mean"'),
    "unknown scale kind": (
        ('kind = "visual_analogue"', 'kind = "slider"'),
        "'scales.line.kind' = 'slider' must be one of choice, visual_analogue",
    ),
    "vas with options": (
        ('high_anchor = "Completely"', 'high_anchor = "Completely"\noptions = []'),
        "unknown key in 'scales.line': options",
    ),
    "vas without an anchor": (('low_anchor = "Not at all"\n', ""), "'scales.line.low_anchor'"),
    "reverse not true or false": (("reverse = true", 'reverse = "yes"'), "must be true or false"),
    "reverse on an unscored item": (
        ('items = ["a", "b", "c"]\n', 'items = ["b", "c"]\n'),
        "item 'a' is reverse-keyed (reverse = true) but not scored",
    ),
    "band with three decimals": (("max = 2.49", "max = 2.495"), "at most two decimals"),
    "band gap": (("min = 2.5", "min = 2.6"), "no band covers 2.5-2.59"),
    "band end": (("max = 4\n", "max = 3.99\n"), "end at the highest possible score 4"),
    "subscales flag, unknown subscale": (
        ('subscales = ["pair", "last"]', 'subscales = ["pair", "first"]'),
        "'flags[1].subscales' refers to subscale 'first', which is not defined",
    ),
    "subscales flag, never raised": (
        ("at_least = 2.5", "at_least = 4.5"),
        "must be above 0 and at most 4",
    ),
    "subscales flag, three decimals": (("at_least = 2.5", "at_least = 2.505"), "two decimals"),
    "subscales flag, a word": (("at_least = 2.5", 'at_least = "3"'), "must be a whole number"),
    "subscales key on a total flag": (
        ('on = "subscales"', 'on = "total"'),
        "'flags[1].subscales' does not apply to a flag on the total",
    ),
    "patient note on a safety flag": (
        ('kind = "review"', 'kind = "safety"\npatient_note = "Hello."'),
        "'flags[1].patient_note' applies only to a review flag",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_malformed_definition_is_refused_naming_the_file(tmp_path: Path, case: str) -> None:
    (old, new), problem = BROKEN[case]
    assert SMALL.count(old) == 1, old
    path = write(tmp_path, "broken.toml", SMALL.replace(old, new))
    with pytest.raises(DefinitionError) as caught:
        load_instrument(path)
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}: ")


# -- charts ---------------------------------------------------------------------------------

SVG = {"svg": "http://www.w3.org/2000/svg"}


def y_ticks(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [
        t.text or ""
        for t in root.iterfind(".//svg:text", SVG)
        if "chart-tick-y" in t.get("class", "")
    ]


def test_mean_scored_instruments_are_charted_on_their_own_scale(
    meq: Instrument, ebi: Instrument, shipped: Catalogue
) -> None:
    days = [date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)]
    chart = trend_chart(
        meq, [ScorePoint(d, t) for d, t in zip(days, (0.0, 3.57, 5.0), strict=True)]
    )
    assert y_ticks(chart.svg) == ["0", "1", "2", "3", "4", "5"]
    root = ET.fromstring(chart.svg)
    scores = [c.get("data-score") for c in root.iterfind(".//svg:circle", SVG)]
    assert scores == ["0.0", "3.57", "5.0"]
    assert "on a scale of 0 to 5. Latest 5.0" in chart.description
    assert [(r.total, r.max_score) for r in chart.rows] == [(0.0, 5), (3.57, 5), (5.0, 5)]
    assert y_ticks(trend_chart(ebi, [ScorePoint(days[0], 16.67)]).svg) == [
        "0",
        "20",
        "40",
        "60",
        "80",
        "100",
    ]
    with pytest.raises(ValueError, match="outside"):
        trend_chart(meq, [ScorePoint(days[0], 5.01)])
    # A summed scale keeps its ticks: the ends and the band starts only.
    assert y_ticks(trend_chart(shipped.get("phq9"), []).svg) == ["0", "5", "10", "15", "20", "27"]


# -- assigned after each session, answered, read by both sides ------------------------------

ANSWER_LINK = re.compile(r'href="/questionnaires/([0-9a-f-]{36})/answer">([^<:]+):')


def test_an_meq30_and_an_ebi_after_a_session_round_trip(clinic: Clinic) -> None:
    world = clinic.world
    # A session that started an hour ago and was marked completed: its after window is open.
    world.session(clinic.course, clinic.clinician, -1 / 24, SessionStatus.COMPLETED)
    clinician = world.browser(clinic.clinician)
    for instrument in ("meq30", "ebi"):
        r = clinician.post(
            f"/courses/{clinic.course.id}/questionnaires",
            {"instrument_id": instrument, "cadence": "after_each_session"},
        )
        assert r.status_code == 302, r.get_data(as_text=True)

    patient = world.browser(clinic.patient)
    page = html.unescape(patient.text(f"/courses/{clinic.course.id}/questionnaires"))
    links = {title: f"/questionnaires/{a}/answer" for a, title in ANSWER_LINK.findall(page)}
    assert set(links) == {"MEQ-30", "EBI"}
    assert "(after session" in page

    # The EBI: a number field per line (no JavaScript needed), the slider script, anchors.
    form = patient.text(links["EBI"])
    assert form.count('type="number"') == 6 and 'min="0" max="100" step="1"' in form
    assert "js/vas.js" in form and "Yes, entirely/completely more than usually" in form
    bad = {"q1": "101", "q2": "-1", "q3": "abc", "q4": "", "q5": "50", "q6": "0"}
    r = patient.post(links["EBI"], bad, follow_redirects=True)
    assert r.status_code == 400
    body = html.unescape(r.get_data(as_text=True))
    assert body.count(AnswersError.OUT_OF_RANGE) == 3 and AnswersError.MISSING in body
    assert 'value="101"' in body and 'value="abc"' in body  # kept to correct
    assert world.db.scalar(select(QuestionnaireResponse.id)) is None
    r = patient.post(
        links["EBI"], bad | {"q1": "100", "q2": "0", "q3": "1", "q4": "0"}, follow_redirects=True
    )
    assert r.status_code == 200
    assert "EBI: 25.17 of 100" in html.unescape(r.get_data(as_text=True))  # 151 / 6

    # The MEQ-30: every subscale at 60% or more, the patient's own gentle sentence.
    assert "js/vas.js" not in patient.text(links["MEQ-30"])
    answers = {k: str(v) for k, v in meq_answers(M=4, P=3, T=3, I=5).items()}
    r = patient.post(links["MEQ-30"], answers, follow_redirects=True)
    done = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 200 and "MEQ-30: 3.7 of 5" in done  # (60 + 18 + 18 + 15) / 30
    assert MEQ_NOTE in done and "mystical" not in done.lower()
    assert "how the session felt to you" in done

    # Filed after the session, once each.
    rows = world.db.scalars(select(QuestionnaireResponse)).all()
    assert {r.slot.value for r in rows} == {"after_session"} and len(rows) == 2
    assignments = world.db.scalars(select(QuestionnaireAssignment)).all()
    assert {a.cadence.value for a in assignments} == {"after_each_session"}

    # The clinician's page: subscale means, the complete note as a review note, the chart.
    page = html.unescape(clinician.text(f"/courses/{clinic.course.id}/questionnaires"))
    assert "Subscale means" in page and "Cluster scores" not in page
    for label, mean in (
        ("Mystical (internal and external unity, noetic quality, sacredness)", "4.0"),
        ("Positive mood", "3.0"),
        ("Transcendence of time and space", "3.0"),
        ("Ineffability", "5.0"),
    ):
        assert f"<td>{label}</td><td>{mean} of 5</td>" in page, label
    assert "a complete mystical experience by the published criterion" in page
    assert "3.7 of 5" in page and "25.17 of 100" in page and "Mean score" in page
    assert 'id="trend-meq30' in page and 'id="trend-ebi' in page
    assert "<td>After session" in page
    assert "badge attention" not in page  # a review note, never a safety flag
    assert MEQ_NOTE not in page

    # The patient's page: totals as for any questionnaire, the sentence, not the wording.
    mine = html.unescape(patient.text(f"/courses/{clinic.course.id}/questionnaires"))
    assert "3.7 of 5" in mine and "25.17 of 100" in mine and MEQ_NOTE in mine
    assert "complete mystical experience" not in mine and "Subscale means" not in mine
    assert runtime(world.app).clinical.instruments.get("meq30").id == "meq30"
