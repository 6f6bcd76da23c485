"""The demo's story: when each demo key was made, what it called, and when it stopped, as
the API would have logged it (`seed_demo` writes it)."""

import itertools
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from unittest import mock

from django.urls import resolve
from django.utils import timezone

from apikeys.models import ApiKey
from gateway.usage import LogEntry
from tenants.models import Event

# The demo began this long ago: its tenants, users and customers date from then.
DEMO_AGE_DAYS = 90

DEMO_CUSTOMERS = {
    "production": [
        "Initech",
        "Hooli",
        "Umbrella Health",
        "Stark Logistics",
        "Wayne Foods",
        "Soylent Labs",
        "Cyberdyne Systems",
        "Vandelay Imports",
    ],
    "staging": ["Test Customer A", "Test Customer B", "Sandbox Org"],
    "development": ["Local Dev Co"],
}


@contextmanager
def as_of(moment: datetime) -> Iterator[None]:
    """Inside, the clock reads `moment` (a millisecond later at each look): what the services
    create and record in there is dated then, as if it had been done that day."""
    ticks = itertools.count()
    with mock.patch.object(timezone, "now", lambda: moment + timedelta(milliseconds=next(ticks))):
        yield


@dataclass(frozen=True)
class Call:
    """A kind of request a demo key makes: `weight` among its others, the method, the path
    after /api/<environment>/v1 (`{customer}`: one of the customers it may see, `{unknown}`:
    an ID no customer has), and the statuses it gets back when it has the permission (the
    gateway answers 403 when it lacks it). `database`: a database outage answers it 503."""

    weight: int
    method: str
    path: str
    outcomes: tuple[tuple[int, int], ...] = ((200, 1),)
    database: bool = True


@dataclass(frozen=True)
class DemoKey:
    name: str
    description: str
    environment: str
    scopes: list[str]
    created_days_ago: int
    lasts_days: int  # from its creation: its expiry date
    per_day: tuple[int, int]  # requests on a day it works all day
    calls: tuple[Call, ...]
    customers: tuple[str, ...] = ()  # names: the customers it is limited to
    disabled_days_ago: float | None = None
    revoked_days_ago: float | None = None
    # Revoked by the leak policy when GitHub's secret scanning found it here (issue 16).
    leaked_at: str = ""
    burst: bool = False  # one afternoon it goes over its rate limit


ME = Call(3, "GET", "/me", database=False)
DEMO_KEYS = [
    DemoKey(
        "Main Website Integration",
        "Sign-ups and account pages of the public website.",
        "production",
        ["customers:read", "customers:write"],
        created_days_ago=40,
        lasts_days=130,
        per_day=(25, 60),
        calls=(
            ME,
            Call(35, "GET", "/customers"),
            Call(35, "GET", "/customers/{customer}"),
            Call(5, "GET", "/customers/{unknown}", ((404, 1),)),
            # Sign-ups that change nothing: a duplicate, or a form the website let through.
            Call(6, "POST", "/customers", ((409, 2), (422, 3))),
            Call(3, "GET", "/usage"),  # 403: it lacks usage:read
        ),
        burst=True,
    ),
    DemoKey(
        "Staging sync",
        "",
        "staging",
        ["customers:read", "customers:write", "licenses:manage", "usage:read", "telemetry:write"],
        created_days_ago=35,
        lasts_days=215,
        per_day=(8, 20),
        calls=(
            ME,
            Call(10, "GET", "/customers"),
            Call(10, "GET", "/customers/{customer}"),
            Call(6, "GET", "/customers/{customer}/license"),
            Call(6, "GET", "/usage", ((200, 9), (422, 1))),
            Call(8, "POST", "/telemetry", ((200, 9), (422, 1))),
        ),
    ),
    DemoKey(
        "Telemetry collector",
        "Reports seats in use from the local test rig; paused while the rig is rebuilt.",
        "development",
        ["telemetry:write"],
        created_days_ago=30,
        lasts_days=60,
        per_day=(10, 16),
        calls=(
            Call(20, "POST", "/telemetry", ((200, 19), (422, 1))),
            Call(1, "GET", "/customers"),  # 403: it lacks customers:read
        ),
        disabled_days_ago=12.3,
    ),
    DemoKey(
        "Reporting dashboard",
        "Pulls seat usage for the internal dashboard every couple of hours.",
        "production",
        ["usage:read"],
        created_days_ago=27,
        lasts_days=30,  # expires in three days
        per_day=(10, 14),
        calls=(
            ME,
            Call(25, "GET", "/usage", ((200, 30), (422, 1))),
            Call(2, "GET", "/customers"),  # 403: it lacks customers:read
        ),
    ),
    DemoKey(
        "Old billing export",
        "Replaced by the reporting dashboard; revoked when it was found in a public repository.",
        "production",
        ["licenses:manage", "usage:read"],
        created_days_ago=45,
        lasts_days=75,
        per_day=(4, 10),
        calls=(
            Call(10, "GET", "/usage"),
            Call(3, "GET", "/customers/{customer}/license"),  # 403: it lacks customers:read
            Call(1, "PUT", "/customers/{customer}/license", ((422, 1),)),
        ),
        revoked_days_ago=8.6,
        leaked_at="https://github.com/acme-msp/billing-scripts/blob/2f9c1e7/export.py#L14",
    ),
    DemoKey(
        "Legacy import",
        "The old CRM import; it ran until its key expired.",
        "staging",
        ["customers:write"],
        created_days_ago=50,
        lasts_days=45,  # expired five days ago
        per_day=(5, 12),
        calls=(
            ME,
            Call(10, "POST", "/customers", ((409, 3), (422, 1))),
            Call(2, "GET", "/customers"),  # 403: it lacks customers:read
        ),
    ),
    DemoKey(
        "Initech portal",
        "Initech's self-service portal: sees Initech only.",
        "production",
        ["customers:read", "usage:read"],
        created_days_ago=20,
        lasts_days=200,
        per_day=(6, 15),
        calls=(
            ME,
            Call(8, "GET", "/customers"),  # lists Initech alone
            Call(10, "GET", "/customers/{customer}"),
            Call(6, "GET", "/customers/{customer}/license"),
            Call(6, "GET", "/usage"),
        ),
        customers=("Initech",),
    ),
]
# A quarter of an hour, six days ago, when the database was out of reach: the API answered
# 503 to whatever needed it (and logged those requests once the database was back).
OUTAGE_DAYS_AGO, OUTAGE_MINUTES = 6, 15
UNKNOWN_CUSTOMER = "cus_000000000000"


