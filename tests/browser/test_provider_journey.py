import time
import urllib.request
from urllib.error import HTTPError

import jwt
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD


def _usage(base: str, pem: str, kid: str) -> int:
    now = int(time.time())
    token = jwt.encode(
        {"iss": "acme", "aud": "keyward-provider-api", "iat": now, "exp": now + 120},
        pem,
        algorithm="EdDSA",
        headers={"kid": kid},
    )
    request = urllib.request.Request(
        f"{base}/api/provider/v1/usage", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except HTTPError as error:
        return error.code


def test_an_admin_generates_a_private_key_uses_it_and_revokes_it(page, live_server, admin):
    sign_in(page, "admin@acme.test", PASSWORD)
    page.get_by_role("navigation", name="Tenant").get_by_role("link", name="Integrations").click()
    page.get_by_role("button", name="Generate Private Key").click()

    done = page.get_by_role("button", name="Done")
    expect(done).to_be_disabled()
    pem = page.get_by_label("Private key (PEM)").input_value()
    kid = page.locator("#provider-kid").inner_text()
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert _usage(live_server.url, pem, kid) == 200

    page.get_by_label("I've made a copy of the above data").check()
    expect(done).to_be_enabled()
    done.click()
    expect(page.get_by_role("heading", name="Provider API", exact=True)).to_be_visible()
    assert pem.splitlines()[1] not in page.content()

    page.get_by_role("link", name="Revoke Private Key").click()
    dialog = page.get_by_role("dialog", name="Revoke Private Key")
    expect(dialog).to_contain_text("immediately disables all existing integrations")
    dialog.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The Provider API key was revoked.")).to_be_visible()
    assert _usage(live_server.url, pem, kid) == 401
    assert page.console_watch.csp_violations() == []
    assert page.console_watch.errors == []
