import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys import keyformat
from apikeys.models import ApiKey, KeyUsageDay, RequestLog
from gateway import usage
from gateway.usage import LogEntry, buffer
from tests.factories import TenantFactory


def test_a_warm_authenticated_request_makes_no_query_at_all(api, new_key):
    key = new_key()
    api("GET", "/me", key)  # warms this worker's cache
    with CaptureQueriesContext(connection) as queries:
        for _ in range(10):
            assert api("GET", "/me", key).status_code == 200
    assert len(queries) == 0
    assert buffer.pending() == 11


def test_a_flush_writes_the_log_the_daily_count_and_last_used(api, new_key, acme):
    key = new_key(scopes=["usage:read"])
    key_id = keyformat.parse(key).key_id
    api("GET", "/me", key, REMOTE_ADDR="203.0.113.9")
    api("GET", "/customers", key)  # 403: logged too
    assert not RequestLog.objects.exists()
    assert buffer.flush() == 2
    logs = list(RequestLog.objects.order_by("id"))
    assert [(log.method, log.path, log.status) for log in logs] == [
        ("GET", "/api/production/v1/me", 200),
        ("GET", "/api/production/v1/customers", 403),
    ]
    assert logs[0].client_ip == "203.0.113.9" and logs[0].tenant == acme
    assert logs[0].key_id == key_id and logs[0].environment == "production"
    assert logs[0].latency_ms > 0
    assert KeyUsageDay.objects.get(key_id=key_id).requests == 2
    assert ApiKey.objects.get(key_id=key_id).last_used_at is not None
    # Counts add up across flushes.
    api("GET", "/me", key)
    buffer.flush()
    assert KeyUsageDay.objects.get(key_id=key_id).requests == 3


def test_refused_requests_without_a_proven_key_are_not_logged(api, new_key):
    key = new_key()
    api("GET", "/me", keyformat.generate("live", keyformat.parse(key).key_id))
    api("GET", "/me")
    assert buffer.pending() == 0


def test_the_log_never_holds_the_key(api, new_key):
    key = new_key()
    api("GET", "/me", key)
    buffer.flush()
    assert key not in str(list(RequestLog.objects.values()))


def test_purge_deletes_only_old_entries(api, new_key):
    key = new_key()
    api("GET", "/me", key)
    api("GET", "/me", key)
    buffer.flush()
    old = RequestLog.objects.first()
    RequestLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    out = StringIO()
    call_command("purge_request_logs", "--days", "90", stdout=out)
    assert "Deleted 1" in out.getvalue()
    assert RequestLog.objects.count() == 1
    assert KeyUsageDay.objects.get().requests == 2  # usage counts are kept


def test_purge_covers_every_tenant_and_the_system_api_in_batches(acme, globex):
    old, recent = timezone.now() - timedelta(days=100), timezone.now() - timedelta(days=1)
    for tenant in (acme, globex, None):
        for when in (old, old, recent):
            RequestLog.objects.create(
                created_at=when, tenant=tenant, key_id="k", environment="production",
                method="GET", path="/me", status=200, latency_ms=1.0,
            )  # fmt: skip
    out = StringIO()
    call_command("purge_request_logs", "--days", "90", "--batch", "1", stdout=out)
    assert "Deleted 6" in out.getvalue()
    assert set(RequestLog.objects.values_list("tenant_id", "created_at")) == {
        (acme.pk, recent),
        (globex.pk, recent),
        (None, recent),
    }


def test_deleting_a_tenant_deletes_its_log_without_a_database_constraint(acme):
    doomed = TenantFactory()
    for tenant in (doomed, acme):
        RequestLog.objects.create(
            created_at=timezone.now(), tenant=tenant, key_id="k", environment="production",
            method="GET", path="/me", status=200, latency_ms=1.0,
        )  # fmt: skip
    doomed.delete()  # on_delete=CASCADE runs in Django: the log has no foreign key constraint
    assert list(RequestLog.objects.values_list("tenant_id", flat=True)) == [acme.pk]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "apikeys_requestlog")
    assert not [name for name, spec in constraints.items() if spec["foreign_key"]]


