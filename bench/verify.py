"""In-process cost of verifying a key, with 100,000 keys in PostgreSQL.

    .venv/bin/python bench/verify.py            # PostgreSQL + Redis (BENCH_*_URL override)
    .venv/bin/python bench/verify.py --local    # PostgreSQL + the local key-state file, no Redis

Times `verifier.verify()` (parse, checksum, keyed hash, cache, the lease or state-file check
and the rate-limit token; a query only on a cache miss) and prints median and 95th
percentile in µs; then the worker's memory (RSS) before and after caching every key.
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


def summary(label: str, samples: list[float]) -> None:
    samples.sort()
    p95 = samples[min(len(samples) - 1, round(0.95 * len(samples)) - 1)]
    print(f"{label:<44}{statistics.median(samples):>10.1f}{p95:>10.1f}{len(samples):>10,}")


def timed(call, key: str) -> float:
    started = time.perf_counter_ns()
    call(key, "production")
    return (time.perf_counter_ns() - started) / 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--local", action="store_true", help="no Redis: the key-state file")
    parser.add_argument("--keys", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="false",
        SECRET_KEY="bench-only-secret-key-0123456789-0123456789-0123456789",
        API_KEY_PEPPER="bench-only-pepper-0123456789-0123456789",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/keyward_http"
        ),
        KEY_STATE_FILE=str(ROOT / "var" / "bench-verify-state"),
    )
    if args.local:
        os.environ.pop("REDIS_URL", None)
    else:
        os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")

    import django
    import psycopg

    base, name = os.environ["DATABASE_URL"].rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    from make_keys import ensure_keys

    from apikeys import keyformat
    from gateway.verification import Verifier

    keys = ensure_keys(args.keys, ROOT / "var" / "bench-keys-postgres.txt")
    verifier = Verifier()
    verify = verifier.verify
    state = "Redis" if not args.local else "local key-state file"
    print(f"\nverification with {len(keys):,} keys in PostgreSQL, shared state: {state}\n")
    print(f"{'scenario':<44}{'median µs':>10}{'p95 µs':>10}{'calls':>10}")

    hot = keys[0]
    for _ in range(1000):
        verify(hot, "production")
    summary("warm, one key", [timed(verify, hot) for _ in range(20_000)])

    sample = keys[:20_000]
    for key in sample:
        verify(key, "production")
    summary("warm, 20,000 different keys", [timed(verify, key) for key in sample])

    cold = []
    for key in keys[20_000:22_000]:
        verifier.clear()
        cold.append(timed(verify, key))
    summary("cold (cache miss: one indexed query)", cold)

    forged = [keyformat.generate("live") for _ in range(2_000)]
    for key in forged:
        verify(key, "production")
    summary("unknown key, cached as unknown", [timed(verify, key) for key in forged])

    broken = [key[:-1] + ("A" if key[-1] != "A" else "B") for key in keys[:10_000]]
    summary("bad checksum (no query, no cache)", [timed(verify, key) for key in broken])

    verifier.clear()
    before = rss_mb()
    for key in keys:
        verify(key, "production")
    after = rss_mb()
    cached = len(verifier._records)
    print(
        f"\nworker memory (RSS): {before:,.0f} MB -> {after:,.0f} MB with {cached:,} cached "
        f"records ({(after - before) * 1024 * 1024 / max(cached, 1):,.0f} bytes each)"
    )


def rss_mb() -> float:
    import gc

    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    main()
