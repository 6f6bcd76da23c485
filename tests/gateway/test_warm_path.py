"""The warm path makes no round trip (issue 15, items 1 and 2): with Redis, a worker trusts its
cached records under a lease renewed by PINGs on its subscription to pushed changes, and
counts requests against tokens it leased in blocks. Revocation still holds for the next
request after the writer returns, across processes too; a stalled or cut channel costs
database lookups, never a stale answer."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from apikeys import services
from apikeys.models import ApiKey
from gateway import keystate
from gateway.verification import Verified, Verifier, verifier
from tenants.models import Membership

with_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="leases and token blocks are made with Redis"
)
ROOT = Path(__file__).resolve().parents[2]


def _works(worker: Verifier, key: str) -> bool:
    result = worker.verify(key, "production")
    return isinstance(result, Verified) and not result.over_limit


def _lease(worker: Verifier) -> keystate._Lease:
    return worker._lease


@with_redis
def test_a_warm_request_makes_no_round_trip(api, new_key, monkeypatch):
    key = new_key(rate_limit=100_000)  # a block of 1,562 tokens per worker
    assert api("GET", "/me", key).status_code == 200
    assert api("GET", "/me", key).status_code == 200
    state = keystate.state()

    def no_round_trip(*args, **kwargs):
        pytest.fail("a round trip on the warm path")

    monkeypatch.setattr(state, "begin_grant", no_round_trip)
    monkeypatch.setattr(state, "grant", no_round_trip)
    monkeypatch.setattr(keystate._Lease, "_renew", no_round_trip)
    monkeypatch.setattr(keystate._Connection, "receive", no_round_trip)
    for _ in range(20):
        assert api("GET", "/me", key).status_code == 200


@with_redis
def test_a_busy_worker_renews_its_lease_ahead_without_waiting(new_key, settings, monkeypatch):
    key = new_key(rate_limit=100_000)
    worker = Verifier()
    assert _works(worker, key)
    renewals = []
    renew = keystate._Lease._renew
    monkeypatch.setattr(keystate._Lease, "_renew", lambda self: renewals.append(1) or renew(self))
    until = time.monotonic() + 4 * settings.KEY_LEASE_MS / 1000
    requests = 0
    while time.monotonic() < until:
        assert _works(worker, key)
        requests += 1
        time.sleep(0.002)
    # The PINGs sent ahead were answered while the worker served requests: it never waited.
    assert requests > 20 and renewals == []


@with_redis
def test_an_idle_worker_renews_its_lease_by_one_round_trip_before_it_trusts_its_cache(
    new_key, settings, monkeypatch, django_assert_num_queries
):
    key = new_key()
    worker = Verifier()
    assert _works(worker, key)
    time.sleep(2 * settings.KEY_LEASE_MS / 1000)
    renewals = []
    renew = keystate._Lease._renew
    monkeypatch.setattr(keystate._Lease, "_renew", lambda self: renewals.append(1) or renew(self))
    with django_assert_num_queries(0):
        assert _works(worker, key)
    assert renewals == [1]


@with_redis
@pytest.mark.django_db(transaction=True)
def test_a_writer_waits_out_the_lease_only_when_a_worker_listens(new_key, developer, settings):
    key = new_key()
    record, membership = new_key.last, Membership.objects.get(user=developer)
    started = time.monotonic()
    services.api_key_update(
        key=record, membership=membership, name="Nobody listens", description=""
    )
    alone = time.monotonic() - started
    worker = Verifier()
    assert _works(worker, key)
    started = time.monotonic()
    services.api_key_update(
        key=record, membership=membership, name="A worker listens", description=""
    )
    listened = time.monotonic() - started
    lease = settings.KEY_LEASE_MS / 1000
    assert alone < lease <= listened


@with_redis
@pytest.mark.django_db(transaction=True)
def test_a_change_is_read_before_the_lease_that_follows_it_is_trusted(new_key):
    """The lease alone, without the writer's wait: once the lease taken before a change was
    published has run out, the PING that renews it brings the change first."""
    key = new_key()
    worker = Verifier()
    assert _works(worker, key)
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")  # no service: nothing published
    time.sleep(keystate.lease_seconds() * 1.1)
    # The lease has run out: renewing it reads nothing new, so the record stays cached...
    assert _works(worker, key)
    # ...but a change pushed now is read with the PING that renews the next lease.
    state = keystate.state()
    state._send_publish(ApiKey.objects.get().key_id, state._connection())
    time.sleep(keystate.lease_seconds() * 1.1)
    assert not _works(worker, key)


@with_redis
@pytest.mark.django_db(transaction=True)
def test_a_cut_subscription_costs_database_lookups_then_an_empty_cache(
    new_key, django_assert_num_queries
):
    key = new_key()
    worker = Verifier()
    assert _works(worker, key) and _works(worker, key)
    keystate.state().client.client_kill_filter(_type="pubsub")
    ApiKey.objects.update(is_active=False)  # a change whose message the worker cannot get
    # The next request notices the cut and is verified against the database.
    with django_assert_num_queries(1):
        assert not _works(worker, key)
    keystate.state()._down_until = 0.0
    # Subscribed again, the worker starts from an empty cache: its records may be stale.
    ApiKey.objects.update(is_active=True)
    with django_assert_num_queries(1):
        assert _works(worker, key)


@with_redis
@pytest.mark.django_db(transaction=True)
def test_a_stalled_channel_costs_database_lookups_never_a_stale_answer(
    new_key, django_assert_num_queries
):
    key = new_key()
    worker = Verifier()
    assert _works(worker, key) and _works(worker, key)
    lease = _lease(worker)
    # A stalled channel: the PINGs go out, no answer comes back.
    monkeypatch_events = lease._events
    lease._events = lambda timeout: []
    try:
        ApiKey.objects.update(is_active=False)  # its message will never arrive
        time.sleep(keystate.lease_seconds() * 1.1)
        started = time.monotonic()
        with django_assert_num_queries(1):
            assert not _works(worker, key)
        assert time.monotonic() - started < keystate.TIMEOUT * 2  # one timeout, not more
        with django_assert_num_queries(1):  # and meanwhile: the database, quickly
            assert not _works(worker, key)
    finally:
        lease._events = monkeypatch_events


@with_redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_resubscribes_forgets_what_it_cached(new_key, django_assert_num_queries):
    key = new_key()
    worker = Verifier()
    assert _works(worker, key)
    _lease(worker).close()
    with django_assert_num_queries(1):
        assert _works(worker, key)


# Rate limits: token blocks.


def test_small_limits_take_one_token_at_a_time_and_large_ones_a_sixty_fourth():
    assert [keystate.block_size(n) for n in (1, 20, 127, 128, 6_400, 100_000)] == [
        1,
        1,
        1,
        2,
        100,
        1_562,
    ]


@with_redis
@pytest.mark.django_db(transaction=True)
def test_two_workers_holding_blocks_never_admit_more_than_the_limit(new_key):
    key = new_key(rate_limit=256)  # blocks of 4
    keystate.state().reset()
    workers = [Verifier(), Verifier()]
    admitted = sum(_works(workers[i % 2], key) for i in range(300))
    assert admitted == 256


@with_redis
@pytest.mark.django_db(transaction=True)
def test_many_workers_with_blocks_racing_admit_exactly_the_limit(new_key):
    key = new_key(rate_limit=640)  # blocks of 10
    keystate.state().reset()
    clients = [Verifier() for _ in range(8)]
    start = threading.Barrier(8)
    admitted = []

    def call(worker: Verifier) -> None:
        start.wait()
        admitted.append(sum(_works(worker, key) for _ in range(100)))
        connection.close()

    threads = [threading.Thread(target=call, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 800 requests for 640 tokens: never one over the limit; at most the rest of one block
    # per worker can be left unspent by a worker that made its last request.
    assert 640 - 8 * 9 <= sum(admitted) <= 640


@with_redis
def test_the_ratelimit_header_counts_every_token_a_block_handed_out(api, new_key):
    key = new_key(rate_limit=1_280)  # blocks of 20
    remaining = [
        int(api("GET", "/me", key)["RateLimit"].split(";")[1].removeprefix("r=")) for _ in range(25)
    ]
    assert remaining == list(range(1_279, 1_254, -1))


@with_redis
@pytest.mark.django_db(transaction=True)
def test_a_lowered_limit_gives_back_the_tokens_a_worker_held(new_key, developer):
    key = new_key(rate_limit=6_400)  # a block of 100
    keystate.state().reset()
    worker = Verifier()
    for _ in range(3):
        assert _works(worker, key)
    services.api_key_update(
        key=new_key.last,
        membership=Membership.objects.get(user=developer),
        name="Integration",
        description="",
        rate_limit=10,
    )
    # 3 used; the other 97 of the block were given back: 7 more fit under the new limit.
    assert [_works(worker, key) for _ in range(8)] == [True] * 7 + [False]


@with_redis
def test_an_answer_nobody_read_never_answers_a_later_request(api, new_key):
    key, other = new_key(rate_limit=100), new_key(rate_limit=100, name="Other")
    assert api("GET", "/me", key)["RateLimit"].startswith('"per-key";r=99;')
    for _ in range(2):
        assert api("GET", "/me", other).status_code == 200
    assert api("GET", "/no-such-endpoint", other).status_code == 404
    response = api("GET", "/me", key)
    assert response["RateLimit"].startswith('"per-key";r=98;')  # its own count, not other's


def test_a_request_that_no_endpoint_logs_consumes_no_quota(api, new_key):
    key = new_key(rate_limit=100)
    assert api("GET", "/me", key)["RateLimit"].startswith('"per-key";r=99;')
    assert api("GET", "/no-such-endpoint", key).status_code == 404
    assert api("POST", "/me", key).status_code == 405
    assert api("GET", "/api/health", key).status_code == 200
    assert api("GET", "/api/production/v2/me", key).status_code == 404
    assert api("GET", "/me", key)["RateLimit"].startswith('"per-key";r=98;')


def test_a_forged_first_sighting_gives_its_token_back(new_key):
    from apikeys import keyformat

    key = new_key(rate_limit=2)
    forged = keyformat.generate("live", keyformat.parse(key).key_id)
    for _ in range(3):
        verifier.clear()  # every forged request is a first sighting
        assert not _works(verifier, forged)
    assert [_works(verifier, key) for _ in range(3)] == [True, True, False]


# Two processes: each its own cache, subscription and connections ("two hosts").

WORKER = """
import sys
import django
django.setup()
from gateway.verification import Verified, Verifier
worker = Verifier()
print("ready", flush=True)
for line in sys.stdin:
    result = worker.verify(line.strip(), "production")
    print("ok" if isinstance(result, Verified) else "refused", flush=True)
