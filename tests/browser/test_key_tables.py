"""The key tables in Chromium (issue 13): they fit 1280 px without a sideways scroll and a
390 px phone without a page-level one, their menus are never clipped, each key offers only
the actions that make sense in its state, and a key of a tenant whose keys cannot work says so."""

import contextlib
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from apikeys import services
from apikeys.models import ApiKey, KeyUsageDay, Status, today
from tenants.models import Membership
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD, MembershipFactory, UserFactory, api_key, lift_key_limits

ALL = ["customers:read", "customers:write", "licenses:manage", "usage:read", "telemetry:write"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
LONG_OWNER = "integration.platform.automation.owner@operations.subsidiary-example.test"
MENU_ITEMS = {
    # What the owner (a developer) is offered for a key in each state.
    "Active key": [
        "View details",
        "Edit settings",
        "Disable",
        "Regenerate",
        "Roll",
        "Revoke",
        "Delete",
    ],
    "Disabled key": ["View details", "Edit settings", "Enable", "Regenerate", "Revoke", "Delete"],
    "Expired key": ["View details", "Edit settings", "Renew", "Revoke", "Delete"],
    "Revoked key": ["View details", "Delete"],
}


@pytest.fixture
def tables(acme, admin, developer):
    """Keys of two owners in every state, with long names, a long owner e-mail, many
    permissions and a week of usage: what made the tables overflow."""
    lift_key_limits(acme)
    dev = Membership.objects.get(user=developer)
    other = MembershipFactory(tenant=acme, is_developer=True, user=UserFactory(email=LONG_OWNER))
    made = {}
    for name, scopes in [
        ("Active key", ALL),
        ("Disabled key", ["customers:read", "usage:read", "telemetry:write"]),
        ("Expired key", ["customers:read"]),
        ("Revoked key", ["licenses:manage", "usage:read"]),
    ]:
        made[name] = api_key(dev, name=name, scopes=scopes, expires_on=None)[0]
    for n in range(4):
        made[f"long {n}"] = api_key(
            other,
            name=f"Quarterly reconciliation of partner billing exports, region {n} (EMEA)",
            scopes=ALL[: 3 + n % 3],
            rate_limit=100_000,
            expires_on=today() + timedelta(days=300),
        )[0]
    services.api_key_disable(key=made["Disabled key"], membership=dev)
    services.api_key_revoke(key=made["Revoked key"], membership=dev)
    ApiKey.objects.filter(pk=made["Expired key"].pk).update(expires_on=today() - timedelta(days=2))
    for offset, requests in enumerate([120, 0, 340, 95, 0, 57, 200]):
        KeyUsageDay.objects.create(
            tenant=acme,
            key_id=made["Active key"].key_id,
            day=today() - timedelta(days=offset),
            requests=requests,
        )
    return made


def _overflow(page, container: str) -> dict:
    """The table container's widths, and what of the rows lies outside the viewport."""
    return page.evaluate(
        """container => {
            const box = document.querySelector(container);
            const cells = [...box.querySelectorAll('tbody td, thead th')]
                .filter(cell => cell.getClientRects().length);
            const outside = cells.filter(cell => {
                const r = cell.getBoundingClientRect();
                return r.left < 0 || r.right > window.innerWidth;
            }).map(cell => cell.className || cell.textContent.trim().slice(0, 20));
            return {scroll: box.scrollWidth, client: box.clientWidth, outside,
                    page: document.documentElement.scrollWidth};
        }""",
        container,
    )


UNCLIPPED = """items => items.filter(item => {
    const r = item.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    return hit !== null && (hit === item || item.contains(hit));
}).map(item => item.textContent.trim())"""


def _menu_items_visible(page, menu) -> list[str]:
    """The items of an open menu whose centre is the item itself: nothing covers or clips it.
    (The menu settles on its side, below or above, on its `toggle` event: wait for it.)"""
    items = menu.locator(".menu-list > a")
    expect(items.first).to_be_visible()
    everything = items.all_text_contents()
    handle = menu.element_handle()
    with contextlib.suppress(PlaywrightTimeout):  # the comparison below says what is clipped
        page.wait_for_function(
            f"""menu => {{
                const items = [...menu.querySelectorAll('.menu-list > a')];
                return ({UNCLIPPED})(items).length === items.length;
            }}""",
            arg=handle,
            timeout=2_000,
        )
    visible = items.evaluate_all(UNCLIPPED)
    assert visible == everything, (visible, everything)
    return visible


@pytest.mark.parametrize(
    ("who", "url", "container"),
    [("admin", "/t/acme/keys/", "#key-table"), ("dev", "/t/acme/profile/", "#my-keys")],
    ids=["console", "my-api-keys"],
)
def test_a_key_table_fits_1280_and_its_last_rows_menu_shows_every_item(
    page, tables, who, url, container
):
    sign_in(page, f"{who}@acme.test", PASSWORD)
    page.goto(url)
    fit = _overflow(page, f"{container} .table-fit")
    assert fit["scroll"] <= fit["client"], fit
    assert fit["outside"] == [], fit
    assert fit["page"] <= DESKTOP["width"], fit
    # Every column, the actions too, is on screen.
    for header in ["Name", "Status", "Last used", "Last 7 days"]:
        expect(page.locator(f"{container} thead th").filter(has_text=header)).to_be_in_viewport()
    last = page.locator(f"{container} tbody tr").last
    last.scroll_into_view_if_needed()
    menu = last.locator("details.row-menu")
    menu.locator("summary").click()
    items = menu.locator(".menu-list > a").all_text_contents()
    assert len(items) >= 2, items
    assert _menu_items_visible(page, menu) == items
    page.screenshot(
        path=ARTIFACTS / f"keys-{container[1:]}-last-row-menu-desktop.png", caret="initial"
    )
    # The keyboard opens it too, and Escape-free: Enter on the summary toggles it.
    menu.locator("summary").press("Enter")
    expect(menu.locator(".menu-list")).to_be_hidden()
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(menu.locator(".menu-list")).to_be_visible()
    assert _menu_items_visible(page, menu) == items
    assert page.console_watch.errors == []


@pytest.mark.parametrize(
    ("who", "url", "container"),
    [("admin", "/t/acme/keys/", "#key-table"), ("dev", "/t/acme/profile/", "#my-keys")],
    ids=["console", "my-api-keys"],
)
def test_a_key_table_is_a_list_of_cards_on_a_phone(page, tables, who, url, container):
    page.set_viewport_size(PHONE)
    sign_in(page, f"{who}@acme.test", PASSWORD)
    page.goto(url)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    fit = _overflow(page, f"{container} .table-fit")
    assert fit["outside"] == [], fit
    row = page.locator(f"{container} tbody tr").filter(has_text="Active key")
    expect(row.get_by_role("img", name="812 requests in the last 7 days")).to_be_visible()
    expect(row.locator('td[data-label="Rate limit"]')).to_have_text("60/min")
    page.screenshot(
        path=ARTIFACTS / f"keys-{container[1:]}-phone.png", full_page=True, caret="initial"
    )
    last = page.locator(f"{container} tbody tr").last
    menu = last.locator("details.row-menu")
    menu.locator("summary").click()
    items = menu.locator(".menu-list > a").all_text_contents()
    assert _menu_items_visible(page, menu) == items
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(
        path=ARTIFACTS / f"keys-{container[1:]}-last-row-menu-phone.png", caret="initial"
    )
    assert page.console_watch.errors == []


def test_the_tables_look_right_and_have_no_axe_violation(page, tables):
    found = {}
    for who, url, name in [
        ("admin", "/t/acme/keys/", "console"),
        ("dev", "/t/acme/profile/", "profile"),
    ]:
        page.context.clear_cookies()
        sign_in(page, f"{who}@acme.test", PASSWORD)
        for size, viewport in [("desktop", DESKTOP), ("phone", PHONE)]:
            page.set_viewport_size(viewport)
            page.goto(url)
            page.screenshot(
                path=ARTIFACTS / f"keys-{name}-{size}.png", full_page=True, caret="initial"
            )
            result = Axe().run(page)
            if result.response["violations"]:
                found[(name, size)] = [v["id"] for v in result.response["violations"]]
    assert found == {}


def test_each_key_offers_only_the_actions_of_its_state(page, tables):
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto("/t/acme/profile/")
    for name, expected in MENU_ITEMS.items():
        row = page.locator("#my-keys tbody tr").filter(has_text=name)
        row.get_by_label(f"Actions for {name}").click()
        assert row.locator(".menu-list > a").all_text_contents() == expected, name
        row.get_by_label(f"Actions for {name}").click()
    # The key page offers the same, and an expired key's page leads with Renew.
    key = tables["Expired key"]
    page.goto(key.get_absolute_url())
    expect(page.get_by_role("link", name="Renew key")).to_be_visible()
    page.get_by_label("Actions for Expired key").click()
    links = page.locator(".page-header .menu-list > a").all_text_contents()
    assert links == MENU_ITEMS["Expired key"]
    page.screenshot(
        path=ARTIFACTS / "keys-expired-key-page-desktop.png", full_page=True, caret="initial"
    )
    page.set_viewport_size(PHONE)
    page.screenshot(
        path=ARTIFACTS / "keys-expired-key-page-phone.png", full_page=True, caret="initial"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)
    page.keyboard.press("Escape")
    # The admin (not the owner) may disable an active key but not an expired one.
    page.context.clear_cookies()
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/keys/")
    for name, expected in [
        ("Active key", ["View details", "Disable", "Revoke"]),
        ("Disabled key", ["View details", "Enable", "Revoke"]),
        ("Expired key", ["View details", "Revoke"]),
        ("Revoked key", ["View details"]),
    ]:
        row = page.locator("#key-table tbody tr").filter(has_text=name)
        row.get_by_label(f"Actions for {name}").click()
        assert row.locator(".menu-list > a").all_text_contents() == expected, name
        row.get_by_label(f"Actions for {name}").click()
    assert page.console_watch.errors == []


def test_the_owner_renews_an_expired_key_with_a_new_expiry_date(page, tables, acme):
    acme.settings.max_expiration_days = 30
    acme.settings.save()
    key = tables["Expired key"]
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto(key.get_absolute_url())
    page.get_by_role("link", name="Renew key").click()
    dialog = page.get_by_role("dialog", name="Renew API key")
    expect(dialog).to_contain_text("expired on")
    date_field = dialog.get_by_label("New expiry date")
    expect(date_field).to_be_focused()
    assert date_field.get_attribute("max") == (today() + timedelta(days=30)).isoformat()
    page.screenshot(path=ARTIFACTS / "dialog-renew-desktop.png", caret="initial")
    result = Axe().run(page)
    assert result.response["violations"] == []
    # Past the tenant's maximum: refused, and nothing changes.
    date_field.fill((today() + timedelta(days=31)).isoformat())
    dialog.get_by_role("button", name="Renew key").click()
    expect(dialog.locator(".errorlist")).to_contain_text("at most 30 days")
    key.refresh_from_db()
    assert key.status == Status.EXPIRED
    new_expiry = today() + timedelta(days=20)
    dialog.get_by_label("New expiry date").fill(new_expiry.isoformat())
    dialog.get_by_role("button", name="Renew key").click()
    shown = page.get_by_role("dialog", name="API key renewed")
    expect(shown).to_contain_text(key.key_id)
    key.refresh_from_db()
    assert key.status == Status.ACTIVE and key.expires_on == new_expiry
    assert page.console_watch.errors == []


def test_a_key_of_a_tenant_whose_keys_are_off_says_it_does_not_work(page, tables, acme):
    acme.settings.api_keys_enabled = False
    acme.settings.save()
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/keys/")
    row = page.locator("#key-table tbody tr").filter(has_text="Active key")
    blocked = row.get_by_role("button", name="Not working")
    expect(blocked).to_be_visible()
    # Only what would otherwise work says so.
    expect(page.locator("#key-table tbody tr").filter(has_text="Disabled key")).not_to_contain_text(
        "Not working"
    )
    reason = row.get_by_role("tooltip")
    expect(reason).to_be_hidden()
    blocked.focus()  # the keyboard shows the reason, as hovering does
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("API keys are disabled")
    expect(blocked).to_have_accessible_description(reason.text_content())
    page.screenshot(path=ARTIFACTS / "keys-console-keys-off-desktop.png", caret="initial")
    page.goto(tables["Active key"].get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text("Not working")
    assert page.console_watch.errors == []


def test_the_full_permission_list_shows_on_hover_and_on_keyboard_focus(page, tables):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/keys/")
    row = page.locator("#key-table tbody tr").filter(has_text="Disabled key")
    summary = row.get_by_role("button", name="Customer Read, Telemetry Write +1")
    full = row.get_by_role("tooltip")
    expect(full).to_be_hidden()
    summary.hover()
    expect(full).to_have_text("Customer Read, Telemetry Write, Usage Read")
    page.mouse.move(0, 0)
    expect(full).to_be_hidden()
    summary.focus()
    expect(full).to_be_visible()
    expect(summary).to_have_accessible_description("Customer Read, Telemetry Write, Usage Read")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_an_expired_keys_page_and_dialogs_look_right_and_have_no_axe_violation(page, tables, size):
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    key = tables["Expired key"]
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto(key.get_absolute_url())
    menu = page.locator(".page-header details.row-menu")
    menu.locator("summary").click()
    assert _menu_items_visible(page, menu) == MENU_ITEMS["Expired key"]
    page.screenshot(path=ARTIFACTS / f"keys-expired-key-page-menu-{size}.png", caret="initial")
    menu.locator("summary").click()
    found = {}
    if problems := [v["id"] for v in Axe().run(page).response["violations"]]:
        found["page"] = problems
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    for name, url in [
        ("renew", reverse("apikeys:regenerate", args=["acme", key.key_id])),
        # Reached only by a crafted request: it says why and offers nothing but Close.
        ("roll-refused", reverse("apikeys:roll", args=["acme", key.key_id])),
    ]:
        page.evaluate("url => htmx.ajax('GET', url, {target: '#modal'})", url)
        dialog = page.locator("#modal dialog")
        expect(dialog).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"dialog-{name}-{size}.png", caret="initial")
        if problems := [v["id"] for v in Axe().run(page).response["violations"]]:
            found[name] = problems
        page.keyboard.press("Escape")
        expect(page.get_by_role("dialog")).to_have_count(0)
    assert found == {}
    assert page.console_watch.errors == []


def test_the_keyboard_opens_a_row_menu_and_escape_closes_it_and_a_tip(page, tables):
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto("/t/acme/profile/")
    row = page.locator("#my-keys tbody tr").filter(has_text="Disabled key")
    summary = row.get_by_label("Actions for Disabled key")
    summary.focus()
    page.keyboard.press("Enter")
    expect(row.get_by_role("link", name="View details")).to_be_visible()
    page.keyboard.press("Tab")
    expect(row.get_by_role("link", name="View details")).to_be_focused()
    page.keyboard.press("Escape")
    expect(row.get_by_role("link", name="View details")).to_be_hidden()
    expect(summary).to_be_focused()
    # The permissions tip: shown on focus, hidden by Escape until focus comes back.
    trigger = row.get_by_role("button", name="Customer Read, Telemetry Write +1")
    trigger.focus()
    expect(row.get_by_role("tooltip")).to_be_visible()
    page.keyboard.press("Escape")
    expect(row.get_by_role("tooltip")).to_be_hidden()
    summary.focus()
    trigger.focus()
    expect(row.get_by_role("tooltip")).to_be_visible()
    assert page.console_watch.errors == []


def test_no_window_width_between_phone_and_desktop_scrolls_sideways(page, tables):
    for who, url in [("admin", "/t/acme/keys/"), ("dev", "/t/acme/profile/")]:
        page.context.clear_cookies()
        sign_in(page, f"{who}@acme.test", PASSWORD)
        for width in (320, 768, 1024, 1025, 1100, 1199, 1200, 1440):
            page.set_viewport_size({"width": width, "height": 800})
            page.goto(url)
            widths = page.evaluate(
                """[document.documentElement.scrollWidth,
                    document.querySelector('.table-fit').scrollWidth,
                    document.querySelector('.table-fit').clientWidth]"""
            )
            assert widths[0] <= width and widths[1] <= widths[2], (url, width, widths)
