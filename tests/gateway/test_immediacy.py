"""SECURITY.md 7: revocation, disabling, the tenant switch hold for the very next request in
every process. Two `Verifier`s stand for two worker processes: each has its own cache; they
share only what real workers share (Redis, or the key-state file beside the database)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apikeys import services
from apikeys.models import ApiKey
from gateway import verification
from gateway.verification import Refusal, Verified, Verifier
from tenants.models import Membership
from tenants.services import tenant_settings_update

pytestmark = pytest.mark.django_db(transaction=True)  # real commits, so on_commit runs


@pytest.fixture
def workers():
    return Verifier(), Verifier()


def _ok(worker: Verifier, key: str) -> bool:
    result = worker.verify(key, "production")
    return isinstance(result, Verified)


def _warm(workers, key: str) -> None:
    for worker in workers:
        assert _ok(worker, key)
        assert _ok(worker, key)  # now served from the worker's cache


def test_the_cache_serves_repeat_requests_without_a_query(
    workers, new_key, django_assert_num_queries
):
    key = new_key()
    _warm(workers, key)
    with django_assert_num_queries(0):
        for _ in range(5):
            assert _ok(workers[0], key)


@pytest.mark.parametrize("action", ["revoke", "disable", "regenerate", "delete"])
def test_a_change_to_the_key_holds_in_every_worker_at_once(workers, new_key, developer, action):
    key = new_key()
    _warm(workers, key)
    record = new_key.last
    membership = Membership.objects.get(user=developer)
    getattr(services, f"api_key_{action}")(key=record, membership=membership)
    for worker in workers:
        assert not _ok(worker, key), (action, worker)


def test_switching_api_keys_off_for_the_tenant_holds_at_once(workers, new_key, admin, acme):
    key = new_key()
    _warm(workers, key)
    tenant_settings_update(membership=Membership.objects.get(user=admin), api_keys_enabled=False)
    for worker in workers:
        result = worker.verify(key, "production")
        assert isinstance(result, Refusal) and result.title == "API keys disabled"


def test_deactivating_the_tenant_holds_at_once(workers, new_key, acme):
    from tenants.services import tenant_set_active

    key = new_key()
    _warm(workers, key)
    tenant_set_active(tenant=acme, active=False, actor=None)
    for worker in workers:
        assert not _ok(worker, key)


def test_a_rolled_key_works_until_its_deadline_and_regenerate_ends_it(workers, new_key, developer):
    old = new_key()
    _warm(workers, old)
    membership = Membership.objects.get(user=developer)
    deadline = timezone.now() + timedelta(hours=2)
    _, new = services.api_key_roll(
        key=new_key.last, membership=membership, old_valid_until=deadline
    )
    for worker in workers:
        assert _ok(worker, old) and _ok(worker, new)
    with time_machine.travel(deadline + timedelta(seconds=1)):
        for worker in workers:
            assert not _ok(worker, old) and _ok(worker, new)
    _, newest = services.api_key_regenerate(key=ApiKey.objects.get(), membership=membership)
    for worker in workers:
        assert not _ok(worker, new) and _ok(worker, newest)


def test_revocation_wins_over_a_refill_racing_with_it(workers, new_key, developer, monkeypatch):
    """A worker reads the old row just before a revocation commits, and caches it."""
    key = new_key()
    worker = workers[0]
    record = new_key.last
    membership = Membership.objects.get(user=developer)
    load = verification._load

    def load_then_revoke(key_id):
        row = load(key_id)  # the still-active row...
        services.api_key_revoke(key=record, membership=membership)  # ...revoked right after
        return row

    monkeypatch.setattr(verification, "_load", load_then_revoke)
    assert _ok(worker, key)  # this request began before the revocation: it may pass
    monkeypatch.setattr(verification, "_load", load)
    assert not _ok(worker, key)  # but the very next one is refused
    assert not _ok(workers[1], key)


def test_a_key_created_after_its_id_was_refused_works_at_once(workers, new_key, monkeypatch):
    from apikeys import keyformat

    fixed = "Fixed00000"
    real_new_key_id = keyformat.new_key_id
    guess = keyformat.generate("live", fixed)
    for worker in workers:
        assert not _ok(worker, guess)  # unknown: cached as unknown
    monkeypatch.setattr(keyformat, "new_key_id", lambda: fixed)
    key = new_key()
    monkeypatch.setattr(keyformat, "new_key_id", real_new_key_id)
    for worker in workers:
        assert _ok(worker, key)
