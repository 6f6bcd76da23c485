"""What an adversarial run against a production-like server found, pinned so it stays fixed."""

import pytest
from django.test import Client
from django.urls import reverse

from apikeys.models import ApiKey
from tenants.models import Event
from tests.helpers import csrf_token_for

FORM_IN = "application/x-www-form-urlencoded; charset={}"


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "ascii"])
# The system admin site signs in through the portal's sign-in (its own form redirects there).
@pytest.mark.parametrize("url", ["/accounts/sign-in/"])
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
    assert client.get("/system/login/")["Location"] == "/accounts/sign-in/?next=%2Fsystem%2F"
    token = csrf_token_for(client, "/accounts/sign-in/?next=/system/")
    response = client.post(
        "/accounts/sign-in/?next=/system/",
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
    assert response.status_code == 302  # revoked, and redirected (no HTMX)
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


def _wsgi(path: str, content_type: str, method: str = "GET", query: str = "") -> tuple[str, dict]:
    """Call the deployed WSGI application itself (what gunicorn calls), not the test client."""
    import io
    from wsgiref.util import setup_testing_defaults

    from portal.wsgi import application

    environ = {
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_METHOD": method,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": "0",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(b""),
    }
    setup_testing_defaults(environ)
    answer: dict = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    body = b"".join(application(environ, start_response))
    return answer["status"], answer["headers"] | {"body": body}


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset*=bogus''x",
        "multipart/form-data; boundary*=bogus''x",
        "text/plain; charset=utf-7",
        "application/json; charset=cp500",
    ],
)
@pytest.mark.parametrize("path", ["/api/health", "/api/production/v1/me", "/", "/system/"])
def test_a_content_type_django_cannot_use_is_a_400_before_django_sees_it(db, path, content_type):
    status, headers = _wsgi(path, content_type)
    assert status == "400 Bad Request"
    if path.startswith("/api/"):
        assert headers["Content-Type"] == "application/problem+json"
    else:
        assert b"Bad request" in headers["body"]


def test_utf8_in_any_spelling_or_no_charset_passes_the_wsgi_guard(db):
    for content_type in (
        "",
        "application/json",
        "application/json; charset=UTF-8",
        "text/x; charset=utf8",
    ):
        status, _ = _wsgi("/api/health", content_type)
        assert status == "200 OK", content_type


@pytest.mark.parametrize("charset", ["utf-7", "cp500", "latin-1", "utf-16"])
def test_a_query_in_a_charset_that_smuggles_nul_or_a_key_is_refused(
    client_for, admin, new_key, api, charset
):
    client = client_for(admin)
    for url in ("/t/acme/customers/?q=+AAA-", "/t/acme/keys/?q=+2AA-", "/t/acme/jobs/?key=+AAA-"):
        response = client.get(url, CONTENT_TYPE=f"text/plain; charset={charset}")
        assert response.status_code == 400, url
    key = new_key()
    response = api("GET", f"/me?key={key}", key, CONTENT_TYPE=f"text/plain; charset={charset}")
    assert response.status_code == 400  # refused as a parameter before the key is looked at
    assert response["Content-Type"] == "application/problem+json"


@pytest.fixture
def root_client(client_for, db):
    from tests.factories import UserFactory

    return client_for(UserFactory(is_superuser=True, is_staff=True))


@pytest.mark.parametrize(
    "query",
    [
        "created_at__year=0",
        "created_at__year=-1",
        "created_at__year=10000&created_at__month=1",
        "created_at__year=99999999999999999999",
    ],
)
def test_an_admin_date_hierarchy_out_of_range_is_refused_not_a_500(root_client, query):
    for changelist in ("/system/tenants/tenant/", "/system/tenants/event/"):
        response = root_client.get(f"{changelist}?{query}")
        # 400 from the site's guard, or the admin's own redirect to `?e=1` ("bad lookup").
        assert response.status_code in (302, 400), (changelist, response.status_code)


def test_an_admin_action_on_ids_that_are_none_is_a_400(root_client, acme):
    url = "/system/tenants/membership/"
    token = csrf_token_for(root_client, url)
    for selected in ("abc", "", "9" * 30 + "x"):
        response = root_client.post(
            url,
            {"action": "delete_selected", "_selected_action": [selected], "index": "0"},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 400, (selected, response.status_code)


def test_head_is_answered_wherever_get_is(api, new_key):
    key = new_key()
    for path in ("/me", "/customers"):
        response = api("HEAD", path, key)
        assert response.status_code == 200, path
