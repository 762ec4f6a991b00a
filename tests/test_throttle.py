"""Sign-in throttling (checklist 13, 14): per account, per address, across workers."""

from __future__ import annotations

import re
import uuid

import pytest
import redis
from flask import Flask

from journal import create_app
from journal.config import Settings
from journal.models import Role
from tests.conftest import World, runtime
from tests.helpers import PASSWORD, Browser

REDIS_URL = "redis://127.0.0.1:6379/0"


def wrong(b: Browser, email: str) -> int:
    return b.post("/login", {"email": email, "password": "not the password at all"}).status_code


def test_one_account_is_throttled_and_others_still_sign_in(world: World) -> None:
    target = world.user(Role.PATIENT)
    other = world.user(Role.PATIENT)
    b = Browser(world.app)
    assert [wrong(b, target.email) for _ in range(5)] == [200] * 5
    blocked = b.post("/login", {"email": target.email, "password": PASSWORD})
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "Too many attempts" in page
    assert re.search(r"try again in 1[56] minutes", page)
    assert int(blocked.headers["Retry-After"]) > 0
    # The same address can still sign in to another account.
    assert Browser(world.app).login(other.email).status_code == 302


def test_unknown_accounts_are_throttled_alike(world: World) -> None:
    b = Browser(world.app)
    ghost = "nobody-here@clinic.example"
    statuses = [wrong(b, ghost) for _ in range(6)]
    assert statuses == [200] * 5 + [429]


def test_many_accounts_from_one_address_are_throttled(world: World) -> None:
    b = Browser(world.app)
    statuses = [wrong(b, f"guess-{n}@clinic.example") for n in range(31)]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
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
        statuses = [wrong(b0 if n % 2 else b1, target.email) for n in range(5)]
        assert statuses == [200] * 5
        assert wrong(b0, target.email) == 429
        assert wrong(b1, target.email) == 429
    finally:
        for worker in workers:
            runtime(worker).database.dispose()
