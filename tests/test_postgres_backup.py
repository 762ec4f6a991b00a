"""Sealed backups on PostgreSQL (checklist 11 and 12): `backup` copies one snapshot of
the database into a SQLite backup file whose data keys are sealed with the backup
keys, as on SQLite, so erasing a patient reaches backups taken before; `restore`
loads such a file into an empty PostgreSQL database and erases them again.

The PostgreSQL pass only (the SQLite pass runs tests/test_sealed_backups.py): the
backup is taken of the test's own database, and each restore goes into a scratch
database this module creates on the same server and drops afterwards."""

from __future__ import annotations

import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from journal.config import ConfigError, Settings
from journal.db import Database
from journal.maintenance import backup, restore
from journal.models import Course, DataKey, User
from tests.conftest import PG_URL, Clinic, runtime
from tests.test_sealed_backups import _erase, _flask, _read_backup, _titles_in, _write_as

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL: runs in the PostgreSQL pass (JOURNAL_TEST_DATABASE_URL set, "
    "as `make test-postgres` does); the SQLite pass runs tests/test_sealed_backups.py",
)


@pytest.fixture
def scratch_url() -> Iterator[str]:
    """An empty database of the test's own on the test server, dropped afterwards."""
    server, base = PG_URL.rsplit("/", 1)
    name = f"{base}_restore_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {server} is unreachable: {exc}")
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _instance_on(settings: Settings, folder: Path, url: str) -> Settings:
    """A clean machine: the key folder as it is now and the secret key, another database."""
    folder.mkdir(mode=0o700)
    shutil.copytree(settings.master_key_path.parent, folder / "keys")
    shutil.copy(settings.secret_key_path, folder / "secret_key")
    return settings.with_changes(
        instance_path=folder,
        database_url=url,
        master_key_path=folder / "keys" / "master.json",
        secret_key_path=folder / "secret_key",
    )


@pytest.mark.security_review(finding=4)
def test_a_postgres_backup_taken_before_an_erasure_cannot_be_read_for_that_patient(
    clinic: Clinic, settings: Settings, tmp_path: Path, scratch_url: str
) -> None:
    assert settings.database_url.startswith("postgresql")
    keys = settings.master_key_path.parent
    _write_as(clinic, clinic.patient, clinic.course.id, "Words the erasure must reach")
    _write_as(clinic, clinic.other_patient, clinic.other_course.id, "Words that stay")
    with runtime(clinic.world.app).database.session() as db:
        live_wrapped = list(db.scalars(select(DataKey.wrapped)))
    backup_file = tmp_path / "before-erasure.sqlite3"
    made = _flask(settings, "backup", str(backup_file))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert not [w for w in live_wrapped if w in backup_file.read_bytes()]
    keys_before = tmp_path / "keys-before"
    shutil.copytree(keys, keys_before)

    found, read = _read_backup(backup_file, keys_before, clinic.patient.id)
    assert found > 0
    assert "Words the erasure must reach" in read and len(read) == found

    _erase(clinic)

    # With today's key folder nothing of theirs opens; everyone else's does.
    found_after, read_after = _read_backup(backup_file, keys, clinic.patient.id)
    assert found_after == found
    assert read_after == []
    found_other, read_other = _read_backup(backup_file, keys, clinic.other_patient.id)
    assert "Words that stay" in read_other and len(read_other) == found_other

    # The real `restore` into a fresh PostgreSQL database erases them again.
    restored = _instance_on(settings, tmp_path / "clean", scratch_url)
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


def test_a_postgres_restore_refuses_a_database_that_holds_data(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    backup_file = tmp_path / "b.sqlite3"
    backup(settings, backup_file)
    with runtime(clinic.world.app).database.session() as db:
        users = db.scalar(select(func.count()).select_from(User))
    with pytest.raises(ConfigError, match="already holds data"):
        restore(settings, backup_file)
    with runtime(clinic.world.app).database.session() as db:
        assert db.scalar(select(func.count()).select_from(User)) == users
