"""Backups, restores and the erasure ledger.

A backup is a consistent copy of the database, as one SQLite file, in which every
data key is wrapped with its owner's backup key (journal/crypto/backup_keys.py)
instead of the master key. On PostgreSQL the rows are copied through SQLAlchemy,
in one read-only REPEATABLE READ transaction (one snapshot), into a SQLite copy
made in memory with the same migrations, then sealed as a SQLite backup is; a
restore loads such a file into an empty PostgreSQL database. The backup keys live in
the key folder, never in the backup; erasing a patient deletes theirs, so no backup
taken before an erasure opens for that patient with the keys that exist after it. A
restore unwraps with the backup keys, wraps again with the active master key, and
treats an owner whose backup key is gone as erased.

The erasure ledger lists erased patients' ids in the key folder, so it is
backed up with the keys, apart from the database: restoring a database backup
made before an erasure re-applies that erasure.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Table,
    bindparam,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.pool import StaticPool

from journal.accounts.erasure import erased_patients, ledger_path, read_ledger, remove_patient_rows
from journal.bootstrap import alembic_config, migrate
from journal.config import ConfigError, Settings
from journal.core.keys import SEALED_BACKUP_TABLE
from journal.core.labels import N_
from journal.crypto import KeyFileError, MasterKeyRing, unwrap_data_key, wrap_data_key
from journal.crypto.backup_keys import (
    FILE_NAME,
    BackupKeys,
    create_backup_keys,
    forget_owners,
)
from journal.db import Base, Database, make_engine
from journal.models import DataKey, MasterKeyRecord

# Rows read and written at a time when copying to or from PostgreSQL.
BATCH_ROWS = 1000
_ALEMBIC_TABLE = "alembic_version"


def backup_keys_path(settings: Settings) -> Path:
    """Beside the master key file, so the key folder's backup carries it."""
    return settings.master_key_path.parent / FILE_NAME


def _is_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith(("postgresql://", "postgresql+psycopg://"))


def _sqlite_path(settings: Settings) -> Path:
    if not settings.database_url.startswith("sqlite:///"):
        raise ConfigError(N_("backup and restore are for SQLite and PostgreSQL databases"))
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
    source_path = None if _is_postgres(settings) else _sqlite_path(settings)
    if destination.exists():
        raise ConfigError(N_("%(path)s exists; choose a new file name", path=destination))
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    try:
        with closing(sqlite3.connect(":memory:")) as memory:
            if source_path is None:
                _copy_from_postgres(settings.database_url, memory)
            else:
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


def _memory_engine(memory: sqlite3.Connection) -> Engine:
    """SQLAlchemy over a SQLite connection in memory (foreign keys off, as sqlite3
    leaves them: rows are copied table by table, and migrations rebuild tables)."""
    return create_engine("sqlite://", creator=lambda: memory, poolclass=StaticPool)


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _migrate_memory(engine: Engine) -> None:
    """The schema of a SQLite database at the newest revision, by the same migrations."""
    with engine.connect() as conn, conn.begin():
        cfg = alembic_config("sqlite://")
        cfg.attributes["connection"] = conn
        from alembic import command

        command.upgrade(cfg, "head")


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(_ALEMBIC_TABLE):
        return None
    found = conn.scalar(text("SELECT version_num FROM alembic_version"))
    return None if found is None else str(found)


def _tables(conn: Connection, revision: str | None) -> list[Table]:
    """The database's tables, parents first, once it is at this version's revision; a
    table the models do not describe is refused, so no rows are left out unnoticed."""
    head = _head_revision()
    if revision != head:
        raise ConfigError(
            N_(
                "the database is at schema revision %(revision)s, this version at %(head)s; "
                "run 'flask --app journal init' first",
                revision=revision,
                head=head,
            )
        )
    present = set(inspect(conn).get_table_names()) - {_ALEMBIC_TABLE}
    unknown = present - set(Base.metadata.tables)
    if unknown:
        raise ConfigError(
            N_(
                "the database has tables this version does not know: %(tables)s",
                tables=sorted(unknown),
            )
        )
    return [t for t in Base.metadata.sorted_tables if t.name in present]


