"""Autosaved drafts: kept encrypted on the server, for their writer only, restored
when the form is opened again, gone once the entry is saved or the draft discarded."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from journal.models import Draft
from tests.conftest import PG_URL, Clinic, entry_form, new_entry_id, runtime


def _draft_rows(clinic: Clinic) -> list[Draft]:
    with runtime(clinic.world.app).database.session() as s:
        return list(s.scalars(select(Draft)))


def _draft(**fields: str) -> dict[str, str]:
    form = entry_form(None, title="", body="")
    form.update(fields)
    return form


def test_a_draft_is_saved_encrypted_and_restored_for_its_writer_only(clinic: Clinic) -> None:
    marker = uuid.uuid4().hex
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(
        f"/courses/{clinic.course.id}/draft",
        _draft(title=f"Half a thought {marker}", body=f"Unfinished {marker} words"),
    )
    assert r.status_code == 200 and r.get_json()["saved"] is True
    (row,) = _draft_rows(clinic)
    assert marker.encode() not in row.content
    if not PG_URL:
        db_file = clinic.world.app.instance_path + "/journal.sqlite3"
        with runtime(clinic.world.app).database.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        with open(db_file, "rb") as f:
            assert marker.encode() not in f.read()

    page = patient.text(f"/courses/{clinic.course.id}/entries/new")
    assert f"Unfinished {marker} words" in page
    assert f'value="Half a thought {marker}"' in page
    assert "unsaved draft" in page

    # The clinician on the same course opens the same form: an empty one.
    clinician = clinic.world.browser(clinic.clinician)
    other = clinician.text(f"/courses/{clinic.course.id}/entries/new")
    assert marker not in other and "unsaved draft" not in other


def test_saving_the_entry_removes_the_draft(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    url = f"/courses/{clinic.course.id}"
    assert patient.post(f"{url}/draft", _draft(title="Draft title")).status_code == 200
    assert len(_draft_rows(clinic)) == 1
    r = patient.post(f"{url}/entries/new", entry_form(clinic.past, title="Kept"))
    assert r.status_code == 302
    assert _draft_rows(clinic) == []
    assert "unsaved draft" not in patient.text(f"{url}/entries/new")


def test_discarding_a_draft(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    url = f"/courses/{clinic.course.id}"
    patient.post(f"{url}/draft", _draft(body="Let go of this"))
    r = patient.post(f"{url}/draft/discard")
    assert r.status_code == 302 and r.location.endswith(f"{url}/entries/new")
    assert _draft_rows(clinic) == []


def test_a_draft_of_an_edit_belongs_to_that_entry(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    entry_id = new_entry_id(r.location)
    r = patient.post(f"/entries/{entry_id}/draft", _draft(body="A better second version"))
    assert r.status_code == 200
    assert "A better second version" in patient.text(f"/entries/{entry_id}/edit")
    # A new entry's form does not pick up the edit's draft.
    assert "A better second version" not in patient.text(f"/courses/{clinic.course.id}/entries/new")
    r = patient.post(
        f"/entries/{entry_id}/edit", entry_form(clinic.past, body="Final", version="1")
    )
    assert r.status_code == 302
    assert _draft_rows(clinic) == []


@pytest.mark.parametrize("who", ["clinician", "other_patient", "other_clinician", "admin"])
def test_nobody_drafts_on_an_entry_they_may_not_edit(clinic: Clinic, who: str) -> None:
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    entry_id = new_entry_id(r.location)
    other = clinic.world.browser(getattr(clinic, who))
    r = other.post(f"/entries/{entry_id}/draft", _draft(body="Not mine"))
    assert r.status_code in {403, 404}
    assert _draft_rows(clinic) == []


def test_outsiders_cannot_draft_on_a_course(clinic: Clinic) -> None:
    for who in ("other_patient", "other_clinician", "admin"):
        b = clinic.world.browser(getattr(clinic, who))
        r = b.post(f"/courses/{clinic.course.id}/draft", _draft(body="Not mine"))
        assert r.status_code in {403, 404}, who
    assert _draft_rows(clinic) == []


def test_a_too_long_draft_is_refused_clearly(clinic: Clinic) -> None:
    """A draft keeps a title over the entry's limit (the form refuses it, never cuts it),
    up to what a draft keeps; past that it says both numbers and saves nothing."""
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/draft", _draft(title="x" * 201))
    assert r.status_code == 200
    patient.post(f"/courses/{clinic.course.id}/draft/discard")
    r = patient.post(f"/courses/{clinic.course.id}/draft", _draft(title="x" * 500_001))
    assert r.status_code == 400
    assert r.get_json() == {
        "saved": False,
        "error": "this text is 500,001 characters; a draft keeps at most 500,000. "
        "Your text is still in the form.",
    }
    assert _draft_rows(clinic) == []


def test_no_drafts_on_a_closed_course(clinic: Clinic) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    assert clinician.post(f"/courses/{clinic.course.id}/status/closed").status_code == 302
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/draft", _draft(body="Too late"))
    assert r.status_code == 403
    assert _draft_rows(clinic) == []


def test_each_save_makes_a_new_ciphertext(clinic: Clinic) -> None:
    patient = clinic.world.browser(clinic.patient)
    url = f"/courses/{clinic.course.id}/draft"
    patient.post(url, _draft(body="Same words"))
    (first,) = _draft_rows(clinic)
    patient.post(url, _draft(body="Same words"))
    (second,) = _draft_rows(clinic)
    assert second.version == first.version + 1
    assert second.content != first.content
