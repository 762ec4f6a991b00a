"""Security headers on every response (checklist 29, 21), and templates the CSP can hold.

Every kind of answer is covered: pages signed in and out, redirects, the login
page, 400/403/404/405/413/500 error pages, the JSON health check and static
files. With HTTPS on, HSTS is sent and the session cookie is Secure.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from journal import create_app
from journal.config import PROJECT_ROOT, Settings
from tests.conftest import Clinic, entry_form, new_entry_id, runtime
from tests.helpers import PASSWORD, Browser, csrf_token
from tests.security_helpers import SESSION_COOKIE

MiB = 1024 * 1024
TEMPLATES = PROJECT_ROOT / "templates"
STATIC = PROJECT_ROOT / "static"


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def check_headers(r: TestResponse, what: str, *, static: bool = False) -> None:
    h = r.headers
    csp = h.get("Content-Security-Policy")
    assert csp, what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, (what, csp)
    d = csp_directives(csp)
    assert d.get("frame-ancestors") == ["'none'"], (what, csp)
    assert d.get("default-src") == ["'none'"], (what, csp)
    scripts = d.get("script-src", d["default-src"])
    assert set(scripts) <= {"'self'", "'none'"}, (what, csp)
    assert set(d.get("style-src", d["default-src"])) <= {"'self'", "'none'"}, (what, csp)
    assert "object-src" not in d or d["object-src"] == ["'none'"], (what, csp)
    assert d.get("base-uri") == ["'none'"], (what, csp)
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("Referrer-Policy") == "no-referrer", what
    assert h.get("X-Frame-Options") == "DENY", what
    if not static:
        assert "no-store" in (h.get("Cache-Control") or ""), what


def collect(clinic: Clinic) -> Iterator[tuple[str, TestResponse, int]]:
    """(label, response, expected status) for every kind of answer the app gives."""
    app = clinic.world.app
    anon = Browser(app)
    yield "login page", anon.get("/login"), 200
    yield "login failure", anon.post("/login", {"email": "x@y.example", "password": "nope"}), 200
    yield "anonymous redirect", anon.get("/"), 302
    yield "anonymous redirect (entry)", anon.get(f"/entries/{uuid.uuid4()}"), 302
    yield "anonymous 404", anon.get("/no/such/page"), 404
    yield "csrf 400", app.test_client().post("/login", data={"email": "a@b.example"}), 400
    yield "healthz", anon.get("/healthz"), 200
    yield "static css", anon.get("/static/css/app.css"), 200
    yield "static svg", anon.get("/static/favicon.svg"), 200
    yield "static 404", anon.get("/static/nothing.js"), 404
    yield "anonymous 405", anon.get("/logout"), 405
    yield "anonymous 413", anon.post("/login", {"email": "a@b.example", "password": "x" * MiB}), 413
    yield "HEAD login", anon.client.head("/login"), 200
    yield "OPTIONS login", anon.client.options("/login"), 200

    patient = clinic.world.browser(clinic.patient)
    r = patient.post(f"/courses/{clinic.course.id}/entries/new", entry_form(clinic.past))
    yield "entry saved (redirect)", r, 302
    entry_id = new_entry_id(r.location)
    yield "patient home", patient.get("/"), 302
    yield "timeline", patient.get(f"/courses/{clinic.course.id}"), 200
    yield "entry", patient.get(f"/entries/{entry_id}"), 200
    yield "entry form", patient.get(f"/courses/{clinic.course.id}/entries/new"), 200
    yield "entry edit", patient.get(f"/entries/{entry_id}/edit"), 200
    yield "history", patient.get(f"/entries/{entry_id}/history"), 200
    yield "password page", patient.get("/account/password"), 200
    yield "form error", patient.post(f"/courses/{clinic.course.id}/entries/new", {}), 200
    yield "403", patient.get("/courses/new"), 403
    yield "403 admin", patient.get("/admin/users"), 403
    yield "404 entry", patient.get(f"/entries/{uuid.uuid4()}"), 404
    yield "404 other course", patient.get(f"/courses/{clinic.other_course.id}"), 404
    yield "404 malformed", patient.get("/entries/not-a-uuid"), 404
    yield "405", patient.get("/logout"), 405
    yield "405 put", patient.client.put(f"/entries/{entry_id}"), 405
    yield "413", patient.post(f"/courses/{clinic.course.id}/entries/new", {"body": "b" * MiB}), 413

    clinician = clinic.world.browser(clinic.clinician)
    yield "clinician home", clinician.get("/"), 200
    yield "clinician entry", clinician.get(f"/entries/{entry_id}"), 200
    yield "session form", clinician.get(f"/courses/{clinic.course.id}/sessions/new"), 200
    yield "course form", clinician.get("/courses/new"), 200

    admin = clinic.world.browser(clinic.admin)
    yield "admin users", admin.get("/admin/users"), 200
    yield "admin new user", admin.get("/admin/users/new"), 200
    yield "admin course team", admin.get(f"/admin/courses/{clinic.course.id}"), 200
    yield "logout", patient.logout(), 302
    yield "after logout", patient.get(f"/entries/{entry_id}"), 302


def test_every_kind_of_response_carries_the_headers(
    clinic: Clinic, subtests: pytest.Subtests
) -> None:
    seen = 0
    for label, r, status in collect(clinic):
        with subtests.test(label):
            assert r.status_code == status
            check_headers(r, label, static=label.startswith("static"))
            if label.startswith("static"):
                assert "no-store" not in (r.headers.get("Cache-Control") or "")
            assert "Strict-Transport-Security" not in r.headers  # plain HTTP here
            seen += 1
    assert seen >= 40


def test_healthz_is_json_with_the_headers(app: Flask) -> None:
    r = app.test_client().get("/healthz")
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    check_headers(r, "healthz")


def test_unexpected_errors_carry_the_headers(settings: Settings, clinic: Clinic) -> None:
    def boom() -> str:
        raise RuntimeError("forced failure for a header test")

    own = create_app(settings)  # the shared app takes no new routes once it has served
    try:
        own.add_url_rule("/test-only-boom", "test_only_boom", boom)
        b = Browser(own)
        b.sign_in_as(clinic.patient.id)
        r = b.get("/test-only-boom")
        assert r.status_code == 500
        check_headers(r, "500")
        assert "forced failure" not in r.get_data(as_text=True)
    finally:
        runtime(own).database.dispose()


# -- HTTPS ----------------------------------------------------------------------------------


@pytest.fixture
def https_app(app: Flask, settings: Settings) -> Iterator[Flask]:
    """A second app on the same instance, configured for HTTPS (keys already registered)."""
    secure = create_app(settings.with_changes(https=True))
    yield secure
    runtime(secure).database.dispose()


HTTPS = "https://localhost"


def _cookie_attrs(r: TestResponse) -> list[str]:
    cookies = [c for c in r.headers.getlist("Set-Cookie") if c.startswith(SESSION_COOKIE + "=")]
    assert len(cookies) == 1
    return [a.strip().lower() for a in cookies[0].split(";")[1:]]


def _sign_in_over_https(app: Flask, email: str, headers: dict[str, str]) -> TestResponse:
    client = app.test_client()
    page = client.get("/login", base_url=HTTPS)
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email}
    return client.post(
        "/login", base_url=HTTPS, headers=headers, data={**data, "password": PASSWORD}
    )


def test_https_sends_hsts_and_a_secure_cookie(https_app: Flask, clinic: Clinic) -> None:
    client = https_app.test_client()
    for url, status in (("/login", 200), ("/", 302), ("/no/such/page", 404), ("/healthz", 200)):
        r = client.get(url, base_url=HTTPS)
        assert r.status_code == status, url
        match = re.search(r"max-age=(\d+)", r.headers.get("Strict-Transport-Security", ""))
        assert match and int(match.group(1)) >= 15_552_000, url  # at least 180 days
        check_headers(r, url)
    r = https_app.test_client().get("/login", base_url=HTTPS)
    attrs = _cookie_attrs(r)
    assert "secure" in attrs and "httponly" in attrs and "samesite=lax" in attrs
    # Signed in (with a Referer, as Flask-WTF's strict HTTPS check wants): a Secure cookie.
    r = _sign_in_over_https(https_app, clinic.patient.email, {"Referer": f"{HTTPS}/login"})
    assert r.status_code == 302, r.get_data(as_text=True)
    attrs = _cookie_attrs(r)
    assert "secure" in attrs and "httponly" in attrs and "samesite=lax" in attrs
    assert "Strict-Transport-Security" in r.headers
    assert https_app.config["SESSION_COOKIE_SECURE"] is True


def test_https_sign_in_works_without_a_referer(https_app: Flask, clinic: Clinic) -> None:
    """Every page says Referrer-Policy: no-referrer, so a browser posting the login
    form sends no Referer. Over HTTPS the sign-in must still work."""
    r = _sign_in_over_https(https_app, clinic.patient.email, {})
    assert r.status_code == 302, r.get_data(as_text=True)


def test_plain_http_app_sends_no_hsts(app: Flask) -> None:
    r = app.test_client().get("/login")
    assert "Strict-Transport-Security" not in r.headers
    assert app.config["SESSION_COOKIE_SECURE"] is False


# -- templates the CSP can hold -------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTR = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_ATTR = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)
EXTERNAL = re.compile(r"<(script|link|img|iframe)[^>]*(src|href)\s*=\s*\"(https?:)?//", re.I)


def template_files() -> list[Path]:
    files = sorted(p for p in TEMPLATES.rglob("*") if p.is_file())
    assert len(files) >= 15
    return files


@pytest.mark.parametrize("pattern", [INLINE_SCRIPT, STYLE_ELEMENT, STYLE_ATTR, EVENT_ATTR, JS_URL])
def test_templates_need_no_inline_script_or_style(pattern: re.Pattern[str]) -> None:
    # An e-mail's HTML is read in a mail client, not under the app's CSP, and inline
    # style attributes are the one way of styling it that mail clients keep; scripts,
    # handlers and javascript: links stay refused there too.
    mail = TEMPLATES / "mail"
    offenders = [
        f"{p.relative_to(PROJECT_ROOT)}: {m.group(0)!r}"
        for p in template_files()
        if not (pattern is STYLE_ATTR and p.is_relative_to(mail))
        for m in pattern.finditer(p.read_text())
    ]
    assert offenders == []


def test_templates_load_nothing_from_other_origins() -> None:
    offenders = [
        f"{p.relative_to(PROJECT_ROOT)}: {m.group(0)!r}"
        for p in template_files()
        for m in EXTERNAL.finditer(p.read_text())
    ]
    assert offenders == []


def test_static_svg_holds_no_script() -> None:
    for svg in STATIC.rglob("*.svg"):
        text = svg.read_text()
        assert not re.search(r"<script|\son[a-z]+\s*=|javascript:", text, re.I), svg


def test_the_scanners_catch_what_they_should() -> None:
    """The patterns above would find an offending template."""
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/app.js"></script>')
    assert STYLE_ELEMENT.search("<style>p{}</style>")
    assert STYLE_ATTR.search('<p style="color:red">')
    assert not STYLE_ATTR.search('<link rel="stylesheet" href="x.css">')
    assert EVENT_ATTR.search('<button onclick="go()">')
    assert not EVENT_ATTR.search("<p>once upon a time</p>")
    assert EXTERNAL.search('<script src="https://cdn.example/x.js">')


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("html", "text/html; charset=utf-8"), ("md", "text/markdown; charset=utf-8")],
)
def test_a_download_names_its_charset_once(clinic: Clinic, fmt: str, content_type: str) -> None:
    from tests.export_helpers import export

    r = export(clinic.world.browser(clinic.clinician), clinic.course.id, fmt)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == content_type
