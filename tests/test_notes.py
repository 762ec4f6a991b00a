"""Psychotherapy notes: their own table and key scope, care-team clinicians only,
edited by their author only, never shown to the patient (not even in the access log)."""

from __future__ import annotations

import logging
import re
import uuid

import pytest
from flask import Flask
from sqlalchemy import Table, select, update

from journal.crypto import blob_key_id
from journal.models import (
    AuditEvent,
    DataKey,
    DosingSession,
    Entry,
    KeyScope,
    PsychotherapyNote,
    Role,
)
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import Browser
from tests.scene import count_rows, marker
from tests.test_review_at_rest import database_hits

NOTE_EDIT_RE = re.compile(r'href="/notes/([0-9a-f-]{36})/edit"')
TABLES: dict[str, Table] = {
    "entries": Entry.__table__,  # type: ignore[dict-item]
    "psychotherapy_notes": PsychotherapyNote.__table__,  # type: ignore[dict-item]
}


def read_blob(app: Flask, table: str, row_id: uuid.UUID) -> bytes:
    t = TABLES[table]
    with runtime(app).database.engine.connect() as conn:
        return bytes(conn.execute(select(t.c.body).where(t.c.id == row_id)).scalar_one())


def write_blob(app: Flask, table: str, row_id: uuid.UUID, blob: bytes) -> None:
    t = TABLES[table]
    with runtime(app).database.engine.begin() as conn:
        assert conn.execute(update(t).where(t.c.id == row_id).values(body=blob)).rowcount == 1


def add_note(b: Browser, clinic: Clinic, body: str) -> uuid.UUID:
    url = f"/courses/{clinic.course.id}/notes"
    before = set(NOTE_EDIT_RE.findall(b.text(url)))
    r = b.post(url, {"session_id": str(clinic.past.id), "body": body})
    assert r.status_code == 302, r.get_data(as_text=True)
    (new,) = set(NOTE_EDIT_RE.findall(b.text(url))) - before
    return uuid.UUID(new)


def note_row(app: Flask, note_id: uuid.UUID) -> PsychotherapyNote:
    with runtime(app).database.session() as s:
        note = s.get(PsychotherapyNote, note_id)
        assert note is not None
        s.expunge(note)
        return note


def data_keys(app: Flask, owner: uuid.UUID) -> dict[KeyScope, set[uuid.UUID]]:
    found: dict[KeyScope, set[uuid.UUID]] = {}
    with runtime(app).database.session() as s:
        for key in s.scalars(select(DataKey).where(DataKey.owner_id == owner)):
            found.setdefault(key.scope, set()).add(key.id)
    return found


# -- stored apart, under a key of their own ---------------------------------------------


def test_a_note_is_stored_apart_under_a_notes_key(clinic: Clinic) -> None:
    app = clinic.world.app
    clinician = clinic.world.browser(clinic.clinician)
    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    secret = marker("note")
    note_id = add_note(clinician, clinic, f"Process note {secret}")

    assert count_rows(app, PsychotherapyNote) == 1
    note = note_row(app, note_id)
    assert note.course_id == clinic.course.id and note.session_id == clinic.past.id
    assert note.author_id == clinic.clinician.id
    keys = data_keys(app, clinic.patient.id)
    assert len(keys.get(KeyScope.NOTES, set())) == 1
    assert len(keys.get(KeyScope.JOURNAL, set())) == 1
    assert blob_key_id(note.body) in keys[KeyScope.NOTES]
    assert blob_key_id(read_blob(app, "entries", entry_id)) in keys[KeyScope.JOURNAL]
    assert database_hits(app, {"note": secret})[0] == {}
    assert secret in clinician.text(f"/courses/{clinic.course.id}/notes")


def _integrity_failure(response_page: str, status: int, caplog: pytest.LogCaptureFixture) -> str:
    assert status == 500, response_page
    assert "could not be read" in response_page
    messages = [r.getMessage() for r in caplog.records if r.name == "journal.integrity"]
    assert messages, "the failure was not logged"
    return "\n".join(messages)


