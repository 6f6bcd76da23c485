"""The two halves of issue 17 together: step-up asks an authenticator app's code of a user who
has one, and a system admin's lost-factor recovery ends every session of the user."""

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services, stepup
from accounts.models import UserSession
from apikeys.models import ApiKey
from tests.factories import PASSWORD
from tests.helpers import TOTP_KEY_HEX, csrf_token_for, htmx_headers, totp_code

CREATE = reverse("apikeys:create", args=["acme"])
PROFILE = reverse("apikeys:my_keys", args=["acme"])
NEW_KEY = {
    "name": "Main Website Integration",
    "environment": "production",
    "scopes": ["customers:read"],
    "rate_limit": "60",
    "expires_on": "",
}


def test_the_registered_second_factor_is_the_accounts_own():
    from accounts import two_factor

    assert stepup.second_factor is not None
    assert stepup.second_factor.verify_code is two_factor.verify_second_factor_code


def test_a_user_with_an_authenticator_app_steps_up_with_its_code(developer, client_for, acme):
    acme.settings.max_expiration_days = None
    acme.settings.save()
    TOTPDevice.objects.create(user=developer, name="Phone", key=TOTP_KEY_HEX, confirmed=True)
    client = client_for(developer)
    token = csrf_token_for(client, PROFILE)
    with time_machine.travel(timezone.now() + timedelta(minutes=11), tick=False):
        asked = client.post(CREATE, NEW_KEY, headers=htmx_headers(token))
        assert "Confirm it's you" in asked.content.decode()
        refused = client.post(
            CREATE, NEW_KEY | {stepup.CODE_FIELD: PASSWORD}, headers=htmx_headers(token)
        )
        assert not ApiKey.objects.exists() and refused.status_code in (200, 400, 422)
        done = client.post(
            CREATE, NEW_KEY | {stepup.CODE_FIELD: totp_code()}, headers=htmx_headers(token)
        )
    assert "It will not be shown again" in done.content.decode()
    assert ApiKey.objects.count() == 1


def test_a_lost_factor_recovery_ends_every_session_of_the_user(
    developer, root, client_for, django_capture_on_commit_callbacks
):
    phone, laptop = client_for(developer), client_for(developer)
    for client in (phone, laptop):
        assert client.get(PROFILE).status_code == 200
    assert UserSession.objects.filter(user=developer).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.reset_second_factors(user=developer, actor=root)
    assert not UserSession.objects.filter(user=developer).exists()
    for client in (phone, laptop):
        assert client.get(PROFILE).status_code == 302  # to the sign-in page
