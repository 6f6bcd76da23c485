"""The API keys console with 100,000 keys in one tenant, on PostgreSQL.

    .venv/bin/python bench/console.py [--keys 100000] [--runs 40]

Loads the keys once into the database named by BENCH_DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/keyward_bench, created if missing; your development data
is never touched), then times the console page in-process through Django's test client
(middleware, queries and template rendering: the server's share of a request) and prints the
median and 95th percentile for each scenario with its query count.
"""

import argparse
import os
import random
import statistics
import string
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/keyward_bench"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings_test")

SCENARIOS = [
    ("first page", ""),
    ("search, common word", "?q=orion"),
    ("search, no match (full scan)", "?q=no-such-key"),
    ("status filter: revoked", "?status=revoked"),
    ("sort by last used", "?sort=-last_used"),
    ("filters combined, page 3", "?status=active&environment=staging&permission=usage:read&page=3"),
    ("HTMX table, 100 rows", "?per_page=100"),
]
WORDS = [
    "orion",
    "atlas",
    "billing",
    "crm",
    "sync",
    "export",
    "import",
    "website",
    "mobile",
    "partner",
    "reporting",
    "telemetry",
    "backup",
    "audit",
    "ledger",
    "gateway",
]


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def load(total: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from apikeys.models import ApiKey, Environment, Scope
    from tenants.models import Membership, Tenant, TenantSettings

    call_command("migrate", verbosity=0)
    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench MSP"})
    TenantSettings.objects.get_or_create(tenant=tenant, defaults={"api_keys_enabled": True})
    admin, _ = User.objects.get_or_create(email="admin@bench.test")
    Membership.objects.get_or_create(user=admin, tenant=tenant, defaults={"is_admin": True})
    owners = []
    for n in range(200):
        owner, _ = User.objects.get_or_create(email=f"dev{n}@bench.test")
        Membership.objects.get_or_create(user=owner, tenant=tenant, defaults={"is_developer": True})
        owners.append(owner)
    have = ApiKey.objects.filter(tenant=tenant).count()
    if have >= total:
        print(f"{have:,} keys already loaded")
        return
    rng = random.Random(have)
    now = timezone.now()
    scopes = Scope.values
    alphabet = string.ascii_letters + string.digits
    started = time.perf_counter()
    batch = []
    for n in range(have, total):
        created = now - timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86400))
        state = rng.random()
        batch.append(
            ApiKey(
                tenant=tenant,
                owner=rng.choice(owners),
                key_id="".join(rng.choices(alphabet, k=10)),
                name=f"{rng.choice(WORDS)} {rng.choice(WORDS)} {n}",
                environment=rng.choice(Environment.values),
                scopes=" ".join(sorted(rng.sample(scopes, rng.randint(1, len(scopes))))),
                rate_limit=rng.choice([60, 120, 600, 1000]),
                secret_hash=f"{rng.getrandbits(256):064x}",
                is_active=state > 0.1,
                revoked_at=created + timedelta(days=1) if state > 0.8 else None,
                expires_on=(now + timedelta(days=rng.randint(-200, 400))).date()
                if rng.random() > 0.2
                else None,
                last_used_at=now - timedelta(minutes=rng.randint(0, 200_000))
                if rng.random() > 0.3
                else None,
            )
        )
        if len(batch) == 5000:
            ApiKey.objects.bulk_create(batch)
            batch = []
    ApiKey.objects.bulk_create(batch)
    # Spread creation and update times as a real tenant's would be.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE apikeys_apikey SET created_at = now() - (random() * interval '900 days'),"
            " updated_at = now() - (random() * interval '300 days') WHERE tenant_id = %s",
            [tenant.pk],
        )
        cursor.execute("ANALYZE apikeys_apikey")
    print(f"loaded {total - have:,} keys in {time.perf_counter() - started:.1f}s")


def measure(runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from apikeys.models import ApiKey

    # No setup_test_environment(): its template instrumentation would be timed too.
    client = Client()
    client.force_login(User.objects.get(email="admin@bench.test"))
    total = ApiKey.objects.filter(tenant__slug="bench").count()
    print(f"\nconsole of a tenant with {total:,} keys, {runs} runs each (PostgreSQL)\n")
    print(f"{'scenario':<34}{'median ms':>11}{'p95 ms':>9}{'queries':>9}{'matches':>10}")
    for label, query in SCENARIOS:
        url = "/t/bench/keys/" + query
        headers = {"HX-Request": "true"} if "HTMX" in label else {}
        for _ in range(3):
            client.get(url, headers=headers)
        timings = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)]
        matches = response.content.split(b'class="table-summary muted">')[1].split(b" ")[0]
        print(
            f"{label:<34}{statistics.median(timings):>11.1f}{p95:>9.1f}"
            f"{len(queries):>9}{matches.decode():>10}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    load(args.keys)
    measure(args.runs)


if __name__ == "__main__":
    main()
