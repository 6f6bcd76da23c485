"""The key page's 30-day chart by status class in Chromium, at desktop and phone sizes: drawn
without inline styles (the CSP holds), a legend, a table for screen readers, axe-clean."""

import io
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from apikeys.models import ApiKey
from tests.browser.conftest import ARTIFACTS, sign_in

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def demo(db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_key_page_charts_requests_by_status_class(page, demo, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(page, "dev@acme.test", "keyward-demo")
    key = ApiKey.objects.get(name="Main Website Integration")
    page.goto(key.get_absolute_url())
    card = page.locator("section").filter(
        has=page.get_by_role("heading", name="Requests per day, by status")
    )
    chart = card.get_by_role("img")
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("aria-label", re.compile(r"requests over 30 days"))
    assert card.locator(".chart-column").count() == 30
    # Each class has its colour (from the stylesheet: the CSP allows no inline style).
    fills = card.locator(".chart-column rect:not(.chart-hit)").evaluate_all(
        "rects => rects.map(r => getComputedStyle(r).fill)"
    )
    assert len(set(fills)) == 4, set(fills)
    legend = card.locator(".chart-legend li")
    expect(legend).to_have_count(4)
    for name in (
        "Succeeded (2xx)",
        "Client errors (4xx)",
        "Rate limited (429)",
        "Server errors (5xx)",
    ):
        expect(legend.filter(has_text=name)).to_be_visible()
    # The figures for screen readers: a table, hidden from sight but not from them.
    table = page.get_by_role("table", name="Requests per day by status class, last 30 days")
    expect(table).to_be_attached()
    expect(table.get_by_role("row")).to_have_count(31)
    box = card.bounding_box()
    assert box["width"] <= VIEWPORTS[viewport]["width"]
    page.evaluate("document.fonts.ready")
    ARTIFACTS.mkdir(exist_ok=True)
    card.screenshot(path=ARTIFACTS / f"key-usage-chart-{viewport}.png")
    page.screenshot(path=ARTIFACTS / f"key-page-{viewport}.png", full_page=True)
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in Axe().run(page).response["violations"]
    ]
    assert violations == []
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []
