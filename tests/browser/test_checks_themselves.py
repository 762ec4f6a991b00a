"""The browser checks can fail: a broken page makes them complain."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.axe import assert_accessible, assert_fits, violations
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
