"""Rate limits (checklist 13, 14 and the security review): failed sign-ins per account
and per address with waits that double instead of a lock, across workers through
Redis, and refused with the in-memory store under several gunicorn workers; the client
address behind trusted proxies; a limit on how much one person writes.

Waits are tested with the `clock` fixture: time moves on, nobody sleeps."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from journal import create_app
from journal.config import (
    DEFAULT_WRITE_LIMIT,
    PROJECT_ROOT,
    ConfigError,
    Settings,
    load_settings,
)
from journal.models import AuditEvent, Role, User
from tests.conftest import Clock, World, register_keys, runtime
from tests.helpers import Browser, mails_to

REDIS_URL = "redis://127.0.0.1:6379/0"


def wrong(b: Browser, email: str) -> TestResponse:
    return b.post("/login", {"email": email, "password": "not the password at all"})


def wait_of(response: TestResponse) -> int:
    """The wait a refusal announces, in seconds."""
    assert response.status_code == 429, response.status_code
    return int(response.headers["Retry-After"])


# -- sign-in: waits, not locks -----------------------------------------------------------


@pytest.mark.security_review(finding=6)
def test_a_few_failures_cost_a_minute_then_the_right_password_signs_in(
    world: World, clock: Clock
) -> None:
    target = world.user(Role.PATIENT)
    other = world.user(Role.PATIENT)
    b = Browser(world.app)
    assert [wrong(b, target.email).status_code for _ in range(5)] == [200] * 5
    blocked = Browser(world.app).login(target.email)
    seconds = wait_of(blocked)
    assert 60 < seconds <= 61
    page = blocked.get_data(as_text=True)
    assert f"Too many attempts to sign in. Please try again in {seconds} seconds." in page
    # The same address signs in to another account.
    assert Browser(world.app).login(other.email).status_code == 302
    clock.advance(seconds // 2)
    assert Browser(world.app).login(target.email).status_code == 429
    clock.advance(seconds - seconds // 2)
    assert Browser(world.app).login(target.email).status_code == 302


def test_each_further_failure_doubles_the_wait(world: World, clock: Clock) -> None:
    target = world.user(Role.PATIENT)
    b = Browser(world.app)
    failures, waits = 0, []
    while failures < 10:
        r = wrong(b, target.email)
        if r.status_code == 200:
            failures += 1
        else:
            waits.append(wait_of(r))
            assert re.search(r"try again in \d+ (seconds|minutes)\.", r.get_data(as_text=True))
            clock.advance(waits[-1])
    last = Browser(world.app).login(target.email)
    waits.append(wait_of(last))
    assert "try again in 32 minutes." in last.get_data(as_text=True)
    # After five free failures: 1, 2, 4, 8, 16 and 32 minutes (plus Flask-Limiter's second).
    assert len(waits) == 6
    for before, after in itertools.pairwise(waits):
        assert 2 * before - 2 <= after <= 2 * before, waits
    clock.advance(waits[-1])
    assert Browser(world.app).login(target.email).status_code == 302


def test_unknown_accounts_are_throttled_alike(world: World, clock: Clock) -> None:
    b = Browser(world.app)
    ghost = "nobody-here@clinic.example"
    statuses = [wrong(b, ghost).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_many_accounts_from_one_address_are_throttled(world: World, clock: Clock) -> None:
    b = Browser(world.app)
    statuses = [wrong(b, f"guess-{n}@clinic.example").status_code for n in range(21)]
    assert statuses == [200] * 20 + [429]
    # A real person at another address is not affected.
    user = world.user(Role.PATIENT)
    other_address = Browser(world.app)
    other_address.client.environ_base["REMOTE_ADDR"] = "192.0.2.44"
    assert other_address.login(user.email).status_code == 302


def test_successful_sign_ins_do_not_count(world: World) -> None:
    user = world.user(Role.PATIENT)
    for _ in range(8):
        b = Browser(world.app)
        assert b.login(user.email).status_code == 302


@pytest.fixture
def redis_prefix() -> str:
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.ConnectionError:
        pytest.fail("Redis is not running at 127.0.0.1:6379 (see .ci/run)")
    return uuid.uuid4().hex


def test_workers_share_counts_through_redis(
    settings: Settings, app: Flask, world: World, redis_prefix: str
) -> None:
    """Two app instances stand for two workers: failures on one count on the other."""
    shared = settings.with_changes(
        ratelimit_storage_uri=REDIS_URL, ratelimit_key_prefix=redis_prefix
    )
    workers = [create_app(shared), create_app(shared)]
    target = world.user(Role.CLINICIAN)
    try:
        b0, b1 = Browser(workers[0]), Browser(workers[1])
        statuses = [wrong(b0 if n % 2 else b1, target.email).status_code for n in range(5)]
        assert statuses == [200] * 5
        assert wrong(b0, target.email).status_code == 429
        assert wrong(b1, target.email).status_code == 429
        # The counters' keys name no email and no address.
        keys = [k.decode() for k in redis.Redis.from_url(REDIS_URL).scan_iter(f"*{redis_prefix}*")]
        assert keys and not [k for k in keys if target.email in k or "127.0.0.1" in k]
    finally:
        for worker in workers:
            runtime(worker).database.dispose()


# -- several workers need a shared store --------------------------------------------------


def gunicorn(settings: Settings, workers: int, **env: str) -> subprocess.CompletedProcess[str]:
    """gunicorn as the Makefile starts it, on a free port; it is stopped if it does not
    exit by itself."""
    register_keys(settings)
    environment = {
        **os.environ,
        "JOURNAL_INSTANCE_PATH": str(settings.instance_path),
        "JOURNAL_DATABASE_URL": settings.database_url,
        **env,
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
    command += ["--worker-class", "journal.serving.SyncWorker", "--bind", "127.0.0.1:0"]
    command += ["journal:create_app()"]
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=environment, stderr=subprocess.PIPE, text=True
    )
    try:
        _, errors = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    return subprocess.CompletedProcess(command, process.returncode, "", errors)


@pytest.mark.security_review(finding=6)
def test_several_workers_with_counts_in_memory_refuse_to_start(settings: Settings) -> None:
    refused = gunicorn(settings, workers=2)
    assert refused.returncode not in (0, -15), refused.stderr[-2000:]
    assert "gunicorn runs 2 workers but ratelimit_storage_uri is 'memory://'" in refused.stderr
    assert "JOURNAL_RATELIMIT_STORAGE_URI" in refused.stderr
    assert "redis://127.0.0.1:6379/0" in refused.stderr


def test_make_run_serves_one_worker_by_default() -> None:
    """`make run` works on a fresh machine, without Redis: one worker, whose memory is
    the one place the counts are kept."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^WORKERS \?= 1$", makefile, flags=re.MULTILINE)
    assert "--workers $(WORKERS)" in makefile


