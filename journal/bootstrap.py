"""First-run set-up: the instance folder, secret key, master key and schema.

Idempotent: run it again and it creates only what is missing, upgrades the
schema, checks that the key file belongs to the database, erases again any patient
the erasure ledger lists whose rows are back (a database put back by hand), keys any
recovery code still stored the old way, and seals what earlier versions kept in clear (what
raised a safety flag, an erasure's reason).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from journal.accounts.erasure import (
    catch_up_ledger,
    erase_again,
    ledger_path,
    seal_clear_reasons,
)
from journal.accounts.twofactor import upgrade_recovery_codes
from journal.clinical.questionnaires import seal_clear_flags
from journal.config import PROJECT_ROOT, ConfigError, Settings
from journal.core.keys import NotInitialised, register_master_key, verify_master_keys
from journal.core.labels import N_
from journal.core.vault import Vault
from journal.crypto import KeyFileError, MasterKeyRing, create_key_file
from journal.crypto.backup_keys import FILE_NAME as BACKUP_KEYS_FILE
from journal.crypto.backup_keys import create_backup_keys, forget_owners
from journal.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = PROJECT_ROOT / "migrations"


def _write_private(path: Path, content: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)


def ensure_instance(settings: Settings) -> list[str]:
    """Create the instance folder and the two secrets if missing; report what was made."""
    made: list[str] = []
    settings.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.instance_path.chmod(0o700)
    if not settings.secret_key_path.exists():
        _write_private(settings.secret_key_path, secrets.token_urlsafe(48) + "\n")
        made.append(N_("secret key %(path)s", path=settings.secret_key_path))
    if not settings.master_key_path.exists():
        settings.master_key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_key_file(settings.master_key_path)
        made.append(N_("master key %(path)s", path=settings.master_key_path))
    backup_keys = settings.master_key_path.parent / BACKUP_KEYS_FILE
    if not backup_keys.exists():  # beside the master key: the key folder's backup carries both
        create_backup_keys(backup_keys)
        made.append(N_("backup keys %(path)s", path=backup_keys))
    return made


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def migrate(database: Database) -> None:
    """Upgrade the schema to the newest revision.

    On SQLite, altering a table means copying it and dropping the old one; with
    foreign keys on, that drop would cascade and delete dependent rows. So keys
    are off while migrating (a pragma that only works outside a transaction)
    and checked afterwards.
    """
    with database.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        if database.is_sqlite:
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg = alembic_config(database.url)
                cfg.attributes["connection"] = conn
                from alembic import command

                command.upgrade(cfg, "head")
            if database.is_sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                conn.commit()
                if broken:
                    raise RuntimeError(f"migration left {len(broken)} broken references")
        finally:
            if database.is_sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def _private_sqlite_file(database_url: str) -> None:
    """Create the SQLite file owner-only; SQLite gives its -wal and -shm the same mode."""
    if not database_url.startswith("sqlite:///"):
        return
    path = Path(database_url.removeprefix("sqlite:///"))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    path.chmod(0o600)


def initialise(settings: Settings, database: Database | None = None) -> list[str]:
    """Everything a fresh or existing instance needs before the app starts."""
    made = ensure_instance(settings)
    _private_sqlite_file(settings.database_url)
    own = database is None
    database = database or Database(settings.database_url)
    try:
        ring = MasterKeyRing.load(settings.master_key_path)
        if ring.audit_key is None:  # key files made before the audit chain existed
            ring = ring.with_audit_key()
            ring.save(settings.master_key_path)
            made.append(N_("audit key"))
        migrate(database)
        with database.session(write=True) as db:
            register_master_key(db, ring)
            verify_master_keys(db, ring)
            assert ring.recovery_code_key is not None  # the audit key was added above
            keyed = upgrade_recovery_codes(db, ring.recovery_code_key)
            # Values in clear before revision 0013, which holds no keys: sealed here.
            vault = Vault(db, ring)
            flags = seal_clear_flags(db, vault)
            reasons = seal_clear_reasons(db, vault)
            # Patients the ledger lists as erased, back with a database put back by hand.
            ledger = ledger_path(settings.master_key_path)
            returned = erase_again(db, ledger)
            caught_up = catch_up_ledger(db, ledger)
            db.commit()
        if caught_up:
            made.append(N_("added %(num)s erasures the erasure ledger lacked", num=len(caught_up)))
        if returned:
            forget_owners(settings.key_folder / BACKUP_KEYS_FILE, returned)
            database.checkpoint()
            made.append(
                N_("erased again %(num)s patients the erasure ledger lists", num=len(returned))
            )
        if keyed:  # codes stored as bare SHA-256 digests before they were keyed
            made.append(N_("keyed hashes of %(num)s recovery codes", num=keyed))
        if flags or reasons:
            database.checkpoint()  # no frame of the clear values left in SQLite's -wal file
        if flags:
            made.append(N_("sealed what raised %(num)s safety flags", num=flags))
        if reasons:
            made.append(N_("sealed %(num)s erasure reasons", num=reasons))
    except (KeyFileError, NotInitialised) as exc:
        raise ConfigError(str(exc)) from None
    finally:
        if own:
            database.dispose()
    return made
