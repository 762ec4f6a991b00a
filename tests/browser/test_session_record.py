"""The dosing-session record and the screening in a real browser, on a phone and on a
desktop, with and without JavaScript, with accessibility checked on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from journal.models import Role, SessionStatus
from tests.browser.conftest import new_page
from tests.browser.test_journeys import check, sign_in, visit
from tests.conftest import World
from tests.helpers import PASSWORD


def fill_record(page: Page, systolic: str) -> None:
    page.get_by_label("Intramuscular (IM)").check()
    page.get_by_label("Dose", exact=True).fill("35")
    page.get_by_label("Unit").select_option("mg")
    page.get_by_label("Weight used (kg)").fill("70")
    before = page.get_by_role("group", name="Before the dose")
    before.get_by_label("Systolic (upper, mmHg)").fill(systolic)
    before.get_by_label("Diastolic (lower, mmHg)").fill("92")
    page.get_by_label("Nausea").check()
    page.get_by_label("Dissociation (clinician's rating, 0 to 10)").select_option("6")


# On a phone, with and without the script: the desktop layout is walked by the
# journeys and the layout tests.
@pytest.mark.parametrize(("phone", "javascript"), [(True, True), (True, False)], ids=str)
def test_a_clinician_records_a_session_and_a_screening(
    chromium: Browser, live_url: str, world: World, phone: bool, javascript: bool
) -> None:
    clinician = world.user(Role.CLINICIAN, name="Dr. Browser Record (test)")
    patient = world.user(Role.PATIENT, name="Pat Record (test)")
    course = world.course(patient, clinician)
    world.session(course, clinician, -2, SessionStatus.COMPLETED)
    page = new_page(chromium, phone=phone, javascript=javascript)
    sign_in(page, live_url, clinician.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}")

    page.get_by_role("link", name="Record the session").click()
    expect(page.get_by_role("heading", name="Session 1 record")).to_be_visible()
    check(page)
    fill_record(page, "400")
    page.get_by_role("button", name="Save the record").click()
    expect(page.get_by_text("is not possible")).to_be_visible()
    check(page)

    fill_record(page, "150")
    page.get_by_role("button", name="Save the record").click()
    expect(page.locator("#bp-flag-pre")).to_contain_text(
        "Blood pressure 150/92 before the dose (at or above 140/90)"
    )
    expect(page.get_by_text("35 mg (0.50 mg/kg, weight used 70 kg)")).to_be_visible()
    check(page)

    page.get_by_role("link", name="Back to the timeline").click()
    expect(page.locator(".bp-flag")).to_contain_text("150/92")
    check(page)

    page.get_by_role("link", name="Screening").click()
    for item in ("Heart disease", "Pregnancy", "Substance use history"):
        group = page.get_by_role("group", name=item)
        group.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Save the screening").click()
    expect(page.get_by_role("alert")).to_be_visible()  # four items still unanswered
    check(page)
    for group in page.locator("fieldset.screening-item").all():
        answer = "Unknown" if "Pregnancy" in group.inner_text() else "No"
        group.get_by_label(answer, exact=True).check()
    page.get_by_role("button", name="Save the screening").click()
    expect(page.get_by_role("heading", name="Needs clinician review")).to_be_visible()
    check(page)
