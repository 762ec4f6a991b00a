"""The demo clinic in French, as its patient, clinician and admin see it.

Each person's pages are found by following the links of their own pages (one page of
each kind), then every page is opened in a browser set to French at 1280 px and at
360 px: `<html lang="fr">`, no label left in English, zero axe violations (the
language rules included), nothing scrolling sideways, and on the phone no control
too small to tap. French runs longer than English: this is where a label too long
for its box shows.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
from flask import Flask
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from tests.browser.axe import assert_accessible, assert_fits, assert_tap_targets
from tests.browser.conftest import DESKTOP, PHONE
from tests.conftest import create_demo, runtime
from tests.language_helpers import english_left

MOST_PAGES = 16  # of each person: every kind of page, not every entry
# Paths that are not pages: files, or what signs the person out.
NOT_PAGES = re.compile(r"/download|\.(pdf|html|md|json|ics|zip)$|/logout|/static/")
ID_LIKE = re.compile(r"/[0-9a-f]{8}-[0-9a-f-]{27}|/\d+")


def english_on(page: Page) -> list[str]:
    return english_left(page.locator("body").inner_text())


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.locator("main button[type=submit]").click()
    page.wait_for_load_state("load")
    if "/two-factor" in page.url:  # staff set up their second factor first
        page.locator("main form button[type=submit]").click()
        secret = page.locator(".secret-key").inner_text().strip()
        page.fill("input[name=code]", pyotp.TOTP(secret).now())
        page.locator("main form button[type=submit]").click()
        page.locator("main a.button").click()
        page.wait_for_load_state("load")


def _walk(page: Page, base: str) -> tuple[int, list[str]]:
    """The person's pages, one of each kind, found from their home page's links and
    each checked where it opens: how many, and the problems found."""
    seen_kinds: set[str] = set()
    checked, problems = 0, []
    queue = [page.url]
    while queue and checked < MOST_PAGES:
        url = queue.pop(0)
        kind = ID_LIKE.sub("/#", urlsplit(url).path)
        if kind in seen_kinds or NOT_PAGES.search(url) or not url.startswith(base):
            continue
        seen_kinds.add(kind)
        page.set_viewport_size(DESKTOP)
        try:
            response = page.goto(url)
        except PlaywrightError:  # a download, not a page
            continue
        if response is None or response.status != 200:
            continue
        checked += 1
        links = page.eval_on_selector_all("a[href^='/']", "as => as.map(a => a.href)")
        queue += [link.split("#")[0] for link in links]
        problems += _problems(page)
    return checked, problems


def _problems(page: Page) -> list[str]:
    """The page as opened at 1280 px, then narrowed to 360 px (the layout follows the
    width, no need to load it again)."""
    page.wait_for_load_state("load")
    path = urlsplit(page.url).path
    found = []
    if page.locator("html").get_attribute("lang") != "fr":
        found.append(f"{path}: not in French")
    if left := english_on(page):
        found.append(f"{path}: English left: {left}")
    for size, checks in (
        (DESKTOP, (assert_fits, assert_accessible)),
        (PHONE, (assert_fits, assert_tap_targets, assert_accessible)),
    ):
        page.set_viewport_size(size)
        for check in checks:
            try:
                check(page)
            except AssertionError as exc:
                found.append(f"{path} at {size['width']} px: {exc}")
    return found


def test_the_demo_in_french_for_each_person(chromium: Browser, live_url: str, app: Flask) -> None:
    rt = runtime(app)
    rt.settings = rt.settings.with_changes(languages=("en", "fr"))
    password = create_demo(app)
    checked = {}
    problems: list[str] = []
    for email in ("jordan@demo.example", "rivera@demo.example", "admin@demo.example"):
        context = chromium.new_context(locale="fr-FR", viewport=DESKTOP)
        page = context.new_page()
        _sign_in(page, live_url, email, password)
        checked[email], found = _walk(page, live_url)
        problems += found
        context.close()
    assert not problems, "\n".join(problems)
    # Each person has pages of their own beyond a home page and the shared ones.
    assert all(n >= 8 for n in checked.values()), checked
