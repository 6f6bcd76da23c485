"""The request log at scale, on PostgreSQL: write cost per row, empty and full, and a purge.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/keyward_bench \\
        .venv/bin/python bench/log_partition.py [--rows 50000000] [--days 30] [--reps 7]

The database must be migrated and its request log empty (the script refuses otherwise, and
empties it again at the end). It

1. makes an empty twin of the partitioned log in a schema of its own (`bench_empty`: the same
   columns, indexes and partitions; the writer's unqualified table name reaches it through
   `search_path`), so that the empty and the full log are measured in one sitting,
   interleaved;
2. fills the real log with --rows rows over the last --days days, today included (one
   partition per day: older days loaded as plain tables from `generate_series` and attached,
   which builds their indexes once; today's partition filled in place); with --plain, copies
   them into a plain table too (`bench_plain`: the log as it was before partitioning);
3. times the gateway's own writer (`gateway.usage._insert_batch`: `COPY` batches of
   `API_LOG_BATCH_SIZE` rows, each batch in its transaction and savepoint as
   `UsageBuffer.flush` writes it) --reps times in each state, in turn: the empty log; the full
   log on a new day (rows of tomorrow: an empty partition beside the 50 M rows); the full log
   today (rows of now: into today's partition of rows/days rows); the plain table. Wall time
   and the server process' CPU time (from /proc: less disturbed by a shared machine's load);
4. times the purge of one day (`apikeys.partitions.purge`, dropping the oldest day's
   partition), --reps times, and once, for comparison, a `DELETE` of one day's rows;
5. drops what it made.

It prints medians with their range (min-max) over the repetitions.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EMPTY_SCHEMA = "bench_empty"
PLAIN_SCHEMA = "bench_plain"


def spread(samples: list[float], unit: str, digits: int = 2) -> str:
    return (
        f"{statistics.median(samples):.{digits}f} {unit} "
        f"({min(samples):.{digits}f}-{max(samples):.{digits}f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--batches", type=int, default=100, help="batches per repetition")
    parser.add_argument("--keep", action="store_true", help="leave the filled log in place")
    parser.add_argument(
        "--plain", action="store_true", help="also a plain (unpartitioned) table of the rows"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a migrated PostgreSQL database whose request log is empty.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-0123456789-0123456789")
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    from apikeys import partitions
    from gateway.usage import LogEntry, _insert_batch

    if not partitions.is_partitioned():
        sys.exit("The request log is not partitioned: run `manage.py migrate` first.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM apikeys_requestlog)")
        if cursor.fetchone()[0]:
            sys.exit("The request log is not empty: this benchmark fills and empties it.")
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    batch_size = settings.API_LOG_BATCH_SIZE
    today = datetime.now(UTC).date()
    first_day = today - timedelta(days=args.days - 1)
    print(
        f"PostgreSQL {version}; {args.rows:,} rows over {args.days} days "
        f"({first_day} to {today}); batches of {batch_size} rows"
    )

    def run(sql: str, params: list | None = None) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def use(schema: str) -> None:
        run(f"SET search_path TO {schema}")

    # 1. The empty twin.
    for schema in (EMPTY_SCHEMA, PLAIN_SCHEMA):
        run(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        run(f"CREATE SCHEMA {schema}")
    today_name = partitions.partition_name(today)
    run(
        f"CREATE TABLE {EMPTY_SCHEMA}.apikeys_requestlog (LIKE public.apikeys_requestlog "
        "INCLUDING ALL) PARTITION BY RANGE (created_at)"
    )
    run(
        f"CREATE TABLE {EMPTY_SCHEMA}.apikeys_requestlog_default "
        f"PARTITION OF {EMPTY_SCHEMA}.apikeys_requestlog DEFAULT"
    )
    use(f"{EMPTY_SCHEMA}, public")
    partitions.ensure_partitions()
    use("public")
    partitions.ensure_partitions()

    created_days = []
    try:
        # 2. Fill the real log.
        per_day = args.rows // args.days
        started = time.monotonic()
        run("SET maintenance_work_mem = '512MB'")
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('apikeys_requestlog_id_seq')")
            next_id = cursor.fetchone()[0]
        for n in range(args.days):
            day = first_day + timedelta(days=n)
            name = partitions.partition_name(day)
            rows = per_day if n < args.days - 1 else args.rows - per_day * (args.days - 1)
            existing = day in partitions.day_partitions()
            target = name if existing else f"{name}_load"
            if not existing:
                run(
                    f"CREATE TABLE {target} "
                    "(LIKE apikeys_requestlog INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
                )
                created_days.append(day)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            # A day's traffic: 50 tenants, 1,000 keys, one 429 in 50 and one 500 in 1,000.
            run(
                f"INSERT INTO {target} (id, created_at, tenant_id, key_id, environment, method, "
                "path, status, latency_ms, client_ip) "
                "SELECT %s + g, "
                "%s + (g * (86399.0 / %s)) * interval '1 second', 1 + g %% 50, "
                "'key' || (g %% 1000), 'production', 'GET', '/api/production/v1/me', "
                "CASE WHEN g %% 50 = 0 THEN 429 WHEN g %% 1000 = 1 THEN 500 ELSE 200 END, "
                "(g %% 100) / 10.0, '10.0.0.0'::inet + (g %% 65536) "
                "FROM generate_series(1, %s) AS g",
                [next_id, start, rows, rows],
            )
            next_id += rows
            if not existing:
                bounds = f"'{day} 00:00:00+00'", f"'{day + timedelta(days=1)} 00:00:00+00'"
                run(f"ALTER TABLE {target} RENAME TO {name}")
                run(
                    f"ALTER TABLE apikeys_requestlog ATTACH PARTITION {name} "
                    f"FOR VALUES FROM ({bounds[0]}) TO ({bounds[1]})"
                )
            print(f"  {day}: {rows:,} rows ({time.monotonic() - started:.0f} s)", flush=True)
        run("SELECT setval('apikeys_requestlog_id_seq', %s)", [next_id + 1])
        run("VACUUM ANALYZE apikeys_requestlog")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM apikeys_requestlog")
            total = cursor.fetchone()[0]
            cursor.execute(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
                "WHERE inhparent = 'apikeys_requestlog'::regclass"
            )
            size = cursor.fetchone()[0]
        print(f"Filled: {total:,} rows, {size}, in {time.monotonic() - started:.0f} s")

        if args.plain:
            # The same rows in a plain table, as the log was before partitioning.
            began = time.monotonic()
            run(
                f"CREATE TABLE {PLAIN_SCHEMA}.apikeys_requestlog (LIKE public.apikeys_requestlog "
                "INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
            run(
                f"INSERT INTO {PLAIN_SCHEMA}.apikeys_requestlog "
                "SELECT * FROM public.apikeys_requestlog"
            )
            run(f"ALTER TABLE {PLAIN_SCHEMA}.apikeys_requestlog ADD PRIMARY KEY (id)")
            for columns in ("tenant_id, created_at DESC", "tenant_id, key_id, created_at DESC"):
                run(f"CREATE INDEX ON {PLAIN_SCHEMA}.apikeys_requestlog ({columns})")
            run(f"VACUUM ANALYZE {PLAIN_SCHEMA}.apikeys_requestlog")
            print(f"Plain table: {total:,} rows, in {time.monotonic() - began:.0f} s")

        # 3. Write cost per row, in every state in turn.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        ticks = os.sysconf("SC_CLK_TCK")

        def backend_cpu() -> float:
            """The server process' CPU seconds (user + system): what the rows cost it, apart
            from the other work of a shared machine."""
            fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        # name: (search_path, the rows' time, the partition emptied before each repetition)
        states = {
            "empty log": (f"{EMPTY_SCHEMA}, public", None, f"{EMPTY_SCHEMA}.{today_name}"),
            f"{total / 1e6:.0f} M rows, a new day": (
                "public",
                tomorrow.timestamp() + 3600,
                partitions.partition_name(tomorrow.date()),
            ),
            f"{total / 1e6:.0f} M rows, today at {per_day / 1e6:.1f} M": ("public", None, None),
        }
        if args.plain:
            states[f"plain table of {total / 1e6:.0f} M rows"] = (
                f"{PLAIN_SCHEMA}, public",
                None,
                None,
            )

        def entries(count: int, at: float | None) -> list[LogEntry]:
            at = at or time.time()
            return [
                LogEntry(
                    at + n / 1e6,
                    1 + n % 50,
                    1,
                    f"key{n % 1000}",
                    "production",
                    "GET",
                    "/api/production/v1/me",
                    200,
                    1.5,
                    "10.0.0.1",
                )
                for n in range(count)
            ]

        def write_cost(at: float | None) -> tuple[float, float]:
            """Wall and server CPU µs per row of --batches batches written as the API does."""
            batches = [entries(batch_size, at) for _ in range(args.batches)]
            elapsed, cpu = 0.0, backend_cpu()
            for logs in batches:
                began = time.perf_counter()
                # In a transaction and a savepoint, as UsageBuffer.flush writes a batch.
                with transaction.atomic(), connection.cursor() as cursor, transaction.atomic():
                    _insert_batch(cursor, logs)
                elapsed += time.perf_counter() - began
            rows = batch_size * args.batches
            return elapsed / rows * 1e6, (backend_cpu() - cpu) / rows * 1e6

        names = list(states)
        for schema, at, _ in states.values():  # warm-up, not counted
            use(schema)
            write_cost(at)
        walls: dict[str, list[float]] = {name: [] for name in names}
        cpus: dict[str, list[float]] = {name: [] for name in names}
        for rep in range(args.reps):
            for name in names[rep % len(names) :] + names[: rep % len(names)]:
                schema, at, emptied = states[name]
                use("public")
                if emptied:
                    run(f"TRUNCATE {emptied}")
                use(schema)
                wall, cpu = write_cost(at)
                walls[name].append(wall)
                cpus[name].append(cpu)
            use("public")
            print(
                f"  rep {rep + 1}: "
                + ", ".join(f"{name} {walls[name][-1]:.1f} µs" for name in names),
                flush=True,
            )
        print(
            f"Write per row ({batch_size}-row COPY batches, {args.batches * batch_size:,} rows "
            f"a repetition, {args.reps} repetitions): wall | server CPU, median (min-max)"
        )
        base_wall, base_cpu = (
            statistics.median(walls[names[0]]),
            statistics.median(cpus[names[0]]),
        )
        for name in names:
            print(
                f"  {name:<34} {spread(walls[name], 'µs', 1)} | {spread(cpus[name], 'µs', 1)}"
                f"   x{statistics.median(walls[name]) / base_wall:.2f}"
                f" | x{statistics.median(cpus[name]) / base_cpu:.2f}"
            )

        # 4. Purge one day at a time: drop the oldest day's partition.
        drops = []
        for _rep in range(min(args.reps, args.days - 2)):
            oldest = min(partitions.day_partitions())
            # The cutoff is the start of the day after the oldest: only that day goes.
            days = (today - (oldest + timedelta(days=1))).days
            began = time.perf_counter()
            purged = partitions.purge(days=days, batch=10_000)
            drops.append(time.perf_counter() - began)
            assert purged.dropped == [oldest], purged.dropped
        print(f"Purge of one day ({per_day:,} rows, drop partition): {spread(drops, 's', 3)}")
        oldest = min(partitions.day_partitions())
        began = time.perf_counter()
        with transaction.atomic():
            run(f"DELETE FROM {partitions.partition_name(oldest)}")
        print(f"For comparison, DELETE of one day's rows: {time.perf_counter() - began:.2f} s")
    finally:
        # 5. Clean up (also after a failure or Ctrl+C).
        use("public")
        for schema in (EMPTY_SCHEMA, PLAIN_SCHEMA):
            run(f"DROP SCHEMA {schema} CASCADE")
        for day in created_days:  # the partitions it made (attached or not yet)
            name = partitions.partition_name(day)
            run(f"DROP TABLE IF EXISTS {name}_load")
            if not args.keep:
                run(f"DROP TABLE IF EXISTS {name}")
        if not args.keep:
            run("TRUNCATE apikeys_requestlog")
            partitions.ensure_partitions()
            print("Dropped the benchmark's data.")


if __name__ == "__main__":
    main()
