"""Erasure (checklist 11) and backup/restore (checklist 12)."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from journal import create_app
from journal.accounts.erasure import LEDGER_NAME, ledger_path, read_ledger, record_erasure
from journal.bootstrap import initialise
from journal.config import ConfigError, Settings
from journal.crypto import blob_key_id
from journal.crypto.folder import locked
from journal.maintenance import backup, restore
from journal.models import AuditEvent, DataKey, Entry, Intention, KeyScope, User
from journal.models.sealed_tables import sealed_tables
from tests.conftest import PG_URL, Clinic, entry_form, new_entry_id, runtime
from tests.scene import build_scene

pytestmark = pytest.mark.skipif(
    bool(PG_URL),
    reason="file-level backup and erasure checks are for SQLite; "
    "PostgreSQL uses pg_dump (docs/deployment.md)",
)


def _db_files(settings: Settings) -> bytes:
    path = Path(settings.database_url.removeprefix("sqlite:///"))
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def _write(clinic: Clinic, title: str) -> str:
    b = clinic.world.browser(clinic.patient)
    r = b.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past, title=title))
    return str(new_entry_id(r.location))


def _erase(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    url = f"/admin/users/{clinic.patient.id}/erase"
    wrong = admin.post(url, {"reason": "patient's request", "confirm_email": "someone@else"})
    assert wrong.status_code == 200  # not confirmed: nothing erased
    r = admin.post(url, {"reason": "patient's request", "confirm_email": clinic.patient.email})
    assert r.status_code == 302, r.get_data(as_text=True)


def test_erasure_removes_the_patient_their_rows_and_their_key(
    clinic: Clinic, settings: Settings
) -> None:
    entry_id = _write(clinic, "Words to be erased")
    with runtime(clinic.world.app).database.session() as db:
        entry = db.scalar(select(Entry).where(Entry.course_id == clinic.course.id))
        assert entry is not None
        blobs = [entry.title, entry.body]
        key = db.scalar(select(DataKey.wrapped).where(DataKey.owner_id == clinic.patient.id))
        assert key is not None
    assert all(b in _db_files(settings) for b in [*blobs, key])  # the search can find them

    _erase(clinic)

    with runtime(clinic.world.app).database.session() as db:
        assert db.get(User, clinic.patient.id) is None
        assert db.scalar(select(func.count()).select_from(Entry)) == 0
        assert db.scalar(select(func.count()).where(DataKey.owner_id == clinic.patient.id)) == 0
        erase_events = db.scalars(select(AuditEvent).where(AuditEvent.action == "patient.erase"))
        assert [e.subject_id for e in erase_events] == [clinic.patient.id]
    stored = _db_files(settings)
    for secret in [*blobs, key]:
        assert secret not in stored  # secure_delete and the checkpoint left no copy
    ledger = ledger_path(settings.master_key_path)
    assert read_ledger(ledger) == [clinic.patient.id]
    # An append lost (the key folder's share away at that moment): the next start adds
    # what the database's own list of erasures holds.
    ledger.write_text("")
    runtime(create_app(settings)).database.dispose()
    assert read_ledger(ledger) == [clinic.patient.id]
    # The clinician's view of the course is gone too, cleanly.
    clinician = clinic.world.browser(clinic.clinician)
    assert clinician.get(f"/entries/{entry_id}").status_code == 404
    # The other patient is untouched.
    other = clinic.world.browser(clinic.other_patient)
    assert other.get(f"/courses/{clinic.other_course.id}").status_code == 200


def test_backup_during_writes_restores_on_a_clean_instance(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    _write(clinic, "Before the backup")
    stop = threading.Event()
    browser = clinic.world.browser(clinic.patient)

    def keep_writing() -> None:
        n = 0
        while not stop.is_set() and n < 40:
            browser.post(
                f"/courses/{clinic.course.id}/entries/new",
                entry_form(clinic.past, title=f"During {n}"),
            )
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    copy = tmp_path / "backup.sqlite3"
    try:
        backup(settings, copy)
    finally:
        stop.set()
        writer.join()
    conn = sqlite3.connect(copy)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()

    # A clean machine: only the key folder and the secret key come along.
    clean = tmp_path / "clean"
    clean.mkdir(mode=0o700)
    shutil.copytree(settings.master_key_path.parent, clean / "keys")
    shutil.copy(settings.secret_key_path, clean / "secret_key")
    restored = settings.with_changes(
        instance_path=clean,
        database_url=f"sqlite:///{clean / 'journal.sqlite3'}",
        master_key_path=clean / "keys" / "master.json",
        secret_key_path=clean / "secret_key",
    )
    assert restore(restored, copy) == 0
    app = create_app(restored)
    try:
        from tests.helpers import Browser

        b = Browser(app)
        assert b.login(clinic.patient.email).status_code == 302
        assert "Before the backup" in b.text(f"/courses/{clinic.course.id}")
    finally:
        runtime(app).database.dispose()


def test_restoring_an_old_backup_reapplies_a_later_erasure(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    _write(clinic, "Written before the backup")
    copy = tmp_path / "before-erasure.sqlite3"
    backup(settings, copy)
    _erase(clinic)

    db_path = Path(settings.database_url.removeprefix("sqlite:///"))
    runtime(clinic.world.app).database.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    env = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
    }
    env.pop("JOURNAL_TEST_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "journal", "restore", str(copy)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "erasures re-applied: 1" in result.stdout
    app = create_app(settings)
    try:
        with runtime(app).database.session() as db:
            assert db.get(User, clinic.patient.id) is None
            assert db.scalar(select(func.count()).where(DataKey.owner_id == clinic.patient.id)) == 0
            from journal.accounts import audit

            assert audit.verify_chain(db).intact
    finally:
        runtime(app).database.dispose()


def test_a_database_put_back_by_hand_does_not_bring_an_erased_patient_back(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    """A copy of the database from before an erasure put in place without `restore` (a
    file copied back; on PostgreSQL a dump restored with pg_restore, a disk snapshot,
    point-in-time recovery): the ledger, apart from the database, still lists the
    patient. The app refuses to start on it; `init` erases them again."""
    _write(clinic, "Written before the copy")
    rt = runtime(clinic.world.app)
    with rt.database.session() as db:
        sealed = db.scalar(select(Entry.body).where(Entry.course_id == clinic.course.id))
        assert sealed is not None
    db_path = Path(settings.database_url.removeprefix("sqlite:///"))
    assert rt.database.checkpoint()
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(db_path, copy)
    _erase(clinic)
    rt.database.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(copy, db_path)  # put back by hand

    with pytest.raises(ConfigError, match="erasure ledger"):
        create_app(settings)
    assert "erased again 1 patients the erasure ledger lists" in initialise(settings)
    app = create_app(settings)
    try:
        with runtime(app).database.session() as db:
            assert db.get(User, clinic.patient.id) is None
            assert db.scalar(select(func.count()).where(DataKey.owner_id == clinic.patient.id)) == 0
            assert db.get(User, clinic.other_patient.id) is not None
    finally:
        runtime(app).database.dispose()
    assert sealed not in _db_files(settings)  # overwritten (secure_delete), log folded


def test_the_ledger_is_appended_under_the_key_folders_lock(tmp_path: Path) -> None:
    """Several servers append to one ledger on shared storage: each append waits for
    the key folder's lock (a POSIX lock, which NFS arbitrates between hosts), so two
    appends cannot overwrite each other; here another process holds it."""
    folder = tmp_path / "keys"
    folder.mkdir(mode=0o700)
    ledger = folder / LEDGER_NAME
    patient = uuid.uuid4()
    context = multiprocessing.get_context("fork")
    go = context.Event()

    def erase() -> None:
        go.wait(10)
        record_erasure(ledger, patient)

    child = context.Process(target=erase)
    child.start()
    try:
        with locked(folder):
            go.set()
            child.join(0.3)
            assert child.is_alive() and read_ledger(ledger) == []  # waiting for the lock
        child.join(10)
        assert child.exitcode == 0
        assert read_ledger(ledger) == [patient]
        assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    finally:
        child.kill()
        child.join()


def test_restore_refuses_to_overwrite_a_database(
    settings: Settings, clinic: Clinic, tmp_path: Path
) -> None:
    copy = tmp_path / "b.sqlite3"
    backup(settings, copy)
    with pytest.raises(ConfigError, match="exists"):
        restore(settings, copy)


def _owned_rows(clinic: Clinic, patient_id: uuid.UUID) -> dict[str, int]:
    """Rows of every sealed table (as the models declare them) sealed with this
    patient's keys, found through each table's way to its owner. (What an admin
    records, an erasure's reason, is sealed with the admin's key, never a patient's.)"""
    counts = {}
    with runtime(clinic.world.app).database.session() as db:
        for table in sealed_tables():
            if table.scope is KeyScope.ADMIN:
                continue
            stmt = select(func.count()).select_from(table.model)
            for target, on in table.joins:
                stmt = stmt.join(target, on)
            counts[table.model.__tablename__] = db.scalar(stmt.where(table.owner == patient_id))
    return counts


def _sealed_blob_keys(clinic: Clinic) -> set[uuid.UUID]:
    """The data key of every sealed value left anywhere in the database."""
    found = set()
    with runtime(clinic.world.app).database.session() as db:
        for table in sealed_tables():
            for column in table.columns:
                attribute = getattr(table.model, column)
                for blob in db.scalars(select(attribute).where(attribute.is_not(None))):
                    found.add(blob_key_id(blob))
    return found


def test_erasure_reaches_every_sealed_table(clinic: Clinic) -> None:
    """The patient has a row in every table the models declare sealed; after the
    erasure no sealed value made with their keys is left in any of them."""
    scene = build_scene(clinic)
    clinic.world.enrol_second_factor(clinic.patient)
    patient = clinic.world.browser(clinic.patient)
    before = new_entry_id(
        patient.post(
            f"/courses/{clinic.course.id}/entries/new",
            entry_form(clinic.past, phase="preparation", title="Before", intentions="Stay open"),
        ).location
    )
    with runtime(clinic.world.app).database.session() as db:
        wish = db.scalars(select(Intention.id).where(Intention.entry_id == before)).one()
    after = entry_form(clinic.past, title="After", **{f"outcome-{wish}": "partly"})
    assert patient.post(f"/courses/{clinic.course.id}/entries/new", after).status_code == 302
    draft = {"title": "A fictional draft", "phase": "integration"}
    assert patient.post(f"/courses/{clinic.course.id}/draft", draft).status_code == 200
    clinician = scene.world.browser(clinic.clinician)
    notes = {"format": "json", "include_psychotherapy_notes": "y", "notes_reason": "A referral"}
    assert clinician.post(f"/courses/{clinic.course.id}/export", notes).status_code == 200
    with runtime(clinic.world.app).database.session() as db:
        keys = set(db.scalars(select(DataKey.id).where(DataKey.owner_id == clinic.patient.id)))
    owned = _owned_rows(clinic, clinic.patient.id)
    assert all(owned.values()), owned  # a row of theirs in every sealed table
    assert keys & _sealed_blob_keys(clinic)

    _erase(clinic)

    assert set(_owned_rows(clinic, clinic.patient.id).values()) == {0}
    assert not keys & _sealed_blob_keys(clinic)
    assert any(_owned_rows(clinic, clinic.other_patient.id).values())  # others' rows stay
