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
    """A dosing day: the drug and the dose, the pre-session checklist, three readings
    (pre-dose, about 40 minutes, discharge) and the discharge criteria."""
    page.get_by_label("Racemic ketamine").check()
    page.get_by_label("In clinic").check()
    page.get_by_label("Intramuscular (IM)").check()
    page.get_by_label("Dose", exact=True).fill("35")
    page.get_by_label("Unit").select_option("mg")
    page.get_by_label("Weight used (kg)").fill("70")
    for item in ("Fasting as instructed", "Escort or driver confirmed"):
        page.get_by_role("group", name=item).get_by_label("Yes", exact=True).check()
    for item in ("New medications", "Pregnancy possible", "Changes since the last session"):
        page.get_by_role("group", name=item).get_by_label("No", exact=True).check()
    readings = [
        ("09:50", systolic, "92", "98"),
        ("10:45", "138", "86", "97"),
        ("12:00", "128", "82", "98"),
    ]
    for n, (time, high, low, spo2) in enumerate(readings, start=1):
        row = page.get_by_role("group", name=f"Reading {n}", exact=True)
        row.get_by_label("Time", exact=True).fill(time)
        row.get_by_label("Systolic (upper, mmHg)").fill(high)
        row.get_by_label("Diastolic (lower, mmHg)").fill(low)
        row.get_by_label("SpO2 (%)").fill(spo2)
    page.get_by_label("Nausea", exact=True).check()
    page.get_by_label("Dissociation (clinician's rating, 0 to 10)").select_option("6")
    for item in ("Alert and oriented", "Walking unaided", "Escort present"):
        page.get_by_role("group", name=item).get_by_label("Yes", exact=True).check()
    page.get_by_label("Discharge time").fill("12:05")


# On a phone, with and without the script: the desktop layout is walked by the
# journeys and the layout tests.
@pytest.mark.parametrize(("phone", "javascript"), [(True, True), (True, False)], ids=str)
def test_a_clinician_records_a_session_and_a_screening(
    chromium: Browser, live_url: str, world: World, phone: bool, javascript: bool
) -> None:
    clinician = world.user(Role.CLINICIAN, name="Dr. Browser Record (test)")
    patient = world.user(Role.PATIENT, name="Pat Record (test)")
    course = world.course(patient, clinician)
    world.session(course, clinician, -2, SessionStatus.SCHEDULED)  # the record completes it
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
    expect(page.get_by_text("At discharge, 12:00:")).to_be_visible()
    expect(page.get_by_text("Fasting as instructed: Yes")).to_be_visible()
    expect(page.locator(".page-head .badge.status")).to_have_text("Completed")
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
