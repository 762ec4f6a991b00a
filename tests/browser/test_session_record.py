"""The dosing-session record and the screening in a real browser, on a phone and on a
desktop, with and without JavaScript, with accessibility checked on every page."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from journal.models import Role, SessionStatus
from tests.browser.conftest import new_page
from tests.browser.test_journeys import check, sign_in, visit
from tests.conftest import World
from tests.helpers import PASSWORD


@dataclass
class Effort:
    """What filling a form asks of a person, estimated with the keystroke-level model
    (Card, Moran and Newell, 1980): for each field, a moment to find it (M, 1.35 s),
    pointing at it and pressing (P + B, 1.1 + 0.2 s), and 0.28 s per character typed
    (an average typist); a list to open and choose from is two pointings. It counts
    the actions the walk really performs, so a form that grows longer fails it."""

    fields: int = 0
    pointings: int = 0
    characters: int = 0

    def check(self, target: Locator) -> None:
        target.check()
        self.fields, self.pointings = self.fields + 1, self.pointings + 1

    def fill(self, target: Locator, text: str) -> None:
        target.fill(text)
        self.fields, self.pointings = self.fields + 1, self.pointings + 1
        self.characters += len(text)

    def choose(self, target: Locator, value: str) -> None:
        target.select_option(value)
        self.fields, self.pointings = self.fields + 1, self.pointings + 2

    def click(self, target: Locator) -> None:
        target.click()
        self.fields, self.pointings = self.fields + 1, self.pointings + 1

    @property
    def seconds(self) -> float:
        return self.fields * 1.35 + self.pointings * 1.3 + self.characters * 0.28


def fill_record(page: Page, systolic: str) -> Effort:
    """A dosing day: the drug and the dose, the pre-session checklist, three readings
    (pre-dose, about 40 minutes, discharge) and the discharge criteria; saved."""
    effort = Effort()
    effort.check(page.get_by_label("Racemic ketamine"))
    effort.check(page.get_by_label("In clinic"))
    effort.check(page.get_by_label("Intramuscular (IM)"))
    effort.fill(page.get_by_label("Dose", exact=True), "35")
    effort.choose(page.get_by_label("Unit"), "mg")
    effort.fill(page.get_by_label("Weight used (kg)"), "70")
    for item in ("Fasting as instructed", "Escort or driver confirmed"):
        effort.check(page.get_by_role("group", name=item).get_by_label("Yes", exact=True))
    for item in ("New medications", "Pregnancy possible", "Changes since the last session"):
        effort.check(page.get_by_role("group", name=item).get_by_label("No", exact=True))
    readings = [
        ("09:50", systolic, "92", "98"),
        ("10:45", "138", "86", "97"),
        ("12:00", "128", "82", "98"),
    ]
    for n, (time, high, low, spo2) in enumerate(readings, start=1):
        row = page.get_by_role("group", name=f"Reading {n}", exact=True)
        effort.fill(row.get_by_label("Time", exact=True), time)
        effort.fill(row.get_by_label("Systolic (upper, mmHg)"), high)
        effort.fill(row.get_by_label("Diastolic (lower, mmHg)"), low)
        effort.fill(row.get_by_label("SpO2 (%)"), spo2)
    effort.check(page.get_by_label("Nausea", exact=True))
    effort.choose(page.get_by_label("Dissociation (clinician's rating, 0 to 10)"), "6")
    for item in ("Alert and oriented", "Walking unaided", "Escort present"):
        effort.check(page.get_by_role("group", name=item).get_by_label("Yes", exact=True))
    effort.fill(page.get_by_label("Discharge time"), "12:05")
    effort.click(page.get_by_role("button", name="Save the record"))
    return effort


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
    expect(page.get_by_text("is not possible")).to_be_visible()
    check(page)

    effort = fill_record(page, "150")
    # A full dosing day takes well under two minutes of a person's clicks and typing.
    assert effort.seconds < 120, effort
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
