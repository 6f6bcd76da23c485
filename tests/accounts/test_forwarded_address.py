"""Sign-in throttling reads the client address through `web.http.client_ip`, the helper the
request log, events and network allowlists use, so TRUSTED_PROXY_COUNT means one thing."""

import pytest
from axes.helpers import get_client_ip_address
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import PASSWORD
from tests.helpers import csrf_token_for
from web.http import client_ip

LOGIN = reverse("login")


def _sign_in(client, email, password, forwarded):
    token = csrf_token_for(client, LOGIN)
    return client.post(
        LOGIN,
        {"username": email, "password": password},
        headers={"X-CSRFToken": token, "X-Forwarded-For": forwarded},
        REMOTE_ADDR="10.9.9.9",  # the proxy
    )


@pytest.mark.parametrize("proxies", [None, 1])
@pytest.mark.parametrize(
    "forwarded", ["203.0.113.5", "192.0.2.1, 2001:db8::5", "not-an-ip", "1.2.3.4:80", ""]
)
def test_axes_and_the_allowlists_read_the_same_address(settings, proxies, forwarded):
    settings.AXES_IPWARE_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert get_client_ip_address(request) == client_ip(request)


def test_behind_one_proxy_sign_in_locks_the_forwarded_client_not_the_proxy(
    admin, client_for, settings
):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client_for(None), f"guess{n}@acme.test", "wrong", forwarded="203.0.113.5")
    locked = _sign_in(client_for(None), "admin@acme.test", PASSWORD, forwarded="203.0.113.5")
    assert locked.status_code == 429
    # Another client behind the same proxy is not locked out with it.
    other = _sign_in(client_for(None), "admin@acme.test", PASSWORD, forwarded="203.0.113.6")
    assert other.status_code == 302


def test_a_hostile_forwarded_address_at_sign_in_is_an_ordinary_attempt(admin, client_for, settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    wrong = _sign_in(client_for(None), "admin@acme.test", "wrong", forwarded="<script>")
    assert wrong.status_code == 200 and "not correct" in wrong.content.decode()
    response = _sign_in(client_for(None), "admin@acme.test", PASSWORD, forwarded="<script>")
    assert response.status_code == 302
