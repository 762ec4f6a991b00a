"""Quick capture on a phone, with and without JavaScript; assigned prompts and the
intentions page in a real browser. Accessibility is checked on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from journal.models import Role, SessionStatus
from tests.browser.axe import assert_tap_targets
from tests.browser.conftest import new_page, scripts_enabled
from tests.browser.test_journeys import check, sign_in, visit
from tests.conftest import World, runtime
from tests.helpers import PASSWORD


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_quick_capture_on_a_phone(
    chromium: Browser, live_url: str, world: World, javascript: bool
) -> None:
    clinician = world.user(Role.CLINICIAN)
    patient = world.user(Role.PATIENT)
    course = world.course(patient, clinician)
    world.session(course, clinician, -1 / 24, SessionStatus.COMPLETED)  # an hour ago

    page = new_page(chromium, phone=True, javascript=javascript)
    sign_in(page, live_url, patient.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}")
    page.get_by_role("link", name=re.compile("Quick capture")).click()
    expect(page.get_by_role("heading", name="Right after the session")).to_be_visible()
    check(page)
    if scripts_enabled(page):
        assert_tap_targets(page)

    # Nothing chosen: a clear message, nothing saved.
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Tap at least one feeling or sensation")).to_be_visible()
    check(page)

    for name in ("calm", "tearful", "warm"):
        page.get_by_label(name, exact=True).check()  # a tap on the chip
    page.get_by_label("4", exact=True).check()
    page.get_by_label("One word or phrase").fill("the wave passed")
    page.get_by_label("One image, in words").fill("a lantern on dark water")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", name="the wave passed")).to_be_visible()
    body = page.locator("main").inner_text()
    assert "calm, tearful" in body and "warm" in body and "4 of 5" in body
    assert "a lantern on dark water" in body
    check(page)
    page.context.close()


def test_a_prompt_assigned_answered_and_an_intention_followed(
    chromium: Browser, live_url: str, world: World
) -> None:
    clinician = world.user(Role.CLINICIAN)
    patient = world.user(Role.PATIENT)
    course = world.course(patient, clinician)
    past = world.session(course, clinician, -3, SessionStatus.COMPLETED)
    world.session(course, clinician, 10)
    library = runtime(world.app).clinical.prompts
    prompt = library.get("int-intention-compared")  # due the day after the session

    # The clinician looks at the library and assigns a prompt.
    page = new_page(chromium, phone=False)
    sign_in(page, live_url, clinician.email, PASSWORD)
    visit(page, f"{live_url}/prompts")
    visit(page, f"{live_url}/courses/{course.id}/prompts")
    page.get_by_label("Dosing session").select_option(str(past.id))
    page.get_by_label("Prompt", exact=True).select_option(prompt.id)
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("Prompt assigned.")).to_be_visible()
    check(page)
    page.context.close()

    # The patient had set an intention before the session.
    page = new_page(chromium, phone=True)
    sign_in(page, live_url, patient.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}/entries/new?phase=preparation&session={past.id}")
    page.get_by_label("Title").fill("Before")
    page.get_by_label("Intentions for this session").fill("Meet the fear gently")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Before")).to_be_visible()

    visit(page, f"{live_url}/courses/{course.id}")
    due = page.locator("section.due")
    expect(due).to_contain_text(prompt.text)
    due.get_by_role("link", name=prompt.text).click()
    expect(page.get_by_text("You are answering a prompt")).to_be_visible()
    check(page)
    page.get_by_label("Title").fill("The day after")
    page.get_by_label("Partly", exact=True).check()
    page.get_by_label(re.compile("A few words")).fill("It came closer.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="The day after")).to_be_visible()

    visit(page, f"{live_url}/courses/{course.id}")
    expect(page.locator("section.due")).to_have_count(0)
    visit(page, f"{live_url}/courses/{course.id}/intentions")
    expect(page.locator(".intention-path")).to_contain_text("Partly")
    expect(page.locator(".intention-path")).to_contain_text("It came closer.")
    page.context.close()
