"""The request log's day partitions on PostgreSQL, and its retention on both databases.

On PostgreSQL `apikeys_requestlog` is partitioned by range of `created_at` (migration 0010):
one partition per UTC day, named `apikeys_requestlog_pYYYYMMDD`, and a DEFAULT partition that
takes a row for a day without one, so that a write never fails. `ensure_partitions` creates
today's and the next `AHEAD_DAYS` days' partitions and moves any rows the default partition
holds into partitions of their own days (`manage.py create_request_log_partitions`; the task
worker runs it at start and hourly). Retention drops whole day partitions; only the rows of
the default partition (normally none) are deleted. On SQLite the log is a plain table and
retention a `DELETE`. Either way the daily counts (KeyUsageDay) are kept.
"""

import re
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from apikeys.models import RequestLog
from tenants.models import Tenant

TABLE = "apikeys_requestlog"
DEFAULT_PARTITION = f"{TABLE}_default"
# The worker runs hourly: a week ahead means a week without a worker still writes each day
# into its own partition (an empty partition costs a few catalogue rows and three indexes).
AHEAD_DAYS = 7
_DAY_PARTITION = re.compile(rf"^{TABLE}_p(\d{{8}})$")
# Held while partitions are created or dropped, so that two workers (or a worker and a
# command) never race to create the same day.
_LOCK_KEY = 0x6B77_6C6F  # "kwlo"
# DDL on the log waits at most this long for a lock (a long read of the log holds one), then
# fails; the next run tries again. Writers queue behind a waiting DDL statement, so not long.
_LOCK_TIMEOUT = "5s"


def partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _bound(day: date) -> str:
    return f"'{day.isoformat()} 00:00:00+00'"


def is_partitioned() -> bool:
    """Whether the log is a partitioned table (PostgreSQL after migration 0010)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def day_partitions() -> dict[date, str]:
    """The day partitions that exist, by day."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(%s)",
            [TABLE],
        )
        names = [name for (name,) in cursor.fetchall()]
    days = {}
    for name in names:
        if match := _DAY_PARTITION.match(name):
            days[datetime.strptime(match[1], "%Y%m%d").date()] = name
    return days


def _locked(cursor) -> None:
    cursor.execute(f"SET LOCAL lock_timeout = '{_LOCK_TIMEOUT}'")
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _create_partition(cursor, day: date) -> None:
    """Create the partition of `day`, moving into it what the default partition holds of it."""
    name, low, high = partition_name(day), _bound(day), _bound(day + timedelta(days=1))
    # (Table names here are this module's constants; the day's bounds are parameters where
    # a statement takes them, literals in DDL, which takes none.)
    day_range = [_midnight(day), _midnight(day + timedelta(days=1))]
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {DEFAULT_PARTITION} "  # noqa: S608
        "WHERE created_at >= %s AND created_at < %s)",
        day_range,
    )
    if not cursor.fetchone()[0]:
        cursor.execute(
            f"CREATE TABLE {name} PARTITION OF {TABLE} FOR VALUES FROM ({low}) TO ({high})"
        )
        return
    # A partition cannot be created over rows the default partition holds: move them into a
    # table of their own first, then attach it (which builds its indexes).
    cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608
        "WHERE created_at >= %s AND created_at < %s RETURNING *) "
        f"INSERT INTO {name} SELECT * FROM moved",
        day_range,
    )
    cursor.execute(
        f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"
    )


def ensure_partitions(*, today: date | None = None, ahead: int = AHEAD_DAYS) -> list[date]:
    """Create the partitions of today and the next `ahead` days (UTC), and of every day the
    default partition holds rows of (moving them there). Returns the days created; nothing
    when all exist (safe to run at any time, from any number of processes)."""
    if not is_partitioned():
        return []
    today = today or timezone.now().astimezone(UTC).date()
    wanted = {today + timedelta(days=n) for n in range(ahead + 1)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM {DEFAULT_PARTITION}"  # noqa: S608
        )
        wanted |= {day for (day,) in cursor.fetchall()}
    created = []
    for day in sorted(wanted - set(day_partitions())):
        with transaction.atomic(), connection.cursor() as cursor:
            _locked(cursor)
            if day in day_partitions():  # another process made it meanwhile
                continue
            _create_partition(cursor, day)
        created.append(day)
    return created


def retention_cutoff(days: int, *, now: datetime | None = None) -> datetime:
    """The start (UTC midnight) of the day `days` days ago: entries before it are purged.
    Whole days, so that PostgreSQL drops a day's partition rather than deleting its rows,
    and both databases keep the same entries."""
    return _midnight(((now or timezone.now()) - timedelta(days=days)).astimezone(UTC).date())


class Purged:
    def __init__(self) -> None:
        self.dropped: list[date] = []  # the day partitions dropped
        self.deleted = 0  # entries deleted row by row


def purge(*, days: int, batch: int) -> Purged:
    """Remove the request log's entries from before `retention_cutoff(days)`; the daily
    counts stay. PostgreSQL: drop each day partition wholly before it, then delete what the
    default partition holds before it. SQLite: delete, tenant by tenant, in batches."""
    cutoff = retention_cutoff(days)
    purged = Purged()
    if is_partitioned():
        for day, name in sorted(day_partitions().items()):
            if day >= cutoff.date():
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                _locked(cursor)
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
            purged.dropped.append(day)
        # What is left before the cutoff is in the default partition (a day partition is
        # never partly expired: the cutoff is a day's start), deleted in batches.
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {DEFAULT_PARTITION} WHERE ctid = ANY(ARRAY("  # noqa: S608
                    f"SELECT ctid FROM {DEFAULT_PARTITION} WHERE created_at < %s LIMIT %s))",
                    [cutoff, batch],
                )
                purged.deleted += cursor.rowcount
                if cursor.rowcount < batch:
                    break
        return purged
    # Tenant by tenant (and the system API's entries, which have none), so that each batch
    # is found through the (tenant, created_at) index.
    for tenant_id in [None, *Tenant.objects.order_by("pk").values_list("pk", flat=True)]:
        old = RequestLog.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff)
        while True:
            # In batches, so a large purge never holds one long transaction.
            ids = list(old.values_list("pk", flat=True)[:batch])
            if not ids:
                break
            purged.deleted += RequestLog.objects.filter(pk__in=ids).delete()[0]
    return purged
