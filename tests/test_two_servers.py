"""Two app servers, one PostgreSQL database, one Redis, one key folder both read.

Two gunicorn processes on two ports stand for two servers behind a load balancer.
Each has an instance folder of its own and nothing else of its own: the key folder
(master key, backup keys, erasure ledger) and the secret key are the one folder both
name in their settings (`key_folder`, storage every server mounts in a real
deployment), the rate-limit counts are in Redis. One person signs in on one and reads
on the other; an admin erases a patient on one and the other refuses them; a master-key
rotation run while both serve is picked up by both without copying anything; a backup
taken before the erasure, restored, does not bring the patient back.

The PostgreSQL pass only: all the steps in one test, so both servers start once."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from journal.accounts.erasure import ledger_path, read_ledger
from journal.config import PROJECT_ROOT, Settings
from journal.crypto import MasterKeyRing
from journal.crypto.backup_keys import FILE_NAME as BACKUP_KEYS_FILE
from journal.crypto.backup_keys import BackupKeys
from journal.db import Database
from journal.keyrotation import rotate_master_key
from journal.maintenance import backup, restore
from journal.models import Visibility
from tests.conftest import PG_URL, Clinic, _empty_postgres
from tests.helpers import PASSWORD, second_factor_code
from tests.scene import write
from tests.test_search_privacy import _free_port

REDIS_URL = "redis://127.0.0.1:6379/0"
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
WORKER_CLASS = "journal.serving.SyncWorker"

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL: runs in the PostgreSQL pass (JOURNAL_TEST_DATABASE_URL set)",
)


class Person:
    """A browser: one cookie jar, whichever server answers (as behind a load balancer,
    the cookie is for the host, not the port)."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def get(self, base: str, path: str) -> tuple[str, str]:
        """The final address after redirects, and the page."""
        with self.opener.open(f"{base}{path}", timeout=10) as response:
            page = response.read().decode()
            self._keep_token(page)
            return response.url.removeprefix(base), page

    def post(self, base: str, path: str, data: dict[str, str]) -> tuple[str, str]:
        body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        with self.opener.open(f"{base}{path}", body, timeout=10) as response:
            page = response.read().decode()
            self._keep_token(page)
            return response.url.removeprefix(base), page

    def _keep_token(self, page: str) -> None:
        found = TOKEN.search(page)
        if found:
            self.token = found.group(1)

    def sign_in(self, base: str, email: str) -> str:
        """Sign in (with a recovery code when a second factor is asked); the address
        the sign-in ends on."""
        self.get(base, "/login")
        where, _ = self.post(base, "/login", {"email": email, "password": PASSWORD})
        if where.startswith("/login/verify"):
            where, _ = self.post(base, "/login/verify", {"code": second_factor_code(email)})
        return where


@contextmanager
def servers(settings: Settings, folder: Path, prefix: str) -> Iterator[tuple[str, str]]:
    """Two gunicorns on the test's PostgreSQL database, each with an instance folder
    of its own, both reading the key folder and the secret key of `settings`; their
    base addresses."""
    started: list[tuple[subprocess.Popen[bytes], Path]] = []
    bases = []
    try:
        for name in ("a", "b"):
            instance = folder / name
            instance.mkdir(mode=0o700, parents=True, exist_ok=True)
            port = _free_port()
            env = {
                **os.environ,
                "JOURNAL_INSTANCE_PATH": str(instance),
                "JOURNAL_DATABASE_URL": PG_URL,
                "JOURNAL_KEY_FOLDER": str(settings.key_folder),
                "JOURNAL_SECRET_KEY_FILE": str(settings.secret_key_path),
                "JOURNAL_RATELIMIT_STORAGE_URI": REDIS_URL,
                "JOURNAL_RATELIMIT_KEY_PREFIX": prefix,
            }
            command = [sys.executable, "-m", "gunicorn", "--workers", "1"]
            command += ["--bind", f"127.0.0.1:{port}", "--worker-class", WORKER_CLASS]
            command += ["journal:create_app()"]
            log = instance / "gunicorn.log"
            with log.open("ab") as errors:
                process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stderr=errors)
            started.append((process, log))
            bases.append(f"http://127.0.0.1:{port}")
        for (process, log), base in zip(started, bases, strict=True):
            _wait_for(base, process, log)
        yield bases[0], bases[1]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(timeout=10)


def _wait_for(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise AssertionError(log.read_text()[-3000:])
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(log.read_text()[-3000:])


def test_two_servers_share_sign_in_erasure_and_key_rotation(
    clinic: Clinic, settings: Settings, tmp_path: Path
) -> None:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running at 127.0.0.1:6379 (see .ci/run)")
    world, patient, other = clinic.world, clinic.patient, clinic.other_patient
    mine = write(world, patient, clinic.course, Visibility.CARE_TEAM, label="two-a")
    theirs = write(world, other, clinic.other_course, Visibility.CARE_TEAM, label="two-b")
    words, other_words = mine.versions[0].markers[1], theirs.versions[0].markers[1]
    backup_file = tmp_path / "before-erasure.sqlite3"
    backup(settings, backup_file)  # a backup taken before the erasure, restored below
    prefix = f"two-servers-{uuid.uuid4().hex}"
    ledger = ledger_path(settings.master_key_path)

    with servers(settings, tmp_path / "run", prefix) as (a, b):
        assert not any((tmp_path / "run" / name / "keys").exists() for name in ("a", "b"))
        # Signed in on A, read on B: the sign-in is a row in the shared database.
        reader = Person()
        assert reader.sign_in(a, patient.email) != "/login"
        assert words in reader.get(b, f"/entries/{mine.id}")[1]

        # Erased on B by an admin signed in there; A refuses the patient at once.
        admin = Person()
        assert admin.sign_in(b, clinic.admin.email) != "/login"
        admin.get(b, f"/admin/users/{patient.id}/erase")
        where, _ = admin.post(
            b,
            f"/admin/users/{patient.id}/erase",
            {"reason": "Fictional request for erasure", "confirm_email": patient.email},
        )
        assert where == "/admin/users", where
        for base in (a, b):
            where, page = reader.get(base, f"/entries/{mine.id}")
            assert where.startswith("/login") and words not in page
        assert Person().sign_in(a, patient.email) == "/login"
        # The ledger and the backup keys are the one copy both servers use.
        assert read_ledger(ledger) == [patient.id]
        assert BackupKeys.load(settings.key_folder / BACKUP_KEYS_FILE).key_for(patient.id) is None

        # A master-key rotation while both serve: both read with the new key, nothing copied.
        writer = Person()
        assert writer.sign_in(b, other.email) != "/login"
        assert other_words in writer.get(a, f"/entries/{theirs.id}")[1]
        database = Database(PG_URL)
        try:
            rotation = rotate_master_key(settings, database, settle=0.2)
        finally:
            database.dispose()
        assert rotation.rewrapped and list(MasterKeyRing.load(settings.master_key_path).keys) == [
            rotation.active_id
        ]
        for base in (a, b):
            assert other_words in writer.get(base, f"/entries/{theirs.id}")[1], base

        # The backup from before the erasure (and the rotation), restored into the
        # emptied database: the shared ledger erases the patient again; the other
        # patient signs in and reads on both servers.
        _empty_postgres(PG_URL)
        assert restore(settings, backup_file) == 1
        for base, other_base in ((a, b), (b, a)):
            assert Person().sign_in(base, patient.email) == "/login"
            person = Person()
            assert person.sign_in(base, other.email) != "/login"
            assert other_words in person.get(other_base, f"/entries/{theirs.id}")[1]
