"""The main journeys, in a real browser, with accessibility checked on every page."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from journal.models import Role
from tests.browser.axe import assert_accessible, assert_fits
from tests.browser.conftest import new_page, scripts_enabled
from tests.conftest import World
from tests.helpers import PASSWORD, mailed_link, second_factor_code

NEW_PASSWORD = "quiet river morning lantern"


def visit(page: Page, url: str) -> None:
    page.goto(url)
    check(page)


def check(page: Page) -> None:
    """axe and the width check run scripts in the page, so they run only where
    JavaScript is on; the runs with JavaScript check the same pages. They wait
    for the page's load event: a layout measured before the stylesheet has
    arrived is not the one people see."""
    if scripts_enabled(page):
        page.wait_for_load_state("load")
        assert_accessible(page)
        assert_fits(page)


def sign_in(page: Page, base: str, email: str, password: str, code: str | None = None) -> None:
    """The password, then (for staff) the code from their app or a recovery code."""
    visit(page, f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()
    if page.url.endswith("/login/verify"):
        check(page)
        page.get_by_label("Code").fill(code or second_factor_code(email))
        page.get_by_role("button", name="Continue").click()


def enrol_second_factor(page: Page) -> str:
    """Set up two-factor sign-in as a clinician would, with an authenticator app."""
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    check(page)
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    check(page)
    secret = page.locator(".secret-key").inner_text().strip()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    check(page)
    page.get_by_role("link", name="I have saved them").click()
    return secret


def next_code(secret: str) -> str:
    """A code the journal has not seen yet (the next 30-second step)."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def first_sign_in(page: Page, base: str, email: str, link: str) -> None:
    """Open the invitation's link, choose a password, sign in with it."""
    visit(page, f"{base}{link}")
    expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    check(page)
    sign_in(page, base, email, NEW_PASSWORD)


def create_account(page: Page, base: str, world: World, name: str, email: str, role: str) -> str:
    """The admin makes the account; returns the link e-mailed to its owner."""
    visit(page, f"{base}/admin/users/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Create and send the invitation").click()
    expect(page.get_by_text("An invitation to choose a password is on its way")).to_be_visible()
    check(page)
    return mailed_link(world.app, email)


