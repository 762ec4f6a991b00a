"""The calm interface holds up: phone tap targets, reflow when zoomed, the dark theme.

The main pages of the demo clinic are opened once each and checked:
- at 360 px (a phone): every control is at least 44 px in both directions;
- at 640 px (a 1280 px screen zoomed to 200 %) and 320 px (400 %): nothing
  scrolls sideways (WCAG 1.4.10 reflow);
- at 1280 px in the dark theme the system asks for: axe's checks, colour
  contrast included, find nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from playwright.sync_api import Browser, Page, expect

from tests.browser.axe import assert_accessible, assert_fits, assert_tap_targets
from tests.browser.test_screenshots import _enrol, _sign_in, search_for
from tests.conftest import create_demo

PAGES: dict[str, Callable[[Page, str], None]] = {
    "timeline": lambda p, base: None,
    "entry": lambda p, base: p.get_by_role("heading", name="Two days later").click(),
    "write": lambda p, base: p.locator(".write-now .button").click(),
    "integration": lambda p, base: p.get_by_role("link", name="integration", exact=True).click(),
    "delete": lambda p, base: _ask_to_delete(p),
    "themes": lambda p, base: p.get_by_role("link", name="Themes", exact=True).click(),
    "search": lambda p, base: search_for(p, base, "door"),
    "access log": lambda p, base: p.goto(f"{base}/account/access-log"),
    "questionnaires": lambda p, base: p.get_by_role("link", name="Questionnaires").click(),
    "answer": lambda p, base: p.locator(".due a").first.click(),
}
STAFF_PAGES: dict[str, Callable[[Page, str], None]] = {
    "caseload": lambda p, base: p.goto(f"{base}/"),
    "search": lambda p, base: search_for(p, base, "door"),
}


def _ask_to_delete(page: Page) -> None:
    page.get_by_role("heading", name="Two days later").click()
    page.get_by_role("link", name="Delete").click()


def settled(page: Page, check: Callable[[Page], None]) -> None:
    """Check the page once it and its stylesheet have loaded."""
    page.wait_for_load_state("load")
    check(page)


def _visit_all(
    chromium: Browser,
    base: str,
    password: str,
    check: Callable[[Page], None],
    **context: object,
) -> None:
    page = chromium.new_context(**context).new_page()  # type: ignore[arg-type]
    _sign_in(page, base, "jordan@demo.example", password)
    home = page.url
    for name, go in PAGES.items():
        page.goto(home)
        go(page, base)
        try:
            settled(page, check)
        except AssertionError as exc:
            raise AssertionError(f"patient page {name!r}: {exc}") from None
    page.context.close()
    page = chromium.new_context(**context).new_page()  # type: ignore[arg-type]
    _sign_in(page, base, "rivera@demo.example", password)
    _enrol(page)
    page.get_by_role("link", name="Jordan Lake (demo)").click()
    expect(page.get_by_role("heading", name="Jordan Lake (demo)")).to_be_visible()
    settled(page, check)
    timeline = page.url
    page.get_by_role("heading", name="Two days later").click()
    expect(page.get_by_role("heading", name="Comments")).to_be_visible()
    settled(page, check)
    page.goto(f"{timeline}/notes")
    settled(page, check)
    page.goto(f"{timeline}/questionnaires")
    settled(page, check)
    page.goto(f"{timeline}/screening")
    settled(page, check)
    page.goto(timeline)
    page.get_by_role("heading", name=re.compile("^A walk by the canal")).click()
    expect(page.get_by_role("button", name="Link to this session")).to_be_visible()
    settled(page, check)
    page.goto(timeline)
    page.get_by_role("link", name="Session record").first.click()
    expect(page.get_by_text("Recorded by")).to_be_visible()
    settled(page, check)
    for go in STAFF_PAGES.values():
        go(page, base)
        settled(page, check)
    page.context.close()


SMALLEST_CHART_TEXT = """() => {
  const shown = [...document.querySelectorAll('svg.trend-chart')];
  const svg = shown.find(s => s.getClientRects().length);
  if (!svg) return null;
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const size = t => parseFloat(getComputedStyle(t).fontSize) * scale;
  const sizes = [...svg.querySelectorAll('text')].map(size);
  return {drawing: svg.getAttribute('class'), px: Math.min(...sizes)};
}"""
BROKEN_CELLS = """() => [...document.querySelectorAll('.scores-table td')].filter(td => {
  const range = document.createRange();
  range.selectNodeContents(td);
  const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
  return td.textContent.trim().split(/\\s+/).length === 1 && lines.size > 1;
}).map(td => td.textContent.trim())"""


def readable_chart(page: Page, drawing: str) -> list[str]:
    """On a page with a trend chart: the drawing shown is the one for this width, its
    smallest text is 12 px or more, its dates read "19 Nov 2026", and no single word
    in the scores table breaks over two lines ("Moderat/e"). Returns the page checked."""
    found = page.evaluate(SMALLEST_CHART_TEXT)
    if found is None:
        return []
    assert f"trend-chart-{drawing}" in found["drawing"], (page.url, found)
    assert found["px"] >= 12, (page.url, found)
    assert page.evaluate(BROKEN_CELLS) == [], page.url
    dates = page.locator(f"svg.trend-chart-{drawing} .chart-tick-x").all_text_contents()
    assert dates and all(re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", d) for d in dates), dates
    return [page.url]


def test_every_page_at_every_width_and_in_the_dark(
    chromium: Browser, live_url: str, app: Flask
) -> None:
    """One walk, each page checked at four sizes: 360 px (tap targets; the phone chart
    drawing's text 12 px or more), 320 and 640 px (reflow), 1280 px in the dark theme
    (axe; the wide chart drawing's text 12 px or more)."""
    password = create_demo(app)
    narrow: list[str] = []
    wide: list[str] = []

    def at(page: Page, width: int, height: int = 800) -> Page:
        page.set_viewport_size({"width": width, "height": height})
        return page

    def check(page: Page) -> None:
        for width, what in ((360, "tap targets"), (320, "reflow"), (640, "reflow"), (1280, "axe")):
            try:
                if width == 360:
                    assert_tap_targets(at(page, 360, 780))
                    narrow.extend(readable_chart(page, "narrow"))
                elif width == 1280:
                    page.emulate_media(color_scheme="dark")
                    assert_accessible(at(page, 1280, 900))
                    wide.extend(readable_chart(page, "wide"))
                    page.emulate_media(color_scheme="light")
                else:
                    assert_fits(at(page, width))
            except AssertionError as exc:
                raise AssertionError(f"at {width} px ({what}): {exc}") from None

    _visit_all(chromium, live_url, password, check, viewport={"width": 360, "height": 780})
    # The patient's and the clinician's questionnaire pages, in both drawings.
    assert len(narrow) >= 2 and len(wide) >= 2, (narrow, wide)