def test_a_full_batch_is_written_by_the_worker_after_its_response(api, new_key, settings):
    settings.API_LOG_BACKGROUND = True
    settings.API_LOG_BATCH_SIZE = 3
    settings.API_LOG_FLUSH_SECONDS = 3600
    key = new_key()
    api("GET", "/me", key)
    api("GET", "/me", key)
    assert buffer.pending() == 2 and not RequestLog.objects.exists()
    api("GET", "/me", key)  # fills the batch: written once the response is done
    assert buffer.pending() == 0
    assert RequestLog.objects.count() == 3


def test_an_old_entry_is_written_after_the_next_response_even_if_the_batch_is_not_full(
    api, new_key, settings, monkeypatch
):
    settings.API_LOG_BACKGROUND = True
    settings.API_LOG_BATCH_SIZE = 500
    settings.API_LOG_FLUSH_SECONDS = 2
    key = new_key()
    api("GET", "/me", key)
    assert not RequestLog.objects.exists()
    later = time.monotonic() + 3
    monkeypatch.setattr(usage.time, "monotonic", lambda: later)
    api("GET", "/health-is-elsewhere")  # any response ends a request
    assert RequestLog.objects.count() == 1


def test_after_a_failed_write_the_batch_is_kept_and_retried_later_not_on_every_request(
    api, new_key, settings, monkeypatch
):
    settings.API_LOG_BACKGROUND = True
    settings.API_LOG_BATCH_SIZE = 1
    key = new_key()
    attempts = []

    def failing_atomic(*args, **kwargs):
        attempts.append(1)
        raise DatabaseError("the database is down")

    monkeypatch.setattr(usage.transaction, "atomic", failing_atomic)
    api("GET", "/me", key)
    api("GET", "/me", key)
    assert len(attempts) == 1 and buffer.pending() == 2
    monkeypatch.undo()
    settings.API_LOG_BACKGROUND = True
    settings.API_LOG_BATCH_SIZE = 1
    buffer._retry_at = 0.0  # the retry delay has passed
    api("GET", "/me", key)
    assert RequestLog.objects.count() == 3


def test_a_poisoned_request_is_stored_cleaned_and_the_hundred_after_it_all_count(
    api, new_key, settings
):
    key = new_key(rate_limit=1000)
    key_id = keyformat.parse(key).key_id
    # A NUL in the URL is refused before routing (web.inputs), so it never reaches the log.
    assert api("GET", "/jobs/bad%00id", key).status_code == 400
    api("GET", "/me", key, REMOTE_ADDR="not-an-ip")  # a client address that is none
    api("GET", "/me", key, REMOTE_ADDR="fe80::1%eth0")  # an IPv6 zone: no inet value
    settings.AXES_IPWARE_PROXY_COUNT = 1
    api("GET", "/me", key, HTTP_X_FORWARDED_FOR="<script>")  # as a proxy passed it on
    settings.AXES_IPWARE_PROXY_COUNT = None
    entry = _entry_for(key)
    buffer.record(
        LogEntry(time.time(), *entry[:5], "/api/production/v1/jobs/bad\x00id", *entry[6:])
    )
    buffer.record(
        LogEntry(time.time(), *entry[:5], "/api/production/v1/customers/\udc80", *entry[6:])
    )
    buffer.record(LogEntry(time.time(), *entry[:5], "/" + "x" * 10_000, *entry[6:]))
    for _ in range(100):
        assert api("GET", "/me", key, REMOTE_ADDR="203.0.113.9").status_code == 200
    rejected = buffer.rejected
    assert buffer.flush() == 106
    assert buffer.rejected == rejected and buffer.pending() == 0
    good = RequestLog.objects.filter(path="/api/production/v1/me", client_ip="203.0.113.9")
    assert good.count() == 100
    cleaned = RequestLog.objects.exclude(client_ip="203.0.113.9")
    assert sorted((log.path[:40], str(log.client_ip)) for log in cleaned) == sorted(
        [
            ("/api/production/v1/jobs/bad\ufffdid", "None"),
            ("/api/production/v1/me", "None"),
            ("/api/production/v1/me", "fe80::1"),
            ("/api/production/v1/me", "None"),
            ("/api/production/v1/customers/\ufffd", "None"),
            ("/" + "x" * 39, "None"),
        ]
    )
    assert max(len(log.path) for log in cleaned) == RequestLog._meta.get_field("path").max_length
    assert KeyUsageDay.objects.get(key_id=key_id).requests == 106
    assert ApiKey.objects.get(key_id=key_id).last_used_at is not None


