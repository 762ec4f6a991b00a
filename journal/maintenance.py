"""Backups, restores and the erasure ledger.

A backup is a consistent copy of the SQLite database in which every data key is
wrapped with its owner's backup key (journal/crypto/backup_keys.py) instead of the
master key. The backup keys live in the key folder, never in the backup; erasing a
patient deletes theirs, so no backup taken before an erasure opens for that patient
with the keys that exist after it. A restore unwraps with the backup keys, wraps
again with the active master key, and treats an owner whose backup key is gone as
erased.

The erasure ledger lists erased patients' ids in the key folder, so it is
backed up with the keys, apart from the database: restoring a database backup
made before an erasure re-applies that erasure.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from sqlalchemy import delete, insert, select, text, update

from journal.accounts.erasure import erased_patients, ledger_path, read_ledger, remove_patient_rows
from journal.config import ConfigError, Settings
from journal.core.keys import SEALED_BACKUP_TABLE
from journal.crypto import KeyFileError, MasterKeyRing, unwrap_data_key, wrap_data_key
from journal.crypto.backup_keys import (
    FILE_NAME,
    BackupKeys,
    create_backup_keys,
    forget_owners,
)
from journal.db import Database
from journal.models import DataKey, MasterKeyRecord


def backup_keys_path(settings: Settings) -> Path:
    """Beside the master key file, so the key folder's backup carries it."""
    return settings.master_key_path.parent / FILE_NAME


def _sqlite_path(settings: Settings) -> Path:
    if not settings.database_url.startswith("sqlite:///"):
        raise ConfigError(
            "backup and restore here are for SQLite; for PostgreSQL use pg_dump and pg_restore "
            "(see docs/deployment.md)"
        )
    return Path(settings.database_url.removeprefix("sqlite:///"))


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _backup_keys(settings: Settings, erased: Iterable[uuid.UUID]) -> BackupKeys:
    """The backup keys, after deleting those of every erased patient still in them
    (an erasure interrupted between its commit and its key deletion, a key folder
    put back from a copy): the ledger's, and the database's own list."""
    path = backup_keys_path(settings)
    try:
        forget_owners(path, [*read_ledger(ledger_path(settings.master_key_path)), *erased])
        return BackupKeys.load(path)
    except KeyFileError as exc:
        raise ConfigError(str(exc)) from None


def _ring(settings: Settings) -> MasterKeyRing:
    try:
        return MasterKeyRing.load(settings.master_key_path)
    except KeyFileError as exc:
        raise ConfigError(str(exc)) from None


def backup(settings: Settings, destination: Path) -> str:
    """An online, consistent copy of the database (writes may go on meanwhile), its
    data keys sealed with the backup keys. Returns the id of the backup keys used.

    The copy is made and sealed in memory, then compacted, so the file never holds
    a data key wrapped by the master key, not even in a freed page."""
    source_path = _sqlite_path(settings)
    if destination.exists():
        raise ConfigError(f"{destination} exists; choose a new file name")
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        with closing(sqlite3.connect(":memory:")) as memory:
            with closing(sqlite3.connect(source_path)) as source:
                source.backup(memory, pages=1024)
            erased = [_uuid(p) for (p,) in memory.execute("SELECT patient_id FROM erasures")]
            keys = _backup_keys(settings, erased)
            _seal(memory, _ring(settings), keys)
            with closing(sqlite3.connect(destination)) as target:
                memory.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        check_integrity(destination)
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return keys.tree_id


def _seal(conn: sqlite3.Connection, ring: MasterKeyRing, keys: BackupKeys) -> None:
    """Wrap every data key of the copy with its owner's backup key. A key whose owner
    has none any more (erased while the copy was made) is left out: nothing could
    open it, and the restore erases that owner again."""
    conn.execute("PRAGMA secure_delete=ON")
    rows = conn.execute("SELECT id, owner_id, wrapped, master_key_id FROM data_keys").fetchall()
    with conn:
        for key_id, owner, wrapped, master_key_id in rows:
            owner_key = keys.key_for(_uuid(owner))
            if owner_key is None:
                conn.execute("DELETE FROM data_keys WHERE id = ?", (key_id,))
                continue
            try:
                master = ring.key(master_key_id)
            except KeyFileError:
                raise ConfigError(
                    "the master key file changed while the backup was made "
                    "(a key rotation?); run the backup again"
                ) from None
            data_key = unwrap_data_key(master, wrapped, key_id=str(key_id))
            conn.execute(
                "UPDATE data_keys SET wrapped = ? WHERE id = ?",
                (wrap_data_key(owner_key, data_key), key_id),
            )
        conn.execute("CREATE TABLE sealed_backup (tree TEXT NOT NULL)")
        conn.execute("INSERT INTO sealed_backup (tree) VALUES (?)", (keys.tree_id,))
    conn.execute("VACUUM")


