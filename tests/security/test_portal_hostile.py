"""Hostile query strings, path segments and form bodies at every portal page, as every
persona: never a 5xx, and a refused request changes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.conftest import CSRF, difference, snapshot
from tests.security.portal_requests import portal_request, refused, send
from tests.security.targets import PORTAL

HOSTILE = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE_FEW = settings(HOSTILE, max_examples=8)

CASES = [
    pytest.param(target, method, id=f"{target.name}-{method}")
    for target in PORTAL
    for method in target.methods
]
READ_ONLY = [
    pytest.param(target, id=target.name) for target in PORTAL if target.methods == ("GET",)
]


def describe(request, response) -> str:
    return (
        f"{request['persona']} {request['method']} {request['path'][:200]}"
        f"?{request['query'][:300]} "
        f"body={request['body'][:300]!r} headers={request['headers']} csrf={request['csrf']} "
        f"-> {response.status_code} {response.get('Location', '')}"
    )


@pytest.mark.parametrize(("target", "method"), CASES)
@HOSTILE
@given(data=st.data())
def test_no_portal_input_gets_a_server_error_or_changes_anything_when_refused(
    world, target, method, data
):
    request = data.draw(portal_request(target, method, world))
    before = snapshot()
    response = send(world.clients[request["persona"]], request, CSRF)
    assert response.status_code < 500, describe(request, response)
    if method == "GET" or refused(response):
        changed = difference(before, snapshot())
        assert not changed, f"{describe(request, response)} changed {changed}"


@pytest.mark.parametrize(("target", "method"), CASES)
@HOSTILE_FEW
@given(data=st.data())
def test_people_without_a_place_in_acme_change_nothing_there(world, target, method, data):
    """Outsiders and anonymous visitors: whatever they send to acme's pages is refused."""
    if not target.path.startswith("/t/"):
        return
    request = data.draw(portal_request(target, method, world))
    request["persona"] = data.draw(st.sampled_from(["outsider", "anonymous"]))
    request["path"] = "/t/acme/" + request["path"].split("/", 3)[3]
    before = snapshot()
    response = send(world.clients[request["persona"]], request, CSRF)
    assert refused(response), describe(request, response)
    assert response.status_code in (302, 400, 403, 404, 405), describe(request, response)
    assert not difference(before, snapshot()), describe(request, response)


@pytest.mark.parametrize("target", READ_ONLY)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_read_only_pages_refuse_other_methods_and_stay_unchanged(world, target, method):
    request = {
        "persona": "admin",
        "method": method,
        "path": target.path.format(
            slug="acme",
            key_id=world.dev_key.key_id,
            public_id=world.acme_customer.public_id,
            job_id=world.job.pk,
        ),
        "query": "",
        "body": b"name=x",
        "headers": {},
        "csrf": "valid",
    }
    before = snapshot()
    response = send(world.clients["admin"], request, CSRF)
    assert response.status_code in (404, 405), describe(request, response)
    assert not difference(before, snapshot())