def test_a_row_the_database_refuses_is_set_aside_counted_and_the_rest_written(api, new_key, caplog):
    key = new_key(rate_limit=1000)
    key_id = keyformat.parse(key).key_id
    entry = _entry_for(key)
    # As if cleaning had missed something: rows no database takes, straight into the buffer.
    buffer._logs.append((time.time(), *entry[:6], -1, *entry[7:]))  # a negative status
    buffer._logs.append((time.time(), *entry[:5], "/\udc80-secretish", *entry[6:]))
    if connection.vendor == "postgresql":  # SQLite stores a NUL; PostgreSQL refuses it
        buffer._logs.append((time.time(), *entry[:5], "/\x00-secretish", *entry[6:]))
    poisoned = len(buffer._logs)
    for _ in range(100):
        api("GET", "/me", key)
    rejected = buffer.rejected
    with caplog.at_level("WARNING", logger="keyward.api"):
        assert buffer.flush() == 100
    assert buffer.rejected == rejected + poisoned and buffer.pending() == 0
    assert RequestLog.objects.filter(path="/api/production/v1/me").count() == 100
    assert RequestLog.objects.count() == 100
    assert KeyUsageDay.objects.get(key_id=key_id).requests == 100
    assert ApiKey.objects.get(key_id=key_id).last_used_at is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == poisoned and all(key_id in w for w in warnings)
    assert "secretish" not in caplog.text and key not in caplog.text
    # The next batch is written whole, as usual.
    api("GET", "/me", key)
    assert buffer.flush() == 1


def test_a_batch_that_fails_because_the_database_is_down_is_kept_whole_and_retried(
    api, new_key, monkeypatch
):
    key = new_key(rate_limit=1000)

    def unreachable(cursor, logs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(usage, "_insert_batch", unreachable)
    for _ in range(5):
        api("GET", "/me", key)
    rejected = buffer.rejected
    assert buffer.flush() == 0
    assert buffer.pending() == 5 and buffer.rejected == rejected  # nothing set aside
    assert not RequestLog.objects.exists() and not KeyUsageDay.objects.exists()
    monkeypatch.undo()
    assert buffer.flush() == 5
    assert RequestLog.objects.count() == 5


def test_a_batch_of_which_no_row_can_be_written_is_kept_not_thrown_away(api, new_key):
    key = new_key()
    entry = _entry_for(key)
    for _ in range(3):  # a database refusing every row is an outage, not three bad rows
        buffer._logs.append((time.time(), *entry[:6], -1, *entry[7:]))
    rejected = buffer.rejected
    assert buffer.flush() == 0
    assert buffer.pending() == 3 and buffer.rejected == rejected
    # Once good rows come along, the bad ones are set aside and the good written.
    buffer._retry_at = 0.0
    api("GET", "/me", key)
    assert buffer.flush() == 1
    assert buffer.rejected == rejected + 3 and RequestLog.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_idle_worker_writes_what_it_holds_from_its_timer(api, new_key, settings):
    settings.API_LOG_BACKGROUND = True
    settings.API_LOG_FLUSH_SECONDS = 1
    key = new_key()
    buffer.record(
        LogEntry(time.time(), *_entry_for(key))
    )  # as a request would, with no response after
    deadline = time.monotonic() + 10
    while not RequestLog.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert RequestLog.objects.count() == 1


def _entry_for(key: str) -> tuple:
    row = ApiKey.objects.get(key_id=keyformat.parse(key).key_id)
    return (row.tenant_id, row.pk, row.key_id, "production", "GET", "/me", 200, 1.0, None)
