"""Step-up inline in the Create API key dialog (with the password, or with a passkey through
Chromium's virtual authenticator), on the system admin site, and the profile's sessions."""

import re
from importlib import import_module

from django.conf import settings
from playwright.sync_api import expect

from accounts import stepup
from accounts.models import Passkey
from apikeys.models import ApiKey
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.browser.test_accessibility import _violations
from tests.browser.test_two_factor import _virtual_authenticator
from tests.factories import PASSWORD


def _make_stale(context) -> None:
    """As if the last proof were 11 minutes old."""
    cookie = next(c for c in context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    session[stepup.SESSION_KEY] -= 11 * 60
    session.save()


def _submit_create_key(page, name: str) -> None:
    """From the profile, the Create API key dialog filled in and submitted."""
    page.goto("/t/acme/profile/")
    page.get_by_role("link", name="Create API key").first.click()
    dialog = page.get_by_role("dialog", name="Create API key")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Customer Read").check()
    dialog.get_by_role("button", name="Create API key").click()


def test_a_stale_session_confirms_its_password_inline_and_gets_the_secret(page, developer, acme):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    sign_in(page, "dev@acme.test", PASSWORD)
    _make_stale(page.context)
    _submit_create_key(page, "Main Website Integration")

    confirm = page.get_by_role("dialog", name="Confirm it's you")
    expect(confirm.get_by_label("Password")).to_be_focused()
    assert _violations(page) == []
    confirm.get_by_label("Password").fill("not-my-password")
    confirm.get_by_role("button", name="Confirm and continue").click()
    expect(confirm.get_by_text(stepup.WRONG_PASSWORD)).to_be_visible()
    expect(confirm.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    assert not ApiKey.objects.exists()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "step-up-dialog.png")
    confirm.get_by_label("Password").fill(PASSWORD)
    confirm.get_by_role("button", name="Confirm and continue").click()

    secret_dialog = page.get_by_role("dialog", name="API key created")
    expect(secret_dialog.get_by_text("It will not be shown again")).to_be_visible()
    key = ApiKey.objects.get()
    assert key.name == "Main Website Integration" and key.scopes == "customers:read"
    secret = secret_dialog.get_by_label("API key for Main Website Integration").input_value()
    assert secret.startswith(f"kw_live_{key.key_id}_")
    assert page.console_watch.errors == []


def test_a_session_signed_out_from_another_is_signed_out_at_its_next_request(
    page, chromium, live_server, developer
):
    phone_context = chromium.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        user_agent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
    )
    phone = phone_context.new_page()
    sign_in(phone, "dev@acme.test", PASSWORD)
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto("/t/acme/profile/#sessions-title")
    sessions = page.get_by_role("region", name="Sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)
    expect(sessions.get_by_role("row").filter(has_text="This device")).to_contain_text(
        "Chrome on Linux"
    )
    assert _violations(page) == []
    sessions.get_by_role("row").filter(has_text="Chrome on Android").get_by_role(
        "button", name="Sign out"
    ).click()
    expect(page.get_by_text("That session was signed out.")).to_be_visible()
    expect(sessions.get_by_role("row")).to_have_count(2)
    page.screenshot(path=ARTIFACTS / "profile-sessions.png", full_page=True)

    phone.goto("/t/acme/profile/")
    expect(phone).to_have_url(f"{live_server.url}/accounts/sign-in/?next=/t/acme/profile/")
    # At 390 px the sessions list fits without scrolling sideways.
    sign_in(phone, "dev@acme.test", PASSWORD)
    phone.goto("/t/acme/profile/#sessions-title")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot(path=ARTIFACTS / "profile-sessions-390.png", full_page=True)
    phone_context.close()
    assert page.console_watch.errors == []


def _add_passkey(page, name: str = "Work laptop") -> None:
    page.goto("/accounts/two-factor/")
    page.get_by_label("Passkey name").fill(name)
    page.get_by_role("button", name="Add passkey").click()
    expect(page.get_by_text(f"The passkey {name} was added.")).to_be_visible()


def test_a_passkey_user_confirms_inline_with_the_passkey_and_gets_the_secret(page, developer, acme):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    _virtual_authenticator(page)
    sign_in(page, "dev@acme.test", PASSWORD)
    _add_passkey(page)
    _make_stale(page.context)
    _submit_create_key(page, "Billing sync")

    confirm = page.get_by_role("dialog", name="Confirm it's you")
    expect(confirm).to_contain_text("Use your passkey to continue.")
    # A passkey is this user's second factor: the password alone is not asked for.
    expect(confirm.get_by_label("Password")).to_have_count(0)
    use = confirm.get_by_role("button", name="Use a passkey")
    expect(use).to_be_focused()
    assert _violations(page) == []
    page.screenshot(path=ARTIFACTS / "step-up-passkey-dialog.png")
    assert not ApiKey.objects.exists()
    page.keyboard.press("Enter")

    secret_dialog = page.get_by_role("dialog", name="API key created")
    expect(secret_dialog.get_by_text("It will not be shown again")).to_be_visible()
    key = ApiKey.objects.get()
    assert key.name == "Billing sync"
    assert Passkey.objects.get(user=developer).last_used_at is not None
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []


def test_a_system_admin_confirms_a_tenants_policy_change_with_a_passkey(page, root, acme):
    _virtual_authenticator(page)
    sign_in(page, "root@keyward.test", PASSWORD)
    # The system admin site needs a second factor: the first one set up is this passkey.
    _add_passkey(page, "Security key")
    page.goto(f"/system/tenants/tenant/{acme.pk}/change/")
    _make_stale(page.context)
    page.locator("#id_settings-0-max_keys_per_user").fill("7")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("dialog", name="Confirm it's you")).to_contain_text(
        "Use your passkey to continue."
    )
    expect(page.get_by_label("Password")).to_have_count(0)
    assert _violations(page) == []
    page.screenshot(path=ARTIFACTS / "step-up-passkey-admin.png")
    acme.settings.refresh_from_db()
    assert acme.settings.max_keys_per_user != 7
    # Keyboard only: the button has the focus, Enter confirms.
    expect(page.get_by_role("button", name="Use a passkey")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page.get_by_text("was changed successfully")).to_be_visible()
    acme.settings.refresh_from_db()
    assert acme.settings.max_keys_per_user == 7
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []


def test_a_stale_session_confirms_before_the_two_factor_page_opens(page, admin):
    sign_in(page, "admin@acme.test", PASSWORD)
    _make_stale(page.context)
    page.goto("/accounts/two-factor/")
    confirm = page.get_by_role("dialog", name="Confirm it's you")
    expect(confirm.get_by_label("Password")).to_be_focused()
    assert _violations(page) == []
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=ARTIFACTS / "step-up-page-390.png")
    page.set_viewport_size({"width": 1280, "height": 800})
    confirm.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/$"))
    assert page.console_watch.errors == []
