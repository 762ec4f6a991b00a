"""The admin's accounts table and audit trail in a real browser, at 1280 px and 360 px:
no word broken inside (names, roles, states, e-mail addresses), nothing scrolling
sideways, the accounts' action buttons in line from row to row, and zero axe
violations."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from journal.models import Role
from tests.browser.axe import assert_accessible, assert_fits, assert_tap_targets
from tests.browser.conftest import DESKTOP, PHONE, new_page
from tests.conftest import World
from tests.helpers import PASSWORD, second_factor_code

# Every word of the text inside `selector` sits on one line; a line may end after a
# hyphen (text read by a screen reader only, in a one-pixel box, is left out).
_BROKEN_WORDS = """(selector) => {
  const broken = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest('.visually-hidden')) continue;
      if (parent.getBoundingClientRect().width <= 2) continue;
      const words = /[^\\s-]+-?/g;
      for (let m = words.exec(node.textContent); m; m = words.exec(node.textContent)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()]
          .filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""

_TABLE_SCROLLS = """() => [...document.querySelectorAll('.table-wrap')]
  .map((w) => w.scrollWidth - w.clientWidth).filter((d) => d > 0)"""


def _sign_in(page: Page, base: str, email: str) -> None:
    """Password, then a recovery code (the sign-in pages are checked elsewhere)."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    page.get_by_label("Code").fill(second_factor_code(email))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{base}/admin/users")  # an admin's home


def _whole_words(page: Page) -> None:
    page.wait_for_load_state("load")
    broken = page.evaluate(_BROKEN_WORDS, "main table")
    assert not broken, f"{page.url}: words broken inside: {broken[:10]}"
    assert not page.evaluate(_TABLE_SCROLLS), f"{page.url}: a table scrolls sideways"
    assert_accessible(page)
    assert_fits(page)


def _columns(page: Page, slot: str) -> set[float]:
    """The left edges of the accounts table's controls in one slot, row after row."""
    found = set()
    for button in page.locator(f"table.accounts .{slot} .button").all():
        box = button.bounding_box()
        assert box is not None
        found.add(round(box["x"]))
    return found


def test_accounts_and_audit_trail_read_whole_words_on_a_desk_and_a_phone(
    chromium: Browser, live_url: str, world: World
) -> None:
    admin = world.user(Role.ADMIN, name="Admin Rangi Te Whare (test)")
    clinicians = [
        world.user(
            Role.CLINICIAN,
            name="Dr Anahera Whitcombe-Latimer (test)",
            email="anahera.whitcombe-latimer@clinic.example",
        ),
        world.user(Role.CLINICIAN, name="Dr Li Wen (test)", email="li@clinic.example"),
    ]
    patients = [
        world.user(
            Role.PATIENT,
            name="Bartholomew Okonkwo-Henderson (test)",
            email="bartholomew.okonkwo-henderson@clinic.example",
        ),
        world.user(Role.PATIENT, name="Ira Moss (test)", email="ira.moss@clinic.example"),
    ]
    for patient in patients:
        world.course(patient, *clinicians)

    page = new_page(chromium)
    _sign_in(page, live_url, admin.email)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.goto(f"{live_url}/admin/users")
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
        _whole_words(page)
        if size == PHONE:
            assert_tap_targets(page)
        else:
            # Each action keeps its place: one left edge per kind of button.
            for slot, rows in (("slot-access", 4), ("slot-link", 4), ("slot-erase", 2)):
                assert page.locator(f"table.accounts .{slot} .button").count() == rows
                assert len(_columns(page, slot)) == 1, slot

        page.goto(f"{live_url}/admin/audit")
        expect(page.get_by_role("heading", name="Audit trail")).to_be_visible()
        expect(page.locator("main")).to_contain_text(
            "Set up the course of Bartholomew Okonkwo-Henderson (test)"
        )
        _whole_words(page)
        if size == PHONE:
            assert_tap_targets(page)
    # The filters, from the form: the same page, fewer rows.
    page.get_by_label("Action").select_option(label="Set up a course")
    page.get_by_label("Patient").select_option(label="Ira Moss (test)")
    page.get_by_role("button", name="Show events").click()
    expect(page.locator("main tbody tr")).to_have_count(1)
    assert not page.evaluate(_BROKEN_WORDS, "main table")
    page.context.close()
