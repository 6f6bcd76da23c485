"""Hostile bodies, query parameters, path IDs and headers at every API endpoint, with every
kind of credential: never a 5xx, errors are problem details, a refusal changes nothing."""

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security import known
from tests.security.api_requests import OTHER_METHODS, api_request, describe, send
from tests.security.conftest import difference, snapshot
from tests.security.targets import API

HOSTILE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CASES = [
    pytest.param(target, method, id=f"{target.name}-{method}")
    for target in API
    for method in [*target.methods, "other"]
]


def assert_problem(request, response) -> None:
    """RFC 9457: a JSON problem whose status is the response's."""
    where = describe(request, response)
    assert response["Content-Type"].startswith("application/problem+json"), where
    if request["method"] == "HEAD":
        return
    body = json.loads(response.content)
    assert body["status"] == response.status_code, where
    assert isinstance(body["title"], str) and isinstance(body["detail"], str), where
    assert body["type"].startswith("https://"), where
    if response.status_code == 401:
        assert response["WWW-Authenticate"].startswith("Bearer"), where


@pytest.mark.parametrize(("target", "method"), CASES)
@HOSTILE
@given(data=st.data())
def test_no_api_input_gets_a_server_error_or_an_html_error_or_changes_anything_when_refused(
    world, target, method, data
):
    if method == "other":
        method = data.draw(st.sampled_from([m for m in OTHER_METHODS if m not in target.methods]))
    request = data.draw(api_request(target, method, world))
    before = snapshot()
    response = send(Client(enforce_csrf_checks=True), request)
    assert response.status_code < 500, describe(request, response)
    # Item 10 (NEW): the public GET-only endpoints answer other methods in HTML.
    html_known = target.auth == "none" and method != "GET" and known.HTML_ERRORS_ON_PUBLIC_API.open
    if response.status_code >= 400:
        if not html_known:
            assert_problem(request, response)
        changed = difference(before, snapshot())
        assert not changed, f"{describe(request, response)} changed {changed}"
    if method in ("GET", "HEAD", "OPTIONS"):
        assert not difference(before, snapshot()), describe(request, response)