def test_settings_refuse_a_bad_write_limit_or_proxy_count(tmp_path: Path) -> None:
    for name, value in (("JOURNAL_WRITE_LIMIT", "lots"), ("JOURNAL_TRUSTED_PROXIES", "-1")):
        with pytest.raises(ConfigError, match=name.removeprefix("JOURNAL_").lower()):
            load_settings(tmp_path, {name: value})
    assert load_settings(tmp_path, {"JOURNAL_WRITE_LIMIT": "off"}).write_limit == "off"


# -- the client's address ----------------------------------------------------------------


def failed_sign_in_addresses(app: Flask) -> list[str | None]:
    with runtime(app).database.session() as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.seq)
        )
        return [e.address for e in events if e.outcome == "failure"]


def test_a_forged_forwarded_for_is_ignored_without_trusted_proxies(
    world: World, clock: Clock
) -> None:
    b = Browser(world.app)
    statuses = [
        b.post(
            "/login",
            {"email": f"guess-{n}@clinic.example", "password": "wrong guess"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
        ).status_code
        for n in range(21)
    ]
    assert statuses == [200] * 20 + [429]  # one address, whatever the header says
    assert set(failed_sign_in_addresses(world.app)) == {"127.0.0.1"}


@pytest.fixture
def behind_a_proxy(settings: Settings, app: Flask) -> Iterator[Flask]:
    proxied = create_app(settings.with_changes(trusted_proxies=1))
    yield proxied
    runtime(proxied).database.dispose()


@pytest.mark.security_review(finding=6)
def test_behind_one_proxy_the_address_is_the_one_it_adds(
    behind_a_proxy: Flask, clock: Clock
) -> None:
    """The proxy appends the address it sees; what the client sent is further left."""
    b = Browser(behind_a_proxy)

    def guess(n: int, forwarded: str) -> int:
        data = {"email": f"guess-{n}@clinic.example", "password": "wrong guess"}
        return b.post("/login", data, headers={"X-Forwarded-For": forwarded}).status_code

    statuses = [guess(n, f"10.9.9.{n}, 203.0.113.7") for n in range(21)]
    assert statuses == [200] * 20 + [429]  # the forged part changes nothing
    assert guess(99, "203.0.113.8") == 200  # another client behind the same proxy
    assert set(failed_sign_in_addresses(behind_a_proxy)) == {"203.0.113.7", "203.0.113.8"}


# -- writes --------------------------------------------------------------------------------


def add_prompt(b: Browser, n: int, **headers: str) -> TestResponse:
    """A write: a prompt added to the clinic's library."""
    data = {"phase": "preparation", "theme": "grounding", "text": f"Prompt {n}?", "due": ""}
    return b.post("/prompts", data, headers=headers)


@pytest.fixture
def limited(settings: Settings, app: Flask) -> Iterator[Callable[[str], Flask]]:
    """Apps with a limit on writes (the suite's shared app has none: see conftest)."""
    made: list[Flask] = []

    def make(write_limit: str) -> Flask:
        made.append(create_app(settings.with_changes(write_limit=write_limit)))
        return made[-1]

    yield make
    for each in made:
        runtime(each).database.dispose()


def signed_in(app: Flask, world: World, user: User) -> Browser:
    b = Browser(app, before=world.commit)
    b.sign_in_as(user.id)
    return b


@pytest.mark.security_review(finding=9)
def test_a_person_writes_freely_but_not_like_a_script(
    limited: Callable[[str], Flask], world: World, clock: Clock
) -> None:
    app = limited(DEFAULT_WRITE_LIMIT)
    clinician = signed_in(app, world, world.user(Role.CLINICIAN))
    colleague = signed_in(app, world, world.user(Role.CLINICIAN))
    assert [add_prompt(clinician, n).status_code for n in range(60)] == [302] * 60
    refused = add_prompt(clinician, 60)
    seconds = wait_of(refused)
    page = refused.get_data(as_text=True)
    assert "Too many changes at once" in page and f"wait {seconds} seconds" in page
    assert "Prompt 60?" not in clinician.text("/prompts")  # nothing was saved
    autosave = add_prompt(clinician, 61, Accept="application/json")
    assert autosave.status_code == 429 and autosave.json is not None
    assert autosave.json["saved"] is False
    # Reading goes on, and so does everyone else's writing.
    assert clinician.get("/prompts").status_code == 200
    assert add_prompt(colleague, 0).status_code == 302
    clock.advance(seconds)
    assert add_prompt(clinician, 62).status_code == 302


def test_the_write_limit_has_a_daily_part_and_is_a_setting(
    limited: Callable[[str], Flask], world: World, clock: Clock
) -> None:
    b = signed_in(limited("3 per minute;5 per day"), world, world.user(Role.CLINICIAN))
    assert [add_prompt(b, n).status_code for n in range(4)] == [302] * 3 + [429]
    clock.advance(61)  # the refused one was not charged
    assert [add_prompt(b, n).status_code for n in range(4, 7)] == [302] * 2 + [429]
    refused = add_prompt(b, 7)
    assert wait_of(refused) > 23 * 3600
    assert "wait 24 hours" in refused.get_data(as_text=True)


def test_the_owner_is_told_by_e_mail_once_an_hour_when_sign_in_slows_down(
    world: World, clock: Clock
) -> None:
    target = world.user(Role.PATIENT)
    b = Browser(world.app)
    for _ in range(5):
        wrong(b, target.email)
    assert mails_to(world.app, target.email) == []  # five mistakes: nobody is told yet
    for _ in range(3):  # refused tries, all within the hour
        assert Browser(world.app).login(target.email).status_code == 429
    (told,) = mails_to(world.app, target.email)
    assert "wrong password" in told and "/reset" in told
    # An address nobody has: refused the same way, and nothing is sent anywhere.
    for _ in range(6):
        wrong(Browser(world.app), "nobody-of-ours@clinic.example")
    assert mails_to(world.app, "nobody-of-ours@clinic.example") == []


def test_a_refusal_for_the_address_alone_tells_no_account_owner(world: World, clock: Clock) -> None:
    owners = [world.user(Role.PATIENT) for _ in range(5)]
    b = Browser(world.app)
    for owner in owners:  # four mistakes each: no account's budget is spent
        for _ in range(4):
            wrong(b, owner.email)
    assert wrong(Browser(world.app), owners[0].email).status_code == 429  # the address's
    for owner in owners:
        assert mails_to(world.app, owner.email) == []
