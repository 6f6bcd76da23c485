"""Request logs, daily usage counts and last-used times, kept off the request path.

Each process buffers what the API did and writes it in batches. A request costs one list
append; a batch costs three statements (insert logs, upsert counts, update last-used),
whatever its size. The daily counts are kept in all and by status class (2xx, 4xx, 429,
5xx: the key page's chart), summed at flush time into the same upsert. A batch is written
by the worker itself *after* it has sent a response (the `request_finished` signal), once
`API_LOG_BATCH_SIZE` requests are waiting or the oldest has waited `API_LOG_FLUSH_SECONDS`;
a timer thread writes what an idle worker still holds, and the rest is written when the
process exits. Writing between requests, not from a thread running beside them, keeps the
two from contending for the interpreter lock (that contention cost more than the writes
themselves). Pages that show these figures say they may lag.

One bad row never blocks a batch (SECURITY.md 25). What a request brings (its path, its
client address) is made storable when it is buffered: no NUL, no lone surrogate, no path
longer than its column, no address that is not one. Should the database still refuse a
row, the batch is written again row by row, each in a savepoint: the refused row is set
aside with a warning and counted (`buffer.rejected`), the rest is written. A database that
cannot be reached, or refuses every row, is an outage: the whole batch waits for a retry.
"""

import atexit
import ipaddress
import logging
import re
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import NamedTuple

from django.conf import settings
from django.db import OperationalError, connection, transaction

from apikeys.models import (
    LOG_TIMER_TICK,
    request_log_lag_seconds,
    status_class,
)

logger = logging.getLogger("keyward.api")

_INSERT_LOG = (
    "INSERT INTO apikeys_requestlog (created_at, tenant_id, key_id, environment, method, path, "
    "status, latency_ms, client_ip) VALUES "
)
_SQLITE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)"
_ROWS_PER_INSERT = 100  # 900 parameters: under SQLite's oldest limit of 999
_COPY_LOG = (
    "COPY apikeys_requestlog (created_at, tenant_id, key_id, environment, method, path, "
    "status, latency_ms, client_ip) FROM STDIN"
)
# The total and its split by status class (apikeys.models.STATUS_CLASSES), in one statement.
_UPSERT_USAGE = (
    "INSERT INTO apikeys_keyusageday (tenant_id, key_id, day, requests, "
    "succeeded, client_errors, rate_limited, server_errors) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (key_id, day) DO UPDATE "
    "SET requests = apikeys_keyusageday.requests + excluded.requests, "
    "succeeded = apikeys_keyusageday.succeeded + excluded.succeeded, "
    "client_errors = apikeys_keyusageday.client_errors + excluded.client_errors, "
    "rate_limited = apikeys_keyusageday.rate_limited + excluded.rate_limited, "
    "server_errors = apikeys_keyusageday.server_errors + excluded.server_errors"
)
_TOUCH_SERVICE_KEY = (
    "UPDATE apikeys_serviceapikey SET last_used_at = %s "
    "WHERE key_id = %s AND (last_used_at IS NULL OR last_used_at < %s)"
)
_TOUCH_KEY = (
    "UPDATE apikeys_apikey SET last_used_at = %s "
    "WHERE id = %s AND (last_used_at IS NULL OR last_used_at < %s)"
)
# PostgreSQL: each of the two as one statement over arrays, whatever the number of keys in the
# batch (a batch of 500 different keys: ~3 times cheaper than 500 statements, bench/flush.py).
_UPSERT_USAGE_ROWS = _UPSERT_USAGE.replace(
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
    "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::date[], %s::int[], %s::int[], "
    "%s::int[], %s::int[], %s::int[])",
)
_TOUCH_KEYS = (
    "UPDATE apikeys_apikey AS k SET last_used_at = v.at "
    "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) "
    "WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)"
)


TIMER_TICK = LOG_TIMER_TICK
max_lag_seconds = request_log_lag_seconds


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

PATH_LENGTH = 300  # RequestLog.path's max_length
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL, and UTF-16 halves that UTF-8 refuses
_known_addresses: set[str] = set()  # client addresses already found to be addresses
_MAX_KNOWN_ADDRESSES = 10_000


