import json
import urllib.request
from urllib.error import HTTPError

from playwright.sync_api import expect

from apikeys.models import ServiceApiKey
from tests.browser.conftest import sign_in_to_system
from tests.factories import UserFactory

CONFIRMATION = (
    "Are you sure you want to revoke the API key for inventory-service? This action cannot be "
    "undone and the service will no longer be able to authenticate."
)


def _tenants(base: str, key: str) -> int:
    request = urllib.request.Request(
        f"{base}/api/system/v1/tenants", headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return response.status
    except HTTPError as error:
        return error.code


def test_root_generates_copies_uses_and_revokes_a_service_key(page, live_server, acme):
    UserFactory(email="root@keyward.test", is_superuser=True, is_staff=True)
    sign_in_to_system(page)
    page.get_by_role("link", name="Service API keys").click()

    page.get_by_role("link", name="Generate New API Key").click()
    page.get_by_label("Service name").fill("inventory-service")
    page.get_by_label("Description").fill("Provisions inventory for new tenants")
    page.get_by_role("button", name="Generate").click()

    dialog = page.get_by_role("dialog", name="API key generated for inventory-service")
    expect(dialog).to_contain_text("It will not be shown again")
    shown = dialog.get_by_role("textbox", name="Key secret").input_value()
    dialog.get_by_role("button", name="Copy key secret").click()
    # The copy is asynchronous: wait for it (reading at once can still see the last copy).
    page.wait_for_function(
        "shown => navigator.clipboard.readText().then(text => text === shown)", arg=shown
    )
    secret = page.evaluate("navigator.clipboard.readText()")
    assert secret == shown
    assert secret.startswith("kw_svc_")
    assert _tenants(live_server.url, secret) == 200

    # Leaving needs the acknowledgement (issue 13): Done is disabled until it is ticked.
    expect(dialog.get_by_role("button", name="Done")).to_be_disabled()
    dialog.get_by_label("I've made a copy of this key").check()
    dialog.get_by_role("button", name="Done").click()
    row = page.get_by_role("row").filter(has_text="inventory-service")
    expect(row).to_contain_text("Active")
    assert secret not in page.content()
    row.get_by_label("Actions for inventory-service").click()
    row.get_by_role("link", name="Revoke Key").click()
    confirm = page.get_by_role("dialog", name="Revoke Service API Key")
    expect(confirm).to_contain_text(CONFIRMATION)
    confirm.get_by_role("button", name="Revoke Key").click()
    expect(page.get_by_role("row").filter(has_text="inventory-service")).to_contain_text("Revoked")
    assert ServiceApiKey.objects.get().revoked_at is not None
    assert _tenants(live_server.url, secret) == 401
    page.screenshot(path="test-artifacts/service-keys-after-revoke.png", full_page=True)
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []
