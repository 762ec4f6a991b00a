"""Erasure reaches backups (checklist 11, issue 15): a backup's data keys are wrapped
with per-owner backup keys kept in the key folder, and erasing a patient deletes
theirs, so a backup taken before the erasure cannot be read for them with the keys
that exist after it, and still restores for everyone else.

These drive the real commands (`backup`, `restore`, `keys ...`) through Click in this
process (tests/test_erasure_backup.py runs them as separate processes), erase through
the admin's page, and read backup files as someone outside the journal
would: with the crypto functions and whatever keys the key folder holds."""

from __future__ import annotations

import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from journal import create_app
from journal.accounts.erasure import ledger_path
from journal.cli import restore_command
from journal.config import ConfigError, Settings
from journal.crypto import DecryptionError, FieldContext, MasterKeyRing, decrypt_field
from journal.crypto.backup_keys import FILE_NAME as BACKUP_KEYS_FILE
from journal.crypto.backup_keys import BackupKeys
from journal.db import Database
from journal.maintenance import backup
from journal.models import Course, DataKey, User
from journal.models.sealed_tables import sealed_tables
from tests.conftest import PG_URL, Clinic, entry_form, runtime
from tests.helpers import Browser

pytestmark = pytest.mark.skipif(
    bool(PG_URL),
    reason="`backup` and `restore` are for SQLite; PostgreSQL uses pg_dump (docs/deployment.md)",
)


def _erase(clinic: Clinic) -> None:
    admin = clinic.world.browser(clinic.admin)
    url = f"/admin/users/{clinic.patient.id}/erase"
    r = admin.post(url, {"reason": "patient's request", "confirm_email": clinic.patient.email})
    assert r.status_code == 302, r.get_data(as_text=True)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _flask(settings: Settings, *args: str) -> Ran:
    """`flask --app journal ARGS` on the instance these settings name, run by Click in
    this process: a command in a process of its own costs a second of start-up."""
    env = {
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
        "JOURNAL_TEST_DATABASE_URL": None,
    }
    if args[0] == "restore":  # runs before an app can start, as `init` does
        result = CliRunner().invoke(restore_command, list(args[1:]), env=env)
    else:
        app = create_app(settings)
        try:
            result = app.test_cli_runner().invoke(args=list(args), env=env)
        finally:
            runtime(app).database.dispose()
    return Ran(result.exit_code, result.stdout, result.stderr)


def _write_as(clinic: Clinic, patient: User, course_id: uuid.UUID, title: str) -> None:
    b = clinic.world.browser(patient)
    r = b.post(f"/courses/{course_id}/entries/new", entry_form(title=title))
    assert r.status_code == 302, r.get_data(as_text=True)


def _unwrap(kek: bytes, wrapped: bytes) -> bytes | None:
    try:
        return aes_key_unwrap(kek, wrapped)
    except (InvalidUnwrap, ValueError):
        return None


def _decrypt(key: bytes, blob: bytes, ctx: FieldContext) -> str | None:
    try:
        return decrypt_field(key, blob, ctx)
    except DecryptionError:
        return None


def _read_backup(backup_file: Path, keys: Path, owner: uuid.UUID) -> tuple[int, list[str]]:
    """What someone holding a backup file and a key folder reads of one owner's sealed
    values with the crypto functions alone, outside the journal: every key in the
    folder (each master key, the owner's backup key, every stored node of the backup
    keys) is tried on every wrapped data key of the owner, and every data key so found
    on every sealed value. Returns (sealed values of the owner in the file, texts read)."""
    ring = MasterKeyRing.load(keys / "master.json")
    tree = BackupKeys.load(keys / BACKUP_KEYS_FILE)
    leaf = tree.key_for(owner)
    keks = [*ring.keys.values(), *tree.nodes.values(), *([leaf] if leaf else [])]
    engine = create_engine(f"sqlite:///file:{backup_file}?mode=ro&uri=true")
    found, read = 0, []
    try:
        with Session(engine) as db:
            wrapped = db.scalars(select(DataKey.wrapped).where(DataKey.owner_id == owner)).all()
            data_keys = [k for w in wrapped for kek in keks if (k := _unwrap(kek, w))]
            for table in sealed_tables():
                stmt = select(table.model)
                for target, on in table.joins:
                    stmt = stmt.join(target, on)
                for row in db.scalars(stmt.where(table.owner == owner)):
                    for column in table.columns:
                        blob = getattr(row, column)
                        if blob is None:
                            continue
                        found += 1
                        place = FieldContext(
                            table.model.__tablename__, column, row.id, owner, row.version
                        )
                        texts = [t for k in data_keys if (t := _decrypt(k, blob, place))]
                        read += texts[:1]
    finally:
        engine.dispose()
    return found, read


def _fresh_instance(settings: Settings, folder: Path) -> Settings:
    """A clean machine: only the key folder (as it is now) and the secret key come along."""
    folder.mkdir(mode=0o700)
    shutil.copytree(settings.master_key_path.parent, folder / "keys")
    shutil.copy(settings.secret_key_path, folder / "secret_key")
    return settings.with_changes(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'journal.sqlite3'}",
        master_key_path=folder / "keys" / "master.json",
        secret_key_path=folder / "secret_key",
    )


