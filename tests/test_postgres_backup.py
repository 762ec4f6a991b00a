"""Sealed backups on PostgreSQL (checklist 11 and 12): `backup` copies one snapshot of
the database into a SQLite backup file whose data keys are sealed with the backup
keys, as on SQLite, so erasing a patient reaches backups taken before; `restore`
loads such a file into an empty PostgreSQL database and erases them again.

The PostgreSQL pass only (the SQLite pass runs tests/test_sealed_backups.py): the
backup is taken of the test's own database, and each restore goes into a scratch
database this module creates on the same server and drops afterwards."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from journal.config import ConfigError, Settings
from journal.maintenance import backup, restore
from journal.models import User
from tests.conftest import PG_URL, Clinic, runtime
from tests.test_sealed_backups import backup_then_erase, restore_erases_again

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
    backup_file = backup_then_erase(clinic, settings, tmp_path)
    restore_erases_again(
        clinic, _instance_on(settings, tmp_path / "clean", scratch_url), backup_file
    )


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
