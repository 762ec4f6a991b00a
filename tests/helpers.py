"""Test helpers: a browser-like wrapper around Flask's test client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from journal.accounts import accounts
from journal.models import User

# Staff sign in with a second factor; tests use the recovery codes from their
# enrolment, one per sign-in (each works once). Keyed by email, which tests
# make unique, so apps built from the same database share them.
_RECOVERY_CODES: dict[str, list[str]] = {}


def remember_recovery_codes(email: str, codes: list[str]) -> None:
    _RECOVERY_CODES[email] = list(codes)


def recovery_codes(email: str) -> list[str]:
    return list(_RECOVERY_CODES.get(email, []))


def second_factor_code(email: str) -> str:
    codes = _RECOVERY_CODES.get(email)
    assert codes, f"no second factor known for {email}"
    return codes.pop()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """Signs in, keeps the CSRF token of its session, posts forms like a person."""

    def __init__(self, app: Flask, before: Callable[[], None] | None = None) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self._token: str | None = None
        # Run before every request: a World commits what the test made through the
        # services, as if it had been an earlier request.
        self._before = before or (lambda: None)

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        self._before()
        return self.client.get(url, **kwargs)

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_token(self.client.get("/login").get_data(as_text=True))
        return self._token

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        payload = {"csrf_token": self.token(), **(data or {})}
        self._before()
        return self.client.post(url, data=payload, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        self._token = None
        response = self.post("/login", {"email": email, "password": password})
        self._token = None  # the session was renewed at sign-in
        if response.status_code == 302 and response.location.endswith("/login/verify"):
            code = second_factor_code(email)
            page = self.client.get("/login/verify").get_data(as_text=True)
            response = self.client.post(
                "/login/verify", data={"csrf_token": csrf_token(page), "code": code}
            )
        if response.status_code == 302:
            page = self.client.get("/account/password", follow_redirects=True)
            self._token = csrf_token(page.get_data(as_text=True))
        return response

    def sign_in_as(self, user_id: uuid.UUID) -> None:
        """Be signed in as this person, as a completed sign-in leaves things (a login
        session, its audit row, the session cookie), without the form's requests."""
        self._before()
        database = self.app.extensions["journal"].database
        with database.session(write=True) as db:
            user = db.get(User, user_id)
            assert user is not None and user.active
            login = accounts.start_login_session(db, user, "127.0.0.1")
            db.commit()
        with self.client.session_transaction() as session:
            session.clear()
            session["_user_id"] = str(login.id)
            session["_fresh"] = True
        self._token = None

    def search(self, words: str, course: object = None) -> TestResponse:
        """The search form, sent as the page sends it (a POST: words stay out of URLs)."""
        data = {"q": words, **({"course": str(course)} if course else {})}
        return self.post("/search", data)

    def logout(self) -> TestResponse:
        response = self.post("/logout")
        self._token = None
        return response

    def text(self, url: str) -> str:
        response = self.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return response.get_data(as_text=True)


LINK_RE = re.compile(r"https?://[^\s/]+(/password/[A-Za-z0-9_-]+)")


def mails_to(app: Flask, address: str) -> list[str]:
    """The bodies of the messages the app sent to `address` (its outbox: no SMTP in tests)."""
    from journal.core.mail import outbox_messages

    instance = app.extensions["journal"].settings.instance_path
    return [plain_text(m) for m in outbox_messages(instance) if m["To"] == address]


def plain_text(message: Any) -> str:
    """A message's plain-text part (each has an HTML twin from the same template)."""
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the message has no plain-text part"
    return str(part.get_content())


def mailed_link(app: Flask, address: str) -> str:
    """The path of the newest password link sent to `address`."""
    bodies = mails_to(app, address)
    assert bodies, f"no message to {address}"
    found = LINK_RE.search(bodies[-1])
    assert found, "the message has no password link"
    return found.group(1)
