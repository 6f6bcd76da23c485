"""Step-up ("sudo mode"): a fresh proof within 10 minutes before a secret is minted or the key
policy changes; the password (or a registered second factor's code), throttled by axes."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts import stepup
from apikeys.models import ApiKey, ProviderKey, ServiceApiKey, Status
from tenants.models import Event, Membership
from tests.factories import PASSWORD, api_key, lift_key_limits
from tests.helpers import csrf_token_for, htmx_headers

CREATE = reverse("apikeys:create", args=["acme"])
PROFILE = reverse("apikeys:my_keys", args=["acme"])
SETTINGS = reverse("apikeys:settings", args=["acme"])
PROVIDER_GENERATE = reverse("apikeys:provider_generate", args=["acme"])
SERVICE_KEY_ADD = reverse("admin:apikeys_serviceapikey_add")
ASKED = "Confirm it's you"
POLICY = {"api_keys_enabled": "on", "max_keys_per_user": "25", "default_rate_limit": "60"}
NEW_KEY = {
    "name": "Main Website Integration",
    "environment": "production",
    "scopes": ["customers:read", "usage:read"],
    "rate_limit": "60",
    "expires_on": "",
}


@pytest.fixture
def dev_client(developer, client_for, acme):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    client = client_for(developer)
    client.token = csrf_token_for(client, PROFILE)
    return client


def later(minutes: float):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def _create(client, **extra):
    return client.post(CREATE, NEW_KEY | extra, headers=htmx_headers(client.token))


@pytest.fixture
def fake_second_factor():
    """A registered second factor: users whose email starts with "dev" have it; "123456"."""
    tried = []

    def verify(user, code):
        tried.append((user.email, code))
        return code == "123456"

    registered = stepup.second_factor  # the real one (accounts.apps): put back afterwards
    stepup.register_second_factor(lambda user: user.email.startswith("dev"), verify)
    yield tried
    stepup.second_factor = registered


def test_a_sign_in_is_a_fresh_proof(developer, client_for, acme):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    client = client_for()
    token = csrf_token_for(client, reverse("login"))
    signed_in = client.post(
        reverse("login"),
        {"username": developer.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert signed_in.status_code == 302
    client.token = csrf_token_for(client, PROFILE)
    assert "It will not be shown again" in _create(client).content.decode()


def test_a_stale_session_is_asked_for_its_password_with_the_form_carried(dev_client):
    with later(11):
        response = _create(dev_client)
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith("<dialog")
    assert ASKED in body
    assert 'name="stepup_password"' in body and 'autocomplete="current-password"' in body
    assert 'type="hidden" name="name" value="Main Website Integration"' in body
    assert body.count('type="hidden" name="scopes"') == 2
    assert "no-store" in response["Cache-Control"]
    assert not ApiKey.objects.exists()


def test_a_wrong_password_is_refused_with_a_field_error_and_changes_nothing(dev_client):
    with later(11):
        response = _create(dev_client, stepup_password="not-my-password")
    body = response.content.decode()
    assert stepup.WRONG_PASSWORD in body and 'aria-invalid="true"' in body
    # The form is carried again, never the password typed.
    assert 'value="Main Website Integration"' in body and "not-my-password" not in body
    assert not ApiKey.objects.exists() and not Event.objects.exists()


def test_the_right_password_continues_the_action_and_is_fresh_for_ten_minutes(dev_client):
    with later(11):
        response = _create(dev_client, stepup_password=PASSWORD)
    body = response.content.decode()
    key = ApiKey.objects.get()
    assert key.name == "Main Website Integration"
    assert f"kw_live_{key.key_id}_" in body and "It will not be shown again" in body
    assert "no-store" in response["Cache-Control"]
    # Counted from the last proof: asked again only 10 minutes after it.
    with later(11 + 9):
        assert "It will not be shown again" in _create(dev_client, name="Second").content.decode()
    with later(11 + 10.5):
        assert ASKED in _create(dev_client, name="Third").content.decode()
    assert ApiKey.objects.count() == 2


def test_repeated_wrong_passwords_lock_the_account_out_as_at_sign_in(dev_client, developer):
    limit = settings.AXES_FAILURE_LIMIT
    with later(11):
        for _ in range(limit):
            response = _create(dev_client, stepup_password="not-my-password")
        assert stepup.LOCKED_OUT in response.content.decode()
        # Now even the right password is refused, and so is a sign-in to the account.
        response = _create(dev_client, stepup_password=PASSWORD)
        assert stepup.LOCKED_OUT in response.content.decode()
        assert not ApiKey.objects.exists()
        other = dev_client.__class__()
        other.post(reverse("login"), {"username": developer.email, "password": PASSWORD})
        assert "_auth_user_id" not in other.session
    attempt = AccessAttempt.objects.get(username=developer.email)
    assert attempt.failures_since_start >= limit
    # Axes keeps what was posted: the password typed is masked.
    assert "not-my-password" not in attempt.post_data


def test_an_admin_who_is_not_locked_out_is_still_asked(dev_client, admin, client_for):
    """The lockout of one account does not prove another one."""
    client = client_for(admin)
    token = csrf_token_for(client, SETTINGS)
    with later(11):
        response = client.post(SETTINGS, POLICY, headers={"X-CSRFToken": token})
    assert ASKED in response.content.decode()


def test_with_a_registered_second_factor_the_dialog_asks_for_its_code(
    dev_client, fake_second_factor
):
    with later(11):
        asked = _create(dev_client).content.decode()
        assert 'name="stepup_code"' in asked and 'autocomplete="one-time-code"' in asked
        assert 'name="stepup_password"' not in asked
        # The password is no proof for a user with a second factor.
        refused = _create(dev_client, stepup_password=PASSWORD).content.decode()
        assert 'name="stepup_code"' in refused and not ApiKey.objects.exists()
        wrong = _create(dev_client, stepup_code="000000").content.decode()
        assert stepup.WRONG_CODE in wrong and not ApiKey.objects.exists()
        right = _create(dev_client, stepup_code="123456").content.decode()
    assert "It will not be shown again" in right and ApiKey.objects.count() == 1
    assert fake_second_factor == [("dev@acme.test", "000000"), ("dev@acme.test", "123456")]
    assert AccessAttempt.objects.get(username="dev@acme.test").failures_since_start == 1


def test_wrong_codes_lock_out_too(dev_client, fake_second_factor):
    with later(11):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            _create(dev_client, stepup_code="000000")
        response = _create(dev_client, stepup_code="123456")
    assert stepup.LOCKED_OUT in response.content.decode()
    assert not ApiKey.objects.exists()
    assert len(fake_second_factor) == settings.AXES_FAILURE_LIMIT  # never asked once locked


def test_a_user_without_the_second_factor_is_asked_for_the_password(
    admin, client_for, fake_second_factor
):
    client = client_for(admin)
    token = csrf_token_for(client, SETTINGS)
    with later(11):
        response = client.post(SETTINGS, POLICY, headers={"X-CSRFToken": token})
    assert 'name="stepup_password"' in response.content.decode()


def test_step_up_works_without_javascript_as_a_page(dev_client):
    headers = {"X-CSRFToken": dev_client.token}
    with later(11):
        asked = dev_client.post(CREATE, NEW_KEY, headers=headers).content.decode()
        assert "<html" in asked and "<dialog" in asked and ASKED in asked
        done = dev_client.post(CREATE, NEW_KEY | {"stepup_password": PASSWORD}, headers=headers)
    assert "It will not be shown again" in done.content.decode()


def test_regenerate_renew_and_roll_ask_a_stale_session(dev_client, developer):
    membership = Membership.objects.get(user=developer)
    lift_key_limits(membership.tenant)
    key, _ = api_key(membership, expires_on=None)
    expired, _ = api_key(membership, expires_on=None, name="Old")
    ApiKey.objects.filter(pk=expired.pk).update(expires_on=timezone.now().date())
    headers = htmx_headers(dev_client.token)
    regenerate = reverse("apikeys:regenerate", args=["acme", key.key_id])
    roll = reverse("apikeys:roll", args=["acme", key.key_id])
    renew = reverse("apikeys:regenerate", args=["acme", expired.key_id])
    future = (timezone.now() + timedelta(days=30)).date().isoformat()
    with later(60 * 24 * 2):
        expired.refresh_from_db()
        assert expired.status == Status.EXPIRED
        for url, data in [
            (regenerate, {}),
            (roll, {"grace": "3d"}),
            (renew, {"renew": "yes", "expires_on": future}),
        ]:
            body = dev_client.post(url, data, headers=headers).content.decode()
            assert ASKED in body, url
        before = list(ApiKey.objects.values_list("secret_hash", flat=True))
        assert list(ApiKey.objects.values_list("secret_hash", flat=True)) == before
        rolled = dev_client.post(
            roll, {"grace": "3d", "stepup_password": PASSWORD}, headers=headers
        )
        assert "keeps working until" in rolled.content.decode()
        renewed = dev_client.post(renew, {"renew": "yes", "expires_on": future}, headers=headers)
        assert "API key renewed" in renewed.content.decode()
    assert list(Event.objects.values_list("action", flat=True).order_by("id"))[-2:] == [
        "key.rolled",
        "key.regenerated",
    ]


def test_a_stale_admin_is_asked_before_the_provider_key_and_the_policy(admin, client_for, acme):
    client = client_for(admin)
    token = csrf_token_for(client, SETTINGS)
    headers = htmx_headers(token)
    with later(11):
        asked = client.post(PROVIDER_GENERATE, headers=headers).content.decode()
        assert ASKED in asked and not ProviderKey.objects.exists()
        policy = POLICY
        asked = client.post(SETTINGS, policy, headers={"X-CSRFToken": token}).content.decode()
        assert ASKED in asked and 'value="25"' in asked
        acme.settings.refresh_from_db()
        assert acme.settings.max_keys_per_user == 10
        done = client.post(SETTINGS, policy | {"stepup_password": PASSWORD}, headers=headers)
        assert done.status_code == 302
        generated = client.post(PROVIDER_GENERATE, headers=headers).content.decode()
    acme.settings.refresh_from_db()
    assert acme.settings.max_keys_per_user == 25
    assert "PRIVATE KEY" in generated and ProviderKey.objects.count() == 1


def test_the_system_admin_confirms_on_a_page_before_a_service_key(root, client_for):
    from tests.helpers import totp_code

    client = client_for(root)  # the system admin site needs a second factor: root has an app
    token = csrf_token_for(client, SERVICE_KEY_ADD)
    data = {"service_name": "inventory-service", "description": "", "expires_on": "", "_save": "1"}
    with later(11):
        asked = client.post(SERVICE_KEY_ADD, data, headers={"X-CSRFToken": token})
        body = asked.content.decode()
        assert ASKED in body and 'value="inventory-service"' in body
        assert not ServiceApiKey.objects.exists()
        # Its app's code, not the password.
        password = client.post(
            SERVICE_KEY_ADD, data | {"stepup_password": PASSWORD}, headers={"X-CSRFToken": token}
        )
        assert ASKED in password.content.decode()
        wrong = client.post(
            SERVICE_KEY_ADD, data | {stepup.CODE_FIELD: "000000"}, headers={"X-CSRFToken": token}
        )
        assert stepup.WRONG_CODE in wrong.content.decode()
        assert not ServiceApiKey.objects.exists()
        done = client.post(
            SERVICE_KEY_ADD, data | {stepup.CODE_FIELD: totp_code()}, headers={"X-CSRFToken": token}
        )
    assert "no-store" in done["Cache-Control"]
    assert ServiceApiKey.objects.get().service_name == "inventory-service"


def test_a_fresh_session_is_not_asked_and_get_never_asks(dev_client):
    assert "Confirm" not in dev_client.get(CREATE).content.decode()
    with later(11):
        assert "Confirm" not in dev_client.get(CREATE).content.decode()
    assert "It will not be shown again" in _create(dev_client).content.decode()


def test_is_fresh_reads_only_a_whole_timestamp_within_the_window(rf):
    request = rf.get("/")
    request.session = {}
    assert not stepup.is_fresh(request)
    stepup.mark_fresh(request)
    assert stepup.is_fresh(request)
    request.session[stepup.SESSION_KEY] = "1"
    assert not stepup.is_fresh(request)
    stepup.mark_fresh(request)
    with later(stepup.STEP_UP_SECONDS / 60 + 0.1):
        assert not stepup.is_fresh(request)
    with later(-5):  # a stamp from the future (a clock set back) proves nothing
        assert not stepup.is_fresh(request)


@pytest.mark.parametrize(
    "proof",
    ["", "x" * 5000, "pass\x00word", "٣٣٣٣٣٣"],
    ids=["empty", "long", "nul", "digits"],
)
def test_hostile_proofs_get_a_field_error_and_change_nothing(dev_client, fake_second_factor, proof):
    with later(11):
        as_code = _create(dev_client, stepup_code=proof)
    stepup.unregister_second_factor()
    with later(11):
        as_password = _create(dev_client, stepup_password=proof)
    for response in (as_code, as_password):
        assert response.status_code == 200
        assert 'aria-invalid="true"' in response.content.decode()
    assert not ApiKey.objects.exists()
