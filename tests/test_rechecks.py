"""Every re-check of a signed-in person's password (security review, issue 15): the
confirmation before sensitive pages, the current password on a password change,
removing two-factor sign-in and the export's re-sign-in count their failures in the
sign-in form's own per-account and per-address budgets, are refused with a 429 while
over them, and are audited, success and failure, without what was typed.

Waits are tested with the `clock` fixture: time moves on, nobody sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from journal.db import utcnow
from journal.models import AuditEvent, LoginSession, Role, User
from tests.conftest import Clock, World, committing, runtime
from tests.helpers import PASSWORD, Browser

WRONG = "a wrong guess at the password"
NEW_PASSWORD = "a brand new passphrase for tests"


def confirm(b: Browser, password: str) -> int:
    return b.post("/account/confirm?next=/account/two-factor", {"password": password}).status_code


def rechecks(world: World, user: User) -> list[str]:
    """The outcomes of the person's audited re-checks, oldest first."""
    with runtime(world.app).database.session() as db:
        events = db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "password.recheck", AuditEvent.actor_id == user.id)
            .order_by(AuditEvent.seq)
        ).all()
        assert all(e.object_id == user.id and e.address == "127.0.0.1" for e in events)
        rows = repr([vars(e) for e in db.scalars(select(AuditEvent))])
    assert WRONG not in rows and PASSWORD not in rows and NEW_PASSWORD not in rows
    return [e.outcome for e in events]


def wrong_sign_in(b: Browser, email: str) -> int:
    return b.post("/login", {"email": email, "password": WRONG}).status_code


def make_stale(world: World) -> None:
    with committing(runtime(world.app)) as db:
        db.execute(update(LoginSession).values(authenticated_at=utcnow() - timedelta(minutes=30)))
        db.commit()


@pytest.mark.security_review(finding=2)
def test_wrong_passwords_on_confirm_are_throttled_audited_and_count_for_sign_in(
    world: World, clock: Clock
) -> None:
    patient = world.user(Role.PATIENT)
    b = world.browser(patient)
    assert [confirm(b, WRONG) for _ in range(5)] == [200] * 5
    refused = b.post("/account/confirm", {"password": PASSWORD})
    assert refused.status_code == 429
    seconds = int(refused.headers["Retry-After"])
    assert f"Please wait {seconds} seconds, then try again." in refused.get_data(as_text=True)
    # The failures count toward signing in as well, from any address.
    elsewhere = Browser(world.app)
    elsewhere.client.environ_base["REMOTE_ADDR"] = "192.0.2.80"
    assert elsewhere.login(patient.email).status_code == 429
    # After the wait the right password passes.
    clock.advance(seconds)
    right = b.post("/account/confirm?next=/account/two-factor", {"password": PASSWORD})
    assert right.status_code == 302 and right.location == "/account/two-factor"
    # Each re-check audited; the refused one checked nothing.
    assert rechecks(world, patient) == ["failure"] * 5 + ["ok"]


def test_failed_sign_ins_count_against_rechecks(world: World, clock: Clock) -> None:
    patient = world.user(Role.PATIENT)
    b = world.browser(patient)
    guesser = Browser(world.app)
    for _ in range(3):
        assert wrong_sign_in(guesser, patient.email) == 200
    assert [confirm(b, WRONG) for _ in range(2)] == [200] * 2
    assert confirm(b, PASSWORD) == 429


def test_the_address_budget_is_shared_with_the_sign_in_form(world: World, clock: Clock) -> None:
    patient = world.user(Role.PATIENT)
    b = world.browser(patient)
    guesser = Browser(world.app)  # the same address, other accounts
    for n in range(20):
        data = {"email": f"guess-{n}@clinic.example", "password": WRONG}
        assert guesser.post("/login", data).status_code == 200
    assert confirm(b, PASSWORD) == 429


def test_a_wrong_current_password_counts_and_a_weak_new_one_does_not(
    world: World, clock: Clock
) -> None:
    patient = world.user(Role.PATIENT)
    b = world.browser(patient)

    def change(current: str, new: str = NEW_PASSWORD) -> int:
        form = {"current_password": current, "new_password": new, "confirm_password": new}
        return b.post("/account/password", form).status_code

    assert change(PASSWORD, new="password123") == 200  # the right password, a weak new one
    assert [change(WRONG) for _ in range(5)] == [200] * 5
    assert change(PASSWORD) == 429
    assert Browser(world.app).login(patient.email).status_code == 429
    assert rechecks(world, patient) == ["ok"] + ["failure"] * 5
    clock.advance(61)
    assert change(PASSWORD) == 302
    assert Browser(world.app).login(patient.email, NEW_PASSWORD).status_code == 302


def test_removing_two_factor_counts_wrong_passwords_and_codes(world: World, clock: Clock) -> None:
    patient = world.user(Role.PATIENT)
    codes = world.enrol_second_factor(patient)
    b = world.browser(patient)

    def remove(password: str, code: str) -> int:
        r = b.post("/account/two-factor/remove", {"password": password, "code": code})
        return r.status_code

    assert [remove(WRONG, codes[0]) for _ in range(3)] == [302] * 3
    assert [remove(PASSWORD, "00000-00000") for _ in range(2)] == [302] * 2
    assert remove(PASSWORD, codes[0]) == 429
    with runtime(world.app).database.session() as db:
        user = db.get(User, patient.id)
        assert user is not None and user.two_factor_enabled
    assert rechecks(world, patient) == ["failure"] * 5
    clock.advance(61)
    assert remove(PASSWORD, codes[0]) == 302
    with runtime(world.app).database.session() as db:
        user = db.get(User, patient.id)
        assert user is not None and not user.two_factor_enabled
    assert rechecks(world, patient) == ["failure"] * 5 + ["ok"]


def test_the_exports_re_sign_in_counts_and_is_audited(world: World, clock: Clock) -> None:
    patient = world.user(Role.PATIENT)
    b = world.browser(patient)
    make_stale(world)

    def export(password: str | None = None) -> int:
        form = {"format": "json", **({"password": password} if password else {})}
        return b.post("/account/export", form).status_code

    assert export() == 401  # the re-login form: nothing checked, nothing counted
    assert [export(WRONG) for _ in range(5)] == [401] * 5
    assert export(PASSWORD) == 429
    assert rechecks(world, patient) == ["failure"] * 5
    clock.advance(61)
    assert export(PASSWORD) == 200
    assert rechecks(world, patient) == ["failure"] * 5 + ["ok"]
    # With the sign-in recent again, an export checks no password and is not refused,
    # even while the budget is spent.
    assert wrong_sign_in(Browser(world.app), patient.email) == 200
    assert wrong_sign_in(Browser(world.app), patient.email) == 429
    assert export() == 200
