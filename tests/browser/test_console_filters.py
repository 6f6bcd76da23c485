"""The key console's filters, sort and "Revoke selected" in Chromium: every filter applies the
same way (with JavaScript and without), the URL is the one truth of the sort, and the bulk
revoke names its count."""

import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from apikeys.models import ApiKey, today
from tenants.models import Membership
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory, api_key, lift_key_limits

CONSOLE = "/t/acme/keys/"
NAMES = [
    "Main Website Integration",
    "Staging sync",
    "Legacy import",
    "Telemetry collector",
    "Billing export",
]


@pytest.fixture
def keys(admin, developer, acme):
    ops = MembershipFactory(tenant=acme, is_developer=True, user=UserFactory(email="ops@acme.test"))
    lift_key_limits(acme)
    dev = Membership.objects.get(user=developer)
    made = {
        "website": api_key(dev, name="Main Website Integration", scopes=["customers:read"])[0],
        "staging": api_key(
            dev,
            name="Staging sync",
            environment="staging",
            scopes=["usage:read"],
            expires_on=today() + timedelta(days=3),
        )[0],
        "legacy": api_key(dev, name="Legacy import", scopes=["customers:write"])[0],
        "telemetry": api_key(
            ops, name="Telemetry collector", environment="development", scopes=["telemetry:write"]
        )[0],
        "billing": api_key(ops, name="Billing export", scopes=["licenses:manage"])[0],
    }
    ApiKey.objects.filter(pk=made["legacy"].pk).update(expires_on=today() - timedelta(days=1))
    ApiKey.objects.filter(pk=made["billing"].pk).update(revoked_at=made["billing"].created_at)
    return made


def _shown(page, *expected: str) -> None:
    table = page.locator("#key-table")
    for name in NAMES:
        if name in expected:
            expect(table.get_by_role("link", name=name, exact=True)).to_have_count(1)
        else:
            expect(table.get_by_role("link", name=name, exact=True)).to_have_count(0)


def _console(page) -> None:
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto(CONSOLE)
    _shown(page, *NAMES)


def test_the_owner_filter_applies_on_enter(page, keys):
    _console(page)
    page.get_by_label("Owner").fill("ops@acme.test")
    page.get_by_label("Owner").press("Enter")
    _shown(page, "Telemetry collector", "Billing export")
    page.wait_for_url("**/keys/?owner=ops%40acme.test")


def test_the_owner_filter_applies_on_tab(page, keys):
    _console(page)
    page.get_by_label("Owner").fill("dev@acme")  # a part of the address is enough
    page.get_by_label("Owner").press("Tab")
    _shown(page, "Main Website Integration", "Staging sync", "Legacy import")
    assert "owner=dev%40acme" in page.url


@pytest.mark.parametrize(
    ("label", "value", "expected"),
    [
        ("Status", "revoked", ["Billing export"]),
        ("Environment", "staging", ["Staging sync"]),
        ("Expiration", "expired", ["Legacy import"]),
        ("Permission", "telemetry:write", ["Telemetry collector"]),
    ],
)
def test_each_select_filter_applies_at_once(page, keys, label, value, expected):
    _console(page)
    page.get_by_label(label, exact=True).select_option(value)
    _shown(page, *expected)
    assert f"{label.lower()}=" in page.url


def test_the_search_applies_while_typing_and_the_apply_button_too(page, keys):
    _console(page)
    page.get_by_label("Search", exact=True).fill("sync")
    _shown(page, "Staging sync")
    page.get_by_label("Search", exact=True).fill("")
    page.get_by_label("Owner").fill("ops@acme.test")
    page.get_by_role("button", name="Apply").click()
    _shown(page, "Telemetry collector", "Billing export")


def test_every_filter_works_without_javascript(chromium, live_server, keys):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        _console(page)
        page.get_by_label("Owner").fill("ops@acme.test")
        page.get_by_label("Owner").press("Enter")  # an implicit submission needs a submit button
        page.wait_for_url("**owner=ops%40acme.test**")
        _shown(page, "Telemetry collector", "Billing export")
        page.get_by_label("Status", exact=True).select_option("active")
        page.get_by_label("Search", exact=True).fill("billing")
        page.get_by_role("button", name="Apply").click()
        page.wait_for_url("**status=active**")
        _shown(page)  # ops' billing key is revoked: nothing is left
        expect(page.get_by_text("No API keys match these filters")).to_be_visible()
        page.get_by_label("Search", exact=True).fill("")
        page.get_by_label("Search", exact=True).press("Enter")
        page.wait_for_url("**q=&**")
        _shown(page, "Telemetry collector")
        page.goto(CONSOLE + "?environment=staging&sort=name")
        _shown(page, "Staging sync")
        # Without JavaScript "Revoke selected" posts what is ticked.
        expect(page.get_by_role("button", name="Revoke selected")).to_be_enabled()
    finally:
        context.close()


