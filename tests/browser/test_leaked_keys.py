"""Issue 16 in Chromium: a leaked key's badge says where it was found, on the key's page and
in the console, at 1280 px and on a 390 px phone; the public report page works by keyboard
and has no axe violation."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from apikeys import services
from apikeys.models import ApiKey, Status
from tenants.models import LeakPolicy
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD

SOURCE = "https://github.com/acme/billing-exporter/blob/4f2c9e1/deploy/settings.production.py#L12"
PHONE = {"width": 390, "height": 844}


def _violations(page) -> list:
    result = Axe().run(page)
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result.response["violations"]]


@pytest.fixture
def leaked(new_key, acme, admin):
    acme.settings.leak_policy = LeakPolicy.NOTIFY
    acme.settings.save()
    key = new_key(name="Billing exporter")
    services.api_key_report_leak(token=key, source_url=SOURCE, reporter="GitHub secret scanning")
    return ApiKey.objects.get(pk=new_key.last.pk)


def test_the_leaked_badge_shows_where_the_key_was_found(page, leaked):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto(leaked.get_absolute_url())
    badge = page.locator("h1").get_by_role("button", name="Leaked")
    expect(badge).to_be_visible()
    badge.focus()
    expect(page.locator(f"#leaked-{leaked.key_id}")).to_be_visible()
    expect(page.locator(f"#leaked-{leaked.key_id}")).to_contain_text(SOURCE)
    assert _violations(page) == []
    page.screenshot(path=ARTIFACTS / "leaked-key-page.png", full_page=True)
    page.goto("/t/acme/keys/")
    row = page.get_by_role("row").filter(has_text="Billing exporter")
    expect(row.get_by_role("button", name="Leaked")).to_be_visible()
    page.set_viewport_size(PHONE)
    page.goto(leaked.get_absolute_url())
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / "leaked-key-page-phone.png", full_page=True)


def test_anyone_reports_a_leaked_key_from_the_sign_in_page_by_keyboard(page, new_key, acme):
    key = new_key()
    page.goto("/accounts/sign-in/")
    page.get_by_role("link", name="Report a leaked key").click()
    expect(page.get_by_role("heading", name="Report a leaked key")).to_be_visible()
    assert _violations(page) == []
    page.screenshot(path=ARTIFACTS / "leak-report-page.png", full_page=True)
    page.get_by_label("The leaked key").focus()
    page.keyboard.type(key)
    page.keyboard.press("Tab")
    page.keyboard.type("https://paste.example/x")
    page.keyboard.press("Tab")
    page.keyboard.type("Seen in a public paste.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert key not in page.content()
    assert _violations(page) == []
    page.screenshot(path=ARTIFACTS / "leak-report-received.png", full_page=True)
    assert ApiKey.objects.get(pk=new_key.last.pk).status == Status.REVOKED
    page.set_viewport_size(PHONE)
    page.goto("/report-a-leaked-key/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=ARTIFACTS / "leak-report-page-phone.png", full_page=True)
