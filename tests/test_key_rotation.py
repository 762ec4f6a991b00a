"""Key rotation (checklist 9, 10): finished or interrupted at any point and run
again, everything still decrypts; old keys go only when nothing uses them."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from journal import create_app
from journal.accounts.erasure import ledger_path
from journal.config import ConfigError, Settings, load_settings
from journal.crypto import KeyFileError, MasterKeyRing, blob_key_id
from journal.keyrotation import rotate_data_keys, rotate_master_key, verify_all
from journal.models import DataKey, Entry, MasterKeyRecord
from tests.conftest import Clinic, committing, entry_form, new_entry_id, runtime


class Crash(Exception):
    """Stands for the process being killed between two steps."""


def crash_at(point: str, nth: int = 1):  # type: ignore[no-untyped-def]
    seen = {"n": 0}

    def step(name: str) -> None:
        if name == point:
            seen["n"] += 1
            if seen["n"] == nth:
                raise Crash(point)

    return step


def _content(clinic: Clinic) -> list[str]:
    """Entries, an edit (so a revision), intentions; returns the entry ids."""
    b = clinic.world.browser(clinic.patient)
    ids = []
    for n in range(4):
        data = entry_form(
            clinic.upcoming, phase="preparation", title=f"Entry {n}", intentions=f"Intention {n}"
        )
        ids.append(
            str(new_entry_id(b.post(f"/courses/{clinic.course.id}/entries/new", data).location))
        )
    b.post(
        f"/entries/{ids[0]}/edit",
        entry_form(clinic.upcoming, phase="preparation", title="Entry 0 edited", version="1"),
    )
    return ids


def _all_readable(app: Flask, clinic: Clinic, ids: list[str]) -> None:
    rt = runtime(app)
    checked, failures = verify_all(rt.database, rt.ring)
    assert checked > 10 and failures == []
    from tests.helpers import Browser

    b = Browser(app)
    assert b.login(clinic.patient.email).status_code == 302
    assert "Entry 0 edited" in b.text(f"/entries/{ids[0]}")
    assert "Intention 3" in b.text(f"/entries/{ids[3]}")


def _fresh_app(settings: Settings) -> Flask:
    return create_app(settings)


def test_master_key_rotation(clinic: Clinic, settings: Settings) -> None:
    ids = _content(clinic)
    old = MasterKeyRing.load(settings.master_key_path).active_id
    rt = runtime(clinic.world.app)
    result = rotate_master_key(settings, rt.database)
    ring = MasterKeyRing.load(settings.master_key_path)
    assert ring.active_id != old and list(ring.keys) == [ring.active_id] and result.retired == [old]
    with rt.database.session() as db:
        assert set(db.scalars(select(DataKey.master_key_id))) == {ring.active_id}
        assert db.get(MasterKeyRecord, old).retired_at is not None  # type: ignore[union-attr]
    _all_readable(clinic.world.app, clinic, ids)  # the running app re-read the key file
    app = _fresh_app(settings)  # and a restarted one starts with the new file
    _all_readable(app, clinic, ids)
    runtime(app).database.dispose()


def test_a_server_whose_view_of_the_key_file_lags_reads_after_a_rotation(
    clinic: Clinic, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several servers reading one key folder on shared storage: a server's `stat` may
    answer from the mount's cache after another server rotated the master key. Meeting
    a data key wrapped with a key its ring lacks, it reads the file again at once (at
    most once a second). The rotation waits key_propagation_seconds before re-wrapping."""
    ids = _content(clinic)
    rt = runtime(clinic.world.app)
    stale = rt.keys._stamp
    monkeypatch.setattr(rt.keys, "_current_stamp", lambda: stale)  # the cache never changes
    waits: list[float] = []
    monkeypatch.setattr("journal.keyrotation.time.sleep", waits.append)
    before = rt.ring
    result = rotate_master_key(settings.with_changes(key_propagation_seconds=7), rt.database)
    assert waits == [7]
    assert result.active_id not in before.keys  # the server holds the old ring...
    _all_readable(clinic.world.app, clinic, ids)  # ...yet reads what was re-wrapped
    assert list(rt.ring.keys) == [result.active_id]
    # A key no file holds: one more read of the file, then not again within the second.
    reads: list[object] = []
    monkeypatch.setattr(MasterKeyRing, "load", lambda path: reads.append(path) or before)
    rt.keys._last_forced = 0.0
    for _ in range(3):
        with pytest.raises(KeyFileError):
            rt.ring.key("mk-nowhere")
    assert len(reads) == 1


