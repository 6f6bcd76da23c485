"""Playwright driving Debian's Chromium against pytest-django's live server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
# themselves (setting up data, checking results) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium is not at {CHROMIUM}: run `make test` (it installs it) or set CHROMIUM_PATH"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


class ConsoleWatch:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]


@pytest.fixture
def page(chromium, live_server, request):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = ConsoleWatch()
    page.on("console", lambda msg: msg.type == "error" and watch.errors.append(msg.text))
    page.on("pageerror", lambda exc: watch.errors.append(str(exc)))
    page.console_watch = watch
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png", full_page=True)
    context.close()


def sign_in(page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def revoke_from_the_row(page, name: str) -> None:
    """Revoke a key from its row's menu; a destructive confirmation opens on Cancel."""
    from playwright.sync_api import expect

    page.get_by_label(f"Actions for {name}").click()
    page.get_by_role("link", name="Revoke").click()
    confirm = page.get_by_role("dialog", name="Revoke API key")
    expect(confirm).to_contain_text("This action cannot be undone")
    expect(confirm.get_by_role("link", name="Cancel")).to_be_focused()
    confirm.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_role("dialog")).to_have_count(0)


def sign_in_with_code(page, email: str, password: str, code: str) -> None:
    """The two steps: password, then the authenticator app's code."""
    from playwright.sync_api import expect

    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_role("textbox", name="Code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()


def sign_in_to_system(page, email: str = "root@keyward.test") -> None:
    """A superuser reaches the system admin site: the portal's sign-in with the password and
    a code from the authenticator app the tests give them (tests.helpers.TOTP_KEY_HEX)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from playwright.sync_api import expect

    from accounts.models import User
    from tests.factories import PASSWORD
    from tests.helpers import TOTP_KEY_HEX, totp_code

    user = User.objects.get(email=email)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or (
        TOTPDevice.objects.create(user=user, key=TOTP_KEY_HEX, confirmed=True)
    )
    page.goto("/system/")
    sign_in_with_code(page, email, PASSWORD, totp_code(device.key))
    expect(page.get_by_role("heading", name="System")).to_be_visible()
