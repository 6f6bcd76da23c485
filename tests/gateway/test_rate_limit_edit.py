"""Seed 004: "you may need to increase the threshold in the key's settings". A rate limit the
owner changes holds from the very next request, lowered or raised, in every worker."""

import pytest

from apikeys import services
from gateway.verification import Verified, Verifier
from tenants.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, so the publish runs


def _set_limit(key, developer, limit: int) -> None:
    services.api_key_update(
        key=key,
        membership=Membership.objects.get(user=developer),
        name=key.name,
        description=key.description,
        rate_limit=limit,
    )


def test_a_lowered_limit_is_enforced_at_the_next_request(api, new_key, developer):
    secret = new_key(rate_limit=10)
    assert [api("GET", "/me", secret).status_code for _ in range(3)] == [200, 200, 200]
    _set_limit(new_key.last, developer, 3)
    response = api("GET", "/me", secret)
    assert response.status_code == 429
    assert response["RateLimit-Policy"] == '"per-key";q=3;w=60'


def test_a_raised_limit_admits_again_at_once(api, new_key, developer):
    secret = new_key(rate_limit=2)
    assert [api("GET", "/me", secret).status_code for _ in range(3)] == [200, 200, 429]
    _set_limit(new_key.last, developer, 5)
    response = api("GET", "/me", secret)
    assert response.status_code == 200
    assert response["RateLimit-Policy"] == '"per-key";q=5;w=60'


def test_every_worker_sees_the_new_limit(new_key, developer):
    secret = new_key(rate_limit=50)
    workers = Verifier(), Verifier()
    for worker in workers:
        assert isinstance(worker.verify(secret, "production"), Verified)
    _set_limit(new_key.last, developer, 2)
    for worker in workers:
        result = worker.verify(secret, "production")
        assert isinstance(result, Verified) and result.over_limit