def test_the_journal_key_cannot_open_a_note(
    clinic: Clinic, caplog: pytest.LogCaptureFixture
) -> None:
    """A note's ciphertext put into an entry's body column fails cleanly, and so does
    the reverse, because the two are sealed with keys of different scopes."""
    caplog.set_level(logging.INFO)
    app = clinic.world.app
    clinician = clinic.world.browser(clinic.clinician)
    patient = clinic.world.browser(clinic.patient)
    words = marker("entry")
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, body=words)
    )
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    secret = marker("note")
    note_id = add_note(clinician, clinic, f"Process note {secret}")
    note_blob, entry_blob = (
        read_blob(app, "psychotherapy_notes", note_id),
        read_blob(app, "entries", entry_id),
    )

    write_blob(app, "entries", entry_id, note_blob)
    for reader in (patient, clinician):
        caplog.clear()
        r = reader.get(f"/entries/{entry_id}")
        page = r.get_data(as_text=True)
        log = _integrity_failure(page, r.status_code, caplog)
        assert secret not in page and words not in page
        assert note_blob.hex() not in page
        assert f"entries.body row {entry_id}" in log
        assert "another scope" in log
        assert secret not in caplog.text
    write_blob(app, "entries", entry_id, entry_blob)
    assert words in patient.text(f"/entries/{entry_id}")

    write_blob(app, "psychotherapy_notes", note_id, entry_blob)
    caplog.clear()
    r = clinician.get(f"/courses/{clinic.course.id}/notes")
    page = r.get_data(as_text=True)
    log = _integrity_failure(page, r.status_code, caplog)
    assert words not in page and secret not in page
    assert f"psychotherapy_notes.body row {note_id}" in log
    assert "another scope" in log


# -- who reaches the notes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("patient", 403), ("other_patient", 403), ("admin", 403), ("other_clinician", 404)],
)
def test_notes_are_for_the_care_teams_clinicians_only(
    clinic: Clinic, who: str, status: int
) -> None:
    clinician = clinic.world.browser(clinic.clinician)
    secret = marker("note")
    note_id = add_note(clinician, clinic, f"Process note {secret}")
    b = clinic.world.browser(getattr(clinic, who))
    url = f"/courses/{clinic.course.id}/notes"
    for r in (
        b.get(url),
        b.post(url, {"session_id": str(clinic.past.id), "body": "Planted"}),
        b.get(f"/notes/{note_id}/edit"),
        b.post(f"/notes/{note_id}/edit", {"body": "Planted", "version": "1"}),
    ):
        assert r.status_code == status
        assert secret not in r.get_data(as_text=True)
    assert count_rows(clinic.world.app, PsychotherapyNote) == 1
    assert note_row(clinic.world.app, note_id).version == 1
    if who in ("patient", "other_clinician"):
        home = b.get("/", follow_redirects=True)
        assert home.status_code == 200
        assert "Psychotherapy notes" not in home.get_data(as_text=True)
    assert b.get(f"/notes/{uuid.uuid4()}/edit").status_code in (403, 404)


def test_only_the_author_edits_a_note(clinic: Clinic) -> None:
    app = clinic.world.app
    colleague = clinic.world.user(Role.CLINICIAN)
    clinic.world.join_team(clinic.course, colleague)
    author = clinic.world.browser(clinic.clinician)
    other = clinic.world.browser(colleague)
    secret = marker("note")
    note_id = add_note(author, clinic, f"Process note {secret}")

    page = other.text(f"/courses/{clinic.course.id}/notes")
    assert secret in page  # the team reads it
    assert f'href="/notes/{note_id}/edit"' not in page
    assert other.get(f"/notes/{note_id}/edit").status_code == 403
    r = other.post(f"/notes/{note_id}/edit", {"body": "Overwritten", "version": "1"})
    assert r.status_code == 403
    assert note_row(app, note_id).version == 1
    assert secret in author.text(f"/courses/{clinic.course.id}/notes")


def test_a_stale_edit_is_refused_with_a_conflict_message(clinic: Clinic) -> None:
    app = clinic.world.app
    b = clinic.world.browser(clinic.clinician)
    note_id = add_note(b, clinic, "First fictional words")
    assert 'value="1"' in b.text(f"/notes/{note_id}/edit")
    r = b.post(f"/notes/{note_id}/edit", {"body": "Second fictional words", "version": "1"})
    assert r.status_code == 302
    assert note_row(app, note_id).version == 2

    late = marker("late")
    for version in ("1", "", "x", "99999999999"):
        r = b.post(f"/notes/{note_id}/edit", {"body": f"Stale {late}", "version": version})
        page = r.get_data(as_text=True)
        assert r.status_code == 200, version
        assert "changed elsewhere" in page, version
    assert note_row(app, note_id).version == 2
    notes = b.text(f"/courses/{clinic.course.id}/notes")
    assert "Second fictional words" in notes and late not in notes

    r = b.post(f"/notes/{note_id}/edit", {"body": "  ", "version": "2"})
    assert r.status_code == 200 and 'class="error"' in r.get_data(as_text=True)
    assert note_row(app, note_id).version == 2


