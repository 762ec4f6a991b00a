"""What every request needs, built once per process: each worker loads the keys."""

from __future__ import annotations

from dataclasses import dataclass

from journal.config import ConfigError, Settings
from journal.crypto import KeyFileError, MasterKeyRing
from journal.db import Database
from journal.services.accounts import SessionLimits
from journal.services.audit import AUDIT_KEY
from journal.services.keys import NotInitialised, verify_master_keys
from journal.services.passwords import Passwords


@dataclass
class Runtime:
    """What every request needs, built once per process (each worker loads the keys)."""

    settings: Settings
    database: Database
    ring: MasterKeyRing
    passwords: Passwords
    session_limits: SessionLimits


def build_runtime(settings: Settings) -> Runtime:
    try:
        ring = MasterKeyRing.load(settings.master_key_path)
    except KeyFileError as exc:
        raise ConfigError(str(exc)) from None
    database = Database(settings.database_url)
    try:
        with database.session() as db:
            verify_master_keys(db, ring)
    except (KeyFileError, NotInitialised) as exc:
        database.dispose()
        raise ConfigError(str(exc)) from None
    if ring.audit_key is None:
        database.dispose()
        raise ConfigError(
            f"the key file {settings.master_key_path} has no audit key; "
            "run 'flask --app journal init' to add one"
        )
    database.session_info[AUDIT_KEY] = ring.audit_key
    params = settings.argon2
    passwords = Passwords(
        time_cost=params.time_cost,
        memory_cost_kib=params.memory_cost_kib,
        parallelism=params.parallelism,
    )
    return Runtime(settings, database, ring, passwords, SessionLimits())