@pytest.mark.parametrize(
    ("point", "nth"), [("registered", 1), ("saved", 1), ("batch", 1), ("batch", 3), ("retired", 1)]
)
def test_master_key_rotation_resumes_after_a_crash(
    clinic: Clinic, settings: Settings, point: str, nth: int
) -> None:
    ids = _content(clinic)
    rt = runtime(clinic.world.app)
    with pytest.raises(Crash):
        rotate_master_key(settings, rt.database, batch=1, step=crash_at(point, nth))
    # Whatever the point, a restarted app still reads everything...
    app = _fresh_app(settings)
    _all_readable(app, clinic, ids)
    runtime(app).database.dispose()
    # ...and running the command again finishes the rotation.
    rotate_master_key(settings, rt.database, batch=1)
    ring = MasterKeyRing.load(settings.master_key_path)
    assert len(ring.keys) == 1
    app = _fresh_app(settings)
    _all_readable(app, clinic, ids)
    runtime(app).database.dispose()


def _key_ids_in_use(app: Flask) -> set[object]:
    with runtime(app).database.session() as db:
        blobs = db.scalars(select(Entry.body)).all()
    return {blob_key_id(b) for b in blobs}


def test_data_key_rotation(clinic: Clinic) -> None:
    ids = _content(clinic)
    app = clinic.world.app
    rt = runtime(app)
    before = _key_ids_in_use(app)
    result = rotate_data_keys(rt.database, rt.ring, [clinic.patient.id])
    assert result.reencrypted > 10 and result.deleted_keys == 1
    after = _key_ids_in_use(app)
    assert before.isdisjoint(after) and len(after) == 1
    with rt.database.session() as db:
        assert db.scalars(select(DataKey.id).where(DataKey.id.in_(before))).all() == []
    _all_readable(app, clinic, ids)


@pytest.mark.parametrize(
    ("point", "nth"), [("new keys", 1), ("batch", 1), ("batch", 4), ("deleted", 1)]
)
def test_data_key_rotation_resumes_after_a_crash(clinic: Clinic, point: str, nth: int) -> None:
    ids = _content(clinic)
    app = clinic.world.app
    rt = runtime(app)
    before = _key_ids_in_use(app)
    with pytest.raises(Crash):
        rotate_data_keys(rt.database, rt.ring, None, batch=1, step=crash_at(point, nth))
    _all_readable(app, clinic, ids)
    rotate_data_keys(rt.database, rt.ring, None, batch=1)
    assert before.isdisjoint(_key_ids_in_use(app))
    with rt.database.session() as db:
        assert db.scalars(select(DataKey.id).where(DataKey.retired_at.is_not(None))).all() == []
    _all_readable(app, clinic, ids)


def test_keys_verify_names_a_broken_value(clinic: Clinic) -> None:
    ids = _content(clinic)
    app = clinic.world.app
    runner = app.test_cli_runner()
    assert runner.invoke(args=["keys", "verify"]).exit_code == 0
    with committing(runtime(app)) as db:
        entry = db.get(Entry, uuid.UUID(ids[1]))
        assert entry is not None
        broken = bytearray(entry.body)
        broken[-1] ^= 1
        db.execute(update(Entry).where(Entry.id == entry.id).values(body=bytes(broken)))
        db.commit()
    result = runner.invoke(args=["keys", "verify"])
    assert result.exit_code == 1
    assert f"entries {ids[1]} body" in result.output
    assert "Entry 1" not in result.output  # ids, never content


def test_key_commands_rotate_and_report(clinic: Clinic, settings: Settings) -> None:
    ids = _content(clinic)
    runner = clinic.world.app.test_cli_runner()
    master = runner.invoke(args=["keys", "rotate-master"])
    assert master.exit_code == 0 and "is active" in master.output, master.output
    data = runner.invoke(args=["keys", "rotate-data", "--patient", clinic.patient.email])
    assert data.exit_code == 0 and "1 owners" in data.output, data.output
    unknown = runner.invoke(args=["keys", "rotate-data", "--patient", "nobody@clinic.example"])
    assert unknown.exit_code != 0
    verify = runner.invoke(args=["keys", "verify"])
    assert verify.exit_code == 0 and "decrypt" in verify.output
    _all_readable(clinic.world.app, clinic, ids)
    with runtime(clinic.world.app).database.session() as db:
        from journal.accounts import audit

        assert audit.verify_chain(db).intact


