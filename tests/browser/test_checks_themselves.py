"""The browser checks can fail: a broken page makes them complain."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.axe import (
    assert_accessible,
    assert_fits,
    assert_tap_targets,
    small_targets,
    violations,
)
from tests.browser.conftest import new_page

BROKEN_FORM = "<!doctype html><html lang='en'><title>t</title><main><input type='text'></main>"
WIDE_PAGE = (
    "<!doctype html><html lang='en'><title>t</title>"
    "<main><div style='width:900px'>too wide</div></main>"
)


def test_axe_reports_a_field_without_a_label(chromium: Browser) -> None:
    page = new_page(chromium)
    page.set_content(BROKEN_FORM)
    assert "label" in {v["id"] for v in violations(page)}
    with pytest.raises(AssertionError):
        assert_accessible(page)
    page.context.close()


def test_width_check_reports_sideways_scrolling(chromium: Browser) -> None:
    page = new_page(chromium, phone=True)
    page.set_content(WIDE_PAGE)
    with pytest.raises(AssertionError):
        assert_fits(page)
    page.context.close()


SMALL_BUTTON = (
    "<!doctype html><html lang='en'><title>t</title><main>"
    "<p>Words with <a href='#'>an inline link</a> in them.</p>"
    "<button style='height:20px;padding:0;font-size:10px'>tiny</button>"
    "<a href='#' style='display:inline-block;min-height:44px;min-width:60px'>big enough</a>"
    "</main>"
)


def test_tap_target_check_reports_a_small_button(chromium: Browser) -> None:
    page = new_page(chromium, phone=True)
    page.set_content(SMALL_BUTTON)
    found = small_targets(page)
    assert len(found) == 1 and found[0].startswith('button "tiny"'), found
    with pytest.raises(AssertionError):
        assert_tap_targets(page)
    page.context.close()
