"""Issue 13's dialogs in Chromium: a refused create shows its first error in view and in focus,
every field error at once and the quota first; a key's settings (its rate limit) can be edited;
replacing the Provider API key asks first; a one-time secret closes only after "I've made a
copy", in the portal and on the system admin site; the tenant settings state one range."""

from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from apikeys.models import ApiKey, ProviderKey, ServiceApiKey
from tenants.models import Event, Membership
from tests.browser.conftest import ARTIFACTS, sign_in, sign_in_to_system
from tests.factories import PASSWORD, UserFactory, api_key

VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png")


def _violations(page) -> list:
    result = Axe().run(page)
    return [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in result.response["violations"]]


def _key(developer, **fields) -> ApiKey:
    fields.setdefault("expires_on", date.today() + timedelta(days=30))
    return api_key(Membership.objects.get(user=developer), **fields)[0]


def _open_create(page):
    page.goto("/t/acme/profile/")
    page.get_by_role("link", name="Create API key").first.click()
    return page.get_by_role("dialog", name="Create API key")


# --- Errors out of view (item 2) ------------------------------------------------------------


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_a_refused_create_shows_every_field_error_and_focuses_the_first(page, developer, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    _key(developer, name="Existing")
    sign_in(page, "dev@acme.test", PASSWORD)
    dialog = _open_create(page)
    expect(dialog.locator("#key-quota")).to_contain_text("1 of 10 keys used")
    dialog.get_by_label("Limit to customers").fill("cus_nope")
    dialog.get_by_label("Expires on").fill("2020-01-01")
    dialog.get_by_label("Customer Read").check()
    dialog.get_by_role("button", name="Create API key").click()

    # One submit: the form's error and the service's (the date, the customers) at once.
    expect(dialog.get_by_text("Choose customers of this tenant")).to_be_visible()
    expect(dialog.get_by_text("The expiry date must be in the future.")).to_be_visible()
    expect(dialog.get_by_text("This field is required.")).to_be_visible()
    # The focus is on the first refused field, in view; an alert names every field.
    name = dialog.get_by_label("Name")
    expect(name).to_be_focused()
    expect(name).to_be_in_viewport()
    expect(dialog.get_by_role("alert").filter(has_text="3 fields to correct")).to_have_count(1)
    _shot(page, f"dialogs-create-errors-{viewport}")
    assert _violations(page) == []

    # Fixing them all at once creates the key.
    name.fill("Second key")
    dialog.get_by_label("Limit to customers").fill("")
    dialog.get_by_label("Expires on").fill((date.today() + timedelta(days=10)).isoformat())
    dialog.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("dialog", name="API key created")).to_be_visible()
    assert ApiKey.objects.count() == 2
    assert page.console_watch.errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_at_the_cap_the_refusal_takes_the_focus_in_view(page, developer, acme, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    acme.settings.max_keys_per_user = 1
    acme.settings.save()
    _key(developer, name="Existing")
    sign_in(page, "dev@acme.test", PASSWORD)
    dialog = _open_create(page)
    # The quota and the cap are said before the form.
    expect(dialog.locator("#key-quota")).to_contain_text("1 of 1 keys used")
    expect(dialog.get_by_role("note")).to_contain_text("maximum of 1 API keys per user")
    _shot(page, f"dialogs-create-quota-{viewport}")
    dialog.get_by_label("Name").fill("One too many")
    dialog.get_by_label("Customer Read").check()
    create = dialog.get_by_role("button", name="Create API key")
    create.scroll_into_view_if_needed()
    create.click()

    alert = dialog.get_by_role("alert").filter(has_text="maximum of 1 API keys per user")
    expect(alert).to_be_focused()
    expect(alert).to_be_in_viewport()
    _shot(page, f"dialogs-create-cap-{viewport}")
    assert ApiKey.objects.count() == 1
    assert page.console_watch.errors == []


# --- Edit settings: the rate limit (item 8) --------------------------------------------------


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_owner_changes_a_keys_rate_limit_from_its_page(page, developer, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    key = _key(developer, name="Main Website Integration", rate_limit=60)
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto(key.get_absolute_url())
    page.get_by_label("Actions for Main Website Integration").click()
    page.get_by_role("link", name="Edit settings").click()
    dialog = page.get_by_role("dialog", name="Edit settings")
    limit = dialog.get_by_label("Rate limit (requests per minute)")
    expect(limit).to_have_value("60")
    expect(dialog).to_contain_text("From 1 to 100,000 requests per minute.")
    _shot(page, f"dialogs-edit-settings-{viewport}")

    # Out of range: refused, the focus on the field, nothing saved. By keyboard: Enter submits.
    limit.fill("0")
    limit.press("Enter")
    expect(dialog.get_by_text("The rate limit is a whole number from 1 to 100,000")).to_be_visible()
    expect(limit).to_be_focused()
    assert _violations(page) == []
    limit.fill("120")
    limit.press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.get_by_text("120 requests per minute")).to_be_visible()
    event_row = page.get_by_role("row").filter(has_text="Key settings changed")
    expect(event_row).to_contain_text("60 → 120")
    key.refresh_from_db()
    assert key.rate_limit == 120
    assert Event.objects.filter(action=Event.Action.KEY_UPDATED).count() == 1
    assert page.console_watch.errors == []


# --- Generate Private Key while one is active (item 5) ---------------------------------------


def _done_with_private_key(page) -> str:
    kid = page.locator("#provider-kid").inner_text()
    page.get_by_label("I've made a copy of the above data").check()
    page.get_by_role("button", name="Done").click()
    return kid


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_replacing_the_provider_key_asks_first_naming_it(page, admin, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/integrations/provider-api/")
    # No active key: nothing to confirm.
    page.get_by_role("button", name="Generate Private Key").click()
    first = _done_with_private_key(page)

    page.get_by_role("link", name="Generate Private Key").click()
    dialog = page.get_by_role("dialog", name="Replace the Provider API key?")
    expect(dialog).to_contain_text(f"Integrations signing with key {first}")
    expect(dialog).to_contain_text("will stop working at once")
    expect(dialog.get_by_role("link", name="Cancel")).to_be_focused()
    _shot(page, f"provider-generate-confirm-{viewport}")
    assert _violations(page) == []
    # Cancel (Enter on the focused Cancel) changes nothing.
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert ProviderKey.objects.get(revoked_at__isnull=True).kid == first

    page.get_by_role("link", name="Generate Private Key").click()
    dialog.get_by_role("button", name="Generate new key").click()
    expect(page.get_by_role("heading", name="Your Provider API private key")).to_be_visible()
    second = _done_with_private_key(page)
    assert second != first
    assert ProviderKey.objects.get(kid=first).revoked_at is not None
    assert page.console_watch.errors == []


# --- The one-time secret needs its acknowledgement (item 7) ----------------------------------


def _secret_dialog(page, developer, how: str):
    if how == "create":
        dialog = _open_create(page)
        dialog.get_by_label("Name").fill("Fresh key")
        dialog.get_by_label("Customer Read").check()
        dialog.get_by_role("button", name="Create API key").click()
        return page.get_by_role("dialog", name="API key created")
    key = _key(developer, name="Old key")
    page.goto(key.get_absolute_url())
    page.get_by_label("Actions for Old key").click()
    page.get_by_role("link", name=how.capitalize()).click()
    submit = {"regenerate": "Regenerate key", "roll": "Roll key"}[how]
    page.get_by_role("dialog").get_by_role("button", name=submit).click()
    return page.get_by_role("dialog", name=f"API key {how}{'d' if how == 'regenerate' else 'ed'}")


@pytest.mark.parametrize("how", ["create", "regenerate", "roll"])
def test_escape_and_the_close_button_keep_the_secret_until_it_is_acknowledged(page, developer, how):
    sign_in(page, "dev@acme.test", PASSWORD)
    shown = _secret_dialog(page, developer, how)
    expect(shown).to_contain_text("It will not be shown again")
    done = shown.get_by_role("button", name="Done")
    expect(done).to_be_disabled()
    # Escape (twice: Chrome lets a second Escape past a cancelled one) and the close button
    # keep it.
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    expect(shown).to_be_visible()
    shown.get_by_role("button", name="Close").click()
    expect(shown).to_be_visible()
    box = shown.get_by_role("checkbox", name="I've made a copy of this API key")
    expect(box).to_be_focused()  # the close button points at what is missing

    # By keyboard: the focus starts on Copy; Tab to the box, Space, Tab to Done, Enter.
    shown.get_by_role("button", name="Copy API key").focus()
    page.keyboard.press("Tab")
    expect(box).to_be_focused()
    page.keyboard.press("Space")
    expect(box).to_be_checked()
    expect(done).to_be_enabled()
    page.keyboard.press("Tab")
    expect(done).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.console_watch.errors == []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_secret_dialog_starts_on_copy_and_escape_closes_it_once_acknowledged(
    page, developer, viewport
):
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(page, "dev@acme.test", PASSWORD)
    shown = _secret_dialog(page, developer, "create")
    expect(shown.get_by_role("button", name="Copy API key")).to_be_focused()
    _shot(page, f"dialogs-secret-{viewport}")
    assert _violations(page) == []
    shown.get_by_label("I've made a copy of this API key").check()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)


def _admin_generates(page, name: str):
    UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    sign_in_to_system(page)
    page.goto("/system/apikeys/serviceapikey/add/")
    page.get_by_label("Service name").fill(name)
    page.get_by_role("button", name="Generate").click()
    return page.get_by_role("dialog", name=f"API key generated for {name}")


BREADCRUMBS_BG = "rgb(38, 75, 93)"  # the admin's --breadcrumbs-bg


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_service_key_secret_is_whole_copyable_and_acknowledged(page, db, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    dialog = _admin_generates(page, "inventory_sync_service")
    secret = dialog.get_by_role("textbox", name="Key secret")
    # The key's underscores are inside the box: its line is as tall as the font needs.
    fits = secret.evaluate(
        "el => { const s = getComputedStyle(el); const line = parseFloat(s.lineHeight);"
        " return line >= 1.3 * parseFloat(s.fontSize) && el.clientHeight >= line; }"
    )
    assert fits
    copy = dialog.get_by_role("button", name="Copy key secret")
    expect(copy).to_have_text("Copy")
    assert copy.bounding_box()["width"] >= 40
    expect(copy).to_be_focused()
    breadcrumbs = page.locator("ol.breadcrumbs")
    expect(breadcrumbs).to_have_css("background-color", BREADCRUMBS_BG)
    _shot(page, f"admin-service-key-secret-{viewport}")
    assert _violations(page) == []

    # Done waits for the acknowledgement; by keyboard: Tab, Space, Tab, Enter.
    done = dialog.get_by_role("button", name="Done")
    expect(done).to_be_disabled()
    page.keyboard.press("Tab")
    box = dialog.get_by_role("checkbox", name="I've made a copy of this key")
    expect(box).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(done).to_be_focused()
    page.keyboard.press("Enter")
    row = page.get_by_role("row").filter(has_text="inventory_sync_service")
    expect(row).to_contain_text("Active")

    row.get_by_label("Actions for inventory_sync_service").click()
    row.get_by_role("link", name="Revoke Key").click()
    expect(page.get_by_role("dialog", name="Revoke Service API Key")).to_be_visible()
    expect(breadcrumbs).to_have_css("background-color", BREADCRUMBS_BG)
    expect(breadcrumbs.get_by_role("link", name="Service API keys")).to_be_visible()
    _shot(page, f"admin-service-key-revoke-{viewport}")
    assert ServiceApiKey.objects.get().revoked_at is None
    assert page.console_watch.csp_violations() == []


# --- Tenant settings: one range per number (item 11) -----------------------------------------


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_the_settings_say_one_range_whatever_the_number(page, admin, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/settings/")
    field = page.get_by_label("Maximum API keys per user")
    expect(field).to_have_attribute("min", "1")
    expect(field).to_have_attribute("max", "1000")
    expect(page.get_by_text("From 1 to 1,000 keys.")).to_be_visible()
    messages = []
    for value in ("-5", "0", "1001"):
        page.get_by_label("Maximum API keys per user").fill(value)
        page.get_by_role("button", name="Save settings").click()
        messages.append(page.locator("#id_max_keys_per_user_error").inner_text())
    assert messages == ["Enter a whole number from 1 to 1,000."] * 3
    _shot(page, f"settings-range-error-{viewport}")