def key_end(key: ApiKey, now: datetime) -> datetime:
    """When `key` stopped working (its revocation, the end of its last day, its disabling),
    or `now`."""
    ends = [now]
    if key.revoked_at is not None:
        ends.append(key.revoked_at)
    if key.expires_on is not None:
        ends.append(datetime.combine(key.expires_on + timedelta(days=1), time.min, tzinfo=UTC))
    if not key.is_active:
        disabled = (
            Event.objects.filter(
                tenant=key.tenant_id,
                target_type="key",
                target_id=key.key_id,
                action=Event.Action.KEY_DISABLED,
            )
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        ends.append(disabled or key.updated_at)
    return min(ends)


def agrees(key: ApiKey, logs, counts) -> bool:
    """Whether a key's traffic can be its own: nothing before its creation, the daily counts
    add up to the log, and its last use is its latest request."""
    latest = logs.order_by("-created_at").values_list("created_at", flat=True).first()
    total = sum(counts.values_list("requests", flat=True))
    return (
        not logs.filter(created_at__lt=key.created_at).exists()
        and total == logs.count()
        and key.last_used_at == latest
    )


def requests(spec: DemoKey, key: ApiKey, customers: list[str], now: datetime) -> list[LogEntry]:
    """`spec`'s requests from the key's creation until it stopped working, oldest first.
    Seeded by the key's name: the same story each time the demo is made."""
    rng = random.Random(spec.name)  # noqa: S311 - demo data, not secrets
    start = key.created_at + timedelta(minutes=10)
    end = min(key_end(key, now), now) - timedelta(minutes=2)
    outage = datetime.combine(
        (now - timedelta(days=OUTAGE_DAYS_AGO)).date(), time(3, 10), tzinfo=UTC
    )
    addresses = [f"203.0.113.{rng.randint(2, 254)}" for _ in range(2)]
    scopes = set(key.scope_list)
    weights = [call.weight for call in spec.calls]
    planned: list[tuple[datetime, Call, int | None]] = []  # (when, call, forced status)
    day = start.date()
    while day <= end.date():
        midnight = datetime.combine(day, time.min, tzinfo=UTC)
        for _ in range(rng.randint(*spec.per_day)):
            call = rng.choices(spec.calls, weights)[0]
            planned.append((midnight + timedelta(seconds=rng.uniform(0, 86400)), call, None))
        day += timedelta(days=1)
    # A few requests during the outage, so that it shows.
    for _ in range(3):
        call = rng.choices(spec.calls, weights)[0]
        planned.append(
            (outage + timedelta(seconds=rng.uniform(0, OUTAGE_MINUTES * 60)), call, None)
        )
    if spec.burst:
        # A retry loop gone wrong: more requests in a minute than the key's rate limit; the
        # gateway answers 429 to those past it.
        burst = datetime.combine((now - timedelta(days=9)).date(), time(14, 2), tzinfo=UTC)
        read = next(c for c in spec.calls if c.path == "/customers/{customer}")
        for n in range(key.rate_limit + 12):
            planned.append((burst + timedelta(seconds=n * 0.7), read, 200))
    entries = []
    for at, call, forced in sorted(planned, key=lambda item: item[0]):
        if not start <= at <= end:
            continue
        needed = _scope(call, key.environment)
        if needed is not None and needed not in scopes:
            status = 403
        elif forced is not None:
            status = forced
        elif call.database and outage <= at < outage + timedelta(minutes=OUTAGE_MINUTES):
            status = 503
        else:
            status = rng.choices(*zip(*call.outcomes, strict=True))[0]
        path = call.path.format(
            customer=rng.choice(customers) if customers else UNKNOWN_CUSTOMER,
            unknown=UNKNOWN_CUSTOMER,
        )
        entries.append(
            LogEntry(
                at.timestamp(),
                key.tenant_id,
                key.pk,
                key.key_id,
                key.environment,
                call.method,
                f"/api/{key.environment}/v1{path}",
                status,
                round(rng.uniform(250, 900) if status == 503 else rng.uniform(2, 40), 2),
                rng.choice(addresses),
            )
        )
    if spec.burst:
        _limit_the_burst(entries, key.rate_limit)
    return entries


def _limit_the_burst(entries: list[LogEntry], limit: int) -> None:
    """As the gateway counts: in any minute, the requests past `limit` get 429."""
    window: list[float] = []
    for n, entry in enumerate(entries):
        window = [at for at in window if at > entry.at - 60]
        if len(window) >= limit:
            entries[n] = entry._replace(status=429, latency_ms=0.9)
        else:
            window.append(entry.at)


def _scope(call: Call, environment: str) -> str | None:
    """The permission the API asks of `call`: the endpoint's own (`gateway.endpoint`)."""
    path = call.path.format(customer=UNKNOWN_CUSTOMER, unknown=UNKNOWN_CUSTOMER)
    return resolve(f"/api/{environment}/v1{path}").func.scopes[call.method]
