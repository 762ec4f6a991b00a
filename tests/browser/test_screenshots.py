"""Screenshots of the main pages, phone and desktop, from the demo clinic.

`make screenshots` refreshes the pictures in the README (JOURNAL_SCREENSHOTS names
the folder). Every run of the suite leaves this walk out: the French walk
(test_french.py) opens the same pages, and more, at 1280 and 360 px with axe, and the
layout walk (test_layout.py) checks them at every width.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.axe import assert_accessible
from tests.browser.conftest import new_page
from tests.conftest import create_demo


def _sign_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def _enrol(page: Page) -> None:
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    secret = page.locator(".secret-key").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    page.get_by_role("link", name="I have saved them").click()


def main_menu_link(page: Page, name: str) -> Locator:
    """A link of the main menu, which a phone keeps behind "Menu"."""
    menu = page.locator(".nav-menu > summary")
    if menu.is_visible():
        menu.click()
    return page.get_by_role("link", name=name)


def search_for(page: Page, base: str, words: str) -> None:
    """The search page's form, as a person uses it (the words go in a POST)."""
    page.goto(f"{base}/search")
    page.get_by_label("Words to find").fill(words)
    page.locator("main").get_by_role("button", name="Search").click()
    expect(page.locator("mark").first).to_be_visible()


def _search_door(page: Page) -> None:
    page.get_by_label("Search this course").fill("door")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("mark").first).to_be_visible()


@pytest.mark.screenshots
def test_screenshots_of_the_main_pages(
    chromium: Browser, live_url: str, app: Flask, tmp_path: Path
) -> None:
    wanted = os.environ.get("JOURNAL_SCREENSHOTS")
    out = Path(wanted or tmp_path)
    out.mkdir(parents=True, exist_ok=True)

    def shoot(p: Page, name: str, *, full_page: bool = False) -> None:
        if wanted:
            p.screenshot(path=str(out / name), full_page=full_page)

    password = create_demo(app)
    taken = []
    # Without pictures to take, the patient's pages are checked once, on a phone (the
    # layout passes open them at every width; axe finds the same either way).
    for device in ("phone", "desktop") if wanted else ("phone",):
        page = new_page(chromium, phone=device == "phone")
        _sign_in(page, live_url, "jordan@demo.example", password)
        steps = {
            "timeline": lambda p: None,
            "entry": lambda p: p.get_by_role("heading", name="Two days later").click(),
            "themes": lambda p: p.get_by_role("link", name="Themes", exact=True).click(),
            "access-log": lambda p: main_menu_link(p, "Access log").click(),
            "search": _search_door,
            "questionnaires": lambda p: p.get_by_role("link", name="Questionnaires").click(),
            "answer": lambda p: p.locator(".due a").first.click(),
            "write": lambda p: p.locator(".write-now .button").click(),
        }
        timeline_url = page.url
        for name, go in steps.items():
            page.goto(timeline_url)
            go(page)
            assert_accessible(page)
            target = out / f"patient-{name}-{device}.png"
            shoot(page, target.name, full_page=name != "timeline")
            taken.append(target)
        page.context.close()
    page = new_page(chromium)
    _sign_in(page, live_url, "rivera@demo.example", password)
    _enrol(page)
    assert_accessible(page)
    shoot(page, "clinician-caseload-desktop.png")
    page.get_by_role("link", name="Jordan Lake (demo)").click()
    assert_accessible(page)
    shoot(page, "clinician-timeline-desktop.png")
    timeline_url = page.url
    page.get_by_role("heading", name="Two days later").click()
    assert_accessible(page)
    shoot(page, "clinician-entry-desktop.png", full_page=True)
    page.goto(timeline_url)
    page.get_by_role("link", name="Psychotherapy notes").click()
    assert_accessible(page)
    shoot(page, "clinician-notes-desktop.png")
    search_for(page, live_url, "door")
    assert "door" not in page.url
    assert_accessible(page)
    shoot(page, "clinician-search-desktop.png")
    names = ("caseload", "timeline", "entry", "notes", "search")
    taken += [out / f"clinician-{n}-desktop.png" for n in names]
    cookies = page.context.cookies()
    page.context.close()
    phone = new_page(chromium, phone=True)
    phone.context.add_cookies(cookies)  # the same signed-in clinician, on a phone
    phone.goto(live_url)
    assert_accessible(phone)
    shoot(phone, "clinician-caseload-phone.png", full_page=True)
    taken.append(out / "clinician-caseload-phone.png")
    phone.context.close()
    if wanted:
        assert len(taken) == 22
        assert all(p.stat().st_size > 5000 for p in taken)
