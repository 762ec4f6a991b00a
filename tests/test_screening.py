"""The screening before a course, from the outside: one per course, recorded by a
care-team clinician, every item answered yes, no or unknown with a note; any yes or
unknown shows "needs clinician review"; it never speaks of eligibility; the patient and
clinicians outside the care team cannot reach it; encrypted at rest; erased with the
patient."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from journal.clinical.checklist import load_checklist
from journal.clinical.screenings import ScreeningData
from journal.core.vault import Vault
from journal.keyrotation import SEALED, rotate_data_keys, verify_all
from journal.models import AuditEvent, Screening
from tests.conftest import Clinic, runtime
from tests.helpers import Browser
from tests.scene import count_rows, marker
from tests.test_review_at_rest import database_hits

ITEMS = [item.id for item in load_checklist().items]
FORM_START = 'class="card screening-form"'


def url(clinic: Clinic) -> str:
    return f"/courses/{clinic.course.id}/screening"


def form(answers: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    data = {f"answer_{i}": "no" for i in ITEMS}
    data.update({f"note_{i}": "" for i in ITEMS})
    data.update({f"answer_{k}": v for k, v in (answers or {}).items()})
    data.update({"reviewed_on": "2026-11-20", "version": ""})
    data.update(extra)
    return data


def stored(app: Flask, clinic: Clinic) -> tuple[Screening, ScreeningData] | None:
    rt = runtime(app)
    with rt.database.session() as s:
        row = s.scalar(select(Screening).where(Screening.course_id == clinic.course.id))
        if row is None:
            return None
        s.expunge(row)
        text = Vault(s, rt.ring).open_column(row, "content", clinic.patient.id)
        return row, ScreeningData.from_json(text)


def save(b: Browser, clinic: Clinic, data: dict[str, str]) -> str:
    r = b.post(url(clinic), data)
    assert r.status_code == 302, r.get_data(as_text=True)
    return b.text(url(clinic))


@pytest.fixture
def clinician(clinic: Clinic) -> Browser:
    return clinic.world.browser(clinic.clinician)


def test_the_checklist_of_the_brief_is_offered(clinic: Clinic, clinician: Browser) -> None:
    page = clinician.text(url(clinic))
    for text in (
        "History of psychosis or schizophrenia",
        "Uncontrolled high blood pressure",
        "Heart disease",
        "Known allergy or sensitivity to ketamine",
        "Substance use history",
        "Pregnancy",
        "Current medications that interact",
    ):
        assert text in page
    assert page.count('type="radio"') == 3 * len(ITEMS)
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    assert url(clinic) in timeline and "not recorded" in timeline


def test_all_no_raises_nothing_and_never_speaks_of_eligibility(
    clinic: Clinic, clinician: Browser
) -> None:
    page = save(clinician, clinic, form())
    assert "No item raised for review" in page
    assert "Needs clinician review" not in page.split(FORM_START, 1)[0]
    assert f"Reviewed by {clinic.clinician.name} on Fri 20 Nov 2026" in page
    for word in ("eligible", "ineligible", "approved", "cleared"):
        assert word not in page.lower()
    timeline = clinician.text(f"/courses/{clinic.course.id}")
    assert "needs clinician review" not in timeline


@pytest.mark.parametrize("answer", ["yes", "unknown"])
def test_any_yes_or_unknown_needs_clinician_review(
    clinic: Clinic, clinician: Browser, answer: str
) -> None:
    page = save(clinician, clinic, form({"heart_disease": answer}))
    head = page.split(FORM_START, 1)[0]
    assert "Needs clinician review" in head
    assert f"Heart disease: {answer}" in head
    assert "Pregnancy: " not in head  # answered no: not listed
    assert "needs clinician review" in clinician.text(f"/courses/{clinic.course.id}")


def test_answers_and_notes_are_kept_and_editable_with_the_reviewer_updated(
    clinic: Clinic, clinician: Browser
) -> None:
    note = marker("note")
    save(clinician, clinic, form({"substance_use": "yes"}, note_substance_use=f"Past {note}"))
    found = stored(clinic.world.app, clinic)
    assert found is not None
    row, data = found
    assert row.reviewer_id == clinic.clinician.id and row.version == 1
    assert data.answers["substance_use"] == "yes" and data.notes["substance_use"] == f"Past {note}"
    page = clinician.text(url(clinic))
    assert f"Past {note}</textarea>" in page
    assert re.search(r'name="answer_substance_use" value="yes" checked', page)

    colleague = clinic.world.user(clinic.clinician.role)
    clinic.world.join_team(clinic.course, colleague)
    other = clinic.world.browser(colleague)
    page = save(other, clinic, form(reviewed_on="2026-11-24", version="1"))
    assert f"Reviewed by {colleague.name} on Tue 24 Nov 2026" in page
    assert "No item raised for review" in page
    found = stored(clinic.world.app, clinic)
    assert found is not None
    row, data = found
    assert row.reviewer_id == colleague.id and row.version == 2
    assert count_rows(clinic.world.app, Screening) == 1
    stale = clinician.post(url(clinic), form(version="1"))
    assert stale.status_code == 400 and "changed by someone else" in stale.get_data(as_text=True)


BAD = [
    ({"answer_pregnancy": ""}, "answer_pregnancy", "answer yes, no or unknown"),
    ({"answer_pregnancy": "maybe"}, "answer_pregnancy", "choose yes, no or unknown"),
    ({"note_psychosis": "x" * 1001}, "note_psychosis", "at most"),
    ({"reviewed_on": ""}, "reviewed_on", "date of the review"),
    ({"reviewed_on": "2026-02-30"}, "reviewed_on", "date of the review"),
    ({"reviewed_on": "2099-01-01"}, "reviewed_on", "not a date to come"),
]


@pytest.mark.parametrize(("change", "name", "message"), BAD)
def test_bad_input_is_a_form_error_and_nothing_is_saved(
    clinic: Clinic, clinician: Browser, change: dict[str, str], name: str, message: str
) -> None:
    r = clinician.post(url(clinic), form(**change))
    page = r.get_data(as_text=True)
    assert r.status_code == 400
    error = re.search(rf'<p class="error" id="{name}-error">([^<]*)</p>', page)
    assert error, f"no error beside {name}"
    assert message in error.group(1)
    assert count_rows(clinic.world.app, Screening) == 0


def test_the_patient_and_other_clinicians_cannot_reach_it(
    clinic: Clinic, clinician: Browser
) -> None:
    note = marker("note")
    save(clinician, clinic, form({"pregnancy": "unknown"}, note_pregnancy=f"Ask {note}"))
    patient = clinic.world.browser(clinic.patient)
    assert patient.get(url(clinic)).status_code in (403, 404)
    assert patient.post(url(clinic), form(version="1")).status_code in (403, 404)
    timeline = patient.text(f"/courses/{clinic.course.id}")
    assert note not in timeline and "/screening" not in timeline
    assert "needs clinician review" not in timeline
    other = clinic.world.browser(clinic.other_clinician)
    assert other.get(url(clinic)).status_code == 404
    assert other.post(url(clinic), form(version="1")).status_code == 404
    found = stored(clinic.world.app, clinic)
    assert found is not None and found[0].version == 1


def test_audited_encrypted_rotated_and_erased(clinic: Clinic, clinician: Browser) -> None:
    note = marker("note")
    save(clinician, clinic, form({"psychosis": "yes"}, note_psychosis=f"Family {note}"))
    app = clinic.world.app
    with runtime(app).database.session() as s:
        events = list(s.execute(select(AuditEvent.action, AuditEvent.object_type)))
    assert ("screening.create", "screening") in events and ("read", "screening") in events
    found, tables = database_hits(app, {"note": note, "answer": "psychosis"})
    assert "screenings" in tables and found == {}

    assert Screening in {t.model for t in SEALED}
    rt = runtime(app)
    rotate_data_keys(rt.database, rt.ring)
    assert verify_all(rt.database, rt.ring)[1] == []
    assert f"Family {note}" in clinician.text(url(clinic))

    admin = clinic.world.browser(clinic.admin)
    r = admin.post(
        f"/admin/users/{clinic.patient.id}/erase",
        {"reason": "patient's request", "confirm_email": clinic.patient.email},
    )
    assert r.status_code == 302
    assert count_rows(app, Screening) == 0
