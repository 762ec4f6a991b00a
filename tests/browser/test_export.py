"""The export in a real browser: a clinician downloads the course summary as PDF,
and the export pages pass axe."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from journal.models import Phase, Role, SessionStatus, Visibility
from tests.browser.conftest import new_page
from tests.browser.test_journeys import check, sign_in, visit
from tests.conftest import World
from tests.export_helpers import flat, pdf_text
from tests.helpers import PASSWORD
from tests.scene import write


def test_a_clinician_downloads_the_course_summary_as_pdf(
    chromium: Browser, live_url: str, world: World
) -> None:
    patient = world.user(Role.PATIENT, name="Noor Vale (test)")
    clinician = world.user(Role.CLINICIAN, name="Dr. Iris Holm (test)")
    course = world.course(patient, clinician)
    world.session(course, clinician, -3, SessionStatus.COMPLETED)
    shared = write(world, patient, course, Visibility.CARE_TEAM, label="b", phase=Phase.INTEGRATION)
    private = write(world, patient, course, Visibility.PRIVATE, label="p")

    page = new_page(chromium)
    sign_in(page, live_url, clinician.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}")
    page.get_by_role("link", name="Export").click()
    expect(page.get_by_role("heading", name="Export the course summary")).to_be_visible()
    check(page)
    # The PDF's own options show only while PDF is chosen (the script), then with it.
    options = page.get_by_role("group", name="For a PDF only: paper and protection")
    page.locator("input[name=format][value=html]").check()
    expect(options).to_be_hidden()
    page.get_by_label("PDF, for filing, printing or sending").check()
    expect(options).to_be_visible()
    check(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download").click()
    download = info.value
    assert download.suggested_filename.startswith("course-summary-")
    assert download.suggested_filename.endswith(".pdf")
    text = flat(pdf_text(Path(download.path()).read_bytes()))
    assert all(m in text for m in shared.current.markers)
    assert not any(m in text for m in private.markers)
    page.context.close()

    # The patient's pages: their course export (with the private option) and all their data.
    page = new_page(chromium)
    sign_in(page, live_url, patient.email, PASSWORD)
    visit(page, f"{live_url}/courses/{course.id}/export")
    expect(page.get_by_label("Include my private entries")).to_be_visible()
    page.get_by_role("link", name="My data").click()
    expect(page.get_by_role("heading", name="Download all my data")).to_be_visible()
    check(page)
    page.context.close()
