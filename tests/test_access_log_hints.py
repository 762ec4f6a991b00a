"""The patient's access log lists exports of their course, and gives no hint of
clinician-only entries: a search or a session review that touched only those
is audited, but not shown to the patient."""

from __future__ import annotations

from sqlalchemy import select

from journal.models import AuditEvent
from tests.conftest import Clinic, entry_form, runtime
from tests.test_access_log import log_rows, write_entry


def _events(clinic: Clinic, action: str) -> list[AuditEvent]:
    with runtime(clinic.world.app).database.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_search_of_clinician_only_entries_is_audited_but_not_shown(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    write_entry(
        clinician, clinic, title="Staff words", body="zephyrine", visibility="clinician_only"
    )
    assert "zephyrine" in clinician.search("zephyrine").get_data(as_text=True)
    (event,) = _events(clinic, "read")
    assert event.object_type == "staff_search" and event.subject_id == clinic.patient.id
    patient = clinic.world.browser(clinic.patient)
    assert log_rows(patient) == []


def test_a_search_showing_shared_words_is_shown(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    write_entry(patient, clinic, title="Shared", body="marigold", visibility="care_team")
    clinician = clinic.world.browser(clinic.clinician)
    assert "marigold" in clinician.search("marigold").get_data(as_text=True)
    rows = log_rows(patient)
    assert len(rows) == 1 and "search results" in rows[0]


def test_a_session_review_of_clinician_only_entries_is_not_shown(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    write_entry(clinician, clinic, title="Staff only", visibility="clinician_only")
    r = clinician.post(f"/courses/{clinic.course.id}/sessions/{clinic.past.id}/review")
    assert r.status_code == 302
    (event,) = _events(clinic, "session.review")
    assert event.object_type == "staff_session"
    assert log_rows(clinic.world.browser(clinic.patient)) == []


def test_a_clinicians_export_is_shown_to_the_patient(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    clinician = clinic.world.browser(clinic.clinician)
    r = clinician.post(f"/courses/{clinic.course.id}/export", {"format": "json"})
    assert r.status_code == 200, r.status_code
    rows = log_rows(patient)
    assert any("Exported (JSON) a summary of your course" in row for row in rows), rows
