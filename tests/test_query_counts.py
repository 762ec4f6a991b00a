"""SQL statements per page stay the same however many entries a course holds.

The clinics come from the benchmark's generator (bench/generate.py): one
course with a couple of entries and one with several pages of them, so the
timeline's paging is counted too. Statements are counted with a
`before_cursor_execute` listener on the app's engine, after a warm-up request.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from bench.generate import Clinic as Synthetic
from bench.generate import Size, generate
from journal.config import Settings
from journal.journaling.timeline import PAGE_SIZE
from tests.conftest import runtime
from tests.helpers import Browser, remember_recovery_codes

LARGE = 3 * PAGE_SIZE + 5


@pytest.fixture(autouse=True)
def steady_login_sessions(app: Flask) -> None:
    """Keep the once-a-minute "last seen" update out of the counts, whatever the clock."""
    rt = runtime(app)
    rt.session_limits = dataclasses.replace(rt.session_limits, touch_every=timedelta(days=1))


@contextmanager
def counting(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = runtime(app).database.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements(app: Flask, browser: Browser, url: str) -> int:
    assert browser.get(url).status_code == 200  # warm-up
    with counting(app) as seen:
        response = browser.get(url)
    assert response.status_code == 200, url
    return len(seen)


def clinic(settings: Settings, entries: int) -> Synthetic:
    made = generate(settings, Size(clinicians=1, patients=1, entries=entries, caseload=1))
    for email, codes in made.recovery_codes.items():
        remember_recovery_codes(email, codes)
    return made


def browser(app: Flask, made: Synthetic, email: str) -> Browser:
    b = Browser(app)
    assert b.login(email, made.password).status_code == 302
    return b


@pytest.fixture
def clinics(app: Flask, settings: Settings) -> tuple[Synthetic, Synthetic]:
    return clinic(settings, 2), clinic(settings, LARGE)


@pytest.mark.parametrize("who", ["patient", "clinician"])
def test_timeline_statements_do_not_grow_with_entries(
    app: Flask, clinics: tuple[Synthetic, Synthetic], who: str
) -> None:
    small, large = clinics
    b_small = browser(app, small, getattr(small, who))
    b_large = browser(app, large, getattr(large, who))
    few = statements(app, b_small, f"/courses/{small.course_id}")
    first = statements(app, b_large, f"/courses/{large.course_id}")
    later = statements(app, b_large, f"/courses/{large.course_id}?page=3")
    assert few > 0
    assert few == first == later


@pytest.mark.parametrize("who", ["patient", "clinician"])
def test_entry_view_statements_do_not_grow_with_entries(
    app: Flask, clinics: tuple[Synthetic, Synthetic], who: str
) -> None:
    small, large = clinics
    b_small = browser(app, small, getattr(small, who))
    b_large = browser(app, large, getattr(large, who))
    assert statements(app, b_small, f"/entries/{small.entry_id}") == statements(
        app, b_large, f"/entries/{large.entry_id}"
    )


def test_timeline_shows_one_page_at_a_time(
    app: Flask, clinics: tuple[Synthetic, Synthetic]
) -> None:
    _, large = clinics
    b = browser(app, large, large.patient)
    links = re.compile(r'class="entry-link" href="/entries/([0-9a-f-]+)"')
    first = links.findall(b.text(f"/courses/{large.course_id}"))
    second = links.findall(b.text(f"/courses/{large.course_id}?page=2"))
    assert 0 < len(first) <= PAGE_SIZE and 0 < len(second) <= PAGE_SIZE
    assert not set(first) & set(second)
    page = b.text(f"/courses/{large.course_id}?page=2")
    assert "Older entries" in page and "Newer entries" in page
    # Out-of-range or odd page numbers show a real page rather than an error.
    assert links.findall(b.text(f"/courses/{large.course_id}?page=999"))
    assert links.findall(b.text(f"/courses/{large.course_id}?page=abc")) == first
