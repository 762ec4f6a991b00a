"""Two-factor sign-in (checklist 16, 18, 23): enrolment, codes used once, recovery
codes, encrypted secrets, and recent sign-in for changes."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, update

from journal.db import utcnow
from journal.models import LoginSession, Role, TotpCredential, User
from tests.conftest import Clinic, World, committing, runtime
from tests.helpers import PASSWORD, Browser, csrf_token, second_factor_code

SECRET_RE = re.compile(r'<code class="secret-key">([A-Z2-7]+)</code>')


def _password_step(world: World, email: str) -> Browser:
    b = Browser(world.app)
    r = b.post("/login", {"email": email, "password": PASSWORD})
    assert r.status_code == 302 and r.location.endswith("/login/verify")
    return b


def _code_step(b: Browser, code: str) -> int:
    page = b.client.get("/login/verify").get_data(as_text=True)
    return b.client.post(
        "/login/verify", data={"csrf_token": csrf_token(page), "code": code}
    ).status_code


def _enrol_through_the_web(b: Browser) -> tuple[str, list[str]]:
    assert b.post("/account/two-factor/start").status_code == 302
    page = b.text("/account/two-factor")
    assert "<svg" in page  # the QR code, drawn by the app itself
    match = SECRET_RE.search(page)
    assert match
    secret = match.group(1)
    done = b.post("/account/two-factor/confirm", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def test_a_new_clinician_must_enrol_before_anything_else(world: World) -> None:
    admin = world.user(Role.ADMIN)
    with committing(runtime(world.app)) as db:
        from journal.accounts import accounts

        clinician, _ = accounts.create_user(
            db,
            runtime(world.app).passwords,
            email="new.clinician@clinic.example",
            name="New Clinician (test)",
            role=Role.CLINICIAN,
            password=PASSWORD,
        )
    b = Browser(world.app)
    assert b.login("new.clinician@clinic.example").status_code == 302
    for page in ["/", "/courses/new", f"/courses/{admin.id}"]:
        r = b.get(page)
        assert r.status_code == 302 and r.location.endswith("/account/two-factor"), page
    secret, _ = _enrol_through_the_web(b)
    assert b.get("/").status_code == 200  # the caseload opens now

    with runtime(world.app).database.session() as db:
        stored = db.scalar(select(TotpCredential).where(TotpCredential.user_id == clinician.id))
        assert stored is not None
        assert secret.encode() not in stored.secret  # encrypted at rest
        refreshed = db.get(User, clinician.id)
        assert refreshed is not None and refreshed.two_factor_enabled


def test_sign_in_needs_the_code_and_a_code_works_once(world: World) -> None:
    b = Browser(world.app)
    patient = world.user(Role.PATIENT)
    assert b.login(patient.email).status_code == 302
    secret, _codes = _enrol_through_the_web(b)

    first = _password_step(world, patient.email)
    assert _code_step(first, "000000") == 200  # wrong code: the form again
    # Enrolment used the current 30-second step; the next one is allowed for clock drift.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert _code_step(first, code) == 302
    assert first.get("/").status_code in (200, 302)

    replay = _password_step(world, patient.email)
    assert _code_step(replay, code) == 200  # the same code is refused the second time
    assert replay.get("/").location.endswith("/login")


def test_recovery_codes_work_once_each(world: World) -> None:
    clinician = world.user(Role.CLINICIAN)  # the factory enrolled them, as a person would
    code = second_factor_code(clinician.email)
    b = _password_step(world, clinician.email)
    assert _code_step(b, code) == 302
    again = _password_step(world, clinician.email)
    assert _code_step(again, code) == 200


def test_second_factor_guesses_are_throttled(world: World) -> None:
    clinician = world.user(Role.CLINICIAN)
    b = _password_step(world, clinician.email)
    statuses = [_code_step(b, f"{n:06d}") for n in range(6)]
    assert statuses == [200] * 5 + [429]


@pytest.mark.security_review(finding=7)
def test_changes_need_a_recent_sign_in_and_the_password(clinic: Clinic) -> None:
    world = clinic.world
    b = world.browser(clinic.patient)
    other = world.browser(clinic.patient)
    secret, codes = _enrol_through_the_web(b)
    with committing(runtime(world.app)) as db:
        db.execute(update(LoginSession).values(authenticated_at=utcnow() - timedelta(minutes=10)))
        db.commit()
    stale = b.post("/account/two-factor/remove", {"password": PASSWORD, "code": codes[0]})
    assert stale.status_code == 302 and "/account/confirm" in stale.location
    confirm_url = stale.location
    page = b.text(confirm_url)
    assert 'name="password"' in page and 'name="code"' in page
    wrong = b.client.post(confirm_url, data={"csrf_token": csrf_token(page), "password": "nope"})
    assert wrong.status_code == 200
    right = b.client.post(
        confirm_url,
        data={
            "csrf_token": csrf_token(page),
            "password": PASSWORD,
            "code": pyotp.TOTP(secret).at(time.time() + 30),
        },
    )
    assert right.status_code == 302 and right.location == "/account/two-factor"
    bad_password = b.post("/account/two-factor/remove", {"password": "not it", "code": codes[0]})
    assert bad_password.status_code == 302
    for without_factor in ({"password": PASSWORD}, {"password": PASSWORD, "code": "00000-00000"}):
        assert b.post("/account/two-factor/remove", without_factor).status_code == 302
    with runtime(world.app).database.session() as db:
        user = db.get(User, clinic.patient.id)
        assert user is not None and user.two_factor_enabled  # nothing changed
    removed = b.post("/account/two-factor/remove", {"password": PASSWORD, "code": codes[0]})
    assert removed.status_code == 302
    with runtime(world.app).database.session() as db:
        user = db.get(User, clinic.patient.id)
        assert user is not None and not user.two_factor_enabled
    # Every other session of the patient ended.
    assert other.get("/").location.endswith("/login")
    assert b.get("/").status_code in (200, 302) and not b.get("/").location.endswith("/login")


@pytest.mark.security_review(finding=7)
def test_turning_two_factor_on_ends_every_other_sign_in(clinic: Clinic) -> None:
    """A session opened elsewhere with the password alone ends when the second factor
    is switched on; the one that switched it on goes on."""
    here, elsewhere = clinic.world.browser(clinic.patient), clinic.world.browser(clinic.patient)
    assert elsewhere.get("/account/two-factor").status_code == 200
    _enrol_through_the_web(here)
    assert here.get("/account/two-factor").status_code == 200
    gone = elsewhere.get("/account/two-factor")
    assert gone.status_code == 302 and gone.location.endswith("/login")
