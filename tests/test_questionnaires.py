"""Questionnaires from the outside: assigned by a clinician, answered by the patient,
scored and stored encrypted, drawn as a trend; a safety flag cannot be missed."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from journal.bootstrap import initialise
from journal.clinical import questionnaires
from journal.config import Settings
from journal.core.actor import Actor
from journal.core.vault import Vault
from journal.db import utcnow
from journal.models import QuestionnaireResponse, SafetyFlag, SessionStatus
from tests.conftest import PG_URL, Clinic, runtime
from tests.helpers import CSRF_RE, Browser

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
    r = patient.post(
        link, _answers([1, 1, 1, 1, 1, 1, 1, 2, 0], difficulty="1"), follow_redirects=True
    )
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
    r = patient.post(link, incomplete, follow_redirects=True)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Please answer every question" in page
    assert 'id="q9-error"' in page
    assert 'name="q1" value="1" checked' in page  # what was chosen is kept
    r = patient.post(link, _answers([1] * 8 + [7]), follow_redirects=True)
    assert r.status_code == 400
    assert _responses(clinic) == []


@pytest.mark.parametrize(("item9", "flagged"), [(0, False), (1, True), (3, True)])
def test_item_9_above_zero_raises_a_flag_at_once(clinic: Clinic, item9: int, flagged: bool) -> None:
    clinician = _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(_due_link(patient, clinic), _answers([0] * 8 + [item9]), follow_redirects=True)
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
    patient.post(_due_link(patient, clinic), _answers([2] * 9), follow_redirects=True)
    (flag,) = _flags(clinic)
    outsider = clinic.world.browser(clinic.other_clinician)
    assert outsider.post(f"/flags/{flag.id}/acknowledge").status_code == 404
    assert patient.post(f"/flags/{flag.id}/acknowledge").status_code == 403
    assert _flags(clinic)[0].acknowledged_at is None
    r = clinician.post(f"/flags/{flag.id}/acknowledge", {"action": "called_patient"})
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


def test_before_every_session_comes_due_again_before_the_next_session(clinic: Clinic) -> None:
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
    # An hour into the session it still belongs to it (answered): the next session's
    # window opens only 72 hours before that one, not because this one has started.
    during = clinic.upcoming.scheduled_at + timedelta(hours=1)
    assert (
        questionnaires.due_for_patient(world.as_actor(patient), catalogue, clinic.course.id, during)
        == []
    )
    opened = later.scheduled_at - timedelta(hours=71)
    (due,) = questionnaires.due_for_patient(
        world.as_actor(patient), catalogue, clinic.course.id, opened
    )
    assert due.session is not None and due.session.id == later.id


# -- what a copy of the database tells about a flag ---------------------------------

# What would name the flag's kind: the questionnaire, the rule, the item, its words.
FLAG_WORDS = ("phq9", "PHQ-9", "self_harm_thoughts", "better off dead")


def _raw(clinic: Clinic, sql: str) -> list[dict[str, object]]:
    """Rows as the database stores them, through plain SQL (no model, no key)."""
    with runtime(clinic.world.app).database.session() as s:
        return [dict(r) for r in s.execute(text(sql)).mappings()]


def _db_files(clinic: Clinic) -> bytes:
    url = runtime(clinic.world.app).settings.database_url
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


FLAGS_SECTION = re.compile(r'<section class="card" id="flags".*?</section>', re.S)


def _flag_page(clinic: Clinic) -> str:
    """The clinician's list of the course's safety flags."""
    page = clinic.world.browser(clinic.clinician).text(
        f"/courses/{clinic.course.id}/questionnaires"
    )
    (section,) = FLAGS_SECTION.findall(page)
    return CSRF_RE.sub("TOKEN", section)


def _iso(clinic: Clinic, moment: datetime) -> str:
    """A time as the pages write it in a <time datetime> attribute."""
    zone = runtime(clinic.world.app).settings.zone
    return moment.astimezone(zone).isoformat(timespec="minutes")


def _raise_a_flag(clinic: Clinic) -> dict[str, object]:
    """A PHQ-9 answered through the pages with item 9 above zero; the response as stored."""
    _assign(clinic)
    patient = clinic.world.browser(clinic.patient)
    assert (
        patient.post(
            _due_link(patient, clinic), _answers([0] * 8 + [2]), follow_redirects=True
        ).status_code
        == 200
    )
    (response,) = _raw(
        clinic, "SELECT id, assignment_id, instrument_id, submitted_at FROM questionnaire_responses"
    )
    return response


@pytest.mark.security_review(finding=8)
def test_a_stored_flag_says_only_that_the_course_has_a_flag(clinic: Clinic) -> None:
    response = _raise_a_flag(clinic)
    assert response["instrument_id"] == "phq9"  # the response names its questionnaire...
    (flag,) = _raw(clinic, "SELECT * FROM safety_flags")
    clear = {k: v for k, v in flag.items() if not isinstance(v, bytes | memoryview)}
    sealed = {k: bytes(v) for k, v in flag.items() if isinstance(v, bytes | memoryview)}
    # ...so no clear column of the flag may lead to it: not its id, not its time.
    assert not set(clear.values()) & set(response.values()), clear
    assert clear["legacy_response_id"] is None and clear["legacy_raised_at"] is None
    for column, value in clear.items():
        assert not any(w.lower() in str(value).lower() for w in (*FLAG_WORDS, "q9")), column
    assert set(sealed) == {"detail", "source"}
    for column, blob in sealed.items():
        assert not any(w.encode() in blob for w in FLAG_WORDS), column
    # The course's open flags are still counted from the clear rows.
    caseload = clinic.world.browser(clinic.clinician).text("/")
    assert '1<span class="visually-hidden"> open safety flag</span>' in caseload


@pytest.mark.skipif(bool(PG_URL), reason="PostgreSQL keeps its files out of this test's reach")
def test_no_word_of_the_flag_is_in_the_database_files(clinic: Clinic) -> None:
    _raise_a_flag(clinic)
    assert runtime(clinic.world.app).database.checkpoint()
    stored = _db_files(clinic)
    assert not [w for w in FLAG_WORDS[2:] if w.encode() in stored]


def test_the_clinician_still_sees_the_flag_its_kind_and_when(clinic: Clinic) -> None:
    _raise_a_flag(clinic)
    page = _flag_page(clinic)
    assert "PHQ-9: Item 9 (thoughts of being better off dead or of self-harm)" in page
    assert "(answered 2)" in page
    (stored,) = _responses(clinic)
    assert f'Raised <time datetime="{_iso(clinic, stored.submitted_at)}">' in page


def test_flags_are_shown_open_first_then_newest_first(clinic: Clinic) -> None:
    world = clinic.world
    catalogue = runtime(world.app).clinical.instruments
    clinician, patient = world.as_(clinic.clinician), world.as_(clinic.patient)
    earlier, later = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
    for when, item9 in ((earlier, 1), (later, 3)):
        row = questionnaires.assign(
            clinician, catalogue, clinic.course.id, "phq9", "once", when - timedelta(hours=1)
        )
        answers: dict[str, object] = {f"q{n}": 0 for n in range(1, 9)} | {"q9": item9}
        questionnaires.submit(patient, catalogue, row.id, answers, when)
        questionnaires.end_assignment(clinician, row.id, when)
    world.commit()

    def shown() -> list[tuple[str | None, object, bool]]:
        flags = questionnaires.course_measures(clinician, catalogue, clinic.course.id).flags
        world.commit()
        return [(f.instrument_id, f.raised_at, f.acknowledged_at is None) for f in flags]

    assert shown() == [("phq9", later, True), ("phq9", earlier, True)]
    newest = questionnaires.course_measures(clinician, catalogue, clinic.course.id).flags[0]
    questionnaires.acknowledge(clinician, newest.id, "called_patient")
    world.commit()
    assert shown() == [("phq9", earlier, True), ("phq9", later, False)]


def test_init_seals_flags_stored_in_clear_by_earlier_versions_once(
    clinic: Clinic, settings: Settings
) -> None:
    _raise_a_flag(clinic)
    (stored,) = _responses(clinic)
    before = _flag_page(clinic)
    # A flag as versions before 0013 stored it: its response and time in clear.
    with runtime(clinic.world.app).database.session(write=True) as s:
        s.execute(
            update(SafetyFlag).values(
                source=None,
                legacy_response_id=stored.id,
                legacy_raised_at=stored.submitted_at,
            )
        )
        s.commit()
    old_style = _flag_page(clinic)  # shown all the same until init seals it
    assert "(answered 2)" in old_style
    assert f'datetime="{_iso(clinic, stored.submitted_at)}"' in old_style

    assert "sealed what raised 1 safety flags" in initialise(settings)
    (flag,) = _flags(clinic)
    assert flag.legacy_response_id is None and flag.legacy_raised_at is None
    assert flag.source is not None
    with runtime(clinic.world.app).database.session() as s:
        vault = Vault(s, runtime(clinic.world.app).ring)
        source = json.loads(vault.open_column(flag, "source", clinic.patient.id))
    assert source["response_id"] == str(stored.id) and source["instrument_id"] == "phq9"
    assert datetime.fromisoformat(source["raised_at"]) == stored.submitted_at
    assert _flag_page(clinic) == before

    assert not [m for m in initialise(settings) if "safety flags" in m]  # nothing left to do
    assert _flags(clinic)[0].source == flag.source


FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')


def test_the_thank_you_page_can_be_reloaded_and_a_resent_answer_files_nothing_twice(
    clinic: Clinic,
) -> None:
    _assign(clinic, "gad7")
    patient = clinic.world.browser(clinic.patient)
    link = _due_link(patient, clinic)
    (token,) = FORM_TOKEN.findall(patient.text(link))
    form = {f"q{n}": "1" for n in range(1, 8)} | {"form_token": token}
    r = patient.post(link, form)
    assert r.status_code == 302 and "/questionnaires/answers/" in r.location
    thanks = r.location
    for _ in range(2):  # reloaded, or opened again from a bookmark
        page = patient.text(thanks)
        assert "Thank you for your answers" in page and "GAD-7: 7 of 21" in page
    # The same request sent again (a browser's resend): nothing new, back to the page.
    again = patient.post(link, form)
    assert again.status_code == 302 and again.location == thanks
    assert len(_responses(clinic)) == 1
    # The page is the patient's own: nobody else opens it.
    for other in (clinic.other_patient, clinic.clinician, clinic.admin):
        assert clinic.world.browser(other).get(thanks).status_code in (403, 404), other.email
