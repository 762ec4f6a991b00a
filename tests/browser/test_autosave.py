"""Autosave in a real browser: a long reflection survives leaving the page."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from journal.models import Role, SessionStatus
from tests.browser.conftest import new_page
from tests.browser.test_journeys import check, sign_in, visit
from tests.conftest import World
from tests.helpers import PASSWORD


def test_a_draft_is_saved_while_typing_and_comes_back(
    chromium: Browser, live_url: str, world: World
) -> None:
    patient = world.user(Role.PATIENT)
    clinician = world.user(Role.CLINICIAN)
    course = world.course(patient, clinician)
    world.session(course, clinician, -2, SessionStatus.COMPLETED)
    page = new_page(chromium, phone=True)
    sign_in(page, live_url, patient.email, PASSWORD)
    form_url = f"{live_url}/courses/{course.id}/entries/new?phase=integration"
    visit(page, form_url)
    page.get_by_label("Title").fill("A long reflection")
    page.get_by_label("Your words").press_sequentially("The lake was still this morning.")
    expect(page.locator("#autosave-status")).to_contain_text("Draft saved at")
    check(page)

    # Nothing is kept in the browser itself.
    stored = page.evaluate("[localStorage.length, sessionStorage.length]")
    assert stored == [0, 0]

    # The writer leaves and comes back: the words are there, and can be saved.
    visit(page, f"{live_url}/courses/{course.id}")
    visit(page, form_url)
    expect(page.get_by_text("unsaved draft", exact=False)).to_be_visible()
    expect(page.get_by_label("Your words")).to_have_value("The lake was still this morning.")
    expect(page.get_by_label("Title")).to_have_value("A long reflection")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="A long reflection")).to_be_visible()
    visit(page, form_url)
    expect(page.get_by_text("unsaved draft", exact=False)).to_have_count(0)
    expect(page.get_by_label("Your words")).to_have_value("")
    page.context.close()
