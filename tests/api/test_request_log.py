from datetime import timedelta
from io import StringIO

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apikeys import keyformat
from apikeys.models import ApiKey, KeyUsageDay, RequestLog
from apikeys.usage import buffer


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