def _outage_errors() -> tuple[type[Exception], ...]:
    """Failures that say the database is out of reach or busy, not that a row is bad (the raw
    cursors raise their driver's own classes). A closed connection shows itself anyway: the
    savepoint of a refused row cannot be rolled back. (Not Django's InterfaceError: on SQLite
    it means a value that cannot be bound.)"""
    import sqlite3

    kinds: list[type[Exception]] = [OperationalError, sqlite3.OperationalError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - SQLite-only installs
        pass
    else:
        kinds += [psycopg.OperationalError, psycopg.InterfaceError]
    return tuple(kinds)


_OUTAGE = _outage_errors()


def _storable_path(path: str) -> str:
    return _UNSTORABLE.sub("\ufffd", path)[:PATH_LENGTH]


def _storable_address(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    candidate = value.split("%", 1)[0]  # an IPv6 zone ("%eth0") is no part of an inet value
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return None
    if candidate == value:
        if len(_known_addresses) >= _MAX_KNOWN_ADDRESSES:
            _known_addresses.clear()
        _known_addresses.add(value)
    return candidate


class LogEntry(NamedTuple):
    """One API request, as buffered until its batch is written (the columns of RequestLog,
    plus the key's row ID for its last-used time)."""

    at: float  # Unix time
    tenant_id: int | None  # None: a service key on the system API
    key_pk: int
    key_id: str
    environment: str
    method: str
    path: str
    status: int
    latency_ms: float
    client_ip: str | None


def storable(entry: LogEntry) -> LogEntry:
    """`entry` with a path and a client address that any database will store."""
    return entry._replace(
        path=_storable_path(entry.path), client_ip=_storable_address(entry.client_ip)
    )


def _day(days_since_epoch: int) -> date:
    return date.fromordinal(_EPOCH_ORDINAL + days_since_epoch)


def _by_key(item: tuple) -> tuple:
    (_, key_id, day), _ = item
    return key_id, day


def _insert_batch(cursor, logs: list[LogEntry]) -> None:
    if connection.vendor == "postgresql":
        # COPY: several times faster than INSERTs for a batch of rows.
        with cursor.cursor.copy(_COPY_LOG) as copy:
            for at, tenant_id, _, *rest in logs:
                copy.write_row((datetime.fromtimestamp(at, UTC), tenant_id, *rest))
        return
    # SQLite: a few multi-row INSERTs (not one statement per row), on the raw cursor with
    # sqlite3's placeholders (Django would rewrite each).
    for n in range(0, len(logs), _ROWS_PER_INSERT):
        chunk = logs[n : n + _ROWS_PER_INSERT]
        cursor.cursor.execute(
            _INSERT_LOG + ", ".join([_SQLITE_ROW] * len(chunk)),
            [
                value
                for at, tenant_id, _, *rest in chunk
                for value in (_sqlite_stamp(at), tenant_id, *rest)
            ],
        )


def _sqlite_stamp(at: float) -> str:
    # What adapt_datetimefield_value gives, without its per-row checks.
    return datetime.fromtimestamp(at, UTC).replace(tzinfo=None).isoformat(" ")


def _count(cursor, logs: list[LogEntry]) -> None:
    """Daily counts and last-used times of what was written."""
    # From the raw Unix times; datetimes only where written.
    # (tenant, key, day) -> [requests, then one count per status class]
    counts: dict[tuple[int, str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    last_used: dict[int, float] = {}
    service_used: dict[str, float] = {}
    for at, tenant_id, key_pk, key_id, _, _, _, status, *_ in logs:
        if tenant_id is None:  # a service key on the system API
            if service_used.get(key_id, 0.0) < at:
                service_used[key_id] = at
            continue
        row = counts[(tenant_id, key_id, int(at // 86400))]
        row[0] += 1
        row[1 + status_class(status)] += 1
        if last_used.get(key_pk, 0.0) < at:
            last_used[key_pk] = at
    adapt = connection.ops.adapt_datetimefield_value

    def stamp(at: float) -> object:
        return adapt(datetime.fromtimestamp(at, UTC))

    # Sorted, both: workers flushing at once take row locks in the same order, so they wait
    # for each other instead of deadlocking.
    usage = [(t, k, _day(d), *n) for (t, k, d), n in sorted(counts.items(), key=_by_key)]
    touched = [(pk, datetime.fromtimestamp(at, UTC)) for pk, at in sorted(last_used.items())]
    if connection.vendor == "postgresql":
        if usage:
            cursor.execute(
                _UPSERT_USAGE_ROWS, [list(column) for column in zip(*usage, strict=True)]
            )
        if touched:
            cursor.execute(_TOUCH_KEYS, [list(column) for column in zip(*touched, strict=True)])
    else:
        adapt_day = connection.ops.adapt_datefield_value
        cursor.executemany(_UPSERT_USAGE, [(t, k, adapt_day(day), *n) for t, k, day, *n in usage])
        cursor.executemany(_TOUCH_KEY, [(adapt(at), pk, adapt(at)) for pk, at in touched])
    cursor.executemany(
        _TOUCH_SERVICE_KEY,
        [(stamp(at), key, stamp(at)) for key, at in sorted(service_used.items())],
    )


def _columns(rows: list[tuple]) -> list[list]:
    """Rows as one array per column (for `unnest`)."""
    return [list(column) for column in zip(*rows, strict=True)]


class UsageBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: list[LogEntry] = []
        self._oldest = 0.0  # time.monotonic() of the first entry waiting
        self._retry_at = 0.0  # after a failed write: not before this time.monotonic()
        self._timer: threading.Thread | None = None
        self.rejected = 0  # entries the database refused, set aside since the process began

    def record(self, entry: LogEntry) -> None:
        """Buffer one request."""
        # The hot path: a few cheap looks, and work only for an entry that needs it.
        path, address = entry.path, entry.client_ip
        if (
            len(path) > PATH_LENGTH
            or "\x00" in path
            or not path.isascii()
            or (address is not None and address not in _known_addresses)
        ):
            entry = storable(entry)
        with self._lock:
            if not self._logs:
                self._oldest = time.monotonic()
            self._logs.append(entry)
            waiting = len(self._logs)
        if not settings.API_LOG_BACKGROUND:
            if waiting >= settings.API_LOG_BATCH_SIZE:
                self.flush()
        elif self._timer is None or not self._timer.is_alive():
            self._start_timer()

    def due(self) -> bool:
        """Whether a batch is full or its oldest entry has waited long enough."""
        logs = self._logs
        if not logs:
            return False
        now = time.monotonic()
        return now >= self._retry_at and (
            len(logs) >= settings.API_LOG_BATCH_SIZE
            or now - self._oldest >= settings.API_LOG_FLUSH_SECONDS
        )

    def discard(self) -> None:
        """Drop what is buffered (tests start clean)."""
        with self._lock:
            self._logs.clear()

    def pending(self) -> int:
        with self._lock:
            return len(self._logs)

    def flush(self) -> int:
        """Write everything buffered so far; returns how many requests were written."""
        with self._lock:
            logs, self._logs = self._logs, []
        if not logs:
            return 0
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                try:
                    with transaction.atomic():  # a savepoint: a refused row spoils only it
                        _insert_batch(cursor, logs)
                    written = logs
                except _OUTAGE:
                    raise
                except Exception:
                    written = self._insert_one_by_one(cursor, logs)
                _count(cursor, written)
        except Exception:
            # Keep the batch for the next attempt (bounded, so a long outage cannot eat memory).
            logger.exception("Could not write %d API request log entries; will retry", len(logs))
            with self._lock:
                self._logs = (logs + self._logs)[-settings.API_LOG_BATCH_SIZE * 100 :]
                self._retry_at = time.monotonic() + settings.API_LOG_FLUSH_SECONDS
            return 0
        return len(written)

    def _insert_one_by_one(self, cursor, logs: list[LogEntry]) -> list[LogEntry]:
        """After a batch failed: each entry in its own savepoint; the refused are set aside.

        An outage (or a savepoint that cannot be rolled back) raises, and so does a batch of
        which no entry could be written: a database refusing everything is not a bad row."""
        adapt = connection.ops.adapt_datetimefield_value
        written, refused = [], []
        for entry in logs:
            at, tenant_id, _, *rest = entry
            savepoint = connection.savepoint()
            try:
                cursor.execute(
                    _INSERT_LOG + "(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (adapt(datetime.fromtimestamp(at, UTC)), tenant_id, *rest),
                )
            except _OUTAGE:
                raise
            except Exception as error:
                connection.savepoint_rollback(savepoint)
                refused.append((entry, error))
            else:
                connection.savepoint_commit(savepoint)
                written.append(entry)
        if not written:
            raise refused[0][1]
        for entry, error in refused:
            _, _, _, key_id, environment, method, _, status, *_ = entry
            # Neither the path nor the database's message: both may repeat what was sent.
            logger.warning(
                "Set aside an API request log entry the database refused (%s): key %s, %s %s, "
                "status %s",
                type(error).__name__,
                key_id,
                environment,
                method,
                status,
            )
        with self._lock:
            self.rejected += len(refused)
        return written

    def _start_timer(self) -> None:
        with self._lock:
            if self._timer is not None and self._timer.is_alive():
                return
            self._timer = threading.Thread(target=self._run, name="keyward-usage", daemon=True)
            self._timer.start()

    def _run(self) -> None:
        # Only for a worker that has gone quiet: a busy one writes between its requests.
        while True:
            time.sleep(TIMER_TICK)  # a cheap look; due() applies API_LOG_FLUSH_SECONDS
            if self.due():
                try:
                    self.flush()
                finally:
                    connection.close()


buffer = UsageBuffer()


def write_now(entries: list[LogEntry]) -> int:
    """Write `entries` at once, as one batch is written: the log, the daily counts by status
    class and the last-used times, in the same statements (the demo data goes this way, so
    that it adds up as the API's own does). Raises if the database refuses them."""
    logs = [storable(entry) for entry in entries]
    with transaction.atomic(), connection.cursor() as cursor:
        for n in range(0, len(logs), settings.API_LOG_BATCH_SIZE):
            batch = logs[n : n + settings.API_LOG_BATCH_SIZE]
            _insert_batch(cursor, batch)
            _count(cursor, batch)
    return len(logs)


def flush_if_due() -> None:
    """After a response has been sent (`request_finished`): write a batch that is due."""
    if settings.API_LOG_BACKGROUND and buffer.due():
        buffer.flush()


@atexit.register
def _flush_at_exit() -> None:
    try:
        buffer.flush()
    except Exception:
        logger.exception("Could not write the API request log at exit")