def _titles_in(settings: Settings, patient: User, course_id: uuid.UUID) -> str:
    app = create_app(settings)
    try:
        b = Browser(app)
        assert b.login(patient.email).status_code == 302
        return b.text(f"/courses/{course_id}")
    finally:
        runtime(app).database.dispose()


def backup_then_erase(clinic: Clinic, settings: Settings, tmp_path: Path) -> Path:
    """A real backup taken before an erasure, read as an attacker would: the patient's
    words open with the key folder of before the erasure, and none of them with
    today's, while the other patient's still do. Returns the backup file."""
    keys = settings.master_key_path.parent
    _write_as(clinic, clinic.patient, clinic.course.id, "Words the erasure must reach")
    _write_as(clinic, clinic.other_patient, clinic.other_course.id, "Words that stay")
    with runtime(clinic.world.app).database.session() as db:
        live_wrapped = list(db.scalars(select(DataKey.wrapped)))
    backup_file = tmp_path / "before-erasure.sqlite3"
    made = _flask(settings, "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    stored = backup_file.read_bytes()
    assert not [w for w in live_wrapped if w in stored]  # no key wrapped by the master key
    keys_before = tmp_path / "keys-before"
    shutil.copytree(keys, keys_before)  # a copy of the key folder made before the erasure

    # With the key folder of before the erasure, the backup holds the patient's words.
    found, read = _read_backup(backup_file, keys_before, clinic.patient.id)
    assert found > 0
    assert "Words the erasure must reach" in read and len(read) == found

    _erase(clinic)

    # With today's key folder (master key and backup keys), nothing of theirs opens.
    found_after, read_after = _read_backup(backup_file, keys, clinic.patient.id)
    assert found_after == found  # the file has not changed: it is the keys that have
    assert read_after == []
    # Everyone else's words still open with today's key folder.
    found_other, read_other = _read_backup(backup_file, keys, clinic.other_patient.id)
    assert "Words that stay" in read_other and len(read_other) == found_other
    return backup_file


def restore_erases_again(clinic: Clinic, restored: Settings, backup_file: Path) -> None:
    """The real `restore` of that backup on a clean machine: the others are back, the
    erasure is applied again, and the keys and the audit chain check out."""
    result = _flask(restored, "restore", str(backup_file))
    assert result.returncode == 0, result.stderr
    assert "erasures re-applied: 1" in result.stdout
    verified = _flask(restored, "keys", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    chain = _flask(restored, "audit", "verify")
    assert chain.returncode == 0, chain.stdout + chain.stderr
    assert "Words that stay" in _titles_in(restored, clinic.other_patient, clinic.other_course.id)
    database = Database(restored.database_url)
    try:
        with database.session() as db:
            assert db.get(User, clinic.patient.id) is None
            assert db.get(User, clinic.other_patient.id) is not None
            assert db.scalar(select(func.count()).where(DataKey.owner_id == clinic.patient.id)) == 0
            patient_courses = select(func.count()).where(Course.patient_id == clinic.patient.id)
            assert db.scalar(patient_courses) == 0
    finally:
        database.dispose()


@pytest.mark.security_review(finding=4)
def test_a_backup_taken_before_an_erasure_cannot_be_read_for_that_patient(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    backup_file = backup_then_erase(clinic, settings, tmp_path)
    # The master key alone opens nobody's words in a backup, not even the others'.
    keys = settings.master_key_path.parent
    master_only = tmp_path / "master-only"
    master_only.mkdir(mode=0o700)
    shutil.copy2(keys / "master.json", master_only / "master.json")
    BackupKeys.new().save(master_only / BACKUP_KEYS_FILE)
    assert _read_backup(backup_file, master_only, clinic.other_patient.id)[1] == []
    restore_erases_again(clinic, _fresh_instance(settings, tmp_path / "clean"), backup_file)


def test_a_backup_taken_after_an_erasure_restores_without_them(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    _write_as(clinic, clinic.patient, clinic.course.id, "Words the erasure must reach")
    _write_as(clinic, clinic.other_patient, clinic.other_course.id, "Words that stay")
    _erase(clinic)
    backup_file = tmp_path / "after-erasure.sqlite3"
    made = _flask(settings, "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    keys = settings.master_key_path.parent
    assert _read_backup(backup_file, keys, clinic.patient.id) == (0, [])
    assert "Words that stay" in _read_backup(backup_file, keys, clinic.other_patient.id)[1]

    restored = _fresh_instance(settings, tmp_path / "clean")
    result = _flask(restored, "restore", str(backup_file))
    assert result.returncode == 0, result.stderr
    assert "erasures re-applied: 0" in result.stdout  # the backup already had it
    assert _flask(restored, "keys", "verify").returncode == 0
    assert "Words that stay" in _titles_in(restored, clinic.other_patient, clinic.other_course.id)


def test_a_backup_restores_after_the_master_key_was_rotated(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    """Backups do not depend on the master key: after `keys rotate-master` (whose old
    key leaves the file) an earlier backup restores with today's key folder, under
    today's master key, and an erasure made since is still applied."""
    _write_as(clinic, clinic.other_patient, clinic.other_course.id, "Words that stay")
    old_master = MasterKeyRing.load(settings.master_key_path).active_id
    backup_file = tmp_path / "before-rotation.sqlite3"
    assert _flask(settings, "backup", str(backup_file)).returncode == 0
    rotated = _flask(settings, "keys", "rotate-master")
    assert rotated.returncode == 0, rotated.stderr
    ring = MasterKeyRing.load(settings.master_key_path)
    assert old_master not in ring.keys
    _erase(clinic)

    restored = _fresh_instance(settings, tmp_path / "clean")
    result = _flask(restored, "restore", str(backup_file))
    assert result.returncode == 0, result.stderr
    assert "erasures re-applied: 1" in result.stdout
    verified = _flask(restored, "keys", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    database = Database(restored.database_url)
    try:
        with database.session() as db:
            assert set(db.scalars(select(DataKey.master_key_id))) == {ring.active_id}
            assert db.get(User, clinic.patient.id) is None
    finally:
        database.dispose()
    assert "Words that stay" in _titles_in(restored, clinic.other_patient, clinic.other_course.id)


def test_retired_backup_keys_open_no_earlier_backup(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    _write_as(clinic, clinic.other_patient, clinic.other_course.id, "Words that stay")
    old_backup = tmp_path / "old.sqlite3"
    assert _flask(settings, "backup", str(old_backup)).returncode == 0
    refused = _flask(settings, "keys", "retire-backups")  # asks first; no answer: nothing
    assert refused.returncode != 0
    assert _read_backup(old_backup, settings.master_key_path.parent, clinic.other_patient.id)[1]
    retired = _flask(settings, "keys", "retire-backups", "--yes")
    assert retired.returncode == 0, retired.stderr
    keys = settings.master_key_path.parent
    assert _read_backup(old_backup, keys, clinic.other_patient.id)[1] == []

    result = _flask(_fresh_instance(settings, tmp_path / "a"), "restore", str(old_backup))
    assert result.returncode != 0
    assert "retire-backups" in result.stderr
    new_backup = tmp_path / "new.sqlite3"
    assert _flask(settings, "backup", str(new_backup)).returncode == 0
    restored = _fresh_instance(settings, tmp_path / "b")
    assert _flask(restored, "restore", str(new_backup)).returncode == 0
    assert "Words that stay" in _titles_in(restored, clinic.other_patient, clinic.other_course.id)


def test_a_sealed_backup_copied_in_place_by_hand_is_refused(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    backup_file = tmp_path / "b.sqlite3"
    backup(settings, backup_file)
    by_hand = _fresh_instance(settings, tmp_path / "clean")
    shutil.copy(backup_file, by_hand.instance_path / "journal.sqlite3")
    with pytest.raises(ConfigError, match="restore"):
        create_app(by_hand)


def test_a_backup_deletes_backup_keys_an_interrupted_erasure_left(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    """An erasure whose key deletion never ran (the process died after the commit), or
    a key folder put back from an older copy: the next backup catches up from the
    ledger and the database's own list of erasures."""
    store = settings.master_key_path.parent / BACKUP_KEYS_FILE
    before = store.read_bytes()
    _erase(clinic)
    assert BackupKeys.load(store).key_for(clinic.patient.id) is None
    store.write_bytes(before)  # as if the deletion had not happened
    ledger_path(settings.master_key_path).unlink()  # nor the ledger's line
    assert BackupKeys.load(store).key_for(clinic.patient.id) is not None

    backup(settings, tmp_path / "b.sqlite3")

    assert BackupKeys.load(store).key_for(clinic.patient.id) is None
    assert BackupKeys.load(store).key_for(clinic.other_patient.id) is not None


def test_without_the_ledger_the_deleted_backup_key_still_erases_on_restore(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    """The ledger lost (or a key folder whose ledger is older than its backup keys):
    an owner whose backup key is gone is erased again all the same, since nothing
    of theirs could be opened."""
    _write_as(clinic, clinic.other_patient, clinic.other_course.id, "Words that stay")
    backup_file = tmp_path / "before-erasure.sqlite3"
    assert _flask(settings, "backup", str(backup_file)).returncode == 0
    _erase(clinic)
    ledger_path(settings.master_key_path).unlink()

    restored = _fresh_instance(settings, tmp_path / "clean")
    result = _flask(restored, "restore", str(backup_file))
    assert result.returncode == 0, result.stderr
    assert "erasures re-applied: 1" in result.stdout
    assert _flask(restored, "keys", "verify").returncode == 0
    database = Database(restored.database_url)
    try:
        with database.session() as db:
            assert db.get(User, clinic.patient.id) is None
            assert db.get(User, clinic.other_patient.id) is not None
    finally:
        database.dispose()
