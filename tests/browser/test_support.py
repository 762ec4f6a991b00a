""" "I need support" from quick capture on a phone, with and without JavaScript, and the
clinician acknowledging the flag with what was done. Accessibility is checked on
every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from journal.models import Role, SessionStatus
from tests.browser.conftest import new_page
from tests.browser.test_journeys import check, sign_in, visit
from tests.conftest import World
from tests.helpers import PASSWORD


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_i_need_support_then_the_flag_acknowledged(
    chromium: Browser, live_url: str, world: World, javascript: bool
) -> None:
    clinician = world.user(Role.CLINICIAN)
    patient = world.user(Role.PATIENT)
    course = world.course(patient, clinician)
    world.session(course, clinician, -1 / 24, SessionStatus.COMPLETED)

    page = new_page(chromium, phone=True, javascript=javascript)
    sign_in(page, live_url, patient.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}/quick")
    page.get_by_role("button", name="I need support").click()
    expect(page.get_by_role("heading", name="Get help now")).to_be_visible()
    expect(
        page.get_by_text(
            "Your care team has been told that you asked for support, and is sent an e-mail"
        )
    ).to_be_visible()
    check(page)
    page.context.close()

    page = new_page(chromium, phone=False, javascript=javascript)
    sign_in(page, live_url, clinician.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}/questionnaires")
    flag = page.locator("li.flag.open")
    expect(flag.get_by_text("The patient asked for support from quick capture")).to_be_visible()
    flag.get_by_role("radio", name="No action needed").check()
    flag.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_text("Say why no action is needed.")).to_be_visible()
    check(page)
    flag = page.locator("li.flag.open")
    flag.get_by_role("radio", name="Called the patient").check()
    flag.get_by_role("textbox").fill("Spoke for twenty minutes; visit on Thursday")
    flag.get_by_role("button", name="Acknowledge").click()
    expect(
        page.get_by_text("Called the patient: Spoke for twenty minutes; visit on Thursday")
    ).to_be_visible()
    check(page)
    page.context.close()
