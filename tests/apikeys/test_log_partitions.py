"""The request log by day: PostgreSQL's partitions, retention on both databases, the worker."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone

from apikeys import keyformat, partitions
from apikeys.models import KeyUsageDay, RequestLog
from gateway import usage
from gateway.usage import LogEntry, buffer
from jobs.management.commands import db_worker

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="day partitions are PostgreSQL's; SQLite keeps a plain table (CI runs both)",
)


def _today():
    return timezone.now().astimezone(UTC).date()


def _log(when, tenant=None, key_id="k") -> RequestLog:
    return RequestLog.objects.create(
        created_at=when, tenant=tenant, key_id=key_id, environment="production",
        method="GET", path="/api/production/v1/me", status=200, latency_ms=1.0,
    )  # fmt: skip


def _partition_of(log: RequestLog) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM apikeys_requestlog WHERE id = %s", [log.pk]
        )
        return cursor.fetchone()[0]


def _out(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


@postgresql_only
def test_a_flushed_request_lands_in_the_partition_of_its_day(api, new_key):
    api("GET", "/me", new_key())
    buffer.flush()
    assert _partition_of(RequestLog.objects.get()) == partitions.partition_name(_today())


@postgresql_only
def test_a_request_of_a_day_without_a_partition_still_lands_in_the_default_one(acme):
    far = timezone.now() + timedelta(days=400)  # beyond the partitions made ahead
    at = far.timestamp()
    entry = LogEntry(at, acme.pk, 1, "k", "production", "GET", "/me", 200, 1.0, None)
    assert usage.write_now([entry]) == 1
    assert _partition_of(RequestLog.objects.get()) == partitions.DEFAULT_PARTITION


@postgresql_only
def test_migrate_leaves_today_and_the_next_days_partitioned_ahead(db):
    days = partitions.day_partitions()
    for n in range(partitions.AHEAD_DAYS + 1):
        assert _today() + timedelta(days=n) in days


@postgresql_only
def test_creating_partitions_moves_the_default_partitions_rows_into_their_days(acme):
    day = _today() + timedelta(days=60)
    when = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=5)
    stray = _log(when, acme)
    assert _partition_of(stray) == partitions.DEFAULT_PARTITION
    assert day in partitions.ensure_partitions()
    assert _partition_of(stray) == partitions.partition_name(day)
    assert RequestLog.objects.get(pk=stray.pk).created_at == when  # the same row, moved


@postgresql_only
def test_the_partition_command_is_idempotent_and_creates_further_days_when_asked(db):
    before = set(partitions.day_partitions())
    assert "Every request log partition needed exists" in _out("create_request_log_partitions")
    assert set(partitions.day_partitions()) == before
    later = _today() + timedelta(days=partitions.AHEAD_DAYS + 3)
    assert later.isoformat() in _out(
        "create_request_log_partitions", "--ahead", str(partitions.AHEAD_DAYS + 3)
    )
    assert "Every request log partition needed exists" in _out(
        "create_request_log_partitions", "--ahead", str(partitions.AHEAD_DAYS + 3)
    )
    assert set(partitions.day_partitions()) == before | {
        _today() + timedelta(days=n) for n in range(1, partitions.AHEAD_DAYS + 4)
    }


def test_the_partition_command_refuses_a_silly_number_of_days_ahead(db):
    with pytest.raises(SystemExit):
        call_command("create_request_log_partitions", "--ahead", "-1", stderr=StringIO())


@postgresql_only
def test_purge_drops_old_day_partitions_keeps_newer_ones_and_the_daily_counts(acme):
    now = timezone.now()
    old, older, recent = (now - timedelta(days=d) for d in (91, 100, 10))
    for when in (old, older, recent):
        partitions.ensure_partitions(today=when.astimezone(UTC).date(), ahead=0)
        _log(when, acme)
        _log(when, None)  # the system API's entries go with their day too
        KeyUsageDay.objects.create(tenant=acme, key_id="k", day=when.date(), requests=2)
    stray = _log(now - timedelta(days=200), acme)  # no partition: in the default one
    out = _out("purge_request_logs", "--days", "90")
    assert "Dropped 2 day partitions" in out and "Deleted 1 request log entries" in out
    days = partitions.day_partitions()
    assert old.date() not in days and older.date() not in days
    assert recent.date() in days and _today() in days
    assert not RequestLog.objects.filter(pk=stray.pk).exists()
    assert set(RequestLog.objects.values_list("created_at", flat=True)) == {recent}
    assert KeyUsageDay.objects.count() == 3  # daily counts outlive the log


@postgresql_only
def test_a_second_purge_finds_nothing_more_to_drop(acme):
    when = timezone.now() - timedelta(days=95)
    partitions.ensure_partitions(today=when.date(), ahead=0)
    _log(when, acme)
    assert "Dropped 1 day partitions" in _out("purge_request_logs", "--days", "90")
    out = _out("purge_request_logs", "--days", "90")
    assert "Dropped" not in out and "Deleted 0" in out


def test_purge_removes_what_is_older_than_the_utc_day_that_began_days_ago(acme):
    """The same entries go on both databases: retention counts whole UTC days."""
    cutoff = partitions.retention_cutoff(90)
    # On PostgreSQL each in a day partition, so that the purge drops one and keeps the other.
    partitions.ensure_partitions(today=cutoff.date() - timedelta(days=1), ahead=1)
    gone = _log(cutoff - timedelta(seconds=1), acme)
    kept = [_log(cutoff, acme), _log(cutoff + timedelta(hours=20), None)]
    out = _out("purge_request_logs", "--days", "90")
    assert f"before {cutoff:%Y-%m-%d} 00:00 UTC" in out
    assert not RequestLog.objects.filter(pk=gone.pk).exists()
    assert set(RequestLog.objects.values_list("pk", flat=True)) == {log.pk for log in kept}


def test_the_retention_cutoff_is_the_start_of_a_utc_day():
    now = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)
    assert partitions.retention_cutoff(90, now=now) == datetime(2026, 9, 3, tzinfo=UTC)
    assert partitions.retention_cutoff(1, now=now) == datetime(2026, 12, 1, tzinfo=UTC)


def test_purge_refuses_a_batch_below_one(db):
    with pytest.raises(SystemExit):
        call_command("purge_request_logs", "--batch", "0", stderr=StringIO())


def test_the_logs_page_reads_entries_across_days_newest_first(personas, client_for, acme, new_key):
    key_id = keyformat.parse(new_key()).key_id
    now = timezone.now()
    whens = [now - timedelta(minutes=5), now - timedelta(days=2), now - timedelta(days=20)]
    partitions.ensure_partitions(today=whens[1].astimezone(UTC).date(), ahead=0)
    for when in reversed(whens):  # written oldest first; the 20-day-old one has no partition
        _log(when, acme, key_id)
    _log(now, None, key_id)  # the system API's: no tenant's page shows it
    page = client_for(personas["admin"]).get(reverse("apikeys:logs", args=["acme"]))
    assert [log.created_at for log in page.context["page"].object_list] == whens
    filtered = client_for(personas["admin"]).get(
        reverse("apikeys:logs", args=["acme"]), {"key": key_id}
    )
    assert len(filtered.context["page"].object_list) == 3
    recent = client_for(personas["admin"]).get(
        reverse("apikeys:logs", args=["acme"]),
        {"since": (now - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")},
    )
    assert [log.created_at for log in recent.context["page"].object_list] == whens[:2]


def test_the_daily_counts_read_the_same_whatever_partition_a_request_lands_in(acme, new_key, api):
    key = new_key(scopes=["usage:read"])
    key_id = keyformat.parse(key).key_id
    api("GET", "/me", key)
    buffer.flush()
    yesterday = timezone.now() - timedelta(days=1)
    entry = LogEntry(
        yesterday.timestamp(), acme.pk, 1, key_id, "production", "GET", "/me", 429, 1.0, None
    )
    usage.write_now([entry])
    counts = {
        row.day: (row.requests, row.rate_limited)
        for row in KeyUsageDay.objects.filter(key_id=key_id)
    }
    assert counts == {_today(): (1, 0), yesterday.astimezone(UTC).date(): (1, 1)}
    assert RequestLog.objects.filter(key_id=key_id).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_logs_existing_rows_and_their_ids():
    executor = MigrationExecutor(connection)
    executor.migrate([("apikeys", "0009_usage_by_status_class")])
    try:
        assert not partitions.is_partitioned()
        now = timezone.now()
        stamps = [now - timedelta(days=d, minutes=7) for d in (0, 3, 40)]
        with connection.cursor() as cursor:
            for n, when in enumerate(stamps):
                cursor.execute(
                    "INSERT INTO apikeys_requestlog (created_at, tenant_id, key_id, "
                    "environment, method, path, status, latency_ms, client_ip) "
                    "VALUES (%s, NULL, %s, 'production', 'GET', '/me', 200, 1.0, NULL)",
                    [when, f"key{n}"],
                )
        old_rows = set(RequestLog.objects.values_list("pk", "key_id", "created_at"))
    finally:
        # Forward again to every app's latest migration, not just this one: migrating back
        # to 0009 also unapplied whatever came after it (other apps' too).
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(RequestLog.objects.values_list("pk", "key_id", "created_at")) == old_rows
    newest = _log(timezone.now())
    assert newest.pk > max(pk for pk, _, _ in old_rows)  # the sequence goes on
    if connection.vendor == "postgresql":
        assert partitions.is_partitioned()
        by_day = {
            _partition_of(log) for log in RequestLog.objects.exclude(pk=newest.pk)
        }  # every day that had rows got its partition
        assert by_day == {partitions.partition_name(when.astimezone(UTC).date()) for when in stamps}


@pytest.mark.django_db(transaction=True)  # the worker's loop closes a connection in a transaction
def test_the_worker_creates_the_partitions_at_start(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    tomorrow = _today() + timedelta(days=1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {partitions.partition_name(tomorrow)}")
        assert tomorrow not in partitions.day_partitions()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=StringIO())
    if connection.vendor == "postgresql":
        assert tomorrow in partitions.day_partitions()


def test_the_worker_keeps_creating_partitions_between_sleeps(monkeypatch):
    calls = []
    sleeps = iter([None, None, StopIteration])

    def sleep(seconds):
        calls.append(("sleep", seconds))
        outcome = next(sleeps)
        if outcome is StopIteration:
            raise StopIteration

    monkeypatch.setattr(db_worker.time, "sleep", sleep)
    monkeypatch.setattr(db_worker, "maintain_request_log", lambda: calls.append("partitions"))
    with pytest.raises(StopIteration):
        db_worker._every(3600)
    assert calls == [("sleep", 3600), "partitions", ("sleep", 3600), "partitions", ("sleep", 3600)]


def test_a_failing_partition_run_is_logged_and_does_not_stop_the_worker(monkeypatch, caplog):
    def fail(*args, **kwargs):
        raise RuntimeError("lock timeout")

    monkeypatch.setattr(db_worker, "call_command", fail)
    db_worker.maintain_request_log()  # no exception
    assert "Could not create the request log's partitions" in caplog.text