def _batches(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    """A table's rows, BATCH_ROWS at a time (a server-side cursor on PostgreSQL)."""
    result = conn.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
        select(table)
    )
    for part in result.partitions():
        yield [dict(row._mapping) for row in part]


def _copy_from_postgres(url: str, memory: sqlite3.Connection) -> None:
    """Every table's rows from one snapshot of the PostgreSQL database into a SQLite
    database in memory, migrated to the same revision first; writes go on meanwhile."""
    target = _memory_engine(memory)
    source = make_engine(url)
    try:
        _migrate_memory(target)
        with source.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin(), target.begin() as copy:
                for table in _tables(conn, _revision(conn)):
                    for rows in _batches(conn, table):
                        copy.execute(table.insert(), rows)
    finally:
        source.dispose()  # not the target: that would close the caller's connection


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
                    N_(
                        "the master key file changed while the backup was made "
                        "(a key rotation?); run the backup again"
                    )
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
        raise ConfigError(
            N_("%(path)s failed its integrity check: %(result)s", path=path, result=result)
        )


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
        raise ConfigError(
            N_("%(path)s is a sealed backup without the id of its backup keys", path=path)
        )
    return str(row[0])


def restore(settings: Settings, source: Path) -> int:
    """Put a backup in place of a missing database (SQLite) or into an empty one
    (PostgreSQL); re-apply later erasures.

    Returns how many erasures were re-applied. Refuses to overwrite a database.
    """
    postgres = _is_postgres(settings)
    target_path = None if postgres else _sqlite_path(settings)
    if target_path is not None and target_path.exists() and target_path.stat().st_size > 0:
        raise ConfigError(N_("%(path)s exists; move it away before restoring", path=target_path))
    check_integrity(source)
    tree = _sealed_with(source)
    keys = None
    if tree is not None:
        keys = _backup_keys(settings, [])
        if keys.tree_id != tree:
            raise ConfigError(
                N_(
                    "%(path)s was sealed with backup keys %(tree)s, but the key folder holds "
                    "%(held)s: those keys were retired ('keys retire-backups'), or the "
                    "backup belongs to another installation",
                    path=source,
                    tree=tree,
                    held=keys.tree_id,
                )
            )
        ring = _ring(settings)
    if target_path is None:
        gone = _load_into_postgres(settings, source, keys, _ring(settings))
        return reapply_erasures(settings, also=gone)
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
                rewrapped = _rewrap(ring, keys, key_id, owner, wrapped)
                if rewrapped is None:
                    gone.add(owner)
                    db.execute(delete(DataKey).where(DataKey.id == key_id))
                    continue
                db.execute(
                    update(DataKey)
                    .where(DataKey.id == key_id)
                    .values(wrapped=rewrapped, master_key_id=ring.active_id)
                )
            db.execute(text("DROP TABLE sealed_backup"))
            db.commit()
        database.checkpoint()
    finally:
        database.dispose()
    return sorted(gone)


def _rewrap(
    ring: MasterKeyRing, keys: BackupKeys, key_id: uuid.UUID, owner: uuid.UUID, wrapped: bytes
) -> bytes | None:
    """A data key of a sealed backup wrapped with the active master key instead of its
    owner's backup key; None once that backup key is gone (the owner was erased)."""
    owner_key = keys.key_for(owner)
    if owner_key is None:
        return None
    data_key = unwrap_data_key(owner_key, wrapped, key_id=str(key_id))
    return wrap_data_key(ring.active_key, data_key)


