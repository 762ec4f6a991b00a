"""A safety flag is acknowledged with what was done (sealed, shown on the flag list and in
the clinician's exports), and "I need support" in quick capture raises a flag for the
care team and opens Get help now at once."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select, text

from journal.clinical import questionnaires, safety_flags
from journal.models import SafetyFlag
from journal.notify import alerts
from tests.conftest import PG_URL, Clinic, runtime
from tests.export_helpers import export, flat, pdf_text, validate
from tests.helpers import mails_to

# Marker words of a clinician's note: found nowhere but where the note is shown.
NOTE = "Reached Robin Fiction by phone; lantern-crocus-7431 plan agreed"
REASON = "Answered in error, confirmed with the patient: quartz-heron-2958"
OPEN_FLAGS = '1<span class="visually-hidden"> open safety flag</span>'


def _flags(clinic: Clinic) -> list[SafetyFlag]:
    with runtime(clinic.world.app).database.session() as s:
        return list(s.scalars(select(SafetyFlag)))


def _phq9_flag(clinic: Clinic) -> uuid.UUID:
    """A PHQ-9 with item 9 above zero, answered by the patient: one open flag."""
    world = clinic.world
    catalogue = runtime(world.app).clinical.instruments
    row = questionnaires.assign(
        world.as_(clinic.clinician), catalogue, clinic.course.id, "phq9", "once"
    )
    answers: dict[str, object] = {f"q{n}": 0 for n in range(1, 9)} | {"q9": 2}
    questionnaires.submit(world.as_(clinic.patient), catalogue, row.id, answers)
    world.commit()
    (flag,) = _flags(clinic)
    return flag.id


def _flag_list(clinic: Clinic) -> str:
    return clinic.world.browser(clinic.clinician).text(
        f"/courses/{clinic.course.id}/questionnaires"
    )


# -- acknowledging with what was done --------------------------------------------


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "Choose what was done."),
        ({"action": "shrugged", "note": "x"}, "Choose what was done."),
        ({"action": "no_action"}, "Say why no action is needed."),
        ({"action": "no_action", "note": "   "}, "Say why no action is needed."),
        ({"action": "called_patient", "note": "x" * 1001}, "Keep the note under 1000"),
    ],
)
def test_acknowledging_needs_a_choice_and_a_reason_for_no_action(
    clinic: Clinic, form: dict[str, str], message: str
) -> None:
    flag_id = _phq9_flag(clinic)
    r = clinic.world.browser(clinic.clinician).post(f"/flags/{flag_id}/acknowledge", form)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert message in page
    assert 'id="flags"' in page  # the course's flag list again, the error by the flag
    (flag,) = _flags(clinic)
    assert flag.acknowledged_at is None and flag.acknowledgement is None


def test_the_action_and_note_show_on_the_flag_with_who_and_when(clinic: Clinic) -> None:
    flag_id = _phq9_flag(clinic)
    clinician = clinic.world.browser(clinic.clinician)
    before = _flag_list(clinic)
    assert 'name="action" value="called_patient"' in before
    assert "What was done:" not in before
    r = clinician.post(f"/flags/{flag_id}/acknowledge", {"action": "called_patient", "note": NOTE})
    assert r.status_code == 302 and r.location.endswith("#flags")
    (flag,) = _flags(clinic)
    assert flag.acknowledged_by == clinic.clinician.id and flag.acknowledged_at is not None
    page = _flag_list(clinic)
    assert f"acknowledged by {clinic.clinician.name}" in page
    assert f"<strong>What was done:</strong> Called the patient: {NOTE}" in page
    assert 'name="action"' not in page  # no second acknowledgement
    assert OPEN_FLAGS not in clinician.text("/")
    # A second post changes nothing: what was recorded first stands.
    again = clinician.post(f"/flags/{flag_id}/acknowledge", {"action": "emergency_services"})
    assert again.status_code == 302
    assert "Contacted emergency services" not in _flag_list(clinic)


def test_no_action_needed_is_kept_with_its_reason(clinic: Clinic) -> None:
    flag_id = _phq9_flag(clinic)
    r = clinic.world.browser(clinic.clinician).post(
        f"/flags/{flag_id}/acknowledge", {"action": "no_action", "note": REASON}
    )
    assert r.status_code == 302
    assert f"No action needed: {REASON}" in _flag_list(clinic)


def test_only_the_care_teams_clinicians_acknowledge(clinic: Clinic) -> None:
    flag_id = _phq9_flag(clinic)
    form = {"action": "called_patient", "note": NOTE}
    w = clinic.world
    assert (
        w.browser(clinic.other_clinician).post(f"/flags/{flag_id}/acknowledge", form).status_code
        == 404
    )
    assert w.browser(clinic.patient).post(f"/flags/{flag_id}/acknowledge", form).status_code == 403
    assert (
        w.browser(clinic.other_patient).post(f"/flags/{flag_id}/acknowledge", form).status_code
        == 403
    )
    assert w.browser(clinic.admin).post(f"/flags/{flag_id}/acknowledge", form).status_code == 403
    # An outsider's incomplete form learns nothing either: 404, not the course's page.
    assert (
        w.browser(clinic.other_clinician).post(f"/flags/{flag_id}/acknowledge").status_code == 404
    )
    (flag,) = _flags(clinic)
    assert flag.acknowledged_at is None


def _db_files(clinic: Clinic) -> bytes:
    url = runtime(clinic.world.app).settings.database_url
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_the_note_is_sealed_with_the_patients_key(clinic: Clinic) -> None:
    flag_id = _phq9_flag(clinic)
    clinic.world.browser(clinic.clinician).post(
        f"/flags/{flag_id}/acknowledge", {"action": "emergency_services", "note": NOTE}
    )
    with runtime(clinic.world.app).database.session() as s:
        (row,) = s.execute(text("SELECT * FROM safety_flags")).mappings().all()
    stored = dict(row)
    blob = bytes(stored["acknowledgement"])
    assert NOTE.encode() not in blob and b"emergency" not in blob
    for column, value in stored.items():
        if not isinstance(value, bytes | memoryview):
            assert "emergency" not in str(value) and "lantern" not in str(value), column
    # Opened with the patient's journal key, it says what was done.
    (flag,) = _flags(clinic)
    vault = clinic.world.vault
    ack = safety_flags.open_acknowledgement(vault, flag, clinic.patient.id)
    assert ack == safety_flags.Acknowledgement("emergency_services", NOTE)
    if not PG_URL:
        clinic.world.db.rollback()  # the key lookup's read would hold the log open
        assert runtime(clinic.world.app).database.checkpoint()
        assert b"lantern-crocus-7431" not in _db_files(clinic)


# -- in the exports -----------------------------------------------------------


def test_the_clinicians_exports_hold_the_flag_and_what_was_done(clinic: Clinic) -> None:
    flag_id = _phq9_flag(clinic)
    clinician = clinic.world.browser(clinic.clinician)
    clinician.post(f"/flags/{flag_id}/acknowledge", {"action": "scheduled_visit", "note": NOTE})
    data = json.loads(export(clinician, clinic.course.id, "json").data)
    validate(data)
    (flag,) = data["safety_flags"]
    assert flag["action"] == "scheduled_visit" and flag["action_label"] == "Scheduled a visit"
    assert flag["note"] == NOTE and flag["acknowledged_by"] == clinic.clinician.name
    assert flag["detail"].startswith("PHQ-9: Item 9") and flag["acknowledged_at"].endswith("Z")
    md = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "# Safety flags" in md
    assert f"What was done: Scheduled a visit: {NOTE}" in md
    assert f"Acknowledged by {clinic.clinician.name}" in md
    html = export(clinician, clinic.course.id, "html").get_data(as_text=True)
    assert f"What was done: Scheduled a visit: {NOTE}" in html
    pdf = flat(pdf_text(export(clinician, clinic.course.id, "pdf").data))
    assert flat(f"What was done: Scheduled a visit: {NOTE}") in pdf


def test_an_open_flag_is_exported_as_open(clinic: Clinic) -> None:
    _phq9_flag(clinic)
    clinician = clinic.world.browser(clinic.clinician)
    data = json.loads(export(clinician, clinic.course.id, "json").data)
    validate(data)
    (flag,) = data["safety_flags"]
    assert flag["acknowledged_at"] is None and flag["action"] is None and flag["note"] is None
    md = export(clinician, clinic.course.id, "md").get_data(as_text=True)
    assert "Not acknowledged yet." in md


def test_the_patients_exports_hold_no_flag(clinic: Clinic) -> None:
    flag_id = _phq9_flag(clinic)
    clinic.world.browser(clinic.clinician).post(
        f"/flags/{flag_id}/acknowledge", {"action": "called_patient", "note": NOTE}
    )
    patient = clinic.world.browser(clinic.patient)
    data = json.loads(export(patient, clinic.course.id, "json").data)
    validate(data)
    assert "safety_flags" not in data
    md = export(patient, clinic.course.id, "md").get_data(as_text=True)
    assert "Safety flags" not in md and NOTE not in md
    mine = patient.post("/account/export", {"format": "json"}).get_data(as_text=True)
    assert "safety_flags" not in mine and NOTE not in mine


# -- "I need support" in quick capture ---------------------------------------------


def _support(clinic: Clinic) -> str:
    return f"/courses/{clinic.course.id}/quick/support"


def test_the_quick_capture_page_offers_i_need_support(clinic: Clinic) -> None:
    page = clinic.world.browser(clinic.patient).text(f"/courses/{clinic.course.id}/quick")
    assert f'action="{_support(clinic)}"' in page
    assert ">I need support</button>" in page
    assert "not watched around the clock" in page


def test_i_need_support_raises_one_flag_and_opens_get_help(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(_support(clinic))
    assert r.status_code == 302 and r.location.endswith("/help")
    page = patient.text("/help")
    assert "Your care team has been told that you asked for support, and is sent an e-mail" in page
    assert "sent an e-mail about it within a few minutes" in page
    assert "not watched around the clock" in page
    # What the page promises happens: the worker's next scan e-mails the care team.
    with runtime(clinic.world.app).work(write=True) as work:
        assert alerts.scan(work) == 1
    assert any("needs a clinician" in m for m in mails_to(clinic.world.app, clinic.clinician.email))
    (flag,) = _flags(clinic)
    assert flag.course_id == clinic.course.id and flag.acknowledged_at is None
    vault = clinic.world.vault
    owner = clinic.patient.id
    assert vault.open_column(flag, "detail", owner) == safety_flags.SUPPORT_DETAIL
    source = json.loads(vault.open_column(flag, "source", owner))
    assert source["origin"] == "quick_capture" and source["response_id"] is None
    # A second tap while it is open raises no second flag.
    assert patient.post(_support(clinic)).status_code == 302
    assert len(_flags(clinic)) == 1


def test_the_care_team_sees_it_like_any_flag_and_acknowledges_it(clinic: Clinic) -> None:
    clinic.world.browser(clinic.patient).post(_support(clinic))
    clinician = clinic.world.browser(clinic.clinician)
    assert OPEN_FLAGS in clinician.text("/")  # the caseload's safety column
    assert "safety flag to look at" in clinician.text(f"/courses/{clinic.course.id}")
    page = _flag_list(clinic)
    assert "The patient asked for support from quick capture" in page
    (flag,) = _flags(clinic)
    assert clinician.post(f"/flags/{flag.id}/acknowledge").status_code == 400
    r = clinician.post(f"/flags/{flag.id}/acknowledge", {"action": "called_patient", "note": NOTE})
    assert r.status_code == 302
    assert f"Called the patient: {NOTE}" in _flag_list(clinic)
    assert OPEN_FLAGS not in clinician.text("/")
    # Once acknowledged, asking again raises a new flag.
    clinic.world.browser(clinic.patient).post(_support(clinic))
    assert len(_flags(clinic)) == 2
    assert OPEN_FLAGS in clinician.text("/")


def test_the_patient_never_sees_the_flags_internals(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    patient.post(_support(clinic))
    for url in (
        f"/courses/{clinic.course.id}",
        f"/courses/{clinic.course.id}/questionnaires",
        f"/courses/{clinic.course.id}/quick",
        "/help",
    ):
        page = patient.text(url)
        assert "Safety flags" not in page and safety_flags.SUPPORT_DETAIL not in page, url
        assert "quick_capture" not in page, url
    (flag,) = _flags(clinic)
    assert patient.post(f"/flags/{flag.id}/acknowledge", {"action": "no_action"}).status_code == 403


def test_only_the_patient_of_an_open_course_raises_it(clinic: Clinic) -> None:
    w = clinic.world
    assert w.browser(clinic.other_patient).post(_support(clinic)).status_code == 404
    assert w.browser(clinic.clinician).post(_support(clinic)).status_code == 403
    assert w.browser(clinic.admin).post(_support(clinic)).status_code == 403
    assert w.app.test_client().post(_support(clinic)).status_code in (302, 400)  # signed out
    assert _flags(clinic) == []
    closed = w.browser(clinic.clinician).post(f"/courses/{clinic.course.id}/status/closed")
    assert closed.status_code == 302
    patient = w.browser(clinic.patient)
    r = patient.post(_support(clinic))
    assert r.status_code == 302 and r.location.endswith("/help")
    assert "your care team was not told through the journal" in patient.text("/help")
    assert _flags(clinic) == []