def test_bad_note_input_is_refused(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.clinician)
    url = f"/courses/{clinic.course.id}/notes"
    with runtime(clinic.world.app).database.session() as s:
        foreign = s.scalar(
            select(DosingSession.id).where(DosingSession.course_id == clinic.other_course.id)
        )
    kept = marker("kept")
    for data in (
        {"session_id": str(clinic.past.id), "body": ""},
        {"session_id": str(clinic.past.id), "body": kept + "x" * 20_001},
        {"session_id": str(foreign), "body": f"Wrong session {kept}"},
        {"session_id": "nonsense", "body": f"Wrong session {kept}"},
    ):
        r = b.post(url, data)
        assert r.status_code == 400, data["session_id"]
        if data["body"]:
            assert data["body"] in r.get_data(as_text=True)
    assert count_rows(clinic.world.app, PsychotherapyNote) == 0


def test_closed_course_takes_no_new_notes(clinic: Clinic) -> None:
    b = clinic.world.browser(clinic.clinician)
    note_id = add_note(b, clinic, "Before closing")
    assert b.post(f"/courses/{clinic.course.id}/status/closed").status_code == 302
    r = b.post(
        f"/courses/{clinic.course.id}/notes",
        {"session_id": str(clinic.past.id), "body": "After closing"},
    )
    assert r.status_code == 403
    assert b.post(f"/notes/{note_id}/edit", {"body": "After", "version": "1"}).status_code == 403
    assert "Before closing" in b.text(f"/courses/{clinic.course.id}/notes")
    assert count_rows(clinic.world.app, PsychotherapyNote) == 1


# -- the patient's access log says nothing of notes -------------------------------------


def test_the_patients_access_log_never_shows_note_events(clinic: Clinic) -> None:
    app = clinic.world.app
    clinician = clinic.world.browser(clinic.clinician)
    patient = clinic.world.browser(clinic.patient)
    note_id = add_note(clinician, clinic, "A fictional note")
    clinician.text(f"/courses/{clinic.course.id}/notes")
    r = clinician.post(f"/notes/{note_id}/edit", {"body": "Edited", "version": "1"})
    assert r.status_code == 302
    clinician.text(f"/courses/{clinic.course.id}/notes")

    with runtime(app).database.session() as s:
        events = s.scalars(
            select(AuditEvent.action).where(
                AuditEvent.subject_id == clinic.patient.id, AuditEvent.object_type == "note"
            )
        ).all()
    assert {"note.create", "note.update", "read"} <= set(events)

    page = patient.text("/account/access-log")
    assert "Nobody else has opened your journal yet." in page
    assert "<tbody>" not in page
    assert "note" not in page.lower().replace("notice", "")

    # An event the log does show, for contrast: the clinician opens the timeline.
    clinician.text(f"/courses/{clinic.course.id}")
    page = patient.text("/account/access-log")
    assert page.count("<tr>") == 2  # the heading and the one opening
    assert "Opened the timeline" in page


def _selected_session(page: str) -> str:
    (chosen,) = re.findall(r'<option selected value="([^"]+)"', page) or re.findall(
        r'<option value="([^"]+)" selected', page
    )
    return chosen


def test_a_new_note_defaults_to_the_session_just_held_and_says_so(clinic: Clinic) -> None:
    w = clinic.world
    later = w.session(clinic.course, clinic.clinician, 10)  # listed after the others
    clinician = w.browser(clinic.clinician)
    page = clinician.text(f"/courses/{clinic.course.id}/notes")
    assert _selected_session(page) == str(clinic.past.id)
    assert f"Set to session {clinic.past.number}, the one held most recently." in page
    held = w.session(clinic.course, clinic.clinician, -1)  # held yesterday, not yet marked
    page = clinician.text(f"/courses/{clinic.course.id}/notes")
    assert _selected_session(page) == str(held.id) != str(later.id)


def test_with_no_session_held_yet_a_note_defaults_to_the_next(clinic: Clinic) -> None:
    w = clinic.world
    course = w.course(clinic.other_patient, clinic.clinician)
    w.session(course, clinic.clinician, 9)
    soon = w.session(course, clinic.clinician, 2)
    page = w.browser(clinic.clinician).text(f"/courses/{course.id}/notes")
    assert _selected_session(page) == str(soon.id)
    assert f"Set to session {soon.number}, the next one" in page
