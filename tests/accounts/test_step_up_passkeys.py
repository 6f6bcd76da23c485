"""Step-up with a passkey: a user whose second factor is a passkey confirms with it (never with
the password alone), in the portal's dialog and on the system admin site; and the system
admin's Tenant page asks before it changes a key policy. The passkey is a software one
(tests/webauthn.py) whose assertions py_webauthn checks for real."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import stepup
from accounts.models import Passkey
from apikeys.models import ApiKey, ServiceApiKey
from tenants.models import Event, TenantSettings
from tests.accounts.test_step_up_with_two_factor import CREATE, NEW_KEY, PROFILE
from tests.factories import PASSWORD
from tests.helpers import TOTP_KEY_HEX, admin_form_data, csrf_token_for, htmx_headers, totp_code
from tests.webauthn import SoftPasskey, allowed_credential_ids

OPTIONS = reverse("step_up_passkey_options")
SERVICE_KEY_ADD = reverse("admin:apikeys_serviceapikey_add")
ADMIN_OPTIONS = reverse("admin:step_up_passkey_options")
ASKED = "Confirm it's you"


def later(minutes: float = 11):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


@pytest.fixture
def passkey():
    return SoftPasskey()


@pytest.fixture
def dev_client(developer, client_for, acme, passkey):
    """A developer whose only second factor is a passkey."""
    acme.settings.max_expiration_days = None
    acme.settings.save()
    passkey.register(developer)
    client = client_for(developer)
    client.token = csrf_token_for(client, PROFILE)
    return client


def _create(client, **extra):
    return client.post(CREATE, NEW_KEY | extra, headers=htmx_headers(client.token))


def _options(client, url=OPTIONS):
    return client.post(url, headers={"X-CSRFToken": client.token})


def test_a_passkey_only_user_is_offered_the_passkey_and_never_the_password(dev_client):
    with later():
        asked = _create(dev_client).content.decode()
        assert ASKED in asked and "Use a passkey" in asked
        assert f'data-options-url="{OPTIONS}"' in asked
        assert f'name="{stepup.PASSKEY_FIELD}"' in asked
        assert f'name="{stepup.PASSWORD_FIELD}"' not in asked
        assert f'name="{stepup.CODE_FIELD}"' not in asked
        assert "Use your passkey to continue." in asked
        # The password alone is no proof for a user with a second factor.
        again = _create(dev_client, stepup_password=PASSWORD).content.decode()
        assert ASKED in again
    assert not ApiKey.objects.exists()


def test_a_signed_passkey_answer_continues_the_action_and_is_fresh_after(dev_client, passkey):
    with later():
        options = _options(dev_client)
        assert options.status_code == 200 and options["Content-Type"] == "application/json"
        assert "no-store" in options["Cache-Control"]
        assert allowed_credential_ids(options.content) == [passkey.credential_id]
        done = _create(dev_client, stepup_passkey=passkey.answer(options.content))
        assert "It will not be shown again" in done.content.decode()
        # Fresh for ten minutes: the next secret is not asked for.
        second = _create(dev_client, name="Second")
        assert "It will not be shown again" in second.content.decode()
    assert ApiKey.objects.count() == 2
    stored = Passkey.objects.get()
    assert stored.sign_count == 1 and stored.last_used_at is not None


def test_a_replayed_or_forged_answer_is_refused_and_changes_nothing(dev_client, passkey):
    with later():
        options = _options(dev_client).content
        answer = passkey.answer(options)
        assert (
            "It will not be shown again"
            in _create(dev_client, stepup_passkey=answer).content.decode()
        )
    ApiKey.objects.all().delete()
    with later(22):
        # The challenge was used once: the same answer again proves nothing.
        replayed = _create(dev_client, stepup_passkey=answer).content.decode()
        assert ASKED in replayed and stepup.WRONG_PASSKEY in replayed
        # Signed by a key that is not the registered one, for a fresh challenge.
        forger = SoftPasskey(credential_id=passkey.credential_id)
        forged = _create(dev_client, stepup_passkey=forger.answer(_options(dev_client).content))
        assert stepup.WRONG_PASSKEY in forged.content.decode()
        # For another origin (a phishing site relaying the challenge).
        phished = passkey.answer(_options(dev_client).content, origin="https://keyward.evil")
        assert stepup.WRONG_PASSKEY in _create(dev_client, stepup_passkey=phished).content.decode()
        hostile = _create(dev_client, stepup_passkey="x" * 20_000).content.decode()
        assert stepup.WRONG_PASSKEY in hostile
    assert not ApiKey.objects.exists()


def test_refused_passkeys_lock_the_account_out_as_wrong_passwords_do(dev_client, passkey):
    limit = settings.AXES_FAILURE_LIMIT
    with later():
        for _ in range(limit):
            response = _create(dev_client, stepup_passkey="{}")
        assert stepup.LOCKED_OUT in response.content.decode()
        assert _options(dev_client).status_code == 429
        # Locked out: even a rightly signed answer is refused now.
        answer = passkey.answer(json.dumps({"challenge": "AAAA", "rpId": "testserver"}))
        assert stepup.LOCKED_OUT in _create(dev_client, stepup_passkey=answer).content.decode()
    assert not ApiKey.objects.exists()


def test_a_user_with_an_app_and_a_passkey_may_use_either(dev_client, developer, passkey):
    TOTPDevice.objects.create(user=developer, name="Phone", key=TOTP_KEY_HEX, confirmed=True)
    with later():
        asked = _create(dev_client).content.decode()
        assert "Use a passkey" in asked and f'name="{stepup.CODE_FIELD}"' in asked
        # The empty code field posted beside the passkey's answer does not stand in its way.
        answer = passkey.answer(_options(dev_client).content)
        done = _create(dev_client, stepup_code="", stepup_passkey=answer)
        assert "It will not be shown again" in done.content.decode()
    with later(22):
        done = _create(dev_client, name="By code", stepup_code=totp_code())
        assert "It will not be shown again" in done.content.decode()
    assert ApiKey.objects.count() == 2


def test_the_options_are_only_for_a_signed_in_user_with_a_passkey(client_for, admin, dev_client):
    anonymous = client_for(None)
    token = csrf_token_for(anonymous, reverse("login"))
    assert anonymous.post(OPTIONS, headers={"X-CSRFToken": token}).status_code == 403
    no_passkey = client_for(admin)
    no_passkey.token = csrf_token_for(no_passkey, PROFILE)
    refused = _options(no_passkey)
    assert refused.status_code == 400 and refused.json() == {"error": "You have no passkey."}
    assert dev_client.get(OPTIONS).status_code == 405
    # Without the CSRF token, no challenge.
    assert dev_client.post(OPTIONS).status_code == 403


def test_a_system_admin_with_only_a_passkey_confirms_with_it_on_the_admin_site(
    root, client_for, passkey
):
    from django_otp import DEVICE_ID_SESSION_KEY

    device = passkey.register(root)
    client = client_for(None)
    client.force_login(root)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    client.token = csrf_token_for(client, SERVICE_KEY_ADD)
    data = {"service_name": "inventory-service", "description": "", "expires_on": "", "_save": "1"}
    headers = {"X-CSRFToken": client.token}
    with later():
        page = client.post(SERVICE_KEY_ADD, data, headers=headers).content.decode()
        assert ASKED in page and f'data-options-url="{ADMIN_OPTIONS}"' in page
        assert "js/passkeys.js" in page and f'name="{stepup.PASSWORD_FIELD}"' not in page
        password = client.post(
            SERVICE_KEY_ADD, data | {"stepup_password": PASSWORD}, headers=headers
        )
        assert ASKED in password.content.decode()
        assert not ServiceApiKey.objects.exists()
        answer = passkey.answer(_options(client, ADMIN_OPTIONS).content)
        done = client.post(SERVICE_KEY_ADD, data | {"stepup_passkey": answer}, headers=headers)
    assert "no-store" in done["Cache-Control"]
    assert ServiceApiKey.objects.get().service_name == "inventory-service"


# The system admin's Tenant page ----------------------------------------------------------


def _tenant_form(client, tenant) -> dict:
    """The Tenant change page's form as the browser would post it unchanged."""
    page = client.get(reverse("admin:tenants_tenant_change", args=[tenant.pk]))
    return admin_form_data(page) | {"_save": "Save"}


@pytest.fixture
def root_client(root, client_for):
    client = client_for(root)
    client.token = csrf_token_for(client, reverse("admin:index"))
    return client


def test_changing_a_tenants_key_policy_on_the_admin_site_asks_first(root_client, acme):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    form = _tenant_form(root_client, acme)
    changed = form | {"settings-0-max_keys_per_user": "7"}
    headers = {"X-CSRFToken": root_client.token}
    events = Event.objects.count()
    with later():
        asked = root_client.post(url, changed, headers=headers).content.decode()
        assert ASKED in asked and 'name="settings-0-max_keys_per_user" value="7"' in asked
        assert TenantSettings.objects.get(tenant=acme).max_keys_per_user != 7
        wrong = root_client.post(url, changed | {stepup.CODE_FIELD: "000000"}, headers=headers)
        assert stepup.WRONG_CODE in wrong.content.decode()
        assert Event.objects.count() == events
        done = root_client.post(url, changed | {stepup.CODE_FIELD: totp_code()}, headers=headers)
    assert done.status_code == 302
    assert TenantSettings.objects.get(tenant=acme).max_keys_per_user == 7
    event = Event.objects.latest("id")
    assert event.action == Event.Action.SETTINGS_CHANGED
    assert event.changes["max_keys_per_user"]["after"] == 7


