"""Questionnaires from the outside: assigned by a clinician, answered by the patient,
scored and stored encrypted, drawn as a trend; a safety flag cannot be missed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from journal.clinical import questionnaires
from journal.core.actor import Actor
from journal.db import utcnow
from journal.models import QuestionnaireResponse, SafetyFlag, SessionStatus
from tests.conftest import Clinic, runtime
from tests.helpers import Browser

ASSIGNMENT_LINK = re.compile(r'href="/questionnaires/([0-9a-f-]{36})/answer"')


def _assign(clinic: Clinic, instrument: str = "phq9", cadence: str = "once") -> Browser:
    clinician = clinic.world.browser(clinic.clinician)
    r = clinician.post(
        f"/courses/{clinic.course.id}/questionnaires",
        {"instrument_id": instrument, "cadence": cadence},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    return clinician


def _due_link(patient: Browser, clinic: Clinic) -> str:
    page = patient.text(f"/courses/{clinic.course.id}")
    (assignment,) = ASSIGNMENT_LINK.findall(page)
    return f"/questionnaires/{assignment}/answer"


def _answers(values: list[int], difficulty: str = "") -> dict[str, str]:
    form = {f"q{n}": str(v) for n, v in enumerate(values, start=1)}
    form["difficulty"] = difficulty
    return form


def _responses(clinic: Clinic) -> list[QuestionnaireResponse]:
    with runtime(clinic.world.app).database.session() as s:
        return list(s.scalars(select(QuestionnaireResponse)))


def _flags(clinic: Clinic) -> list[SafetyFlag]:
    with runtime(clinic.world.app).database.session() as s:
        return list(s.scalars(select(SafetyFlag)))


def test_an_assigned_questionnaire_is_answered_scored_and_charted(clinic: Clinic) -> None:
    _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    link = _due_link(patient, clinic)
    form = patient.text(link)
    assert "Little interest or pleasure in doing things" in form  # the published item 1
    assert form.count('type="radio"') == 9 * 4 + 4  # nine items and the difficulty question

    # 1+1+1+1+1+1+1+2+0 = 9 by hand: "Mild" (5-9); item 9 at zero raises no flag.
    r = patient.post(link, _answers([1, 1, 1, 1, 1, 1, 1, 2, 0], difficulty="1"))
    assert r.status_code == 200
    done = r.get_data(as_text=True)
    assert "9 of 27 (Mild)" in done
    assert 'class="crisis"' not in done  # no flag, no crisis message

    (row,) = _responses(clinic)
    assert b'"total"' not in row.result and b"Mild" not in row.result  # encrypted
    assert _flags(clinic) == []
    # Answered once: no longer due, and the answer page is gone.
    assert ASSIGNMENT_LINK.findall(patient.text(f"/courses/{clinic.course.id}")) == []
    assert patient.get(link).status_code == 404
    # The trend: the patient's own page and the clinician's show the row and the chart.
    for who in (patient, clinic.world.browser(clinic.clinician)):
        page = who.text(f"/courses/{clinic.course.id}/questionnaires")
        assert "<svg" in page and "9 of 27" in page and "Mild" in page


def test_an_incomplete_or_out_of_scale_answer_saves_nothing(clinic: Clinic) -> None:
    _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    link = _due_link(patient, clinic)
    incomplete = _answers([1] * 8)
    r = patient.post(link, incomplete)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Please answer every question" in page
    assert 'id="q9-error"' in page
    assert 'name="q1" value="1" checked' in page  # what was chosen is kept
    r = patient.post(link, _answers([1] * 8 + [7]))
    assert r.status_code == 400
    assert _responses(clinic) == []


@pytest.mark.parametrize(("item9", "flagged"), [(0, False), (1, True), (3, True)])
def test_item_9_above_zero_raises_a_flag_at_once(clinic: Clinic, item9: int, flagged: bool) -> None:
    clinician = _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(_due_link(patient, clinic), _answers([0] * 8 + [item9]))
    assert r.status_code == 200
    done = r.get_data(as_text=True)
    crisis = runtime(clinic.world.app).settings.crisis_resources
    assert ("<strong>This journal is not watched around the clock.</strong>" in done) is flagged
    assert (crisis in done) is flagged
    assert len(_flags(clinic)) == int(flagged)

    caseload = clinician.text("/")
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    if flagged:
        assert '1<span class="visually-hidden"> open safety flag</span>' in caseload
        assert "safety flag to look at" in timeline
    else:
        assert "open safety flag" not in caseload
        assert "safety flag to look at" not in timeline
    # The patient never sees the flag list.
    assert "Safety flags" not in patient.text(f"/courses/{clinic.course.id}/questionnaires")


def test_a_clinician_acknowledges_a_flag_with_name_and_time(clinic: Clinic) -> None:
    clinician = _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    patient.post(_due_link(patient, clinic), _answers([2] * 9))
    (flag,) = _flags(clinic)
    outsider = clinic.world.browser(clinic.other_clinician)
    assert outsider.post(f"/flags/{flag.id}/acknowledge").status_code == 404
    assert patient.post(f"/flags/{flag.id}/acknowledge").status_code == 403
    assert _flags(clinic)[0].acknowledged_at is None
    r = clinician.post(f"/flags/{flag.id}/acknowledge")
    assert r.status_code == 302
    (flag,) = _flags(clinic)
    assert flag.acknowledged_by == clinic.clinician.id and flag.acknowledged_at is not None
    page = clinician.text(f"/courses/{clinic.course.id}/questionnaires")
    assert f"acknowledged by {clinic.clinician.name}" in page
    assert "open safety flag" not in clinician.text("/")


def test_who_may_assign_and_answer(clinic: Clinic) -> None:
    url = f"/courses/{clinic.course.id}/questionnaires"
    form = {"instrument_id": "gad7", "cadence": "once"}
    assert clinic.world.browser(clinic.patient).post(url, form).status_code == 404
    assert clinic.world.browser(clinic.other_clinician).post(url, form).status_code == 404
    assert clinic.world.browser(clinic.other_clinician).get(url).status_code == 404
    assert clinic.world.browser(clinic.admin).get(url).status_code == 404
    _assign(clinic, "gad7")
    patient = clinic.world.browser(clinic.patient)
    link = _due_link(patient, clinic)
    assert clinic.world.browser(clinic.other_patient).get(link).status_code == 404
    assert clinic.world.browser(clinic.clinician).get(link).status_code == 403


def test_bad_assignments_are_refused_clearly(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    url = f"/courses/{clinic.course.id}/questionnaires"
    r = clinician.post(url, {"instrument_id": "nope", "cadence": "once"})
    assert r.status_code == 400 and "Choose one of the listed questionnaires." in r.get_data(
        as_text=True
    )
    r = clinician.post(url, {"instrument_id": "phq9", "cadence": "hourly"})
    assert r.status_code == 400
    _assign(clinic)
    r = clinician.post(url, {"instrument_id": "phq9", "cadence": "once"})
    assert r.status_code == 400 and "already assigned" in r.get_data(as_text=True)


def test_before_every_session_comes_due_again_for_the_next_session(clinic: Clinic) -> None:
    world = clinic.world
    catalogue = runtime(world.app).clinical.instruments
    patient, clinician = Actor(clinic.patient), Actor(clinic.clinician)
    now = utcnow()
    later = world.session(clinic.course, clinic.clinician, 20, SessionStatus.SCHEDULED)
    row = questionnaires.assign(
        world.as_actor(clinician), catalogue, clinic.course.id, "gad7", "before_each_session"
    )
    (due,) = questionnaires.due_for_patient(
        world.as_actor(patient), catalogue, clinic.course.id, now
    )
    assert due.session is not None and due.session.id == clinic.upcoming.id
    questionnaires.submit(
        world.as_actor(patient), catalogue, row.id, {f"q{n}": 0 for n in range(1, 8)}, now
    )
    assert (
        questionnaires.due_for_patient(world.as_actor(patient), catalogue, clinic.course.id, now)
        == []
    )
    # Once the next session has passed, the one after it is due.
    after = clinic.upcoming.scheduled_at + timedelta(hours=1)
    (due,) = questionnaires.due_for_patient(
        world.as_actor(patient), catalogue, clinic.course.id, after
    )
    assert due.session is not None and due.session.id == later.id
