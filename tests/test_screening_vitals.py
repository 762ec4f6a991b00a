"""Screening (any yes or unknown needs clinician review; never an eligibility decision),
vital-sign plausibility, the pre-dose blood-pressure flag and the mg/kg dose."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from journal.clinical.checklist import (
    NEEDS_REVIEW,
    NOTHING_RAISED,
    Checklist,
    ScreeningAnswer,
    check_answers,
    load_checklist,
    review,
)
from journal.clinical.vitals import (
    BloodPressureFlag,
    Vitals,
    check_vitals,
    mg_per_kg,
    pre_dose_bp_flag,
    vitals_problems,
)
from journal.core.definitions import DefinitionError
from journal.core.errors import ValidationError


@pytest.fixture(scope="module")
def checklist() -> Checklist:
    return load_checklist()


ALL_NO = {
    "psychosis": "no",
    "bipolar_mania": "no",
    "blood_pressure": "no",
    "heart_disease": "no",
    "vascular": "no",
    "raised_pressure": "no",
    "liver_disease": "no",
    "bladder": "no",
    "ketamine_allergy": "no",
    "substance_use": "no",
    "suicidal_plan": "no",
    "pregnancy": "no",
    "breastfeeding": "no",
    "interacting_medications": "no",
}


def test_the_checklist_holds_the_items_of_the_brief(checklist: Checklist) -> None:
    assert [i.text for i in checklist.items] == [
        "History of psychosis or schizophrenia",
        "Bipolar disorder or a history of mania",
        "Uncontrolled high blood pressure",
        "Heart disease",
        "Aneurysm, arteriovenous malformation or intracerebral bleeding",
        "Raised intracranial or intraocular pressure",
        "Liver disease",
        "Bladder or urinary symptoms",
        "Known allergy or sensitivity to ketamine",
        "Substance use history",
        "Current suicidal thoughts with a plan",
        "Pregnancy",
        "Breastfeeding",
        "Current medications that interact",
    ]
    assert [i.id for i in checklist.items] == list(ALL_NO)


def test_all_no_raises_nothing(checklist: Checklist) -> None:
    result = review(checklist, ALL_NO)
    assert not result.needs_clinician_review
    assert result.to_review == ()
    assert result.label == NOTHING_RAISED


@pytest.mark.parametrize("item", list(ALL_NO))
@pytest.mark.parametrize("answer", ["yes", "unknown", ScreeningAnswer.YES, ScreeningAnswer.UNKNOWN])
def test_any_yes_or_unknown_needs_clinician_review(
    checklist: Checklist, item: str, answer: object
) -> None:
    result = review(checklist, ALL_NO | {item: answer})
    assert result.needs_clinician_review
    assert [i.id for i in result.to_review] == [item]
    assert result.label == NEEDS_REVIEW == "Needs clinician review"


def test_an_unanswered_item_needs_review_too(checklist: Checklist) -> None:
    answers = dict(ALL_NO)
    del answers["pregnancy"]
    result = review(checklist, answers | {"heart_disease": ""})
    assert result.needs_clinician_review
    assert [i.id for i in result.unanswered] == ["heart_disease", "pregnancy"]
    assert review(checklist, {}).to_review == checklist.items


def test_an_unrecognised_answer_is_never_quieter_than_unknown(checklist: Checklist) -> None:
    assert review(checklist, ALL_NO | {"psychosis": "maybe"}).needs_clinician_review


def test_the_review_never_speaks_of_eligibility(checklist: Checklist) -> None:
    for answers in (ALL_NO, ALL_NO | {"psychosis": "yes"}):
        label = review(checklist, answers).label.lower()
        assert "eligib" not in label and "approved" not in label and "cleared" not in label


def test_recording_needs_every_item_answered_from_the_three_choices(checklist: Checklist) -> None:
    assert check_answers(checklist, ALL_NO)["psychosis"] is ScreeningAnswer.NO
    bad = dict(ALL_NO) | {"psychosis": "perhaps", "extra": "yes"}
    del bad["pregnancy"]
    with pytest.raises(ValidationError) as caught:
        check_answers(checklist, bad)
    assert set(caught.value.errors) == {"psychosis", "pregnancy", "extra"}


def test_a_broken_checklist_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "screening.toml"
    path.write_text(
        'id = "s"\ntitle = "S"\nversion = "1"\n'
        '[[items]]\nid = "a"\ntext = "A"\n[[items]]\nid = "a"\ntext = "B"\n'
    )
    with pytest.raises(DefinitionError) as caught:
        load_checklist(path)
    assert caught.value.path == path
    assert "item id 'a' appears more than once" in str(caught.value)


# -- vitals -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("systolic", "diastolic", "flagged"),
    [
        (139, 89, False),
        (140, 89, True),
        (139, 90, True),
        (140, 90, True),
        (120, 80, False),
        (180, 70, True),
        (110, 95, True),
    ],
)
def test_pre_dose_bp_flag_at_or_above_140_90(systolic: int, diastolic: int, flagged: bool) -> None:
    flag = pre_dose_bp_flag(Vitals(systolic, diastolic, 70))
    if flagged:
        assert flag == BloodPressureFlag(systolic, diastolic)
        assert flag.label == (
            f"Pre-dose blood pressure {systolic}/{diastolic} is at or above 140/90"
        )
    else:
        assert flag is None


def test_the_flag_only_describes_the_reading() -> None:
    flag = pre_dose_bp_flag(Vitals(150, 95))
    assert flag is not None
    lowered = flag.label.lower()
    for advice in ("do not", "should", "cancel", "postpone", "stop", "contraindicat"):
        assert advice not in lowered


def test_no_reading_no_flag() -> None:
    assert pre_dose_bp_flag(Vitals()) is None
    assert pre_dose_bp_flag(Vitals(systolic=150)) is None


def test_plausible_readings_pass_unchanged() -> None:
    for vitals in (Vitals(120, 80, 70), Vitals(), Vitals(heart_rate=55), Vitals(50, 20, 20)):
        assert check_vitals(vitals) == vitals
    assert check_vitals(Vitals(300, 200, 250)) == Vitals(300, 200, 250)


@pytest.mark.parametrize(
    ("vitals", "field", "words"),
    [
        (Vitals(20, 10), "systolic", "systolic pressure of 20 is not possible"),
        (Vitals(400, 80), "systolic", "systolic pressure of 400 is not possible"),
        (Vitals(49, 30), "systolic", "not possible"),
        (Vitals(301, 80), "systolic", "not possible"),
        (Vitals(120, 19), "diastolic", "diastolic pressure of 19 is not possible"),
        (Vitals(250, 201), "diastolic", "not possible"),
        (Vitals(80, 120), "diastolic", "must be below the systolic"),
        (Vitals(120, 120), "diastolic", "must be below the systolic"),
        (Vitals(120, None), "diastolic", "both numbers"),
        (Vitals(None, 80), "systolic", "both numbers"),
        (Vitals(heart_rate=19), "heart_rate", "heart rate of 19 is not possible"),
        (Vitals(heart_rate=251), "heart_rate", "not possible"),
        (Vitals(heart_rate=0), "heart_rate", "not possible"),
    ],
)
def test_impossible_readings_are_refused(vitals: Vitals, field: str, words: str) -> None:
    assert words in vitals_problems(vitals)[field]
    with pytest.raises(ValidationError) as caught:
        check_vitals(vitals, prefix="pre_")
    assert words in caught.value.errors["pre_" + field]


def test_every_impossible_field_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        check_vitals(Vitals(400, 5, 300), prefix="post_")
    assert set(caught.value.errors) == {"post_systolic", "post_diastolic", "post_heart_rate"}


@pytest.mark.parametrize(
    ("dose", "weight", "expected"),
    [
        ("35", "70", "0.50"),
        ("50", "80", "0.63"),  # 0.625 rounds half up
        ("0.5", "20", "0.03"),  # 0.025
        ("100", "350", "0.29"),
    ],
)
def test_mg_per_kg(dose: str, weight: str, expected: str) -> None:
    assert mg_per_kg(Decimal(dose), Decimal(weight)) == Decimal(expected)


@pytest.mark.parametrize(
    ("dose", "weight", "fields"),
    [
        ("0", "70", {"dose_mg"}),
        ("-5", "70", {"dose_mg"}),
        ("NaN", "70", {"dose_mg"}),
        ("35", "0", {"weight_kg"}),
        ("35", "19.9", {"weight_kg"}),
        ("35", "351", {"weight_kg"}),
        ("Infinity", "Infinity", {"dose_mg", "weight_kg"}),
    ],
)
def test_mg_per_kg_refuses_impossible_input(dose: str, weight: str, fields: set[str]) -> None:
    with pytest.raises(ValidationError) as caught:
        mg_per_kg(Decimal(dose), Decimal(weight))
    assert set(caught.value.errors) == fields