def _load_into_postgres(
    settings: Settings, source: Path, keys: BackupKeys | None, ring: MasterKeyRing
) -> list[uuid.UUID]:
    """Copy a backup's rows into an empty PostgreSQL database, in one transaction, its
    data keys wrapped again with the active master key. Returns the owners whose
    backup key is gone (their data keys are left out)."""
    gone: set[uuid.UUID] = set()
    with closing(sqlite3.connect(":memory:")) as memory:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
            src.backup(memory)
        copy = _memory_engine(memory)
        database = Database(settings.database_url)
        try:
            with copy.connect() as conn:
                backed_up = _revision(conn)
            if backed_up != _head_revision():
                _migrate_memory(copy)  # a backup of an older version, upgraded in memory
            with database.engine.connect() as conn:
                empty_schema = _revision(conn) is None
            if empty_schema:
                migrate(database)
            with database.engine.begin() as target, copy.connect() as conn:
                tables = _tables(target, _revision(target))
                _require_empty(target, tables)
                present = set(target.scalars(select(MasterKeyRecord.id)))
                if ring.active_id not in present:
                    target.execute(
                        insert(MasterKeyRecord).values(
                            id=ring.active_id, check_value=ring.check_value(ring.active_id)
                        )
                    )
                    present.add(ring.active_id)
                for table in tables:
                    for rows in _batches(conn, table):
                        if table is MasterKeyRecord.__table__:
                            rows = [r for r in rows if r["id"] not in present]
                        elif table is DataKey.__table__ and keys is not None:
                            rows = _unsealed_rows(rows, ring, keys, gone)
                        _insert(target, table, rows)
                    _fill_self_references(target, conn, table)
                _reset_sequences(target, tables)
        finally:
            database.dispose()
            copy.dispose()
    return sorted(gone)


def _require_empty(conn: Connection, tables: list[Table]) -> None:
    """Refuse a database that holds anything but the master key `init` registered."""
    for table in tables:
        if table is MasterKeyRecord.__table__:
            continue
        if conn.scalar(select(func.count()).select_from(table)):
            raise ConfigError(
                N_(
                    "the database already holds data (table %(table)s); restore into an "
                    "empty database (created, then 'flask --app journal init' or nothing)",
                    table=table.name,
                )
            )


def _unsealed_rows(
    rows: list[dict[str, Any]], ring: MasterKeyRing, keys: BackupKeys, gone: set[uuid.UUID]
) -> list[dict[str, Any]]:
    kept = []
    for row in rows:
        rewrapped = _rewrap(ring, keys, row["id"], row["owner_id"], row["wrapped"])
        if rewrapped is None:
            gone.add(row["owner_id"])
            continue
        kept.append({**row, "wrapped": rewrapped, "master_key_id": ring.active_id})
    return kept


def _self_references(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows of a table that refers to itself (replies, intentions built on others) go in
    without those references first, so the order of the rows does not matter."""
    if not rows:
        return
    blank = dict.fromkeys(_self_references(table))
    conn.execute(table.insert(), [{**row, **blank} for row in rows] if blank else rows)


def _fill_self_references(target: Connection, source: Connection, table: Table) -> None:
    columns = _self_references(table)
    if not columns:
        return
    (key,) = table.primary_key.columns
    stmt = (
        table.update()
        .where(key == bindparam("row_key"))
        .values({c: bindparam(f"new_{c}") for c in columns})
    )
    for rows in _batches(source, table):
        found = [
            {"row_key": r[key.name], **{f"new_{c}": r[c] for c in columns}}
            for r in rows
            if any(r[c] is not None for c in columns)
        ]
        if found:
            target.execute(stmt, found)


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """A serial column's sequence continues after the rows loaded with their ids."""
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = conn.scalar(
                text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            )
            if sequence is not None:
                top = conn.scalar(select(func.max(column)))
                conn.execute(
                    text("SELECT setval(:s, :v, :called)"),
                    {"s": sequence, "v": top or 1, "called": top is not None},
                )


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
