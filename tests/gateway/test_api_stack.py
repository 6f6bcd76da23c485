"""The API pays only for itself: an `/api/` request goes through settings.API_MIDDLEWARE, not
the portal's sessions, authentication, messages, CSRF, CSP and sign-in throttling, and keeps
what protects it; the portal keeps every one of its protections."""

import pytest
from django.test import Client

SEEN: list[str] = []


class Recorder:
    """A middleware that notes the paths it saw."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        SEEN.append(request.path)
        return self.get_response(request)


@pytest.fixture
def recorded():
    SEEN.clear()
    yield SEEN
    SEEN.clear()


RECORDER = f"{__name__}.Recorder"


def test_an_api_request_skips_the_portals_middleware_and_a_portal_request_passes_it(
    settings, recorded, admin, client_for
):
    settings.MIDDLEWARE = [settings.MIDDLEWARE[0], RECORDER, *settings.MIDDLEWARE[1:]]
    client = client_for(admin)
    assert client.get("/api/health").status_code == 200
    assert client.get("/api/production/v1/me").status_code == 401
    assert recorded == []
    assert client.get("/t/acme/").status_code == 200
    assert recorded == ["/t/acme/"]


def test_an_api_request_goes_through_the_api_middleware_and_a_portal_request_does_not(
    settings, recorded, admin, client_for
):
    settings.API_MIDDLEWARE = [*settings.API_MIDDLEWARE, RECORDER]
    client = client_for(admin)
    client.get("/t/acme/")
    client.get("/api/health")
    client.get("/api/production/v1/me")
    assert recorded == ["/api/health", "/api/production/v1/me"]


def test_api_answers_set_no_cookie_and_no_portal_csp_but_keep_their_protections(
    api, new_key, admin, client_for
):
    signed_in = client_for(admin)  # a browser with a portal session calling the API
    key = new_key()
    for response in (
        signed_in.get("/api/health"),
        signed_in.get("/api/production/v1/me"),
        api("GET", "/me", key),
        api("GET", "/nothing-here", key),
        api("POST", "/customers", key, body={"name": ""}),
    ):
        assert not response.cookies, response.cookies
        assert "Content-Security-Policy" not in response
        assert "Vary" not in response or "Cookie" not in response["Vary"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert int(response["Content-Length"]) == len(response.content)


def test_a_portal_session_does_not_authenticate_an_api_call(admin, client_for):
    response = client_for(admin).get("/api/production/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_the_portal_keeps_its_csp_frame_denial_session_and_csrf(admin, client_for):
    page = client_for(admin).get("/t/acme/")
    assert "Content-Security-Policy" in page
    assert page["X-Frame-Options"] == "DENY"
    assert "Cookie" in page["Vary"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin)
    refused = strict.post("/t/acme/settings/", {"api_keys_enabled": "on"})
    assert refused.status_code == 403


def test_the_admin_host_serves_no_api(settings, api):
    settings.SYSTEM_ADMIN_HOST = "system.keyward.test"
    settings.ALLOWED_HOSTS = ["portal.keyward.test", "system.keyward.test"]
    assert api("GET", "/api/health", HTTP_HOST="system.keyward.test").status_code == 404
    assert api("GET", "/api/health", HTTP_HOST="portal.keyward.test").status_code == 200


def test_an_api_request_for_a_host_outside_allowed_hosts_is_a_400(api, new_key):
    key = new_key()
    assert api("GET", "/api/health", HTTP_HOST="evil.test").status_code == 400
    assert api("GET", "/me", key, HTTP_HOST="evil.test").status_code == 400
    assert api("GET", "/me", key).status_code == 200
