"""Two-factor sign-in in Chromium: an authenticator app set up from the profile page, and a
passkey registered and used through Chromium's virtual authenticator (CDP WebAuthn)."""

import base64
import re
import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.models import Passkey
from tests.browser.conftest import ARTIFACTS, sign_in
from tests.factories import PASSWORD
from tests.helpers import totp_code


def _axe_clean(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"two-factor-{name}.png", full_page=True)
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]][:3])
        for v in Axe().run(page).response["violations"]
    ]
    assert violations == [], name


def _no_sideways_scroll(page) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1280, "height": 800})


def _sign_out(page) -> None:
    page.get_by_label("Account menu").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Keyward")).to_be_visible()


def test_an_admin_sets_up_an_app_from_the_profile_page_and_signs_in_with_its_code(page, admin):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.goto("/t/acme/profile/")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_role("link", name="Manage two-factor sign-in").click()
    _axe_clean(page, "overview")
    page.get_by_role("link", name="Set up authenticator app").click()
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    _axe_clean(page, "app-setup")
    _no_sideways_scroll(page)
    # On a phone the key typed by hand wraps: all of it is in view, none scrolled away.
    page.set_viewport_size({"width": 390, "height": 800})
    key = page.get_by_label("Or enter this key by hand")
    assert key.evaluate("k => k.scrollWidth <= k.clientWidth && k.scrollHeight <= k.clientHeight")
    page.screenshot(path=ARTIFACTS / "two-factor-app-setup-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    secret = page.get_by_label("Or enter this key by hand").input_value().replace(" ", "")
    key_hex = base64.b32decode(secret + "=" * (-len(secret) % 8)).hex()
    page.get_by_label("Code from the app").fill(totp_code(key_hex))
    page.get_by_role("button", name="Confirm and turn on").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-code-list li")).to_have_count(10)
    done = page.get_by_role("button", name="Done")
    expect(done).to_be_disabled()
    _axe_clean(page, "recovery-codes")
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Copy recovery codes").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert len(copied.split()) == 10
    page.get_by_label("I've saved these recovery codes").check()
    done.click()
    expect(page.get_by_text("10 of 10 single-use codes left")).to_be_visible()
    page.get_by_role("link", name="Remove app").click()
    expect(page.get_by_role("dialog", name="Remove authenticator app")).to_be_visible()
    _axe_clean(page, "app-remove")
    page.get_by_role("link", name="Cancel").click()

    _sign_out(page)
    page.goto("/accounts/sign-in/?next=/t/acme/profile/")
    page.get_by_label("Email").fill("admin@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    _axe_clean(page, "second-step")
    _no_sideways_scroll(page)
    # The code used to confirm is spent: the app's next one (accepted one step early).
    page.get_by_role("textbox", name="Code").fill(totp_code(key_hex, at=time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(re.compile(r"/t/acme/profile/$"))
    expect(page.get_by_text("Recovery codes left")).to_be_visible()
    assert page.console_watch.errors == []


def _virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, found["authenticatorId"]


def test_a_developer_registers_a_passkey_and_signs_in_with_it(page, developer):
    cdp, authenticator = _virtual_authenticator(page)
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto("/accounts/two-factor/")
    page.get_by_label("Passkey name").fill("Work laptop")
    page.get_by_role("button", name="Add passkey").click()
    expect(page.get_by_text("The passkey Work laptop was added.")).to_be_visible()
    expect(page.get_by_role("link", name="Remove passkey Work laptop")).to_be_visible()
    passkey = Passkey.objects.get(user=developer)
    assert passkey.name == "Work laptop"
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    _axe_clean(page, "overview-with-passkey")

    _sign_out(page)
    page.get_by_label("Email").fill("dev@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Use a passkey")).to_be_visible()
    _axe_clean(page, "second-step-passkey")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/t/acme/$"))
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    page.goto(f"/accounts/two-factor/passkeys/{passkey.pk}/remove/")
    expect(page.get_by_role("dialog", name="Remove passkey")).to_be_visible()
    _axe_clean(page, "passkey-remove")
    page.goto("/accounts/two-factor/recovery-codes/")
    expect(page.get_by_role("dialog", name="Generate new recovery codes")).to_be_visible()
    _axe_clean(page, "recovery-codes-confirm")
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []


def test_a_passkey_from_another_authenticator_is_refused(page, developer):
    """Register on one virtual authenticator, then remove it: signing in with none fails."""
    cdp, authenticator = _virtual_authenticator(page)
    sign_in(page, "dev@acme.test", PASSWORD)
    page.goto("/accounts/two-factor/")
    page.get_by_role("button", name="Add passkey").click()
    expect(page.get_by_text("was added")).to_be_visible()
    _sign_out(page)
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    _virtual_authenticator(page)  # a different authenticator, without the credential
    page.get_by_label("Email").fill("dev@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("Try again", timeout=20_000)
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
