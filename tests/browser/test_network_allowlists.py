"""Issue 16, item 4 in Chromium: a key's network allowlist edited in its settings dialog
(field error, then saved, then the event's diff), and the tenant default on Settings."""

import io

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from apikeys.models import ApiKey
from tests.browser.conftest import ARTIFACTS, sign_in

DEMO_PASSWORD = "keyward-demo"


@pytest.fixture
def demo(db):
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


def _violations(page) -> list:
    result = Axe().run(page)
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result.response["violations"]]


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_allowlist_is_edited_in_the_keys_settings_dialog(page, demo):
    sign_in(page, "dev@acme.test", DEMO_PASSWORD)
    key = ApiKey.objects.get(name="Main Website Integration")
    page.goto(key.get_absolute_url())
    page.get_by_label("Actions for Main Website Integration").click()
    page.get_by_role("link", name="Edit settings").click()
    dialog = page.get_by_role("dialog", name="Edit settings")
    allowlist = dialog.get_by_label("Network allowlist")
    expect(allowlist).to_have_value("")
    allowlist.fill("203.0.113.0/24\n10.0.0.1/8")
    dialog.get_by_role("button", name="Save").click()
    # Refused: the dialog stays, the field says what it probably meant and has the focus.
    expect(dialog.get_by_text("did you mean 10.0.0.0/8?")).to_be_visible()
    expect(dialog.get_by_label("Network allowlist")).to_be_focused()
    expect(dialog.get_by_label("Network allowlist")).to_have_attribute("aria-invalid", "true")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "allowlist-dialog-error.png")
    assert _violations(page) == []
    dialog.get_by_label("Network allowlist").fill("203.0.113.0/24\n2001:db8::/32")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("added 203.0.113.0/24, 2001:db8::/32")).to_be_visible()
    ranges = page.get_by_role("list", name="Allowed ranges")
    expect(ranges.get_by_role("listitem")).to_have_text(["203.0.113.0/24", "2001:db8::/32"])
    key.refresh_from_db()
    assert key.allowed_networks == ["203.0.113.0/24", "2001:db8::/32"]
    # Opened again, the dialog shows the saved ranges, one a line.
    page.get_by_label("Actions for Main Website Integration").click()
    page.get_by_role("link", name="Edit settings").click()
    expect(dialog.get_by_label("Network allowlist")).to_have_value("203.0.113.0/24\n2001:db8::/32")
    page.screenshot(path=ARTIFACTS / "allowlist-dialog.png")
    assert page.console_watch.errors == []


def test_the_tenant_default_is_set_on_settings_and_fits_a_phone(page, demo):
    sign_in(page, "admin@acme.test", DEMO_PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/t/acme/settings/")
    page.get_by_label("Default network allowlist").fill("198.51.100.0/24")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_label("Default network allowlist")).to_have_value("198.51.100.0/24")
    assert _no_sideways_scroll(page)
    assert _violations(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "allowlist-settings-phone.png", full_page=True)
    assert page.console_watch.errors == []
