"""The key check is sent before Django routes an API request (gateway.middleware.
ApiKeyCheckMiddleware, first of settings.API_MIDDLEWARE), and the endpoint reads its answer:
one round trip, never a stale one."""

import os

import pytest
from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.test import RequestFactory

from apikeys import keyformat
from gateway import keystate
from gateway.middleware import ApiKeyCheckMiddleware
from gateway.verification import Check, Verified, verifier

with_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="the early check is only made with Redis"
)


@with_redis
def test_the_check_is_under_way_before_the_rest_of_django_sees_the_request(api, new_key):
    key = new_key()
    api("GET", "/me", key)  # this worker now holds the key's record
    seen = {}

    def rest_of_django(request):
        check = request.api_key_check
        seen["in flight"] = isinstance(check, Check) and check.answer is not None
        return HttpResponse()

    request = RequestFactory().get("/api/production/v1/me", HTTP_AUTHORIZATION=f"Bearer {key}")
    ApiKeyCheckMiddleware(rest_of_django)(request)
    assert seen == {"in flight": True}
    # Before all else: an API request leaves MIDDLEWARE at its first entry, and the check is
    # the first of API_MIDDLEWARE.
    assert settings.MIDDLEWARE[0] == "portal.middleware.ApiRouteMiddleware"
    assert settings.API_MIDDLEWARE[0] == "gateway.middleware.ApiKeyCheckMiddleware"


@with_redis
def test_a_warm_request_makes_exactly_the_one_round_trip_begun_early(api, new_key, monkeypatch):
    key = new_key()
    api("GET", "/me", key)
    state = keystate.state()
    begun = []
    begin = state.begin
    monkeypatch.setattr(
        state, "begin", lambda *args, **kw: begun.append(args) or begin(*args, **kw)
    )
    monkeypatch.setattr(state, "check", lambda *args, **kw: pytest.fail("a second round trip"))
    assert api("GET", "/me", key).status_code == 200
    assert len(begun) == 1


@with_redis
def test_an_answer_nobody_read_never_answers_a_later_request(api, new_key):
    key, other = new_key(rate_limit=100), new_key(rate_limit=100, name="Other")
    assert api("GET", "/me", key)["RateLimit"].startswith('"per-key";r=99;')
    for _ in range(2):
        assert api("GET", "/me", other).status_code == 200
    # Routed nowhere: the endpoint that would read the early check (other's third count)
    # never runs.
    assert api("GET", "/no-such-endpoint", other).status_code == 404
    response = api("GET", "/me", key)
    assert response["RateLimit"].startswith('"per-key";r=98;')  # its own count, not other's


@with_redis
def test_a_request_that_no_endpoint_logs_consumes_no_quota(api, new_key):
    key = new_key(rate_limit=100)
    assert api("GET", "/me", key)["RateLimit"].startswith('"per-key";r=99;')
    assert api("GET", "/no-such-endpoint", key).status_code == 404
    assert api("POST", "/me", key).status_code == 405
    assert api("GET", "/api/health", key).status_code == 200
    assert api("GET", "/api/production/v2/me", key).status_code == 404
    assert api("GET", "/me", key)["RateLimit"].startswith('"per-key";r=98;')


def test_a_check_begun_for_another_key_is_ignored(new_key):
    first, second = new_key(name="First"), new_key(name="Second")
    verifier.verify(first, "production")
    verifier.verify(second, "production")
    result = verifier.verify(second, "production", verifier.start(first))
    assert isinstance(result, Verified) and result.record.name == "Second"


def test_without_redis_there_is_no_early_check(settings):
    settings.REDIS_URL = ""
    with pytest.raises(MiddlewareNotUsed):
        ApiKeyCheckMiddleware(HttpResponse)


def test_a_request_without_a_bearer_key_is_not_checked_early(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # never reached: nothing to check

    def rest_of_django(request):
        assert not hasattr(request, "api_key_check")
        return HttpResponse()

    factory = RequestFactory()
    middleware = ApiKeyCheckMiddleware(rest_of_django)
    middleware(factory.get("/api/production/v1/me"))
    key = keyformat.generate("live")  # well-formed: it would be checked on an API path
    middleware(factory.get("/api/production/v1/me", HTTP_AUTHORIZATION=f"Basic {key}"))
    middleware(factory.get("/t/acme/keys/", HTTP_AUTHORIZATION=f"Bearer {key}"))
