"""The daily counts split by status class: 2xx (and anything below 400), 4xx but 429, 429,
and 5xx, summed in the same upsert as the total, batch after batch."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apikeys.models import STATUS_CLASSES, KeyUsageDay, status_class
from gateway.usage import LogEntry, buffer

DAY = 86400


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (200, "succeeded"),
        (201, "succeeded"),
        (304, "succeeded"),
        (400, "client_errors"),
        (403, "client_errors"),
        (404, "client_errors"),
        (422, "client_errors"),
        (429, "rate_limited"),
        (500, "server_errors"),
        (503, "server_errors"),
    ],
)
def test_each_status_falls_in_one_class(status, kind):
    assert STATUS_CLASSES[status_class(status)] == kind


def _entry(key, at: float, status: int) -> LogEntry:
    return LogEntry(
        at,
        key.tenant_id,
        key.pk,
        key.key_id,
        key.environment,
        "GET",
        f"/api/{key.environment}/v1/me",
        status,
        3.0,
        "203.0.113.9",
    )


def _classes(key_id: str) -> list[tuple]:
    return list(
        KeyUsageDay.objects.filter(key_id=key_id)
        .order_by("day")
        .values_list("day", "requests", *STATUS_CLASSES)
    )


def test_a_flush_counts_each_day_by_status_class_in_one_upsert(new_key):
    new_key()
    key = new_key.last
    now = time.time()
    yesterday = now - DAY
    statuses = [200, 200, 201, 403, 404, 429, 429, 429, 503]
    for status in statuses:
        buffer.record(_entry(key, now, status))
    buffer.record(_entry(key, yesterday, 200))
    buffer.record(_entry(key, yesterday, 500))
    with CaptureQueriesContext(connection) as queries:
        assert buffer.flush() == 11
    upserts = [q["sql"] for q in queries if "apikeys_keyusageday" in q["sql"]]
    # One executemany: one statement for both days (Django records it once, "2 times: ...").
    assert len(upserts) == 1
    assert (
        "INSERT INTO apikeys_keyusageday (tenant_id, key_id, day, requests, succeeded, "
        "client_errors, rate_limited, server_errors)" in upserts[0]
    )
    rows = _classes(key.key_id)
    assert [row[1:] for row in rows] == [(2, 1, 0, 0, 1), (9, 3, 2, 3, 1)]


def test_class_counts_add_up_across_batches_and_always_sum_to_the_total(new_key):
    new_key()
    key = new_key.last
    now = time.time()
    for statuses in ([200, 429], [200, 404, 500], [429]):
        for status in statuses:
            buffer.record(_entry(key, now, status))
        buffer.flush()
    [(_, total, *classes)] = _classes(key.key_id)
    assert (total, *classes) == (6, 2, 1, 2, 1)
    assert sum(classes) == total


def test_counts_made_by_the_api_itself_are_split(api, new_key):
    key = new_key(scopes=["usage:read"])
    assert api("GET", "/me", key).status_code == 200
    assert api("GET", "/customers", key).status_code == 403
    buffer.flush()
    [(_, total, *classes)] = _classes(new_key.last.key_id)
    assert (total, *classes) == (2, 1, 1, 0, 0)
