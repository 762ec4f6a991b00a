"""What every request needs, built once per process: each worker loads the keys."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from huey import Huey

from journal.accounts.accounts import SessionLimits
from journal.accounts.audit import AUDIT_KEY
from journal.accounts.erasure import catch_up_ledger, ledger_path, returned_patients
from journal.accounts.passwords import Passwords
from journal.accounts.twofactor import RECOVERY_CODE_KEY
from journal.clinical.content import ClinicalContent, load_clinical_content
from journal.config import ConfigError, Settings
from journal.core.actor import Actor
from journal.core.definitions import DefinitionError
from journal.core.keys import NotInitialised, verify_master_keys
from journal.core.labels import N_
from journal.core.queue import build_queue
from journal.core.work import Work
from journal.crypto import KeyFileError, MasterKeyRing
from journal.db import Database
from journal.notify import jobs

log = logging.getLogger("journal.keys")


class KeyFile:
    """The master key ring, re-read when the key file changes on disk.

    A key rotation run from the command line rewrites the file; every worker
    of a running app picks the new ring up at its next request: each request
    compares the file's modification time and inode with those it loaded (one
    `stat`, no read). With the key folder on storage every server mounts, that
    `stat` may answer from the mount's attribute cache for some seconds, so a
    ring asked for a master key it lacks (a data key another server's rotation
    has just re-wrapped) reads the file again at once, which the mount checks
    with its server (close-to-open consistency), before giving up; at most once
    a second, so a database that names a key no file holds cannot make every
    request read it.
    """

    RETRY_SECONDS = 1.0

    def __init__(self, path: Path, ring: MasterKeyRing) -> None:
        self.path = path
        self._stamp = self._current_stamp()
        self._ring = self._hooked(ring)
        self._last_forced = 0.0

    def _current_stamp(self) -> tuple[int, int]:
        st = self.path.stat()
        return st.st_mtime_ns, st.st_ino

    def _hooked(self, ring: MasterKeyRing) -> MasterKeyRing:
        return replace(ring, missing=self._missing)

    def _load(self) -> None:
        stamp = self._current_stamp()
        self._ring, self._stamp = self._hooked(MasterKeyRing.load(self.path)), stamp

    def ring(self) -> MasterKeyRing:
        try:
            if self._current_stamp() != self._stamp:
                self._load()
        except (OSError, KeyFileError):
            log.error("key file could not be re-read; keeping the keys loaded before")
        return self._ring

    def _missing(self, key_id: str) -> bytes | None:
        now = time.monotonic()
        if now - self._last_forced < self.RETRY_SECONDS:
            return self._ring.keys.get(key_id)
        self._last_forced = now
        try:
            self._load()
        except (OSError, KeyFileError):
            log.error("key file could not be re-read; keeping the keys loaded before")
        found = self._ring.keys.get(key_id)
        if found is not None:
            log.info("key file re-read: it holds master key %s now", key_id)
        return found


@dataclass
class Runtime:
    """What every request needs, built once per process (each worker loads the keys)."""

    settings: Settings
    database: Database
    keys: KeyFile
    passwords: Passwords
    session_limits: SessionLimits
    clinical: ClinicalContent  # questionnaires, prompts, screening checklist
    queue: Huey = field(init=False)
    enqueue: Callable[[uuid.UUID], None] = field(init=False)  # a message to the worker
    enqueue_export: Callable[[uuid.UUID], None] = field(init=False)  # a long PDF export

    def __post_init__(self) -> None:
        self.queue = build_queue(self.settings)
        self.enqueue = jobs.register(
            self.queue,
            lambda: self.work(write=True),
            self.settings.mail_retry_seconds,
            self.settings.scan_minutes,
        )
        self.enqueue_export = jobs.register_exports(self.queue, lambda: self.work(write=True))

    @property
    def ring(self) -> MasterKeyRing:
        return self.keys.ring()

    def work(self, *, write: bool, actor: Actor | Callable[[], Actor | None] | None = None) -> Work:
        """A unit of work over this process's database, keys and content."""
        return Work(
            self.database,
            self.keys.ring,
            self.settings,
            self.clinical,
            write=write,
            actor=actor,
            enqueue=self.enqueue,
        )


def build_runtime(settings: Settings, clinical: ClinicalContent | None = None) -> Runtime:
    """Load the keys and open the database; `clinical` reuses content already loaded
    from the same instance (a test session re-points one app at each test's database)."""
    if clinical is None:
        try:
            clinical = load_clinical_content(
                settings.instance_path,
                screening_extra=settings.instance_file(settings.screening_extra_file),
                consent=settings.instance_file(settings.consent_items_file),
            )
        except DefinitionError as exc:
            raise ConfigError(
                N_("a clinical definition file is broken: %(problem)s", problem=str(exc))
            ) from None
    try:
        ring = MasterKeyRing.load(settings.master_key_path)
    except KeyFileError as exc:
        raise ConfigError(str(exc)) from None
    database = Database(settings.database_url)
    try:
        with database.session() as db:
            verify_master_keys(db, ring)
            ledger = ledger_path(settings.master_key_path)
            returned = returned_patients(db, ledger)
            try:
                caught_up = catch_up_ledger(db, ledger)
            except OSError as exc:
                log.error("the erasure ledger %s could not be written to: %s", ledger, exc)
            else:
                if caught_up:
                    log.warning("erasure ledger: added %d erasures it lacked", len(caught_up))
    except (KeyFileError, NotInitialised) as exc:
        database.dispose()
        raise ConfigError(str(exc)) from None
    if returned:
        database.dispose()
        raise ConfigError(
            N_(
                "the database holds %(num)s patient(s) the erasure ledger %(ledger)s lists "
                "as erased: it was put back from a copy made before their erasure; run "
                "'flask --app journal init', which erases them again (and use "
                "'flask --app journal restore' for backups)",
                num=str(len(returned)),
                ledger=str(ledger_path(settings.master_key_path)),
            )
        )
    if ring.audit_key is None:
        database.dispose()
        raise ConfigError(
            N_(
                "the key file %(path)s has no audit key; run 'flask --app journal init' to add one",
                path=str(settings.master_key_path),
            )
        )
    database.session_info[AUDIT_KEY] = ring.audit_key
    database.session_info[RECOVERY_CODE_KEY] = ring.recovery_code_key
    params = settings.argon2
    passwords = Passwords(
        time_cost=params.time_cost,
        memory_cost_kib=params.memory_cost_kib,
        parallelism=params.parallelism,
    )
    keys = KeyFile(settings.master_key_path, ring)
    return Runtime(settings, database, keys, passwords, SessionLimits(), clinical)