"""


def _test_database_url() -> str:
    """The test database, for another process to share."""
    database = connection.settings_dict
    return (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


with_postgres_and_redis = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL")),
    reason="another process shares the test database only on PostgreSQL",
)


@pytest.fixture
def other_process(settings):
    env = os.environ | {
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "KEY_STATE_PREFIX": settings.KEY_STATE_PREFIX,
        "KEY_LEASE_MS": str(settings.KEY_LEASE_MS),
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "ready"

    def ask(key: str) -> str:
        process.stdin.write(key + "\n")
        process.stdin.flush()
        return process.stdout.readline().strip()

    yield ask
    process.stdin.close()
    process.wait(timeout=10)


@with_postgres_and_redis
@pytest.mark.django_db(transaction=True)
def test_a_revoke_here_is_refused_by_a_worker_in_another_process_at_once(
    other_process, new_key, developer
):
    keys = [new_key(name=f"Key {n}") for n in range(5)]
    membership = Membership.objects.get(user=developer)
    for key in keys:
        assert other_process(key) == "ok"
        assert other_process(key) == "ok"  # cached there, its lease live
    for key, record in zip(keys, ApiKey.objects.order_by("pk"), strict=True):
        assert other_process(key) == "ok"
        services.api_key_revoke(key=record, membership=membership)
        assert other_process(key) == "refused"  # the very next request after the return


@with_postgres_and_redis
@pytest.mark.django_db(transaction=True)
def test_a_revoke_from_another_process_is_refused_here_at_once(new_key):
    key = new_key()
    worker = Verifier()
    assert _works(worker, key) and _works(worker, key)
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        "DATABASE_URL": _test_database_url(),
    }
    subprocess.run(
        [sys.executable, "manage.py", "revoke_api_key", ApiKey.objects.get().key_id],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    assert not _works(worker, key)


@with_postgres_and_redis
@pytest.mark.django_db(transaction=True)
def test_a_worker_in_another_process_asks_the_database_while_its_redis_stalls(
    redis_server, other_process, new_key
):
    key = new_key()
    assert other_process(key) == "ok" and other_process(key) == "ok"
    os.kill(redis_server.pid, signal.SIGSTOP)
    try:
        # A change nobody could publish (Redis is stalled): the lease runs out meanwhile, so
        # the other process cannot trust its copy and asks the database.
        ApiKey.objects.update(is_active=False)
        time.sleep(keystate.lease_seconds() * 1.1)
        assert other_process(key) == "refused"
        ApiKey.objects.update(is_active=True)
        assert other_process(key) == "ok"  # the database decides, not the cache
    finally:
        os.kill(redis_server.pid, signal.SIGCONT)


@pytest.mark.django_db(transaction=True)
def test_changes_in_one_transaction_are_published_once_after_its_commit(
    new_key, developer, monkeypatch
):
    from django.db import transaction

    keys = [new_key(name=f"Key {n}") for n in range(3)]
    membership = Membership.objects.get(user=developer)
    published = []
    backend = type(keystate.state())
    real_publish = backend.publish
    monkeypatch.setattr(
        backend,
        "publish",
        lambda self, key_ids, tenant: (
            published.append((list(key_ids), tenant)) or real_publish(self, key_ids, tenant)
        ),
    )
    with transaction.atomic():
        for record in ApiKey.objects.all():
            services.api_key_revoke(key=record, membership=membership)
        assert published == []  # nothing before the commit
    assert published == [(sorted(ApiKey.objects.values_list("key_id", flat=True)), False)]
    worker = Verifier()
    assert not any(_works(worker, key) for key in keys)
