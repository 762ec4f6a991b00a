"""Backups, restores and the erasure ledger.

The erasure ledger lists erased patients' ids in the key folder, so it is
backed up with the keys, apart from the database: restoring a database backup
made before an erasure re-applies that erasure.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from journal.accounts.erasure import erased_patients, ledger_path, read_ledger, remove_patient_rows
from journal.config import ConfigError, Settings
from journal.db import Database


def _sqlite_path(settings: Settings) -> Path:
    if not settings.database_url.startswith("sqlite:///"):
        raise ConfigError(
            "backup and restore here are for SQLite; for PostgreSQL use pg_dump and pg_restore "
            "(see docs/deployment.md)"
        )
    return Path(settings.database_url.removeprefix("sqlite:///"))


def backup(settings: Settings, destination: Path) -> None:
    """An online, consistent copy of the database (writes may go on meanwhile)."""
    source_path = _sqlite_path(settings)
    if destination.exists():
        raise ConfigError(f"{destination} exists; choose a new file name")
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(destination)
    try:
        source.backup(target, pages=1024)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target.close()
        source.close()
    check_integrity(destination)


def check_integrity(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        conn.close()
    if not result or result[0] != "ok":
        raise ConfigError(f"{path} failed its integrity check: {result}")


def restore(settings: Settings, source: Path) -> int:
    """Put a backup in place of a missing database; re-apply later erasures.

    Returns how many erasures were re-applied. Refuses to overwrite a database.
    """
    target_path = _sqlite_path(settings)
    if target_path.exists() and target_path.stat().st_size > 0:
        raise ConfigError(f"{target_path} exists; move it away before restoring")
    check_integrity(source)
    target_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(target_path, os.O_WRONLY | os.O_CREAT, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target_path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return reapply_erasures(settings)


def reapply_erasures(settings: Settings) -> int:
    """Erase again every patient in the ledger whose rows came back with a restore."""
    wanted = read_ledger(ledger_path(settings.master_key_path))
    if not wanted:
        return 0
    database = Database(settings.database_url)
    try:
        with database.session(write=True) as db:
            already = set(erased_patients(db))
            missing = [p for p in wanted if p not in already]
            for patient_id in wanted:
                remove_patient_rows(db, patient_id)
            db.commit()
        database.checkpoint()
    finally:
        database.dispose()
    return len(missing)
