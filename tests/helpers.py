"""Test helpers: a browser-like wrapper around Flask's test client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
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


# POSTs whose answer is a page by design: search results (a POST keeps the words out of
# addresses and logs; sending it again changes nothing), files, the steps of signing in
# and of confirming an export, which ask for something more, and recovery codes.
SHOWS_ITS_ANSWER = frozenset(
    {
        "search.results",
        "auth.login",
        "auth.second_factor",
        # The recovery codes, shown once as the answer and never stored to be shown again.
        "auth.two_factor_confirm",
        "export.course_export",
        "export.my_data",
        "export.job_download",
    }
)
# A form's "add more rows" button shows it again, with what was typed and nothing saved.
MORE_ROWS = "more_rows"
# What a form shown again after a refused POST carries: a message saying what is wrong.
SAYS_WHAT_IS_WRONG = ('role="alert"', 'class="error"')


def check_post_redirect_get(app: Flask, url: str, response: TestResponse) -> None:
    """Every POST that succeeds answers with a redirect (post/redirect/get), so that
    reloading the page it lands on never sends the form again; a POST answered with a
    page shows the form again with what was wrong. Checked on every POST a test sends."""
    if response.status_code != 200 or response.mimetype != "text/html":
        return
    path = urlsplit(url).path
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path, method="POST")
    except HTTPException:
        return
    if endpoint in SHOWS_ITS_ANSWER:
        return
    page = response.get_data(as_text=True)
    assert any(marker in page for marker in SAYS_WHAT_IS_WRONG), (
        f"POST {path} ({endpoint}) answered 200 with a page that shows no error: a "
        "successful POST must redirect (post/redirect/get), so a reload is a GET"
    )


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
        response = self.client.post(url, data=payload, **kwargs)
        if not kwargs.get("follow_redirects") and MORE_ROWS not in payload:
            check_post_redirect_get(self.app, url, response)
        return response

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
