"""Browser tests: the app served on 127.0.0.1, driven by Playwright in Debian's Chromium.

Chromium comes from the system (`apt-get install chromium`; `.ci/run` does it);
set JOURNAL_CHROMIUM to use another binary.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("JOURNAL_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A loaded CI machine can be slow; waiting longer costs nothing when all is well.
expect.set_options(timeout=20_000)

PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


_WITHOUT_SCRIPTS: weakref.WeakSet[BrowserContext] = weakref.WeakSet()


def new_page(chromium: Browser, *, phone: bool = False, javascript: bool = True) -> Page:
    """A page in a fresh context: one person, one browser."""
    context = chromium.new_context(
        viewport=PHONE if phone else DESKTOP, java_script_enabled=javascript
    )
    if not javascript:
        _WITHOUT_SCRIPTS.add(context)
    return context.new_page()


def scripts_enabled(page: Page) -> bool:
    """Checks that run scripts in the page (axe, layout) need JavaScript on."""
    return page.context not in _WITHOUT_SCRIPTS
