"""Request logs, daily usage counts and last-used times, kept off the request path.

Each process buffers what the API did and writes it in batches: every
`API_LOG_FLUSH_SECONDS` from a background thread, as soon as `API_LOG_BATCH_SIZE`
requests are waiting, and when the process exits. A request costs one list append; a batch
costs three statements (insert logs, upsert counts, update last-used), whatever its size.
Pages that show these figures say they may lag by the flush interval.
"""

import atexit
import logging
import threading
from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction

from apikeys.models import RequestLog

logger = logging.getLogger("keyward.api")

_UPSERT_USAGE = (
    "INSERT INTO apikeys_keyusageday (tenant_id, key_id, day, requests) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (key_id, day) DO UPDATE "
    "SET requests = apikeys_keyusageday.requests + excluded.requests"
)
_TOUCH_KEY = (
    "UPDATE apikeys_apikey SET last_used_at = %s "
    "WHERE id = %s AND (last_used_at IS NULL OR last_used_at < %s)"
)


class UsageBuffer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: list[tuple] = []
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def record(
        self,
        *,
        when: datetime,
        tenant_id: int,
        key_pk: int,
        key_id: str,
        environment: str,
        method: str,
        path: str,
        status: int,
        latency_ms: float,
        client_ip: str | None,
    ) -> None:
        entry = (
            when,
            tenant_id,
            key_pk,
            key_id,
            environment,
            method,
            path[:300],
            status,
            latency_ms,
            client_ip,
        )
        with self._lock:
            self._logs.append(entry)
            waiting = len(self._logs)
        if settings.API_LOG_BACKGROUND:
            if self._thread is None or not self._thread.is_alive():
                self._start()
            if waiting >= settings.API_LOG_BATCH_SIZE:
                self._wake.set()
        elif waiting >= settings.API_LOG_BATCH_SIZE:
            self.flush()

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
        counts: dict[tuple[int, str, object], int] = defaultdict(int)
        last_used: dict[int, datetime] = {}
        for when, tenant_id, key_pk, key_id, *_ in logs:
            counts[(tenant_id, key_id, when.date())] += 1
            if key_pk not in last_used or last_used[key_pk] < when:
                last_used[key_pk] = when
        try:
            with transaction.atomic():
                RequestLog.objects.bulk_create(
                    RequestLog(
                        created_at=when,
                        tenant_id=tenant_id,
                        key_id=key_id,
                        environment=environment,
                        method=method,
                        path=path,
                        status=status,
                        latency_ms=round(latency_ms, 3),
                        client_ip=client_ip,
                    )
                    for (
                        when,
                        tenant_id,
                        _,
                        key_id,
                        environment,
                        method,
                        path,
                        status,
                        latency_ms,
                        client_ip,
                    ) in logs
                )
                with connection.cursor() as cursor:
                    cursor.executemany(
                        _UPSERT_USAGE,
                        [(tenant, key, day, n) for (tenant, key, day), n in counts.items()],
                    )
                    cursor.executemany(
                        _TOUCH_KEY, [(when, pk, when) for pk, when in last_used.items()]
                    )
        except Exception:
            # Keep the batch for the next attempt (bounded, so a long outage cannot eat memory).
            logger.exception("Could not write %d API request log entries; will retry", len(logs))
            with self._lock:
                self._logs = (logs + self._logs)[-settings.API_LOG_BATCH_SIZE * 100 :]
            return 0
        return len(logs)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="keyward-usage", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(settings.API_LOG_FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            finally:
                connection.close()


buffer = UsageBuffer()


@atexit.register
def _flush_at_exit() -> None:
    try:
        buffer.flush()
    except Exception:
        logger.exception("Could not write the API request log at exit")