def test_renaming_a_tenant_or_an_unchanged_policy_does_not_ask(root_client, acme):
    url = reverse("admin:tenants_tenant_change", args=[acme.pk])
    form = _tenant_form(root_client, acme)
    with later():
        done = root_client.post(
            url, form | {"name": "Acme Inc."}, headers={"X-CSRFToken": root_client.token}
        )
    assert done.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Inc."


def test_a_new_tenant_with_a_policy_other_than_the_defaults_asks_first(root_client):
    from tenants.models import Tenant

    url = reverse("admin:tenants_tenant_add")
    page = root_client.get(url)
    assert page.status_code == 200
    data = {
        "name": "Initech",
        "slug": "initech",
        "is_active": "on",
        "user_licenses": "5",
        "settings-TOTAL_FORMS": "1",
        "settings-INITIAL_FORMS": "0",
        "settings-MIN_NUM_FORMS": "0",
        "settings-MAX_NUM_FORMS": "1",
        "settings-0-api_keys_enabled": "on",
        "settings-0-max_keys_per_user": "3",
        "settings-0-default_rate_limit": "60",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    headers = {"X-CSRFToken": root_client.token}
    with later():
        asked = root_client.post(url, data, headers=headers).content.decode()
        assert ASKED in asked and not Tenant.objects.filter(slug="initech").exists()
        done = root_client.post(url, data | {stepup.CODE_FIELD: totp_code()}, headers=headers)
    assert done.status_code == 302, done.content.decode()[:2000]
    assert Tenant.objects.get(slug="initech").settings.max_keys_per_user == 3


# Changing one's own factors (GitHub's sudo mode for security settings) --------------------

TWO_FACTOR = reverse("two_factor")
STEP_UP = reverse("step_up")


def test_a_stale_session_confirms_before_the_two_factor_pages_open(admin, client_for):
    client = client_for(admin)
    with later():
        for url in (TWO_FACTOR, reverse("totp_setup")):
            opened = client.get(url)
            assert opened["Location"] == f"{STEP_UP}?next={url.replace('/', '%2F')}", url
        page = client.get(f"{STEP_UP}?next={TWO_FACTOR}")
        body = page.content.decode()
        assert ASKED in body and f'name="{stepup.PASSWORD_FIELD}"' in body
        assert f'name="next" value="{TWO_FACTOR}"' in body and "no-store" in page["Cache-Control"]
        headers = {"X-CSRFToken": client.cookies["csrftoken"].value}
        wrong = client.post(
            STEP_UP, {"next": TWO_FACTOR, "stepup_password": "nope"}, headers=headers
        )
        assert stepup.WRONG_PASSWORD in wrong.content.decode()
        assert client.get(TWO_FACTOR).status_code == 302
        done = client.post(
            STEP_UP, {"next": TWO_FACTOR, "stepup_password": PASSWORD}, headers=headers
        )
        assert done["Location"] == TWO_FACTOR
        assert client.get(TWO_FACTOR).status_code == 200


def test_the_confirm_page_goes_on_only_to_a_page_of_this_site(admin, client_for):
    client = client_for(admin)
    token = csrf_token_for(client, PROFILE)
    with later():
        for wanted in ("https://evil.test/", "//evil.test/x", "javascript:alert(1)", "x"):
            done = client.post(
                STEP_UP,
                {"next": wanted, "stepup_password": PASSWORD},
                headers={"X-CSRFToken": token},
            )
            assert done["Location"] == reverse("home"), wanted


def test_stale_changes_to_ones_factors_are_asked_inline_and_change_nothing(admin, client_for):
    device = TOTPDevice.objects.create(user=admin, name="Phone", key=TOTP_KEY_HEX, confirmed=True)
    client = client_for(admin)
    token = csrf_token_for(client, reverse("recovery_codes"))
    headers = {"X-CSRFToken": token}
    with later():
        for url in (reverse("recovery_codes"), reverse("totp_remove")):
            asked = client.post(url, headers=headers).content.decode()
            assert ASKED in asked and f'name="{stepup.CODE_FIELD}"' in asked, url
        for url in (reverse("passkey_register_options"), reverse("passkey_register")):
            refused = client.post(url, "{}", content_type="application/json", headers=headers)
            assert refused.status_code == 403 and refused.json() == {"error": stepup.NOT_FRESH}
        assert TOTPDevice.objects.filter(pk=device.pk).exists()
        assert not Event.objects.exists()
        codes = client.post(
            reverse("recovery_codes"), {stepup.CODE_FIELD: totp_code()}, headers=headers
        )
    assert "Your recovery codes" in codes.content.decode()


# Found by an attacker's probe ------------------------------------------------------------


def test_save_as_new_on_a_change_page_asks_before_a_service_key_too(root_client, root):
    """Django's admin adds with "_saveasnew" from any change URL, even with save_as off."""
    data = {"service_name": "sneaky", "description": "", "expires_on": "", "_saveasnew": "1"}
    headers = {"X-CSRFToken": root_client.token}
    with later():
        for object_id in ("99999", "1"):
            url = reverse("admin:apikeys_serviceapikey_change", args=[object_id])
            asked = root_client.post(url, data, headers=headers)
            assert ASKED in asked.content.decode(), object_id
    assert not ServiceApiKey.objects.exists()


def test_save_as_new_on_a_tenant_page_asks_before_setting_a_policy(root_client, acme):
    from tenants.models import Tenant

    form = _tenant_form(root_client, acme)
    data = form | {"_saveasnew": "1", "slug": "copycat", "name": "Copycat"}
    headers = {"X-CSRFToken": root_client.token}
    with later():
        for object_id in (str(acme.pk), "99999"):
            url = reverse("admin:tenants_tenant_change", args=[object_id])
            asked = root_client.post(url, data, headers=headers)
            assert ASKED in asked.content.decode(), object_id
    assert not Tenant.objects.filter(slug="copycat").exists()


@pytest.mark.parametrize(
    "answer",
    [
        {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": None},
        {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": "x"},
        {"id": "AAAA", "rawId": "AAAA", "type": 7, "response": {"signature": 5}},
        {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}},
    ],
    ids=["null", "string", "wrong-types", "empty"],
)
def test_a_malformed_passkey_answer_is_refused_and_counted_never_a_500(dev_client, passkey, answer):
    from axes.models import AccessAttempt

    answer = answer | {"id": passkey.b64_id(), "rawId": passkey.b64_id()}
    with later():
        _options(dev_client)
        refused = _create(dev_client, stepup_passkey=json.dumps(answer))
    assert refused.status_code == 200 and stepup.WRONG_PASSKEY in refused.content.decode()
    assert AccessAttempt.objects.get(username="dev@acme.test").failures_since_start == 1
    assert not ApiKey.objects.exists()


def test_the_confirm_page_never_puts_a_control_character_in_a_header(admin, client_for):
    client = client_for(admin)
    token = csrf_token_for(client, PROFILE)
    for wanted in ("/x\ny", "/x\r\nSet-Cookie: a=b", "/\u2028x"):
        done = client.post(
            STEP_UP,
            {"next": wanted, "stepup_password": PASSWORD},
            headers=htmx_headers(token),
        )
        assert done.status_code == 204 and done["HX-Redirect"] == reverse("home"), wanted
