"""Counting the SQL statements a page runs, for the "fixed number of queries" tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import event

from journal.accounts.accounts import SessionLimits
from tests.conftest import runtime
from tests.helpers import Browser


def steady_sessions(app: Flask) -> None:
    """Keep the once-a-minute "last seen" update out of the counts, whatever the clock."""
    limits: SessionLimits = runtime(app).session_limits
    runtime(app).session_limits = dataclasses.replace(limits, touch_every=timedelta(days=1))


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine runs inside the block (the write engine
    shares its events)."""
    seen: list[str] = []
    engine = runtime(app).database.engine

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def measure(app: Flask, browser: Browser, url: str) -> list[str]:
    """The statements of one successful GET."""
    with statements(app) as seen:
        response = browser.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return list(seen)
