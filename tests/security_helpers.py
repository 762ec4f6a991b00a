"""Helpers for the security tests: cookies, database snapshots, the URL map, HTML checks."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from werkzeug.routing import AnyConverter, Rule

from journal.db import Base
from tests.conftest import runtime
from tests.helpers import CSRF_RE

SESSION_COOKIE = "journal_session"
# Tables whose rows a GET may legitimately add or touch: the audit trail of reads
# and the "last seen" time of the login session.
# Tables a GET may write: the audit trail, sign-in state, and read state
# ("last looked at this course", "opened this comment").
BOOKKEEPING_TABLES = frozenset(
    {"audit_events", "audit_head", "login_sessions", "course_visits", "comment_reads"}
)


# -- database -----------------------------------------------------------------


def rows(app: Flask, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run a read query in its own short session (never holding the SQLite write lock)."""
    with runtime(app).database.session() as s:
        return [tuple(r) for r in s.execute(text(sql), params).all()]


def snapshot(app: Flask, skip: frozenset[str] = BOOKKEEPING_TABLES) -> dict[str, list[str]]:
    """Every row of every table except bookkeeping ones, as sorted reprs."""
    found: dict[str, list[str]] = {}
    with runtime(app).database.session() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            found[table.name] = sorted(repr(tuple(r)) for r in s.execute(select(table)).all())
    return found


def count(app: Flask, table: str) -> int:
    (n,) = rows(app, f"SELECT COUNT(*) FROM {table}")[0]  # fixed table names only
    return int(n)


# -- cookies ------------------------------------------------------------------


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return None if cookie is None else cookie.value


def decode_session(app: Flask, value: str) -> dict[str, Any]:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert serializer is not None
    data: dict[str, Any] = serializer.loads(value)
    return data


def strip_csrf(html: str) -> str:
    return CSRF_RE.sub('name="csrf_token" type="hidden" value="TOKEN"', html)


# -- URL map ------------------------------------------------------------------


def url_for_rule(app: Flask, rule: Rule, ids: dict[str, uuid.UUID] | None = None) -> str:
    """A concrete URL for a rule: given ids where named, else random UUIDs."""
    ids = ids or {}
    values: dict[str, Any] = {}
    for name, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name in ids:
            values[name] = ids[name]
        elif type(converter).__name__ == "UUIDConverter":
            values[name] = uuid.uuid4()
        else:
            values[name] = "x"
    with app.test_request_context():
        adapter = app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, method=next(iter(rule.methods or {"GET"})))


def rules(app: Flask) -> Iterator[tuple[Rule, str]]:
    """Every rule and each of its methods, HEAD and OPTIONS left out."""
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and urlsplit(response.location).path == "/login"


# -- HTML ---------------------------------------------------------------------


Element = tuple[str, list[tuple[str, str | None]]]


class ElementCollector(HTMLParser):
    """Collects (tag, attrs) of every start tag: all of them, and those inside
    any <div class="prose"> (where rendered Markdown goes)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # > 0 while inside a prose div
        self.prose_divs = 0
        self.everywhere: list[Element] = []
        self.prose: list[Element] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.everywhere.append((tag, attrs))
        if self.depth == 0:
            classes = " ".join(v or "" for k, v in attrs if k == "class").split()
            if tag == "div" and "prose" in classes:
                self.depth = 1
                self.prose_divs += 1
            return
        if tag == "div":
            self.depth += 1
        self.prose.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.everywhere.append((tag, attrs))
        if self.depth > 0:
            self.prose.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        if self.depth > 0 and tag == "div":
            self.depth -= 1


def parse_page(page: str) -> ElementCollector:
    parser = ElementCollector()
    parser.feed(page)
    parser.close()
    return parser


_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def url_scheme(url: str) -> str:
    """The scheme a browser would see: control characters and spaces are dropped first."""
    cleaned = _URL_NOISE.sub("", url).lower()
    match = re.match(r"([a-z][a-z0-9+.\-]*):", cleaned)
    return match.group(1) if match else ""
