"""Revocation under load: how many requests were answered 200 after the revoke returned?

    .venv/bin/python bench/revocation.py                # PostgreSQL + a private redis-server
    .venv/bin/python bench/revocation.py --stall        # Redis SIGSTOPped during the revokes
    .venv/bin/python bench/revocation.py --sqlite       # SQLite + the local key-state file

Starts gunicorn (2 sync workers) on its own database and, with Redis, its own redis-server,
then loads it with CONNECTIONS (16) keep-alive connections from two load processes, each
request carrying one of KEYS (200) warm keys in turn. Meanwhile a third process (a writer
with connections of its own) revokes the keys one by one through the services, as
`manage.py revoke_api_key` does, and notes when each revoke returned. Every request sent
after its key's revoke returned must be refused: the script prints how many were checked
and how many were answered 200 (the promise: 0), and exits non-zero otherwise.

With --stall, Redis is stopped (SIGSTOP) for STALL_SECONDS (1.5) while the revokes go on:
workers cannot renew their leases and ask the database; writers queue their changes.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("PORT", "8030"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "16"))
KEYS = int(os.environ.get("KEYS", "200"))
STALL_SECONDS = float(os.environ.get("STALL_SECONDS", "1.5"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(args: argparse.Namespace, redis_port: int | None) -> dict[str, str]:
    env = os.environ | {
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "ERROR",
        "SECRET_KEY": "bench-only-secret-key-0123456789-0123456789-0123456789",
        "API_KEY_PEPPER": "bench-only-pepper-0123456789-0123456789",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PYTHONPATH": str(ROOT),
    }
    if args.sqlite:
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        env["SQLITE_PATH"] = str(ROOT / "var" / "bench-revocation.sqlite3")
        env["KEY_STATE_FILE"] = str(ROOT / "var" / "bench-revocation-key-state")
    else:
        env["DATABASE_URL"] = os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/keyward_revocation"
        )
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    return env


MAKE_KEYS = """
import sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
sys.path.insert(0, "bench")
from make_keys import ensure_keys
from apikeys.models import ApiKey
from django.utils import timezone
from pathlib import Path
out = Path(sys.argv[1])
out.unlink(missing_ok=True)
ApiKey.objects.filter(tenant__slug="loadtest").delete()
keys = ensure_keys(int(sys.argv[2]), out)
print(len(keys))
"""

REVOKER = """
import json, sys, time
import django
django.setup()
from apikeys.models import ApiKey
from apikeys.services import api_key_revoke_by_operator
from gateway.keystate import wait_published
from gateway.verification import MAX_RECORD_AGE
key_ids = json.loads(sys.stdin.readline())
print("ready", flush=True)
sys.stdin.readline()  # go
for key_id in key_ids:
    api_key_revoke_by_operator(key_id=key_id)
    wait_published(timeout=MAX_RECORD_AGE)  # what manage.py revoke_api_key waits for
    print(json.dumps([key_id, time.time()]), flush=True)
    time.sleep(0.02)
"""


def load(keys: list[str], threads: int, until: float, out: multiprocessing.Queue) -> None:
    """One load process: `threads` keep-alive connections, keys in turn."""
    records: list[tuple[int, float, int]] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        mine = []
        i = offset
        while time.time() < until:
            index = i % len(keys)
            sent = time.time()
            conn.request(
                "GET", "/api/production/v1/me", headers={"Authorization": f"Bearer {keys[index]}"}
            )
            response = conn.getresponse()
            response.read()
            mine.append((index, sent, response.status))
            i += 7
        with lock:
            records.extend(mine)

    workers = [threading.Thread(target=client, args=(n * 13,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.put(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stall", action="store_true", help="SIGSTOP Redis during the revokes")
    parser.add_argument("--sqlite", action="store_true", help="SQLite and the key-state file")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="keyward-revocation-"))
    processes: list[subprocess.Popen] = []
    redis = None
    try:
        redis_port = None
        if not args.sqlite:
            import psycopg

            url = os.environ.get(
                "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/keyward_revocation"
            )
            base, name = url.rsplit("/", 1)
            with psycopg.connect(base + "/postgres", autocommit=True) as conn:
                if not conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [name]
                ).fetchone():
                    conn.execute(f'CREATE DATABASE "{name}"')
            redis_port = free_port()
            redis = subprocess.Popen(
                [
                    shutil.which("redis-server"),
                    "--port",
                    str(redis_port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--bind",
                    "127.0.0.1",
                ],
                cwd=work,
                stdout=subprocess.DEVNULL,
            )
        elif args.stall:
            parser.error("--stall needs Redis (drop --sqlite)")
        env = environment(args, redis_port)
        keys_file = work / "keys.txt"
        subprocess.run(
            [sys.executable, "-c", MAKE_KEYS, str(keys_file), str(KEYS)],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        keys = keys_file.read_text().split()[:KEYS]
        server = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/gunicorn"),
                "portal.wsgi",
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{PORT}",
                "--access-logfile",
                "/dev/null",
                "--error-logfile",
                str(work / "gunicorn.log"),
            ],
            cwd=ROOT,
            env=env,
        )
        processes.append(server)
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request(
                    "GET", "/api/health"
                )
                break
            except OSError:
                time.sleep(0.1)
        # Warm: every worker has seen every key.
        warm = time.time() + 2.0
        queue: multiprocessing.Queue = multiprocessing.Queue()
        load(keys, 8, warm, queue)
        warm_records = queue.get()
        assert all(status == 200 for _, _, status in warm_records), "a key did not work"

        key_ids = [key.split("_")[2] for key in keys]
        duration = len(keys) * 0.1 + (STALL_SECONDS if args.stall else 0) + 3.0
        revoker = subprocess.Popen(
            [sys.executable, "-c", REVOKER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(revoker)
        revoker.stdin.write(json.dumps(key_ids) + "\n")
        revoker.stdin.flush()
        assert revoker.stdout.readline().strip() == "ready"
        until = time.time() + duration
        loaders = [
            multiprocessing.Process(target=load, args=(keys, CONNECTIONS // 2, until, queue))
            for _ in range(2)
        ]
        for loader in loaders:
            loader.start()
        time.sleep(0.5)  # the load is on
        revoker.stdin.write("go\n")
        revoker.stdin.flush()
        if args.stall:
            time.sleep(0.3)
            os.kill(redis.pid, signal.SIGSTOP)
            time.sleep(STALL_SECONDS)
            os.kill(redis.pid, signal.SIGCONT)
        returned = {}
        for line in revoker.stdout:
            key_id, at = json.loads(line)
            returned[key_id] = at
        records = [record for _ in loaders for record in queue.get()]
        for loader in loaders:
            loader.join()
        checked = bad = 0
        for index, sent, status in records:
            at = returned.get(key_ids[index])
            if at is not None and sent > at:
                checked += 1
                bad += status == 200
        mode = "SQLite + key-state file" if args.sqlite else "PostgreSQL + Redis"
        print(
            f"{mode}{f', Redis stalled {STALL_SECONDS:.1f}s' if args.stall else ''}: "
            f"{len(records):,} requests in {duration:.1f}s ({len(records) / duration:,.0f}/s) "
            f"over {CONNECTIONS} connections; {len(returned)} keys revoked; "
            f"{checked:,} requests sent after their key's revoke returned, "
            f"{bad} of them answered 200"
        )
        if bad or len(returned) != len(keys):
            sys.exit(1)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        if redis is not None:
            os.kill(redis.pid, signal.SIGCONT)
            redis.kill()
            redis.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