def test_a_value_sealed_with_an_old_key_during_rotation_keeps_that_key(clinic: Clinic) -> None:
    """A request that loaded the old key before the rotation may write after the
    rotation's pass: the old key must then stay until a later run re-seals it."""
    ids = _content(clinic)
    app = clinic.world.app
    rt = runtime(app)
    entry_id = uuid.UUID(ids[1])
    with rt.database.session() as db:
        entry = db.get(Entry, entry_id)
        assert entry is not None
        old_blob = entry.body
    old_key = blob_key_id(old_blob)

    def late_writer(name: str) -> None:
        if name == "batch":  # after every batch, so also after the last one
            with committing(rt) as db:
                db.execute(update(Entry).where(Entry.id == entry_id).values(body=old_blob))
                db.commit()

    result = rotate_data_keys(rt.database, rt.ring, [clinic.patient.id], step=late_writer)
    assert result.deleted_keys == 0
    assert old_key in _key_ids_in_use(app)
    _all_readable(app, clinic, ids)
    result = rotate_data_keys(rt.database, rt.ring, [clinic.patient.id])
    assert result.deleted_keys == 1
    assert old_key not in _key_ids_in_use(app)
    with rt.database.session() as db:
        assert db.get(DataKey, old_key) is None
    _all_readable(app, clinic, ids)


def test_data_key_rotation_in_worker_processes(clinic: Clinic) -> None:
    """Forked workers, one range of row ids each, re-seal every value once."""
    ids = _content(clinic)
    app = clinic.world.app
    rt = runtime(app)
    before = _key_ids_in_use(app)
    with rt.database.session() as db:
        owners = len(set(db.scalars(select(DataKey.owner_id))))
    values, _ = verify_all(rt.database, rt.ring)
    result = rotate_data_keys(rt.database, rt.ring, None, workers=3)
    assert result.reencrypted == values > 10  # each value once: the ranges do not overlap
    assert result.deleted_keys == owners
    assert before.isdisjoint(_key_ids_in_use(app))
    with rt.database.session() as db:
        assert db.scalars(select(DataKey.id).where(DataKey.retired_at.is_not(None))).all() == []
    _all_readable(app, clinic, ids)


def test_an_edit_between_reading_and_writing_a_batch_is_kept(clinic: Clinic) -> None:
    """Batches are re-sealed outside the write lock; a row edited in the meantime
    keeps the edit instead of getting its old words back."""
    ids = _content(clinic)
    app = clinic.world.app
    rt = runtime(app)
    b = clinic.world.browser(clinic.patient)
    edited = {"done": False}

    def editor(name: str) -> None:
        if name == "resealed entries" and not edited["done"]:
            edited["done"] = True
            resp = b.post(
                f"/entries/{ids[2]}/edit",
                entry_form(
                    clinic.upcoming, phase="preparation", title="Written mid-rotation", version="1"
                ),
            )
            assert resp.status_code == 302

    rotate_data_keys(rt.database, rt.ring, [clinic.patient.id], step=editor)
    assert edited["done"]
    page = b.get(f"/entries/{ids[2]}").get_data(as_text=True)
    assert "Written mid-rotation" in page and "Entry 2</" not in page
    _all_readable(app, clinic, ids)


def test_a_failing_worker_fails_the_rotation(clinic: Clinic) -> None:
    """A value that does not decrypt stops its worker, and the command says so."""
    ids = _content(clinic)
    rt = runtime(clinic.world.app)
    with committing(rt) as db:
        entry = db.get(Entry, uuid.UUID(ids[1]))
        assert entry is not None
        broken = bytearray(entry.body)
        broken[-1] ^= 1
        db.execute(update(Entry).where(Entry.id == entry.id).values(body=bytes(broken)))
        db.commit()
    with pytest.raises(RuntimeError, match="worker failed"):
        rotate_data_keys(rt.database, rt.ring, None, workers=2)


def test_the_key_folder_setting(tmp_path: Path) -> None:
    """`key_folder` (storage every server mounts) holds master.json, the backup keys and
    the ledger; by default instance/keys, so one server changes nothing."""
    instance = tmp_path / "instance"
    assert load_settings(instance, {}).key_folder == instance / "keys"
    shared = tmp_path / "shared-keys"
    env = {"JOURNAL_KEY_FOLDER": str(shared), "JOURNAL_KEY_PROPAGATION_SECONDS": "65"}
    settings = load_settings(instance, env)
    assert settings.master_key_path == shared / "master.json" and settings.key_folder == shared
    assert settings.key_propagation_seconds == 65
    assert ledger_path(settings.master_key_path) == shared / "erasures.log"
    both = {**env, "JOURNAL_MASTER_KEY_FILE": str(shared / "other.json")}
    assert load_settings(instance, both).master_key_path == shared / "other.json"
    with pytest.raises(ConfigError, match="not in key_folder"):
        load_settings(instance, {**env, "JOURNAL_MASTER_KEY_FILE": str(tmp_path / "m.json")})
    with pytest.raises(ConfigError, match="key_propagation_seconds"):
        load_settings(instance, {"JOURNAL_KEY_PROPAGATION_SECONDS": "-1"})