def _header(page, column: str):
    return page.locator("#key-table th a").filter(has_text=re.compile(rf"^\s*{column}\b"))


def _aria_sort(page, column: str) -> str | None:
    header = page.locator("#key-table th").filter(has_text=re.compile(rf"^\s*{column}\s*$"))
    return header.get_attribute("aria-sort")


def test_a_header_sort_shows_in_the_sort_menu_and_survives_a_filter(page, keys):
    _console(page)
    # With no sort the list is newest first, and the Created header says so.
    assert _aria_sort(page, "Created") == "descending"
    _header(page, "Name").click()
    expect(page.locator("#key-table th[aria-sort=ascending]")).to_contain_text("Name")
    expect(page.locator("#id_sort")).to_have_value("name")
    assert "sort=name" in page.url
    _header(page, "Name").click()
    expect(page.locator("#key-table th[aria-sort=descending]")).to_contain_text("Name")
    expect(page.locator("#id_sort")).to_have_value("-name")
    # Changing a filter keeps the header's sort.
    page.get_by_label("Environment").select_option("production")
    _shown(page, "Main Website Integration", "Legacy import", "Billing export")
    assert "sort=-name" in page.url and "environment=production" in page.url
    expect(page.locator("#key-table th[aria-sort=descending]")).to_contain_text("Name")
    expect(page.locator("#id_sort")).to_have_value("-name")
    shown = [t for t in page.locator("#key-table a").all_inner_texts() if t in NAMES]
    assert shown == ["Main Website Integration", "Legacy import", "Billing export"]


def test_the_sort_menu_moves_the_headers_aria_sort(page, keys):
    _console(page)
    page.locator("#id_sort").select_option("-last_used")
    expect(page.locator("#key-table th[aria-sort=descending]")).to_contain_text("Last used")
    assert _aria_sort(page, "Created") is None
    page.locator("#id_sort").select_option("expires")
    expect(page.locator("#key-table th[aria-sort=ascending]")).to_contain_text("Expires")
    assert "sort=expires" in page.url


def test_the_pushed_url_reloads_and_back_and_forward_restore_the_sort(page, keys):
    _console(page)
    page.get_by_label("Status", exact=True).select_option("active")
    page.wait_for_url("**status=active")
    _header(page, "Name").click()
    page.wait_for_url("**sort=name")
    page.get_by_label("Search", exact=True).fill("sync")
    page.wait_for_url("**q=sync**")
    _shown(page, "Staging sync")
    url = page.url
    assert "status=active" in url and "sort=name" in url

    page.reload()
    expect(page.locator("#id_sort")).to_have_value("name")
    expect(page.get_by_label("Search", exact=True)).to_have_value("sync")
    expect(page.get_by_label("Status", exact=True)).to_have_value("active")
    expect(page.locator("#key-table th[aria-sort=ascending]")).to_contain_text("Name")

    page.go_back()  # to status=active&sort=name, before the search
    page.wait_for_url(lambda u: "q=sync" not in u and "sort=name" in u)
    _shown(page, "Main Website Integration", "Staging sync", "Telemetry collector")
    expect(page.get_by_label("Search", exact=True)).to_have_value("")
    expect(page.locator("#id_sort")).to_have_value("name")
    page.go_back()  # to status=active, newest first
    page.wait_for_url(lambda u: "sort=" not in u and "status=active" in u)
    expect(page.locator("#id_sort")).to_have_value("")
    expect(page.locator("#key-table th[aria-sort=descending]")).to_contain_text("Created")
    page.go_forward()
    page.wait_for_url(lambda u: "sort=name" in u and "q=" not in u)
    expect(page.locator("#id_sort")).to_have_value("name")
    expect(page.locator("#key-table th[aria-sort=ascending]")).to_contain_text("Name")


def test_revoke_selected_counts_the_ticked_keys_by_keyboard_too(page, keys):
    _console(page)
    bulk = page.locator("[data-bulk-button]")
    expect(bulk).to_have_text("Revoke 0 selected")
    expect(bulk).to_be_disabled()
    expect(page.locator("#bulk-hint")).to_contain_text("tick the check boxes")
    # The keyboard: Space ticks a box; the count follows.
    page.get_by_label("Select Staging sync").focus()
    page.keyboard.press("Space")
    expect(bulk).to_have_text("Revoke 1 selected")
    page.get_by_label("Select Main Website Integration").focus()
    page.keyboard.press("Space")
    expect(bulk).to_have_text("Revoke 2 selected")
    expect(bulk).to_be_enabled()
    select_all = page.get_by_label("Select every key on this page")
    expect(select_all).to_have_js_property("indeterminate", True)
    select_all.focus()
    page.keyboard.press("Space")
    expect(bulk).to_have_text("Revoke 4 selected")  # the revoked key cannot be ticked
    page.keyboard.press("Space")
    expect(bulk).to_have_text("Revoke 0 selected")
    page.get_by_label("Select Staging sync").check()
    page.get_by_label("Select Legacy import").check()
    bulk.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Revoke API keys")
    expect(dialog).to_contain_text("revoke 2 API keys")
    expect(dialog.get_by_role("button", name="Revoke 2 keys")).to_be_visible()
    assert Axe().run(page).response["violations"] == []
    for viewport, suffix in (((1280, 800), "desktop"), ((390, 844), "phone")):
        page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
        page.screenshot(path=ARTIFACTS / f"console-bulk-revoke-{suffix}.png")
    page.set_viewport_size({"width": 1280, "height": 800})
    dialog.get_by_role("button", name="Revoke 2 keys").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("2 API keys revoked.")
    expect(bulk).to_have_text("Revoke 0 selected")
    assert ApiKey.objects.filter(revoked_at__isnull=False).count() == 3


