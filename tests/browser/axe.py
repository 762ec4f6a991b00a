"""axe-core run inside the page, at WCAG 2.2 AA."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_axe = Axe()


# Only the violations come back: the passes' details are most of axe's time and of
# what crosses to Python.
OPTIONS = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}


def violations(page: Page) -> list[dict[str, Any]]:
    if page.evaluate("typeof window.axe") == "undefined":  # once per page load
        page.evaluate(_axe.axe_script)
    found: list[dict[str, Any]] = page.evaluate(
        "options => axe.run(document, options).then(r => r.violations)", OPTIONS
    )
    return found


def describe(found: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']}: {v['help']} -> {[n['target'] for n in v['nodes']][:3]}" for v in found
    )


def assert_accessible(page: Page) -> None:
    # After a click that navigates, wait for the new page's load event: measured
    # before its stylesheet applies, links and buttons have no size yet.
    page.wait_for_load_state("load")
    found = violations(page)
    assert not found, f"{page.url}\n{describe(found)}"


# The header's parts (the clinic's name, "Get help now", the menu) side by side: none
# may run into the next, and no word of the name may stick out of its box.
_HEADER_CLASHES = """() => {
  const parts = [...document.querySelectorAll('.topbar-inner > *')]
    .filter(el => el.getClientRects().length);
  const found = [];
  for (let i = 1; i < parts.length; i++) {
    const a = parts[i - 1].getBoundingClientRect(), b = parts[i].getBoundingClientRect();
    if (a.top < b.bottom && b.top < a.bottom && a.right > b.left + 0.5) {
      found.push(parts[i - 1].className + ' runs into ' + parts[i].className);
    }
  }
  const brand = document.querySelector('.brand');
  if (brand && brand.scrollWidth > brand.clientWidth + 0.5) found.push('the name sticks out');
  return found;
}"""


def assert_fits(page: Page) -> None:
    """No horizontal scrolling at the page's width, and a header whose parts do not
    run into each other."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
    clashes = page.evaluate(_HEADER_CLASHES)
    assert clashes == [], f"{page.url} header: {clashes}"


TAP_MIN = 44  # CSS pixels, as the phone layout promises

_SMALL_TARGETS = """(min) => {
  const found = [];
  const selector = 'a, button, input:not([type=hidden]), select, textarea, summary';
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    if (box.right <= 0 || box.bottom <= 0) continue;  // off-screen until focused (skip link)
    // Links inside running text are exempt, as WCAG's "inline" exception says.
    if (el.tagName === 'A' && style.display === 'inline') continue;
    // A checkbox or radio button is pressed through the label around it.
    const label = el.closest('label');
    const target = (el.type === 'checkbox' || el.type === 'radio') && label
      ? label.getBoundingClientRect() : box;
    if (target.height < min - 0.5 || target.width < min - 0.5) {
      const text = (el.textContent || el.getAttribute('aria-label') || el.name || '').trim();
      found.push(`${el.tagName.toLowerCase()} "${text.slice(0, 40)}" ` +
        `${Math.round(target.width)}x${Math.round(target.height)}`);
    }
  }
  return found;
}"""


def small_targets(page: Page) -> list[str]:
    """Controls smaller than TAP_MIN in either direction (inline text links exempt)."""
    found: list[str] = page.evaluate(_SMALL_TARGETS, TAP_MIN)
    return found


def assert_tap_targets(page: Page) -> None:
    found = small_targets(page)
    assert not found, f"{page.url}: controls under {TAP_MIN}px: {found}"
