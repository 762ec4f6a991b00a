"""Review flags, cluster scores and answers in words reach the clinician: on the
questionnaire page, beside the chart, in the caseload and in every export format.
The patient sees their total and band, and one plain sentence for a review flag,
never the flag's wording."""

from __future__ import annotations

import html
import json
import re

import pytest
from flask import Flask

from journal.clinical import questionnaires
from journal.clinical.score_details import PATIENT_REVIEW_NOTE
from journal.models import Role
from tests.conftest import Clinic, runtime
from tests.export_helpers import export, flat, pdf_text, validate
from tests.helpers import Browser
from tests.sql_counts import steady_sessions
from tests.test_no_n_plus_one import FEW_PATIENTS, MANY_PATIENTS, compare

ASSIGNMENT_LINK = re.compile(r'href="/questionnaires/([0-9a-f-]{36})/answer"')

PATTERN_LABEL = "probable PTSD screen positive by the symptom pattern"
TOTAL_LABEL = "Total at or above 33: probable PTSD screen positive"
GAD_LABEL = "Total at or above 10, the published cut-point at which further evaluation"
BELOW = "Below the screening cut-point"
AT_OR_ABOVE = "At or above the screening cut-point"

# Items 1 (B), 6 (C), 8 and 9 (D), 15 and 16 (E) at "Moderately", the rest at 0:
# 6 x 2 = 12, below the cut-point of 33, and exactly the DSM-5 pattern 1 B, 1 C, 2 D, 2 E.
PATTERN_ITEMS = (1, 6, 8, 9, 15, 16)


def _pcl5(moderate: tuple[int, ...] = PATTERN_ITEMS, **others: int) -> list[int]:
    values = [2 if n in moderate else 0 for n in range(1, 21)]
    for key, value in others.items():
        values[int(key[1:]) - 1] = value
    return values


