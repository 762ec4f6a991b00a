"""Authentication and sessions (checklist 15, 17-19, 21): hashing, password rules,
uniform failures, audit of sign-ins, cookie renewal and replay, other sessions
ending on a password change, temporary passwords, cookie contents and flags."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from journal.accounts import accounts
from journal.accounts.passwords import MAX_LENGTH, Passwords, password_problem
from journal.core.errors import ValidationError
from journal.models import Role
from journal.web.auth.views import LOGIN_FAILED
from tests.conftest import Clinic, World, entry_form, new_entry_id, runtime
from tests.helpers import PASSWORD, Browser
from tests.security_helpers import (
    SESSION_COOKIE,
    decode_session,
    is_login_redirect,
    rows,
    rules,
    session_cookie,
    snapshot,
    strip_csrf,
    url_for_rule,
)

LONG = "x" * 10_000
# Written out here, not imported from the app: a new public endpoint must be a
# deliberate change to this test as well.
PUBLIC_ENDPOINTS = frozenset(
    {
        "auth.login",
        "password_links.forgot",
        "password_links.sent",  # what the form answers, for any address
        "password_links.choose",  # a wrong link answers 404 (tests/test_password_links.py)
        "reminders.off",  # the same for a reminder's link (tests/test_reminders.py)
        "health.healthz",
        "help.page",  # Get help now: crisis lines for anyone (tests/test_get_help.py)
        "static",
    }
)
NEW_PASSPHRASE = "lantern meadow quietly drifting"


@pytest.fixture
def hasher_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int]]]:
    """Records (operation, password length) of every argon2 hash and verify."""
    calls: list[tuple[str, int]] = []
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def spy_hash(self: PasswordHasher, password: str | bytes, **kw: object) -> str:
        calls.append(("hash", len(password)))
        return real_hash(self, password, **kw)  # type: ignore[arg-type]

    def spy_verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(("verify", len(password)))
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "hash", spy_hash)
    monkeypatch.setattr(PasswordHasher, "verify", spy_verify)
    yield calls


def change_password(b: Browser, current: str, new: str, confirm: str | None = None) -> TestResponse:
    return b.post(
        "/account/password",
        {
            "current_password": current,
            "new_password": new,
            "confirm_password": new if confirm is None else confirm,
        },
    )


def stored_hash(app: Flask, user_id: uuid.UUID) -> str:
    return str(
        rows(app, "SELECT password_hash FROM users WHERE id = :i", i=_db_id(app, user_id))[0][0]
    )


def _db_id(app: Flask, user_id: uuid.UUID) -> object:
    # SQLAlchemy's Uuid type stores 32 hex digits on SQLite and a native uuid on PostgreSQL.
    return user_id.hex if runtime(app).database.is_sqlite else user_id


# -- hashing and password rules ---------------------------------------------


def test_password_hashes_are_argon2id(clinic: Clinic) -> None:
    hashes = [h for (h,) in rows(clinic.world.app, "SELECT password_hash FROM users")]
    assert len(hashes) == 5
    for h in hashes:
        assert h.startswith("$argon2id$"), h
        assert PASSWORD not in h
    assert len(set(hashes)) == len(hashes), "salts must differ"


def test_passwords_helper_refuses_long_passwords_before_hashing(
    hasher_calls: list[tuple[str, int]],
) -> None:
    pw = Passwords(time_cost=1, memory_cost_kib=8, parallelism=1)
    good = pw.hash(PASSWORD)
    hasher_calls.clear()
    with pytest.raises(ValueError):
        pw.hash("y" * (MAX_LENGTH + 1))
    assert pw.verify(good, "y" * 10_000) is False
    assert pw.verify(None, "y" * 10_000) is False
    assert hasher_calls == []
    assert pw.verify(good, PASSWORD) is True
    assert pw.verify(None, PASSWORD) is False  # the decoy never matches


def test_login_with_a_huge_password_is_refused_without_hashing(
    clinic: Clinic, hasher_calls: list[tuple[str, int]]
) -> None:
    b = Browser(clinic.world.app)
    r = b.post("/login", {"email": clinic.patient.email, "password": LONG})
    assert r.status_code == 200
    assert LONG not in r.get_data(as_text=True)
    assert not [c for c in hasher_calls if c[1] > MAX_LENGTH], hasher_calls
    assert is_login_redirect(b.get("/"))


def test_login_with_a_huge_password_gets_the_normal_failure(clinic: Clinic) -> None:
    """An over-long password is one more wrong password: the same page as any other
    failure (not a field-length message) and an audited failed sign-in."""
    app = clinic.world.app
    email = clinic.patient.email
    normal = Browser(app).post("/login", {"email": email, "password": "wrong" * 3})
    huge = Browser(app).post("/login", {"email": email, "password": LONG})
    assert LOGIN_FAILED in huge.get_data(as_text=True)
    assert _normalised(huge, email) == _normalised(normal, email)
    failures = rows(
        app, "SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'failure'"
    )
    assert failures[0][0] == 2


def test_creating_a_user_with_a_huge_password_is_a_form_error(
    world: World, db: Session, hasher_calls: list[tuple[str, int]]
) -> None:
    with pytest.raises(ValidationError) as exc:
        accounts.create_user(
            db,
            runtime(world.app).passwords,
            email="long-pw@clinic.example",
            name="Long Password (test)",
            role=Role.PATIENT,
            password=LONG,
        )
    db.rollback()
    assert "password" in exc.value.errors
    assert hasher_calls == []
    assert rows(world.app, "SELECT id FROM users WHERE email = 'long-pw@clinic.example'") == []


def test_changing_to_a_huge_password_is_a_form_error(
    clinic: Clinic, hasher_calls: list[tuple[str, int]]
) -> None:
    app = clinic.world.app
    before = stored_hash(app, clinic.patient.id)
    b = clinic.world.browser(clinic.patient)
    hasher_calls.clear()
    r = change_password(b, PASSWORD, LONG)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'id="new_password-error"' in page
    assert not [c for c in hasher_calls if c[0] == "hash"]
    assert stored_hash(app, clinic.patient.id) == before


@pytest.mark.parametrize(
    "candidate",
    ["password123", "qwertyuiop", "Password123", "iloveyou123", "short pw", "123456789"],
)
def test_short_and_common_passwords_are_refused(clinic: Clinic, candidate: str) -> None:
    app = clinic.world.app
    before = stored_hash(app, clinic.patient.id)
    b = clinic.world.browser(clinic.patient)
    r = change_password(b, PASSWORD, candidate)
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'id="new_password-error"' in page
    assert "too common" in page or "at least 10 characters" in page
    assert stored_hash(app, clinic.patient.id) == before
    assert password_problem(candidate) is not None


def test_no_composition_rules(clinic: Clinic) -> None:
    app = clinic.world.app
    assert password_problem(NEW_PASSPHRASE) is None
    b = clinic.world.browser(clinic.patient)
    r = change_password(b, PASSWORD, NEW_PASSPHRASE)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert stored_hash(app, clinic.patient.id).startswith("$argon2id$")
    assert Browser(app).login(clinic.patient.email, NEW_PASSPHRASE).status_code == 302
    assert Browser(app).login(clinic.patient.email, PASSWORD).status_code == 200


# -- uniform failures and audit -------------------------------------------------


def _normalised(response: TestResponse, email: str) -> tuple[int, str, list[tuple[str, str]]]:
    """Status, body and headers, with the CSRF token and the echoed email blanked."""
    body = strip_csrf(response.get_data(as_text=True)).replace(email, "EMAIL")
    headers = sorted(
        (k, v)
        for k, v in response.headers.items()
        if k.lower() not in {"set-cookie", "date", "content-length"}
    )
    return response.status_code, body, headers


def test_unknown_email_and_wrong_password_look_the_same(clinic: Clinic) -> None:
    app = clinic.world.app
    known = clinic.patient.email
    unknown = "nobody-" + clinic.patient.email  # same shape, no account
    wrong = Browser(app).post("/login", {"email": known, "password": "not the password"})
    missing = Browser(app).post("/login", {"email": unknown, "password": "not the password"})
    assert wrong.status_code == missing.status_code == 200
    assert LOGIN_FAILED in wrong.get_data(as_text=True)
    assert _normalised(wrong, known) == _normalised(missing, unknown)


def test_logins_are_audited_without_passwords(clinic: Clinic) -> None:
    app = clinic.world.app
    wrong_pw = "a wrong guess at the password"
    assert Browser(app).login(clinic.patient.email, wrong_pw).status_code == 200
    assert Browser(app).login("nobody@clinic.example", wrong_pw).status_code == 200
    assert Browser(app).login(clinic.patient.email).status_code == 302
    events = rows(
        app,
        "SELECT actor_id, actor_role, outcome, address FROM audit_events WHERE action = 'login'",
    )
    outcomes = sorted(e[2] for e in events)
    assert outcomes == ["failure", "failure", "ok"]
    patient_id = str(_db_id(app, clinic.patient.id))
    ok = [e for e in events if e[2] == "ok"]
    assert str(ok[0][0]) == patient_id and ok[0][1] == "patient"
    assert any(e[0] is None for e in events if e[2] == "failure")  # unknown email
    every_row = repr(rows(app, "SELECT * FROM audit_events"))
    for secret in (wrong_pw, PASSWORD):
        assert secret not in every_row
    assert all(secret not in repr(snapshot(app)) for secret in (wrong_pw, PASSWORD))


# -- cookies and login sessions ------------------------------------------------


def test_session_cookie_changes_at_login(clinic: Clinic) -> None:
    app = clinic.world.app
    b = Browser(app)
    b.token()  # an anonymous session with a CSRF token
    before = session_cookie(b.client)
    assert before is not None
    assert b.login(clinic.patient.email).status_code == 302
    after = session_cookie(b.client)
    assert after is not None and after != before
    old, new = decode_session(app, before), decode_session(app, after)
    assert "_user_id" not in old
    assert old.get("csrf_token") != new.get("csrf_token")
    # A cookie planted before sign-in (session fixation) stays anonymous.
    planted = app.test_client()
    planted.set_cookie(SESSION_COOKIE, before)
    assert is_login_redirect(planted.get("/account/password"))
    assert b.get("/account/password").status_code == 200


def test_old_cookie_is_refused_after_logout(clinic: Clinic) -> None:
    app = clinic.world.app
    b = clinic.world.browser(clinic.patient)
    signed_in = session_cookie(b.client)
    assert signed_in is not None
    replay = app.test_client()
    replay.set_cookie(SESSION_COOKIE, signed_in)
    assert replay.get("/account/password").status_code == 200  # the copy works while live
    assert b.logout().status_code == 302
    assert is_login_redirect(b.get("/account/password"))
    assert is_login_redirect(replay.get("/account/password"))
    fresh = app.test_client()
    fresh.set_cookie(SESSION_COOKIE, signed_in)
    assert is_login_redirect(fresh.get("/"))
    assert is_login_redirect(fresh.get(f"/courses/{clinic.course.id}"))


def test_password_change_needs_the_current_one_and_ends_other_sessions(clinic: Clinic) -> None:
    app = clinic.world.app
    here = clinic.world.browser(clinic.patient)
    there = clinic.world.browser(clinic.patient)
    bystander = clinic.world.browser(clinic.other_patient)

    r = change_password(here, "not my current password", NEW_PASSPHRASE)
    assert r.status_code == 200
    assert 'id="current_password-error"' in r.get_data(as_text=True)
    assert there.get("/account/password").status_code == 200  # nothing ended yet

    r = change_password(here, PASSWORD, NEW_PASSPHRASE, confirm=NEW_PASSPHRASE + "!")
    assert r.status_code == 200
    assert there.get("/account/password").status_code == 200

    r = change_password(here, PASSWORD, NEW_PASSPHRASE)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert is_login_redirect(there.get("/account/password"))
    assert is_login_redirect(there.get(f"/courses/{clinic.course.id}"))
    assert here.get("/account/password").status_code == 200
    assert here.get(f"/courses/{clinic.course.id}").status_code == 200
    assert bystander.get("/account/password").status_code == 200
    events = rows(app, "SELECT COUNT(*) FROM audit_events WHERE action = 'user.password_change'")
    assert events[0][0] == 1


def test_temporary_password_forces_the_change_first(clinic: Clinic, db: Session) -> None:
    app = clinic.world.app
    user, temp = accounts.create_user(
        db,
        runtime(app).passwords,
        email="fresh-patient@clinic.example",
        name="Fresh Patient (test)",
        role=Role.PATIENT,
    )
    assert temp is not None and user.must_change_password
    course = clinic.world.course(user, clinic.clinician)
    b = Browser(app)
    r = b.login(user.email, temp)
    assert r.status_code == 302
    for url in ("/", f"/courses/{course.id}", f"/courses/{course.id}/entries/new"):
        r = b.get(url)
        assert r.status_code == 302 and r.location.endswith("/account/password"), url
    r = b.post(f"/courses/{course.id}/entries/new", entry_form(title="Too early"))
    assert r.status_code == 302 and r.location.endswith("/account/password")
    assert rows(app, "SELECT COUNT(*) FROM entries")[0][0] == 0
    assert b.get("/account/password").status_code == 200
    r = change_password(b, temp, NEW_PASSPHRASE)
    assert r.status_code == 302, r.get_data(as_text=True)
    assert b.get(f"/courses/{course.id}").status_code == 200


def test_session_cookie_flags(clinic: Clinic) -> None:
    b = Browser(clinic.world.app)
    b.token()
    r = b.post("/login", {"email": clinic.patient.email, "password": PASSWORD})
    assert r.status_code == 302
    cookies = [c for c in r.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE + "=")]
    assert len(cookies) == 1
    attrs = [a.strip().lower() for a in cookies[0].split(";")[1:]]
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "secure" not in attrs  # plain HTTP in this app; see test_headers for HTTPS


def test_session_cookie_holds_no_health_data(clinic: Clinic) -> None:
    app = clinic.world.app
    b = clinic.world.browser(clinic.patient)
    title, body = "Marker title qz7", "Marker body about the meadow qz7"
    r = b.post(
        f"/courses/{clinic.course.id}/entries/new",
        entry_form(clinic.past, title=title, body=body, intentions=""),
    )
    assert r.status_code == 302
    entry_id = new_entry_id(r.location)
    seen = []
    for url in (
        f"/entries/{entry_id}",
        f"/courses/{clinic.course.id}",
        f"/entries/{entry_id}/edit",
    ):
        assert b.get(url).status_code == 200
        value = session_cookie(b.client)
        assert value is not None
        seen.append(decode_session(app, value))
    login_ids = {str(i) for (i,) in rows(app, "SELECT id FROM login_sessions")}
    for data in seen:
        assert set(data) <= {"_user_id", "_fresh", "_id", "csrf_token", "_flashes"}, data
        assert "_flashes" not in data  # flashed messages were shown and consumed
        user_id = uuid.UUID(data["_user_id"])
        assert user_id != clinic.patient.id  # the login session's id, not the account's
        assert user_id.hex in login_ids or str(user_id) in login_ids
        text = repr(data)
        for secret in (title, body, "qz7", clinic.patient.name, clinic.patient.email, "meadow"):
            assert secret not in text


# -- who may see what --------------------------------------------------------------


def test_login_page_is_public_and_everything_else_needs_sign_in(app: Flask) -> None:
    anonymous = Browser(app)
    assert anonymous.get("/login").status_code == 200
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/static/css/app.css").status_code == 200
    checked = 0
    for rule, method in rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = url_for_rule(app, rule)
        r = anonymous.post(url) if method == "POST" else anonymous.get(url)
        assert is_login_redirect(r), (method, url, r.status_code)
        checked += 1
    assert checked >= 20
