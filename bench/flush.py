"""What writing one request-log batch costs, by how many different keys it holds.

    .venv/bin/python bench/flush.py          # PostgreSQL (BENCH_DATABASE_URL), or --sqlite

Writes --runs (15) batches of --size (500) entries through the gateway's own
writer (`gateway.usage.buffer.flush()`: the log rows, the daily counts, the last-used times)
for keys of the load-test tenant of bench/make_keys.py, once with one key per batch (a hot
key) and once with a different key per entry (the "spread" case: one daily-count row and one
last-used update per key), interleaved, and prints the median (min-max) ms per batch and µs
per entry.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", type=int, default=500, help="entries per batch")
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        SECRET_KEY="bench-only-secret-key-0123456789-0123456789-0123456789",
        API_KEY_PEPPER="bench-only-pepper-0123456789-0123456789",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        API_LOG_BACKGROUND="false",
        API_LOG_BATCH_SIZE="1000000",  # this script decides when a batch is written
    )
    os.environ.pop("REDIS_URL", None)
    if args.sqlite:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = str(ROOT / "var" / "bench-http.sqlite3")
    else:
        os.environ["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/keyward_http"
        )
    import django

    django.setup()
    from make_keys import empty_log, ensure_keys

    from apikeys.models import ApiKey
    from gateway.usage import LogEntry, buffer

    out = ROOT / "var" / f"bench-keys-{'default' if args.sqlite else 'postgres'}.txt"
    ensure_keys(20_000, out)
    empty_log()
    keys = list(
        ApiKey.objects.filter(tenant__slug="loadtest").values_list("pk", "tenant_id", "key_id")[
            :20_000
        ]
    )
    size = args.size
    offset = 0

    def batch(distinct: int) -> float:
        nonlocal offset
        now = time.time()
        for i in range(size):
            pk, tenant_id, key_id = keys[(offset + i % distinct) % len(keys)]
            buffer.record(
                LogEntry(
                    now,
                    tenant_id,
                    pk,
                    key_id,
                    "production",
                    "GET",
                    "/api/production/v1/me",
                    200,
                    1.0,
                    "127.0.0.1",
                )
            )
        offset += distinct
        started = time.perf_counter()
        buffer.flush()
        return (time.perf_counter() - started) * 1000

    results: dict[int, list[float]] = {1: [], size: []}
    for _ in range(args.runs):
        for distinct in results:
            results[distinct].append(batch(distinct))
    vendor = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"{vendor}, batches of {size} entries, {args.runs} runs each (interleaved):")
    for distinct, times in results.items():
        median = statistics.median(times)
        print(
            f"  {distinct:>4} different key(s) per batch: {median:7.1f} ms per batch "
            f"({min(times):.1f}-{max(times):.1f}), {median * 1000 / size:6.1f} µs per entry"
        )


if __name__ == "__main__":
    main()