def _answer(clinic: Clinic, instrument: str, values: list[int], difficulty: str = "") -> str:
    """Assign as the clinician, answer as the patient, through HTTP; the thank-you page."""
    clinician = clinic.world.browser(clinic.clinician)
    r = clinician.post(
        f"/courses/{clinic.course.id}/questionnaires",
        {"instrument_id": instrument, "cadence": "once"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    patient = clinic.world.browser(clinic.patient)
    (assignment,) = ASSIGNMENT_LINK.findall(patient.text(f"/courses/{clinic.course.id}"))
    form = {f"q{n}": str(v) for n, v in enumerate(values, start=1)}
    if instrument == "phq9":
        form["difficulty"] = difficulty
    r = patient.post(f"/questionnaires/{assignment}/answer", form, follow_redirects=True)
    assert r.status_code == 200, r.get_data(as_text=True)
    return html.unescape(r.get_data(as_text=True))


def _page(browser: Browser, clinic: Clinic) -> str:
    return html.unescape(browser.text(f"/courses/{clinic.course.id}/questionnaires"))


def _scores_table(page: str) -> str:
    (table,) = re.findall(r'<table class="scores-table">.*?</table>', page, re.S)
    return table


def _caseload_cell(clinic: Clinic) -> str:
    page = html.unescape(clinic.world.browser(clinic.clinician).text("/"))
    (cell,) = re.findall(r'<td data-label="Scores to review">(.*?)</td>', page, re.S)
    return cell


# -- the PCL-5 symptom pattern below the cut-point ------------------------------------


def test_the_pattern_below_the_cut_point_is_shown_to_the_clinician(clinic: Clinic) -> None:
    done = _answer(clinic, "pcl5", _pcl5())
    assert "12 of 80 (Below the screening cut-point)" in done
    assert PATIENT_REVIEW_NOTE in done  # the plain note, never the flag's wording
    assert PATTERN_LABEL not in done and "PTSD screen" not in done

    page = _page(clinic.world.browser(clinic.clinician), clinic)
    table = _scores_table(page)
    assert "12 of 80" in table and BELOW in table
    assert PATTERN_LABEL in table
    assert TOTAL_LABEL not in table  # 12 is far below 33
    # Cluster scores: B items 1-5, C 6-7, D 8-14, E 15-20, each item 0-4.
    for cluster, score in (
        ("Intrusion (cluster B)", "2 of 20"),
        ("Avoidance (cluster C)", "2 of 8"),
        ("Negative alterations in cognitions and mood (cluster D)", "4 of 28"),
        ("Alterations in arousal and reactivity (cluster E)", "4 of 24"),
    ):
        assert f"<td>{cluster}</td><td>{score}</td>" in page
    # Every answer in words, with its value.
    answers = re.findall(r"<td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td>", page)
    assert len(answers) == 20
    assert answers[0] == ("1", "Moderately (2)") and answers[1] == ("2", "Not at all (0)")
    assert [int(n) for n, words in answers if words == "Moderately (2)"] == list(PATTERN_ITEMS)
    assert "Review flags" in table


def test_the_patient_reads_the_plain_note_and_never_the_flag(clinic: Clinic) -> None:
    _answer(clinic, "pcl5", _pcl5())
    page = _page(clinic.world.browser(clinic.patient), clinic)
    table = _scores_table(page)
    assert "12 of 80" in table and BELOW in table
    assert PATIENT_REVIEW_NOTE in table
    for hidden in ("PTSD", "Review flags", "cluster B", "Moderately (2)", "Each answer"):
        assert hidden not in page


@pytest.mark.parametrize(
    ("dropped", "cluster"),
    [(1, "B"), (6, "C"), (9, "D"), (16, "E")],
)
def test_one_item_short_in_any_cluster_raises_no_pattern_flag(
    clinic: Clinic, dropped: int, cluster: str
) -> None:
    """The pattern's edge: one endorsed item fewer in cluster B, C, D or E."""
    moderate = tuple(n for n in PATTERN_ITEMS if n != dropped)
    _answer(clinic, "pcl5", _pcl5(moderate))
    table = _scores_table(_page(clinic.world.browser(clinic.clinician), clinic))
    assert "10 of 80" in table, cluster
    assert PATTERN_LABEL not in table and '<span class="muted">None</span>' in table
    patient = _scores_table(_page(clinic.world.browser(clinic.patient), clinic))
    assert PATIENT_REVIEW_NOTE not in patient
    assert "None" in _caseload_cell(clinic)


def test_an_item_rated_a_little_bit_does_not_count_towards_the_pattern(clinic: Clinic) -> None:
    """Item 16 at 1 ("A little bit") instead of 2: only 1 E item is endorsed."""
    _answer(clinic, "pcl5", _pcl5(q16=1))
    table = _scores_table(_page(clinic.world.browser(clinic.clinician), clinic))
    assert "11 of 80" in table and PATTERN_LABEL not in table


@pytest.mark.parametrize(
    ("total", "band", "flagged"), [(32, BELOW, False), (33, AT_OR_ABOVE, True)]
)
def test_the_pcl5_total_flag_at_its_edge(
    clinic: Clinic, total: int, band: str, flagged: bool
) -> None:
    # B all at 4 (20), C at 0 (so no pattern), D and E at 1: 20 + 6 + 6 = 32; item 14 at 1 is 33.
    values = [4] * 5 + [0, 0] + [1] * 6 + [1 if total == 33 else 0] + [1] * 6
    assert sum(values) == total
    _answer(clinic, "pcl5", values)
    table = _scores_table(_page(clinic.world.browser(clinic.clinician), clinic))
    assert f"{total} of 80" in table and band in table
    assert (TOTAL_LABEL in table) is flagged
    assert PATTERN_LABEL not in table  # no avoidance item endorsed
    patient = _scores_table(_page(clinic.world.browser(clinic.patient), clinic))
    assert (PATIENT_REVIEW_NOTE in patient) is flagged
    assert ("PCL-5" in _caseload_cell(clinic)) is flagged


@pytest.mark.parametrize(
    ("values", "band", "flagged"),
    [
        ([2, 2, 1, 1, 1, 1, 1], "Mild", False),  # 9
        ([2, 2, 2, 1, 1, 1, 1], "Moderate", True),  # 10
    ],
)
def test_the_gad7_further_evaluation_flag_at_its_edge(
    clinic: Clinic, values: list[int], band: str, flagged: bool
) -> None:
    total = sum(values)
    done = _answer(clinic, "gad7", values)
    assert f"{total} of 21 ({band})" in done and GAD_LABEL not in done
    assert (PATIENT_REVIEW_NOTE in done) is flagged
    table = _scores_table(_page(clinic.world.browser(clinic.clinician), clinic))
    assert f"{total} of 21" in table and band in table
    assert (GAD_LABEL in table) is flagged
    patient = _page(clinic.world.browser(clinic.patient), clinic)
    assert (PATIENT_REVIEW_NOTE in _scores_table(patient)) is flagged
    assert GAD_LABEL not in patient
    cell = _caseload_cell(clinic)
    assert ("GAD-7" in cell) is flagged


def test_phq9_answers_in_words_and_the_difficulty_item(clinic: Clinic) -> None:
    _answer(clinic, "phq9", [2, 1, 0, 3, 0, 0, 0, 0, 0], difficulty="2")
    page = _page(clinic.world.browser(clinic.clinician), clinic)
    answers = re.findall(
        r"<td>(\d+)</td><td>([^<]*)(?:<span[^>]*>([^<]*)</span>)?</td><td>([^<]*)</td>", page
    )
    words = {int(n): (note, said) for n, _, note, said in answers}
    assert words[1] == ("", "More than half the days (2)")
    assert words[2] == ("", "Several days (1)")
    assert words[4] == ("", "Nearly every day (3)")
    assert words[9] == ("", "Not at all (0)")
    assert words[10] == ("(not counted in the total)", "Very difficult (2)")
    assert "answered 2" not in page
    # The patient's own page keeps to totals and bands.
    patient = _page(clinic.world.browser(clinic.patient), clinic)
    assert "6 of 27" in patient and "Very difficult" not in patient


# -- the caseload ---------------------------------------------------------------------


def test_the_caseload_marks_a_review_flag_quieter_than_a_safety_flag(clinic: Clinic) -> None:
    page = clinic.world.browser(clinic.clinician).text("/")
    assert '<th scope="col">Scores to review</th>' in page
    assert "None" in _caseload_cell(clinic)
    _answer(clinic, "pcl5", _pcl5())
    cell = _caseload_cell(clinic)
    assert 'class="review-marker"' in cell and "PCL-5" in cell
    assert "flag-count" not in cell  # the safety flag's red count is kept for safety flags
    assert f"/courses/{clinic.course.id}/questionnaires#scores" in cell
    # Not a safety flag: the safety column still reads 0.
    page = html.unescape(clinic.world.browser(clinic.clinician).text("/"))
    (safety,) = re.findall(r'<td data-label="Safety flags">(.*?)</td>', page, re.S)
    assert "flag-count" not in safety


# -- every export format ----------------------------------------------------------------


def test_the_clinicians_exports_hold_flags_clusters_and_answers(clinic: Clinic) -> None:
    _answer(clinic, "pcl5", _pcl5())
    clinician = clinic.world.browser(clinic.clinician)
    data = json.loads(export(clinician, clinic.course.id, "json").data)
    validate(data)
    (pcl5,) = data["questionnaires"]
    (score,) = pcl5["scores"]
    assert (score["total"], score["band"], score["safety_flag"]) == (12, BELOW, False)
    assert [f["id"] for f in score["review_flags"]] == ["probable_ptsd_pattern"]
    assert score["review_flags"][0]["value"] == 6  # six items rated Moderately or more
    assert PATTERN_LABEL in score["review_flags"][0]["label"]
    assert score["review_note"] == PATIENT_REVIEW_NOTE
    assert [(c["id"], c["score"], c["max_score"]) for c in score["cluster_scores"]] == [
        ("cluster_b", 2, 20),
        ("cluster_c", 2, 8),
        ("cluster_d", 4, 28),
        ("cluster_e", 4, 24),
    ]
    assert [a["number"] for a in score["answers"]] == list(range(1, 21))
    assert score["answers"][0]["answer"] == "Moderately" and score["answers"][0]["value"] == 2
    assert score["answers"][1]["answer"] == "Not at all"
    assert all(a["scored"] for a in score["answers"])

    md = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "| Date | Score | Band | For | Review flags |" in md
    assert "Review: Items rated Moderately or higher in every symptom cluster" in md
    assert "- Intrusion (cluster B): 2 of 20" in md
    assert "- Alterations in arousal and reactivity (cluster E): 4 of 24" in md
    assert (
        "- 1. Repeated, disturbing, and unwanted memories of the stressful experience?"
        ": Moderately (2)" in md
    )

    page = html.unescape(export(clinician, clinic.course.id, "html").get_data(as_text=True))
    assert f"Review: {score['review_flags'][0]['label']}" in page
    assert "<td>Avoidance (cluster C)</td><td>2 of 8</td>" in page
    assert "<td>Moderately (2)</td>" in page

    pdf = flat(pdf_text(export(clinician, clinic.course.id, "pdf").data))
    assert flat(f"Review: {score['review_flags'][0]['label']}") in pdf
    assert flat("Intrusion (cluster B) 2 of 20") in pdf
    assert flat("Negative alterations in cognitions and mood (cluster D) 4 of 28") in pdf
    assert flat("Moderately (2)") in pdf


def test_the_patients_exports_hold_the_note_and_never_the_flag(clinic: Clinic) -> None:
    _answer(clinic, "pcl5", _pcl5())
    patient = clinic.world.browser(clinic.patient)
    data = json.loads(export(patient, clinic.course.id, "json").data)
    validate(data)
    (score,) = data["questionnaires"][0]["scores"]
    assert (score["total"], score["band"]) == (12, BELOW)
    assert score["review_note"] == PATIENT_REVIEW_NOTE
    assert "review_flags" not in score and "cluster_scores" not in score
    assert "answers" not in score
    for fmt in ("md", "html"):
        text = html.unescape(export(patient, clinic.course.id, fmt).get_data(as_text=True))
        assert "12 of 80" in text and PATIENT_REVIEW_NOTE in text
        assert "PTSD" not in text.replace("PTSD Checklist", "") and "cluster B" not in text
    pdf = flat(pdf_text(export(patient, clinic.course.id, "pdf").data))
    assert flat(PATIENT_REVIEW_NOTE) in pdf and flat(PATTERN_LABEL) not in pdf
    mine = json.loads(patient.post("/account/export", {"format": "json"}).data)
    (own,) = mine["courses"][0]["questionnaires"][0]["scores"]
    assert own["review_note"] == PATIENT_REVIEW_NOTE and "review_flags" not in own


def test_no_review_flag_means_no_note_in_any_export(clinic: Clinic) -> None:
    _answer(clinic, "gad7", [2, 2, 1, 1, 1, 1, 1])  # 9: below the cut-point
    for who in (clinic.clinician, clinic.patient):
        data = json.loads(export(clinic.world.browser(who), clinic.course.id, "json").data)
        validate(data)
        (score,) = data["questionnaires"][0]["scores"]
        assert score["review_note"] is None
        assert score.get("review_flags", []) == []


# -- a fixed number of statements ------------------------------------------------------


def test_the_caseload_statements_do_not_grow_with_flagged_patients(
    clinic: Clinic, app: Flask
) -> None:
    """The review markers of 1 and of 10 patients cost the same statements."""
    steady_sessions(app)
    world = clinic.world
    catalogue = runtime(world.app).clinical.instruments
    few, many = world.user(Role.CLINICIAN), world.user(Role.CLINICIAN)
    for clinician, patients in ((few, FEW_PATIENTS), (many, MANY_PATIENTS)):
        for _ in range(patients):
            patient = world.user(Role.PATIENT)
            course = world.course(patient, clinician)
            world.session(course, clinician, 3)
            for instrument, values in (("pcl5", _pcl5()), ("gad7", [2, 2, 2, 1, 1, 1, 1])):
                row = questionnaires.assign(
                    world.as_(clinician), catalogue, course.id, instrument, "once"
                )
                answers: dict[str, object] = {f"q{n}": v for n, v in enumerate(values, 1)}
                questionnaires.submit(world.as_(patient), catalogue, row.id, answers)
    b_few, b_many = world.browser(few), world.browser(many)
    assert b_many.text("/").count("GAD-7, PCL-5") == MANY_PATIENTS
    compare(app, (b_few, "/"), (b_many, "/"))
