"""Get help now in a real browser: one tap from the sign-in page and from a patient's
page, without JavaScript, at 360 px; axe finds nothing on it, light or dark. A
clinician's note written with the form's defaults stays out of the patient's sight."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from journal.models import Role, SessionStatus
from tests.browser.axe import assert_accessible, assert_fits, assert_tap_targets
from tests.browser.conftest import PHONE, new_page
from tests.browser.test_journeys import check, sign_in, visit
from tests.conftest import World
from tests.helpers import PASSWORD


def _one_tap_to_help(page: Page) -> None:
    """The header's link is on screen, inside 360 px, and opens the page."""
    link = page.get_by_role("link", name="Get help now")
    expect(link).to_be_in_viewport()
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    link.click()
    expect(page.get_by_role("heading", name="Get help now", level=1)).to_be_visible()
    assert page.url.endswith("/help")


def _help_shows_the_numbers(page: Page) -> None:
    calls = page.locator('main a[href^="tel:"]')
    expect(calls).to_have_count(2)
    # The emergency number comes first; each number is a link a phone can call.
    expect(calls.first).to_have_attribute("href", "tel:911")
    expect(calls.nth(1)).to_have_attribute("href", "tel:988")
    expect(page.locator("main")).to_contain_text("This journal is not watched around the clock")


def test_help_is_one_tap_away_without_javascript_at_360px(
    chromium: Browser, live_url: str, world: World
) -> None:
    clinician = world.user(Role.CLINICIAN)
    patient = world.user(Role.PATIENT)
    course = world.course(patient, clinician)
    world.session(course, clinician, 2)

    page = new_page(chromium, phone=True, javascript=False)
    page.goto(f"{live_url}/login")  # signed out
    _one_tap_to_help(page)
    _help_shows_the_numbers(page)

    sign_in(page, live_url, patient.email, PASSWORD)
    page.goto(f"{live_url}/courses/{course.id}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _one_tap_to_help(page)
    _help_shows_the_numbers(page)
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_help_passes_axe_and_fits_at_360px(chromium: Browser, live_url: str, scheme: str) -> None:
    # axe and the layout checks run scripts in the page: the same page, JavaScript on.
    page = chromium.new_context(viewport=PHONE, color_scheme=scheme).new_page()  # type: ignore[arg-type]
    page.goto(f"{live_url}/help")
    _help_shows_the_numbers(page)
    assert_accessible(page)
    assert_fits(page)
    assert_tap_targets(page)
    page.context.close()


def test_a_note_written_with_the_defaults_is_not_read_by_the_patient(
    chromium: Browser, live_url: str, world: World
) -> None:
    clinician = world.user(Role.CLINICIAN)
    patient = world.user(Role.PATIENT)
    course = world.course(patient, clinician)
    world.session(course, clinician, -2, SessionStatus.COMPLETED)

    page = new_page(chromium)
    sign_in(page, live_url, clinician.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}")
    page.get_by_role("link", name="Add a clinician note (clinicians only)").click()
    expect(page.get_by_role("heading", name="Clinician note")).to_be_visible()
    check(page)
    expect(page.get_by_label("Clinicians only: the patient cannot read this")).to_be_checked()
    expect(page.get_by_label("Shared: the patient can read this")).not_to_be_checked()
    page.get_by_label("Title").fill("Kept among clinicians")
    page.get_by_label("Your words").fill("A fictional note, written with the form as it opened.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Kept among clinicians")).to_be_visible()
    note_url = page.url
    page.context.close()

    page = new_page(chromium)
    sign_in(page, live_url, patient.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}")
    expect(page.locator("main")).not_to_contain_text("Kept among clinicians")
    response = page.goto(note_url)
    assert response is not None and response.status in {403, 404}
    expect(page.locator("main")).not_to_contain_text(re.compile("fictional note"))
    page.context.close()
