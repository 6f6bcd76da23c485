"""The demo tells one true story: for every key, its request log, daily counts, last-used
time and state agree, as the API itself would have left them. Checked against the API's own
rules (its URL table, each endpoint's permission), not against the demo's generator."""

import io
import re
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import resolve, reverse

from apikeys.models import ApiKey, KeyUsageDay, RequestLog, ServiceApiKey, Status
from customers.models import Customer
from tenants.models import Event

CUSTOMER_ID = re.compile(r"cus_[0-9A-Za-z]{12}")


def _seed() -> None:
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def demo(db):
    _seed()


def _stopped(key: ApiKey) -> datetime | None:
    """When the key stopped working, if it has."""
    ends = []
    if key.revoked_at:
        ends.append(key.revoked_at)
    if key.expires_on:
        ends.append(datetime.combine(key.expires_on + timedelta(days=1), time.min, tzinfo=UTC))
    if not key.is_active:
        disabled = Event.objects.filter(
            target_type="key", target_id=key.key_id, action=Event.Action.KEY_DISABLED
        ).latest("created_at")
        ends.append(disabled.created_at)
    return min(ends) if ends else None


def _kind(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_errors"
    if status >= 400:
        return "client_errors"
    return "succeeded"


def test_the_demo_has_a_key_in_every_state_and_one_limited_to_a_customer(demo):
    keys = ApiKey.objects.filter(tenant__slug="acme")
    assert {key.status for key in keys} == set(Status)
    limited = [key for key in keys if key.customer_scope]
    assert [key.name for key in limited] == ["Initech portal"]
    # Every key that ever worked was used; the busiest shows every status class.
    assert all(key.last_used_at for key in keys)
    busiest = max(keys, key=lambda key: RequestLog.objects.filter(key_id=key.key_id).count())
    kinds = {
        _kind(s)
        for s in RequestLog.objects.filter(key_id=busiest.key_id).values_list("status", flat=True)
    }
    assert kinds == {"succeeded", "client_errors", "rate_limited", "server_errors"}


def test_every_keys_requests_fit_its_life_its_permissions_and_its_customers(demo):
    problems = []
    # The API logs no request it could not tie to a key (a refused key is never proven).
    assert not RequestLog.objects.filter(status=401).exists()
    for key in ApiKey.objects.all():
        stopped = _stopped(key)
        created = Event.objects.get(
            target_type="key", target_id=key.key_id, action=Event.Action.KEY_CREATED
        )
        visible = Customer.objects.filter(tenant=key.tenant, environment=key.environment)
        if key.customer_scope:
            visible = visible.filter(public_id__in=key.customer_scope)
        visible_ids = set(visible.values_list("public_id", flat=True))
        for log in RequestLog.objects.filter(key_id=key.key_id):
            where = f"{key.name}: {log.method} {log.path} {log.status} at {log.created_at}"
            if log.created_at < max(created.created_at, key.created_at):
                problems.append(f"{where}: before the key was created")
            if stopped and log.created_at >= stopped:
                problems.append(f"{where}: after the key stopped working at {stopped}")
            if log.tenant_id != key.tenant_id or log.environment != key.environment:
                problems.append(f"{where}: another tenant or environment")
            if not log.path.startswith(f"/api/{key.environment}/v1/"):
                problems.append(f"{where}: another environment's URL")
            needed = resolve(log.path).func.scopes[log.method]
            allowed = needed is None or needed in key.scope_list
            if not allowed and log.status != 403:
                problems.append(f"{where}: lacks {needed}, so the gateway answers 403")
            if log.status < 400 and not allowed:
                problems.append(f"{where}: succeeded without {needed}")
            for customer_id in CUSTOMER_ID.findall(log.path):
                if key.customer_scope and customer_id not in key.customer_scope:
                    problems.append(f"{where}: a customer outside the key's scope")
                if log.status < 400 and customer_id not in visible_ids:
                    problems.append(f"{where}: succeeded on a customer it cannot see")
    assert problems == []


def test_counts_last_used_and_the_log_agree_for_every_key(demo):
    for key in ApiKey.objects.all():
        logs = list(RequestLog.objects.filter(key_id=key.key_id).order_by("created_at"))
        assert key.last_used_at == (logs[-1].created_at if logs else None), key.name
        expected = Counter()
        for log in logs:
            day = log.created_at.astimezone(UTC).date()
            expected[(day, "requests")] += 1
            expected[(day, _kind(log.status))] += 1
        counted = Counter()
        for row in KeyUsageDay.objects.filter(key_id=key.key_id):
            assert row.tenant_id == key.tenant_id
            for field in (
                "requests",
                "succeeded",
                "client_errors",
                "rate_limited",
                "server_errors",
            ):
                if getattr(row, field):
                    counted[(row.day, field)] = getattr(row, field)
        assert counted == expected, key.name


def test_a_key_is_rate_limited_only_past_its_limit(demo):
    limited = RequestLog.objects.filter(status=429)
    assert limited.exists()
    for log in limited:
        key = ApiKey.objects.get(key_id=log.key_id)
        before = RequestLog.objects.filter(
            key_id=key.key_id,
            created_at__gt=log.created_at - timedelta(seconds=60),
            created_at__lt=log.created_at,
        ).exclude(status=429)
        assert before.count() >= key.rate_limit


def test_no_service_key_was_used_and_each_ended_after_it_began(demo):
    assert not RequestLog.objects.filter(tenant__isnull=True).exists()
    for key in ServiceApiKey.objects.all():
        assert key.last_used_at is None
        assert key.revoked_at is None or key.revoked_at > key.created_at
        assert key.expires_on is None or key.expires_on > key.created_at.date()


def test_the_key_page_never_contradicts_itself(demo, client):
    client.force_login(ApiKey.objects.get(name="Main Website Integration").owner)
    for key in ApiKey.objects.filter(tenant__slug="acme"):
        body = client.get(reverse("apikeys:detail", args=["acme", key.key_id])).content.decode()
        total = int(re.search(r"([\d,]+) requests over 30 days", body)[1].replace(",", ""))
        since = datetime.combine(
            datetime.now(UTC).date() - timedelta(days=29), time.min, tzinfo=UTC
        )
        assert total == RequestLog.objects.filter(key_id=key.key_id, created_at__gte=since).count()
        last_used = re.search(r"<dt>Last used</dt><dd>([^<]*)</dd>", body)[1]
        assert (last_used == "Never") == (key.last_used_at is None), key.name
        assert not (total and last_used == "Never"), key.name


def _story() -> list[tuple]:
    return sorted(
        RequestLog.objects.values_list("key_id", "created_at", "method", "path", "status")
    )


def test_the_demo_is_the_same_each_time_and_running_it_again_changes_nothing(db):
    with time_machine.travel(datetime(2026, 6, 15, 12, 0, tzinfo=UTC), tick=False):
        _seed()
        first = _story()
        counts = sorted(KeyUsageDay.objects.values_list("key_id", "day", "requests"))
        used = sorted(ApiKey.objects.values_list("key_id", "last_used_at"))
        _seed()
        assert _story() == first
        assert sorted(KeyUsageDay.objects.values_list("key_id", "day", "requests")) == counts
        assert sorted(ApiKey.objects.values_list("key_id", "last_used_at")) == used
        # Made again from nothing, the story is the same (seeded, not random).
        RequestLog.objects.all().delete()
        KeyUsageDay.objects.all().delete()
        ApiKey.objects.update(last_used_at=None)
        _seed()
        assert _story() == first
        assert sorted(ApiKey.objects.values_list("key_id", "last_used_at")) == used


def test_an_older_demos_traffic_that_contradicts_a_key_is_written_again(demo):
    key = ApiKey.objects.get(name="Old billing export")
    assert key.status == Status.REVOKED
    # As the demo used to have it: requests after the revocation, and a wrong last use.
    RequestLog.objects.create(
        created_at=key.revoked_at + timedelta(days=1),
        tenant=key.tenant,
        key_id=key.key_id,
        environment=key.environment,
        method="GET",
        path=f"/api/{key.environment}/v1/usage",
        status=200,
        latency_ms=3,
    )
    _seed()
    key.refresh_from_db()
    assert not RequestLog.objects.filter(key_id=key.key_id, created_at__gte=key.revoked_at).exists()
    latest = RequestLog.objects.filter(key_id=key.key_id).latest("created_at")
    assert key.last_used_at == latest.created_at
    total = sum(KeyUsageDay.objects.filter(key_id=key.key_id).values_list("requests", flat=True))
    assert total == RequestLog.objects.filter(key_id=key.key_id).count()
