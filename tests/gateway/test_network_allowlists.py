"""Issue 16, item 4: a key's network allowlist, at request time. The client address is the
one sign-in throttling and the request log use (web.http.client_ip, TRUSTED_PROXY_COUNT)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys import keyformat, services
from apikeys.models import ApiKey, RequestLog
from gateway.usage import buffer
from gateway.verification import Verified, verifier
from tenants.models import Membership

V4, V6 = "203.0.113.0/24", "2001:db8:1::/48"
INSIDE_V4, OUTSIDE_V4 = "203.0.113.77", "198.51.100.5"
INSIDE_V6, OUTSIDE_V6 = "2001:db8:1::9", "2001:db8:2::9"


def _from(proxies: int, address: str) -> dict:
    """The request metadata that makes `address` the client behind `proxies` proxies."""
    if proxies == 0:
        return {"REMOTE_ADDR": address, "HTTP_X_FORWARDED_FOR": "192.0.2.200"}
    return {"REMOTE_ADDR": "10.9.9.9", "HTTP_X_FORWARDED_FOR": f"192.0.2.200, {address}"}


@pytest.fixture
def proxied(settings):
    def set_count(proxies: int) -> None:
        settings.AXES_IPWARE_PROXY_COUNT = proxies or None

    return set_count


@pytest.mark.parametrize("proxies", [0, 1])
@pytest.mark.parametrize(
    ("address", "admitted"),
    [(INSIDE_V4, True), (OUTSIDE_V4, False), (INSIDE_V6, True), (OUTSIDE_V6, False)],
)
def test_an_allowlist_admits_its_ranges_and_refuses_the_rest_through_0_and_1_proxies(
    api, new_key, proxied, proxies, address, admitted
):
    proxied(proxies)
    key = new_key(allowed_networks=[V4, V6])
    response = api("GET", "/me", key, **_from(proxies, address))
    assert response.status_code == (200 if admitted else 403)
    if not admitted:
        assert response["Content-Type"] == "application/problem+json"
        problem = json.loads(response.content)
        assert problem["title"] == "Address not allowed"
        assert address in problem["detail"]


def test_without_a_trusted_proxy_a_forwarded_address_is_not_believed(api, new_key, proxied):
    proxied(0)
    key = new_key(allowed_networks=[V4])
    response = api("GET", "/me", key, REMOTE_ADDR=OUTSIDE_V4, HTTP_X_FORWARDED_FOR=INSIDE_V4)
    assert response.status_code == 403
    assert OUTSIDE_V4 in json.loads(response.content)["detail"]


def test_behind_one_proxy_the_proxys_own_address_is_not_the_client(api, new_key, proxied):
    proxied(1)
    key = new_key(allowed_networks=[V4])
    # The proxy sits inside the range; the client it reports does not.
    response = api("GET", "/me", key, REMOTE_ADDR=INSIDE_V4, HTTP_X_FORWARDED_FOR=OUTSIDE_V4)
    assert response.status_code == 403
    # A client-supplied entry before the one the proxy appended is ignored.
    spoofed = {"REMOTE_ADDR": "10.9.9.9", "HTTP_X_FORWARDED_FOR": f"{INSIDE_V4}, {OUTSIDE_V4}"}
    assert api("GET", "/me", key, **spoofed).status_code == 403


@pytest.mark.parametrize(
    "forwarded", ["10.0.0.1, not-an-ip", "999.1.1.1", "1.2.3.4:8080", "[::1]", "A" * 3000, ""]
)
def test_a_hostile_forwarded_address_is_refused_and_never_crashes(api, new_key, proxied, forwarded):
    proxied(1)
    key = new_key(allowed_networks=["0.0.0.0/0", "::/0"])  # every real address
    response = api("GET", "/me", key, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=forwarded)
    if forwarded == "":
        assert response.status_code == 200  # no header: REMOTE_ADDR, which is in ::/0 ... 0/0
    else:
        assert response.status_code == 403
        assert "could not be read" in json.loads(response.content)["detail"]


def test_an_ipv4_client_seen_as_ipv4_mapped_ipv6_matches_an_ipv4_range(api, new_key):
    key = new_key(allowed_networks=[V4])
    assert api("GET", "/me", key, REMOTE_ADDR=f"::ffff:{INSIDE_V4}").status_code == 200
    assert api("GET", "/me", key, REMOTE_ADDR=f"::ffff:{OUTSIDE_V4}").status_code == 403


def test_a_key_without_an_allowlist_works_from_anywhere(api, new_key):
    key = new_key()
    for address in (INSIDE_V4, OUTSIDE_V4, OUTSIDE_V6):
        assert api("GET", "/me", key, REMOTE_ADDR=address).status_code == 200


def test_a_refused_address_is_logged_like_any_refusal(api, new_key):
    key = new_key(allowed_networks=[V4])
    api("GET", "/me", key, REMOTE_ADDR=OUTSIDE_V4)
    assert buffer.flush() == 1
    log = RequestLog.objects.get()
    assert (log.status, str(log.client_ip), log.key_id) == (
        403,
        OUTSIDE_V4,
        keyformat.parse(key).key_id,
    )


def test_the_record_holds_the_parsed_ranges_and_a_warm_request_makes_no_query(api, new_key):
    key = new_key(allowed_networks=[V4, V6])
    verified = verifier.verify(key, "production")
    assert isinstance(verified, Verified)
    assert [str(n) for n in verified.record.networks] == [V4, V6]
    api("GET", "/me", key, REMOTE_ADDR=INSIDE_V4)
    with CaptureQueriesContext(connection) as queries:
        for address in (INSIDE_V4, OUTSIDE_V4, INSIDE_V6):
            api("GET", "/me", key, REMOTE_ADDR=address)
    assert len(queries) == 0


def test_a_stored_range_that_no_longer_parses_admits_nobody(api, new_key):
    key = new_key()
    ApiKey.objects.filter(pk=new_key.last.pk).update(allowed_networks=["not a range"])
    verifier.clear()
    assert api("GET", "/me", key, REMOTE_ADDR=INSIDE_V4).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_an_edited_allowlist_holds_from_the_next_request(api, new_key, developer):
    key = new_key()
    assert api("GET", "/me", key, REMOTE_ADDR=OUTSIDE_V4).status_code == 200
    record = new_key.last
    services.api_key_update(
        key=record,
        membership=Membership.objects.get(user=developer),
        name=record.name,
        description=record.description,
        allowed_networks=[V4],
    )
    assert api("GET", "/me", key, REMOTE_ADDR=OUTSIDE_V4).status_code == 403
    assert api("GET", "/me", key, REMOTE_ADDR=INSIDE_V4).status_code == 200