# Two of the four pairings: the script on a phone, and forms alone on a desktop. Each
# layout and each path through the forms is walked once; the other two pairings
# doubled the browser suite's time for no page the first two do not show.
@pytest.mark.parametrize(
    ("javascript", "phone"), [(True, True), (False, False)], ids=["js-phone", "no-js-desktop"]
)
def test_a_course_from_set_up_to_integration(
    chromium: Browser, live_url: str, world: World, phone: bool, javascript: bool
) -> None:
    admin = world.user(Role.ADMIN)

    def new() -> Page:
        return new_page(chromium, phone=phone, javascript=javascript)

    page = new()

    # The admin sets up a clinician, a patient and their course.
    sign_in(page, live_url, admin.email, PASSWORD)
    check(page)
    clinician_link = create_account(
        page, live_url, world, "Dr. Ada Fern (test)", "ada@clinic.example", "clinician"
    )
    patient_link = create_account(
        page, live_url, world, "Lee Moss (test)", "lee@clinic.example", "patient"
    )
    visit(page, f"{live_url}/admin/courses/new")
    page.get_by_label("Patient's email").fill("lee@clinic.example")
    page.get_by_label("Care team").fill("ada@clinic.example")
    page.get_by_label("Course starts").fill("2026-01-05")
    page.get_by_role("button", name="Create course").click()
    expect(page.get_by_role("heading", name=re.compile("Care team for Lee Moss"))).to_be_visible()
    check(page)
    page.context.close()

    # The clinician signs in for the first time and schedules two sessions.
    page = new()
    first_sign_in(page, live_url, "ada@clinic.example", clinician_link)
    clinician_secret = enrol_second_factor(page)
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()
    check(page)
    page.get_by_role("link", name="Lee Moss (test)").click()
    check(page)
    course_url = page.url
    for when, status in [("2026-01-10T10:00", "completed"), ("2099-02-01T10:00", "scheduled")]:
        page.get_by_role("link", name="Schedule a session").click()
        check(page)
        page.get_by_label("Date and time").fill(when)
        page.get_by_label("Status").select_option(status)
        page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Session 2")).to_be_visible()
    page.context.close()

    # The patient prepares, captures, and integrates.
    page = new()
    first_sign_in(page, live_url, "lee@clinic.example", patient_link)
    expect(page.get_by_role("heading", name="My journal")).to_be_visible()
    check(page)
    page.get_by_role("link", name=re.compile("Prepare for session")).click()
    check(page)
    page.get_by_label("Title").fill("Hopes for the next session")
    page.get_by_label("Your words").fill("I hope to feel *lighter*.")
    page.get_by_label("Intentions for this session").fill("Be gentle with myself")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Hopes for the next session")).to_be_visible()
    expect(page.get_by_text("Be gentle with myself")).to_be_visible()
    check(page)
    visit(page, f"{course_url}/entries/new?phase=in_session")
    page.get_by_label("Title").fill("Right after")
    page.get_by_label("Your words").fill("Words for Right after.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Right after")).to_be_visible()
    for title in ["A week on"]:
        visit(page, course_url)
        page.get_by_role("link", name="Write an integration reflection").click()
        check(page)
        page.get_by_label("Title").fill(title)
        page.get_by_label("Your words").fill(f"Words for {title}.")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    visit(page, course_url)
    for title in ["Hopes for the next session", "Right after", "A week on"]:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    page.context.close()

    # The clinician sees all three on the timeline.
    page = new()
    sign_in(page, live_url, "ada@clinic.example", NEW_PASSWORD, next_code(clinician_secret))
    visit(page, course_url)
    for title in ["Hopes for the next session", "Right after", "A week on"]:
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    page.get_by_role("heading", name="A week on").click()
    check(page)
    expect(page.get_by_text("Words for A week on.")).to_be_visible()

    # ... reviews it and comments on a passage: selected in the page with
    # JavaScript, typed into the passage field without.
    page.get_by_role("button", name="Mark as reviewed").click()
    expect(page.get_by_text("Read by Dr. Ada Fern (test)")).to_be_visible()
    check(page)
    if javascript:
        select_words(page, "#entry-text p", "A week on")
        page.get_by_role("button", name="Comment on the selected passage").click()
        expect(page.get_by_label("Passage (optional)")).to_have_value("A week on")
        expect(page.get_by_label("Comment", exact=True)).to_be_focused()
    else:
        page.get_by_label("Passage (optional)").fill("A week on")
    page.get_by_label("Comment", exact=True).fill("A whole week: well done.")
    page.get_by_role("button", name="Save comment").click()
    expect(page.locator(".passage")).to_have_text("A week on")
    expect(page.get_by_text("A whole week: well done.")).to_be_visible()
    check(page)
    page.context.close()

    # The patient sees that it was read and what was said, and replies.
    page = new()
    sign_in(page, live_url, "lee@clinic.example", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="New from your care team")).to_be_visible()
    check(page)
    page.get_by_role("link", name="1 new comment on “A week on”").click()
    expect(page.get_by_text("Read by Dr. Ada Fern (test)")).to_be_visible()
    expect(page.get_by_text("A whole week: well done.")).to_be_visible()
    check(page)
    page.locator(".reply-box summary").click()
    page.get_by_label("Your reply").fill("Thank you, it helped.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.locator(".reply .comment-body")).to_have_text("Thank you, it helped.")
    check(page)
    page.context.close()


def select_words(page: Page, selector: str, words: str) -> None:
    """Select words inside an element as a reader would with mouse or finger."""
    page.evaluate(
        """([selector, words]) => {
            const node = document.querySelector(selector).firstChild;
            const start = node.textContent.indexOf(words);
            const range = document.createRange();
            range.setStart(node, start);
            range.setEnd(node, start + words.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }""",
        [selector, words],
    )


def test_keyboard_alone_writes_an_entry(chromium: Browser, live_url: str, world: World) -> None:
    from journal.models import SessionStatus

    patient = world.user(Role.PATIENT)
    clinician = world.user(Role.CLINICIAN)
    course = world.course(patient, clinician)
    world.session(course, clinician, -2, SessionStatus.COMPLETED)
    page = new_page(chromium)
    sign_in(page, live_url, patient.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}/entries/new?phase=integration")
    page.locator("body").focus()
    typed = {"title": "Typed with keys", "body": "No mouse needed."}
    # Tab through the form in order, filling the fields we meet, until Save.
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "document.activeElement.id || document.activeElement.textContent.trim()"
        )
        if focused in typed:
            page.keyboard.type(typed.pop(focused))
        if focused == "Save":
            break
    assert not typed, f"never reached fields {list(typed)}"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Typed with keys")).to_be_visible()
    check(page)
