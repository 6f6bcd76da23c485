"""Hostile requests to the portal get the 4xx a user expects, never a 500 (SECURITY.md 27)."""

import pytest
from django.test import Client

from apikeys.models import ApiKey
from tenants.context_processors import tenant_navigation
from tests.helpers import csrf_token_for, htmx_headers

EVERY_KIND_OF_URL = [
    "/",
    "/favicon.ico",
    "/accounts/sign-in/",
    "/t/acme/",
    "/t/acme/keys/",
    "/api/health",
    "/api/production/v1/me",
    "/api/production/v1/openapi.json",
    "/api/nowhere/v1/me",
    "/api/system/v1/tenants",
    "/api/provider/v1/usage",
    "/system/",
    "/no/such/page",
]


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_a_host_outside_allowed_hosts_is_a_plain_400_on_every_url(admin, signed_in):
    client = Client(raise_request_exception=False)
    if signed_in:
        client.force_login(admin)
    for url in EVERY_KIND_OF_URL:
        response = client.get(url, HTTP_HOST="evil.example")
        assert response.status_code == 400, (url, response.status_code)
        assert "Bad request" in response.content.decode()
    # A POST too: the refusal comes before CSRF, sessions and sign-in.
    assert client.post("/accounts/sign-in/", HTTP_HOST="evil.example").status_code == 400


def test_the_navigation_context_is_empty_before_authentication_ran(rf):
    assert tenant_navigation(rf.get("/")) == {}


@pytest.mark.parametrize(
    "url",
    [
        "/t/acme/customers/?q=a%00b",
        "/t/acme/jobs/?key=%00",
        "/t/acme/keys/?q=%00",
        "/t/acme/keys/?owner=a%00@b.test",
        "/t/acme/logs/?key=%00",
        "/t/acme/events/?q=%00",
        "/t/acme/keys/?page=1%00",
        "/t/acme/keys/%00/",
        "/t/acme/customers/cus_%00/",
        "/t/acme%00/",
        "/accounts/sign-in/?next=/%00",
    ],
)
def test_a_nul_in_a_portal_query_string_or_path_is_a_400(admin, client_for, url):
    client = client_for(admin)
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == 400, response.status_code
    assert "Bad request" in response.content.decode()


@pytest.mark.parametrize("suffix", ["row", "download"])
@pytest.mark.parametrize(
    "job_id", ["not-a-uuid", "12345", "0" * 40, "\u0661" * 32, "%F0%9F%92%A5"], ids=str
)
def test_a_malformed_job_id_in_a_portal_url_is_a_404(admin, client_for, job_id, suffix):
    client = client_for(admin)
    client.raise_request_exception = False
    assert client.get(f"/t/acme/jobs/{job_id}/{suffix}/").status_code == 404


@pytest.mark.parametrize("value", ["²", "٣", "\uff11\uff10\uff10", "-5", "9" * 5000, "1e3"])
def test_portal_page_numbers_with_anything_but_ascii_digits_show_the_first_default_page(
    admin, developer, client_for, acme, value
):
    client = client_for(admin)
    client.raise_request_exception = False
    for url in ["/t/acme/keys/", "/t/acme/customers/", "/t/acme/jobs/", "/t/acme/logs/"]:
        for name in ("page", "per_page"):
            response = client.get(url, {name: value})
            assert response.status_code == 200, (url, name, response.status_code)
    assert client.get("/t/acme/keys/", {"per_page": value}).context["page"].paginator.per_page == 25


def test_a_console_page_size_is_read_from_ascii_digits(admin, client_for, acme):
    page = client_for(admin).get("/t/acme/keys/", {"per_page": "100"}).context["page"]
    assert page.paginator.per_page == 100 and not ApiKey.objects.exists()


def test_a_posted_key_id_that_cannot_exist_never_reaches_the_database(admin, client_for, acme):
    client = client_for(admin)
    token = csrf_token_for(client, "/t/acme/keys/")
    for key_ids in [["a\x00b"], ["x" * 5000], ["abc\u202edefgh"]]:
        response = client.post(
            "/t/acme/keys/revoke/", {"key": key_ids, "confirm": "yes"}, headers=htmx_headers(token)
        )
        assert response.status_code == 200