def test_revoke_selected_hides_when_no_key_can_be_revoked(page, keys):
    _console(page)
    expect(page.locator("#bulk-form")).to_be_visible()
    page.get_by_label("Status", exact=True).select_option("revoked")
    _shown(page, "Billing export")
    expect(page.locator("#bulk-form")).to_be_hidden()
    page.get_by_label("Status", exact=True).select_option("")
    _shown(page, *NAMES)
    expect(page.locator("#bulk-form")).to_be_visible()
    page.goto(CONSOLE + "?q=nothing-like-this")
    expect(page.get_by_text("No API keys match these filters")).to_be_visible()
    expect(page.locator("#bulk-form")).to_be_hidden()


@pytest.mark.parametrize(
    ("width", "height", "suffix"), [(1280, 800, "desktop"), (390, 844, "phone")]
)
def test_the_console_looks_right(page, keys, width, height, suffix):
    page.set_viewport_size({"width": width, "height": height})
    _console(page)
    page.get_by_label("Select Staging sync").check()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"console-filters-{suffix}.png", full_page=True)
    page.goto(CONSOLE + "?q=nothing-like-this")
    page.screenshot(path=ARTIFACTS / f"console-empty-{suffix}.png", full_page=True)


TOAST = (
    '<div class="toast toast-{kind}" role="status"><span>{text}</span>'
    '<button type="button" class="toast-close" data-dismiss aria-label="Dismiss">x</button></div>'
)


def _revoke_one(page, name: str) -> None:
    page.get_by_label(f"Select {name}").check()
    page.locator("[data-bulk-button]").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke 1 key").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_label(f"Select {name}")).to_be_disabled()  # the table refetched


def test_toasts_are_capped_timed_and_dismissed_by_keyboard(page, keys):
    page.clock.install()
    _console(page)
    region = page.locator("#toasts")
    assert region.get_attribute("aria-live") == "polite"
    _revoke_one(page, "Staging sync")
    expect(region.locator(".toast")).to_have_count(1)
    # Three more arrive at once (only success toasts come from today's flows; an error toast
    # is added as the server would render it): only the newest three stay.
    toasts = [("success", "First"), ("success", "Second"), ("error", "It failed.")]
    html = "".join(TOAST.format(kind=kind, text=text) for kind, text in toasts)
    page.evaluate(f"document.getElementById('toasts').insertAdjacentHTML('beforeend', '{html}')")
    expect(region.locator(".toast")).to_have_count(3)
    expect(region).not_to_contain_text("1 API key revoked.")
    # A real one after them pushes the oldest out, and shows last.
    _revoke_one(page, "Legacy import")
    expect(region.locator(".toast")).to_have_count(3)
    expect(region.locator(".toast").first).to_contain_text("Second")
    expect(region.locator(".toast").last).to_contain_text("1 API key revoked.")
    # The keyboard reaches a toast's close button; Enter closes it and the focus moves on.
    region.locator(".toast").first.get_by_role("button", name="Dismiss").focus()
    page.keyboard.press("Enter")
    expect(region.locator(".toast")).to_have_count(2)
    expect(region.locator(".toast-error .toast-close")).to_be_focused()
    # A success toast goes after a few seconds, but not while it has the focus; errors stay.
    region.locator(".toast-success .toast-close").focus()
    page.clock.run_for(7000)
    expect(region.locator(".toast")).to_have_count(2)
    page.locator("#main").focus()
    page.clock.run_for(2000)
    expect(region.locator(".toast-success")).to_have_count(0)
    expect(region.locator(".toast-error")).to_have_count(1)
    for width, height, suffix in ((1280, 800, "desktop"), (390, 844, "phone")):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=ARTIFACTS / f"toasts-error-{suffix}.png")
    region.get_by_role("button", name="Dismiss").click()
    expect(region.locator(".toast")).to_have_count(0)
