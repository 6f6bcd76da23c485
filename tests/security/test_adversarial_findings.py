"""What an adversarial run against a production-like server found, pinned so it stays fixed."""

import pytest
from django.test import Client
from django.urls import reverse

from apikeys.models import ApiKey
from tenants.models import Event
from tests.helpers import csrf_token_for

FORM_IN = "application/x-www-form-urlencoded; charset={}"


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ascii"])
@pytest.mark.parametrize("url", ["/accounts/sign-in/", "/system/login/"])
def test_a_form_posted_in_another_charset_than_utf8_is_a_400(db, url, charset):
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_for(client, url)
    response = client.post(
        url,
        data=f"csrfmiddlewaretoken={token}&username=a%40b.c&password=x",
        content_type=FORM_IN.format(charset),
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    assert b"Bad request" in response.content


def test_a_signed_in_form_post_in_another_charset_changes_nothing(client_for, developer, new_key):
    new_key()
    key = ApiKey.objects.get()
    client = client_for(developer)
    url = reverse("apikeys:revoke", args=["acme", key.key_id])
    token = csrf_token_for(client, url)
    response = client.post(
        url,
        data="confirm=1",
        content_type=FORM_IN.format("latin-1"),
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400
    assert ApiKey.objects.get().revoked_at is None


@pytest.mark.parametrize("username", ["a" * 300 + "@x.test", "nul\x00@x.test"])
def test_a_system_sign_in_with_an_odd_username_is_an_ordinary_failed_sign_in(db, username):
    from axes.models import AccessAttempt

    client = Client(enforce_csrf_checks=True)
    token = csrf_token_for(client, "/system/login/")
    response = client.post(
        "/system/login/",
        {"username": username, "password": "wrong", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200
    for attempt in AccessAttempt.objects.all():
        assert len(attempt.username) <= 254 and "\x00" not in attempt.username


@pytest.mark.parametrize(
    "forwarded", ["10.0.0.1, not-an-ip", "999.1.1.1", "1.2.3.4:8080", "[::1]", "A" * 3000]
)
def test_a_forwarded_address_that_is_none_never_blocks_a_portal_write(
    client_for, developer, new_key, settings, forwarded
):
    settings.AXES_IPWARE_PROXY_COUNT = 1  # TRUSTED_PROXY_COUNT=1, as the README advises
    new_key()
    key = ApiKey.objects.get()
    client = client_for(developer)
    url = reverse("apikeys:revoke", args=["acme", key.key_id])
    token = csrf_token_for(client, url)
    response = client.post(url, headers={"X-CSRFToken": token, "X-Forwarded-For": forwarded})
    assert response.status_code in (200, 302)
    assert ApiKey.objects.get().revoked_at is not None
    assert Event.objects.get(action=Event.Action.KEY_REVOKED).ip_address is None


def test_a_forwarded_address_is_kept_when_it_is_one(client_for, developer, new_key, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    new_key()
    key = ApiKey.objects.get()
    client = client_for(developer)
    url = reverse("apikeys:disable", args=["acme", key.key_id])
    token = csrf_token_for(client, url)
    client.post(url, headers={"X-CSRFToken": token, "X-Forwarded-For": "203.0.113.7"})
    assert Event.objects.get(action=Event.Action.KEY_DISABLED).ip_address == "203.0.113.7"


def test_a_chunked_body_without_a_length_is_a_411_problem(api, new_key):
    response = api(
        "POST",
        "/customers",
        new_key(),
        raw='{"name": "chunked-co"}',
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
    )
    assert response.status_code == 411
    assert response["Content-Type"] == "application/problem+json"


def test_a_bad_host_is_logged_as_one_line_without_a_traceback(db):
    import io
    import logging

    from portal.logs import WithoutTraceback

    (handler,) = [
        handler
        for handler in logging.getLogger("django.security").handlers
        if any(isinstance(f, WithoutTraceback) for f in handler.filters)
    ]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        assert Client().get("/api/health", HTTP_HOST="evil.test").status_code == 400
    finally:
        handler.setStream(previous)
    logged = stream.getvalue()
    assert "Invalid HTTP_HOST header: 'evil.test'" in logged
    assert "Traceback" not in logged and len(logged.strip().splitlines()) == 1