def check_integrity(path: Path) -> None:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()
    finally:
        conn.close()
    if not result or result[0] != "ok":
        raise ConfigError(f"{path} failed its integrity check: {result}")


def _sealed_with(path: Path) -> str | None:
    """The id of the backup keys a backup was sealed with; None for a plain copy
    (a backup made before backups were sealed)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
            (SEALED_BACKUP_TABLE,),
        ).fetchone()
        if found is None:
            return None
        row = conn.execute("SELECT tree FROM sealed_backup").fetchone()
    finally:
        conn.close()
    if row is None:
        raise ConfigError(f"{path} is a sealed backup without the id of its backup keys")
    return str(row[0])


def restore(settings: Settings, source: Path) -> int:
    """Put a backup in place of a missing database; re-apply later erasures.

    Returns how many erasures were re-applied. Refuses to overwrite a database.
    """
    target_path = _sqlite_path(settings)
    if target_path.exists() and target_path.stat().st_size > 0:
        raise ConfigError(f"{target_path} exists; move it away before restoring")
    check_integrity(source)
    tree = _sealed_with(source)
    keys = None
    if tree is not None:
        keys = _backup_keys(settings, [])
        if keys.tree_id != tree:
            raise ConfigError(
                f"{source} was sealed with backup keys {tree}, but the key folder holds "
                f"{keys.tree_id}: those keys were retired ('keys retire-backups'), or the "
                "backup belongs to another installation"
            )
        ring = _ring(settings)
    target_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(target_path, os.O_WRONLY | os.O_CREAT, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target_path)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    gone = [] if keys is None else _unseal(settings, ring, keys)
    return reapply_erasures(settings, also=gone)


def _unseal(settings: Settings, ring: MasterKeyRing, keys: BackupKeys) -> list[uuid.UUID]:
    """Wrap the restored data keys with the active master key again (registering that
    key with the database if the backup predates it). Returns the owners whose
    backup key is gone: erased since the backup. Their data keys are dropped."""
    database = Database(settings.database_url)
    gone: set[uuid.UUID] = set()
    try:
        with database.session(write=True) as db:
            if db.get(MasterKeyRecord, ring.active_id) is None:
                db.execute(
                    insert(MasterKeyRecord).values(
                        id=ring.active_id, check_value=ring.check_value(ring.active_id)
                    )
                )
            rows = db.execute(select(DataKey.id, DataKey.owner_id, DataKey.wrapped)).all()
            for key_id, owner, wrapped in rows:
                owner_key = keys.key_for(owner)
                if owner_key is None:
                    gone.add(owner)
                    db.execute(delete(DataKey).where(DataKey.id == key_id))
                    continue
                data_key = unwrap_data_key(owner_key, wrapped, key_id=str(key_id))
                db.execute(
                    update(DataKey)
                    .where(DataKey.id == key_id)
                    .values(
                        wrapped=wrap_data_key(ring.active_key, data_key),
                        master_key_id=ring.active_id,
                    )
                )
            db.execute(text("DROP TABLE sealed_backup"))
            db.commit()
        database.checkpoint()
    finally:
        database.dispose()
    return sorted(gone)


def reapply_erasures(settings: Settings, also: Iterable[uuid.UUID] = ()) -> int:
    """Erase again every patient in the ledger whose rows came back with a restore,
    and those `also` named (whose backup keys are gone)."""
    wanted = read_ledger(ledger_path(settings.master_key_path))
    wanted += [p for p in also if p not in wanted]
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


def retire_backups(settings: Settings) -> BackupKeys:
    """New backup keys in place of the old: no backup taken so far can be opened with
    the key folder any more (a copy of the folder made before still opens them)."""
    try:
        return create_backup_keys(backup_keys_path(settings), replace=True)
    except KeyFileError as exc:
        raise ConfigError(str(exc)) from None
