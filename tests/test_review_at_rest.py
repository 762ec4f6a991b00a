"""From the outside: comments, quoted passages, replies, theme names and psychotherapy
notes written through the pages read back through the pages, yet none of their words
is anywhere at rest (every database value, the SQLite files before and after a WAL
checkpoint, the instance folder). Searching stores nothing either."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import inspect, text

from journal.config import Settings
from tests.conftest import PG_URL, Clinic, entry_form, new_entry_id, runtime
from tests.helpers import Browser

FIELDS = (
    "entry",
    "passage",
    "comment",
    "staff_comment",
    "reply",
    "theme",
    "staff_theme",
    "note_v1",
    "note_v2",
)


def _as_bytes(value: object) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def database_hits(app: Flask, markers: dict[str, str]) -> tuple[dict[str, list[str]], set[str]]:
    """Every column of every table, read with SQL: where each marker is found, and
    which tables had rows (to show the dump read something)."""
    needles = {name: m.encode() for name, m in markers.items()}
    engine = runtime(app).database.engine
    found: dict[str, list[str]] = {}
    tables_with_rows: set[str] = set()
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            quoted = engine.dialect.identifier_preparer.quote(table)
            for row in conn.execute(text(f"SELECT * FROM {quoted}")):
                tables_with_rows.add(table)
                for column, value in row._mapping.items():
                    data = _as_bytes(value)
                    for name, needle in needles.items():
                        if needle in data:
                            found.setdefault(f"{table}.{column}", []).append(name)
    return found, tables_with_rows


def file_hits(paths: Iterable[Path], markers: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits = [name for name, m in markers.items() if m.encode() in data]
            if hits:
                found[path.name] = hits
    return found


@dataclass
class Written:
    markers: dict[str, str]
    entry_id: uuid.UUID
    note_id: uuid.UUID
    patient: Browser
    clinician: Browser


@pytest.fixture
def written(clinic: Clinic) -> Written:
    m = {name: f"{name.replace('_', '')}{uuid.uuid4().hex}" for name in FIELDS}
    patient = clinic.world.browser(clinic.patient)
    clinician = clinic.world.browser(clinic.clinician)
    r = patient.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(
            clinic.past,
            title="Fictional evening",
            body=f"Fictional words {m['entry']} and then **{m['passage']}** at the end.",
        ),
    )
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    url = f"/entries/{entry_id}/comments"

    def comment(data: dict[str, str], by: Browser = clinician) -> uuid.UUID:
        r = by.post(url, data)
        assert r.status_code == 302, r.get_data(as_text=True)
        return uuid.UUID(r.location.rsplit("#c-", 1)[-1])

    shared = comment(
        {"body": f"Said {m['comment']}", "quote": m["passage"], "visibility": "care_team"}
    )
    comment({"body": f"Team {m['staff_comment']}", "visibility": "clinician_only"})
    comment({"body": f"Answer {m['reply']}", "parent_id": str(shared)}, by=patient)
    r = patient.post(f"/entries/{entry_id}/themes", {"kind": "places", "name": m["theme"]})
    assert r.status_code == 302
    r = clinician.post(
        f"/entries/{entry_id}/themes", {"kind": "feelings", "name": m["staff_theme"]}
    )
    assert r.status_code == 302
    notes_url = f"/courses/{clinic.course.id}/notes"
    r = clinician.post(notes_url, {"session_id": str(clinic.past.id), "body": m["note_v1"]})
    assert r.status_code == 302, r.get_data(as_text=True)
    page = clinician.text(notes_url)
    note_id = uuid.UUID(page.split('href="/notes/', 1)[1].split("/edit", 1)[0])
    r = clinician.post(f"/notes/{note_id}/edit", {"body": m["note_v2"], "version": "1"})
    assert r.status_code == 302, r.get_data(as_text=True)
    return Written(m, entry_id, note_id, patient, clinician)


def test_every_marker_reads_back_through_the_pages(written: Written, clinic: Clinic) -> None:
    m = written.markers
    own = written.patient.text(f"/entries/{written.entry_id}")
    staff = written.clinician.text(f"/entries/{written.entry_id}")
    notes = written.clinician.text(f"/courses/{clinic.course.id}/notes")
    themes = written.patient.text(f"/courses/{clinic.course.id}/themes")
    for name in ("entry", "passage", "comment", "reply", "theme", "staff_theme"):
        assert m[name] in own, name
    assert m["staff_comment"] in staff and m["staff_comment"] not in own
    assert m["note_v2"] in notes and m["note_v1"] not in notes
    assert m["theme"] in themes
    found = written.patient.search(m["passage"]).get_data(as_text=True)
    assert f"<mark>{m['passage']}</mark>" in found


def test_no_marker_in_any_database_value(written: Written, clinic: Clinic) -> None:
    for name in ("entry", "comment", "theme"):  # searching leaves nothing behind either
        written.clinician.search(written.markers[name]).get_data(as_text=True)
    found, tables = database_hits(clinic.world.app, written.markers)
    assert {
        "comments",
        "comment_reads",
        "themes",
        "entry_themes",
        "psychotherapy_notes",
        "audit_events",
        "data_keys",
    } <= tables
    assert found == {}


@pytest.mark.skipif(
    bool(PG_URL),
    reason="PostgreSQL keeps its files out of reach; test_no_marker_in_any_database_value "
    "reads every column there instead",
)
def test_no_marker_in_sqlite_files_before_and_after_checkpoint(
    written: Written, clinic: Clinic, settings: Settings
) -> None:
    db_file = settings.instance_path / "journal.sqlite3"
    files = [db_file, db_file.with_name(db_file.name + "-wal")]
    assert files[1].stat().st_size > 0
    control = {"email": clinic.patient.email}  # stored in clear: the scan can see it
    assert file_hits(files, control) != {}
    assert file_hits(files, written.markers) == {}
    with runtime(clinic.world.app).database.engine.connect() as conn:
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    assert busy == 0
    assert file_hits([db_file], control) != {}
    assert file_hits(settings.instance_path.rglob("*"), written.markers) == {}
