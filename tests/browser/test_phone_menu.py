"""The phone menu: on a phone the header is one line with a "Menu" disclosure (no
script needed), so the patient's main action is in view without scrolling; on a wide
screen the links stay in a row. And text over a limit is counted, never cut."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from journal.journaling.entries import BODY_MAX
from tests.browser.axe import assert_accessible, assert_fits, assert_tap_targets
from tests.browser.test_screenshots import _sign_in
from tests.conftest import create_demo

PATIENT = "jordan@demo.example"


def _open(chromium: Browser, base: str, password: str, width: int, height: int, **kw: bool) -> Page:
    page = chromium.new_context(viewport={"width": width, "height": height}, **kw).new_page()
    _sign_in(page, base, PATIENT, password)
    expect(page.get_by_role("heading", name="My journal", level=1)).to_be_visible()
    page.wait_for_load_state("load")
    return page


def _main_action_in_view(page: Page, height: int) -> None:
    action = page.locator(".write-now .button")
    expect(action).to_contain_text("Prepare for session")
    box = action.bounding_box()
    assert box is not None
    assert page.evaluate("window.scrollY") == 0
    assert box["y"] + box["height"] <= height, f"the main action ends at {box}"


def _phone(chromium: Browser, base: str, password: str, width: int, height: int) -> None:
    page = _open(chromium, base, password, width, height)
    header = page.locator(".topbar").bounding_box()
    assert header is not None and header["height"] < 80, header  # one line, not three
    expect(page.locator(".nav-wide")).to_be_hidden()
    menu = page.locator(".nav-menu > summary")
    expect(menu).to_be_visible()
    expect(page.get_by_role("link", name="Access log")).to_be_hidden()
    _main_action_in_view(page, height)
    assert_fits(page)
    assert_tap_targets(page)
    assert_accessible(page)
    menu.click()
    expect(page.get_by_role("link", name="Access log")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert_tap_targets(page)
    assert_accessible(page)
    page.get_by_role("link", name="Access log").click()
    expect(page).to_have_url(f"{base}/account/access-log")
    page.context.close()


def test_the_phone_menu_keeps_the_main_action_in_view(
    chromium: Browser, live_url: str, app: Flask
) -> None:
    password = create_demo(app)
    _phone(chromium, live_url, password, 390, 844)
    _phone(chromium, live_url, password, 360, 780)

    # Without JavaScript the disclosure opens all the same.
    page = _open(chromium, live_url, password, 390, 844, java_script_enabled=False)
    _main_action_in_view(page, 844)
    page.locator(".nav-menu > summary").click()
    page.get_by_role("link", name="Search", exact=True).click()
    expect(page).to_have_url(f"{live_url}/search")
    page.context.close()

    # A wide screen keeps the row of links and shows no menu button.
    page = _open(chromium, live_url, password, 1280, 900)
    expect(page.locator(".nav-menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Access log")).to_be_visible()
    _main_action_in_view(page, 900)
    assert_accessible(page)

    # Text pasted past a limit is kept whole and counted; the server says both numbers.
    page.locator(".write-now .button").click()
    body = page.get_by_label("Your words")
    expect(page.locator("#body-limit")).to_have_text("Up to 50,000 characters.")
    body.focus()
    page.keyboard.insert_text("w" * (BODY_MAX + 1))
    assert body.evaluate("el => el.value.length") == BODY_MAX + 1
    expect(page.locator("#body-limit")).to_contain_text("1 over the limit of 50,000")
    page.get_by_label("Title").fill("Too long to keep")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#body-error")).to_have_text(
        "This text is 50,001 characters; the limit is 50,000. Nothing was saved yet."
    )
    assert page.get_by_label("Your words").evaluate("el => el.value.length") == BODY_MAX + 1
    assert_accessible(page)
    page.context.close()
