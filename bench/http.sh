#!/usr/bin/env bash
# Throughput of authenticated, rate-limited, logged GET /me against the same server's
# unauthenticated GET /api/health, under gunicorn (2 sync workers) and wrk on 127.0.0.1.
#
#   bench/http.sh default     # SQLite + local memory (the configuration of a fresh clone)
#   bench/http.sh postgres    # PostgreSQL + Redis
#
# RUNS (5), DURATION (5s), CONNECTIONS (8), KEYS (100000) and PORT (8020) override.
# Prints each paired run and the medians: "hot" is one key (the warm path: no query);
# "spread" picks one of KEYS keys at random per request (mostly first sightings per worker:
# one query each). wrk spends more CPU on the scripted "spread" requests, on the same cores.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-default}
PORT=${PORT:-8020}
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-8}
KEYS=${KEYS:-100000}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
mkdir -p var

export DEBUG=false SECURE_SSL_REDIRECT=false ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING
export SECRET_KEY=bench-only-secret-key-0123456789-0123456789-0123456789
export API_KEY_PEPPER=bench-only-pepper-0123456789-0123456789
case "$MODE" in
  default)
    unset DATABASE_URL REDIS_URL
    export SQLITE_PATH=var/bench-http.sqlite3 KEY_STATE_FILE=var/bench-key-state ;;
  postgres)
    export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/keyward_http}
    export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/3}
    .venv/bin/python - <<PY
import psycopg
url = "$DATABASE_URL"
base, name = url.rsplit("/", 1)
with psycopg.connect(base + "/postgres", autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"')
PY
    ;;
  *) echo "usage: $0 default|postgres" >&2; exit 2 ;;
esac
KEYS_FILE=var/bench-keys-$MODE.txt
.venv/bin/python bench/make_keys.py --count "$KEYS" --out "$KEYS_FILE" --empty-log
.venv/bin/python manage.py collectstatic --noinput -v0

.venv/bin/gunicorn portal.wsgi -w 2 -b "127.0.0.1:$PORT" --access-logfile /dev/null \
  --error-logfile var/bench-gunicorn.log &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/api/health" >/dev/null && break; sleep 0.2; done

rps() { awk '/Requests\/sec/ {print $2}'; }
errors() { awk '/Non-2xx/ {print $5}'; }
run() {  # run NAME wrk-args... -> prints requests/second, warns about non-2xx answers
  local out; out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "$@")
  local bad; bad=$(echo "$out" | errors)
  [ -n "$bad" ] && echo "  warning: $bad non-2xx answers in: $*" >&2
  echo "$out" | rps
}
BASE="http://127.0.0.1:$PORT"
# Warm up: every worker sees the hot keys once.
wrk -t2 -c"$CONNECTIONS" -d2s "$BASE/api/health" >/dev/null
HOT_KEY=$(head -n 1 "$KEYS_FILE")
wrk -t2 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $HOT_KEY" "$BASE/api/production/v1/me" >/dev/null

echo "mode=$MODE workers=2 connections=$CONNECTIONS duration=$DURATION keys=$KEYS"
printf "%-4s %12s %12s %12s %8s %8s\n" run "health rps" "hot /me rps" "spread rps" hot spread
results=()
for i in $(seq "$RUNS"); do
  base=$(run "$BASE/api/health")
  hot=$(run -H "Authorization: Bearer $HOT_KEY" "$BASE/api/production/v1/me")
  spread=$(KEYS_FILE=$KEYS_FILE KEYS_USE=0 run -s bench/random_key.lua "$BASE")
  results+=("$base $hot $spread")
  awk -v i="$i" -v b="$base" -v h="$hot" -v s="$spread" \
    'BEGIN {printf "%-4s %12.0f %12.0f %12.0f %8.2f %8.2f\n", i, b, h, s, h/b, s/b}'
done
printf "%s\n" "${results[@]}" | .venv/bin/python -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
med = lambda xs: statistics.median(xs)
print("median %12.0f %12.0f %12.0f %8.2f %8.2f" % (
    med([r[0] for r in rows]), med([r[1] for r in rows]), med([r[2] for r in rows]),
    med([r[1] / r[0] for r in rows]), med([r[2] / r[0] for r in rows])))'
