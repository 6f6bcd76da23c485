"""Every way a request can fail to authenticate: 401 problem+json with WWW-Authenticate."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys import keyformat
from apikeys.models import ApiKey


def _refused(response, title: str | None = None) -> dict:
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) >= {"type", "title", "status", "detail"} and body["status"] == 401
    if title:
        assert body["title"] == title, body
    return body


def test_a_valid_key_gets_its_own_description(api, new_key):
    key = new_key(scopes=["usage:read"], name="Main Website Integration")
    response = api("GET", "/me", key)
    assert response.status_code == 200
    assert response.json() == {
        "tenant": "acme",
        "key_id": keyformat.parse(key).key_id,
        "name": "Main Website Integration",
        "environment": "production",
        "scopes": ["usage:read"],
        "rate_limit": 60,
        "expires_on": None,
        "customer_scope": [],
    }


def test_no_key_and_a_non_bearer_header_are_refused(api, db):
    _refused(api("GET", "/me"), "API key required")
    _refused(api("GET", "/me", Authorization="Basic dXNlcjpwYXNz"), "Invalid authorization header")
    _refused(api("GET", "/me", Authorization="Bearer "), "Invalid authorization header")


def test_malformed_keys_and_bad_checksums_are_refused_before_any_query(api, new_key):
    key = new_key()
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")
    with CaptureQueriesContext(connection) as queries:
        for candidate in (
            "nonsense",
            key[:-3],
            broken,
            key.replace("kw_live", "kw_prod"),
            "kw_live_" + "x" * 5000,
        ):
            _refused(api("GET", "/me", candidate), "Invalid API key")
    assert len(queries) == 0


def test_an_unknown_key_and_a_wrong_secret_read_the_same(api, new_key):
    real = keyformat.parse(new_key())
    unknown = keyformat.generate("live")
    wrong_secret = keyformat.generate("live", real.key_id)
    assert _refused(api("GET", "/me", unknown)) == _refused(api("GET", "/me", wrong_secret))


def test_a_key_in_the_url_is_refused(api, new_key):
    key = new_key()
    for query in (f"?api_key={key}", f"?token={key}", f"?q={key}", "?key=anything"):
        body = _refused(api("GET", "/me" + query, key), "API key in the URL")
        assert key not in body["detail"]


def test_a_key_as_a_query_parameter_name_or_inside_a_value_is_refused_too(api, new_key):
    key = new_key()
    for query in (f"?{key}", f"?{key}=1", f"?x_{key}=1", f"?page=1&q=prefix_{key}"):
        body = _refused(api("GET", "/me" + query, key), "API key in the URL")
        assert key not in body["detail"]
    assert api("GET", "/me?page=1", key).status_code == 200


def test_service_keys_are_refused_on_the_tenant_api(api, db):
    _refused(api("GET", "/me", keyformat.generate("svc")), "Invalid API key")


@pytest.mark.parametrize(
    ("change", "title"),
    [
        (
            lambda key, tenant: ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now()),
            "API key revoked",
        ),
        (
            lambda key, tenant: ApiKey.objects.filter(pk=key.pk).update(is_active=False),
            "API key disabled",
        ),
        (
            lambda key, tenant: (
                type(tenant.settings)
                .objects.filter(pk=tenant.settings.pk)
                .update(api_keys_enabled=False)
            ),
            "API keys disabled",
        ),
        (
            lambda key, tenant: type(tenant).objects.filter(pk=tenant.pk).update(is_active=False),
            "Tenant deactivated",
        ),
    ],
)
def test_a_real_key_in_a_refused_state_says_why(api, new_key, acme, change, title):
    # Changed with .update(), which publishes nothing: the first request of a fresh worker
    # reads the database. (Publication itself is tested in test_immediacy.)
    key = new_key()
    change(new_key.last, acme)
    body = _refused(api("GET", "/me", key), title)
    assert key not in body["detail"]


def test_an_expired_key_is_refused_after_its_last_day(api, new_key):
    key = new_key(expires_on=timezone.now().date() + timedelta(days=2))
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert api("GET", "/me", key).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        _refused(api("GET", "/me", key), "API key expired")


def test_a_key_of_another_environment_is_refused_with_the_right_endpoint(api, new_key):
    key = new_key(environment="staging")
    body = _refused(api("GET", "/me", key, environment="production"), "Wrong environment")
    assert "/api/staging/v1/" in body["detail"]
    assert api("GET", "/me", key, environment="staging").status_code == 200


def test_an_unknown_environment_is_a_404(api, new_key):
    for method, path, body in [("GET", "/api/qa/v1/me", None), ("POST", "/api/qa/v1/x", {})]:
        response = api(method, path, new_key(), body=body)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "There is no such environment."
    # No CSRF check stands in the way of the problem answer.
    response = Client(enforce_csrf_checks=True).post("/api/qa/v1/customers")
    assert response.status_code == 404


def test_undeclared_methods_get_405_with_allow(api, new_key):
    response = api("DELETE", "/me", new_key())
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response["Content-Type"] == "application/problem+json"
