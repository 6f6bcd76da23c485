#!/usr/bin/env bash
# Keyward's API beside its Django peer, djangorestframework-api-key 3.1 (bench/peer/: one
# lookup by prefix and a SHA-512 check per request; no cache, no rate limit, no log), in one
# sitting: the same gunicorn (2 sync workers), the same wrk (-t2 -cCONNECTIONS), PostgreSQL
# for both and Redis for Keyward, the measurements interleaved run by run.
#
#   bench/peer.sh              # RUNS (5), DURATION (5s), CONNECTIONS (8), KEYS (100000)
#
# Each run measures, in turn: the floor (Keyward's /api/health, the peer's plain view), one
# hot key on /me, and a random key of KEYS per request ("spread"). It prints req/s and
# p50/p99 latency of each, then the medians (with min-max) and Keyward ÷ peer.
# Needs the optional extra: .venv/bin/pip install -e '.[bench-peer]' (done here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-8}
KEYS=${KEYS:-100000}
K_PORT=${K_PORT:-8020}
P_PORT=${P_PORT:-8021}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
.venv/bin/python -c "import rest_framework_api_key" 2>/dev/null \
  || .venv/bin/pip install --quiet -e '.[bench-peer]'
mkdir -p var

export DEBUG=false SECURE_SSL_REDIRECT=false ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING
export SECRET_KEY=bench-only-secret-key-0123456789-0123456789-0123456789
export API_KEY_PEPPER=bench-only-pepper-0123456789-0123456789
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/keyward_http}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/3}
export PEER_DATABASE_URL=${PEER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/keyward_peer}
.venv/bin/python - <<PY
import psycopg
for url in ("$DATABASE_URL", "$PEER_DATABASE_URL"):
    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
PY
K_KEYS=var/bench-keys-postgres.txt
P_KEYS=var/bench-keys-peer.txt
.venv/bin/python bench/make_keys.py --count "$KEYS" --out "$K_KEYS" --empty-log
(cd bench/peer && ../../.venv/bin/python make_keys.py --count "$KEYS" --out "../../$P_KEYS")
.venv/bin/python manage.py collectstatic --noinput -v0

.venv/bin/gunicorn portal.wsgi -w 2 -b "127.0.0.1:$K_PORT" --access-logfile /dev/null \
  --error-logfile var/bench-gunicorn.log &
K_SERVER=$!
.venv/bin/gunicorn --chdir bench/peer peer.wsgi -w 2 -b "127.0.0.1:$P_PORT" \
  --access-logfile /dev/null --error-logfile "$PWD/var/bench-peer-gunicorn.log" &
P_SERVER=$!
trap 'kill $K_SERVER $P_SERVER 2>/dev/null; wait 2>/dev/null' EXIT
for port_path in "$K_PORT/api/health" "$P_PORT/health"; do
  for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port_path" >/dev/null && break; sleep 0.2; done
done

K="http://127.0.0.1:$K_PORT"
P="http://127.0.0.1:$P_PORT"
K_HOT=$(head -n 1 "$K_KEYS")
P_HOT=$(head -n 1 "$P_KEYS")

measure() {  # measure wrk-args... -> "rps p50_ms p99_ms"; warns about non-2xx answers
  local out; out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  local bad; bad=$(echo "$out" | awk '/Non-2xx/ {print $5}')
  [ -n "$bad" ] && echo "  warning: $bad non-2xx answers in: $*" >&2
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50.000%" || $1 == "50%" { p50 = ms($2) }
    $1 == "99.000%" || $1 == "99%" { p99 = ms($2) }
    END { printf "%s %.2f %.2f\n", rps, p50, p99 }'
}
spread() {  # spread BASE KEYS_FILE PATH
  KEYS_FILE=$2 KEY_PATH=$3 measure -s bench/random_key.lua "$1"
}

# Warm up: every worker of each server has seen the hot key.
for target in "$K/api/health" "$P/health"; do wrk -t2 -c"$CONNECTIONS" -d2s "$target" >/dev/null; done
wrk -t2 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $K_HOT" "$K/api/production/v1/me" >/dev/null
wrk -t2 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $P_HOT" "$P/me" >/dev/null

echo "workers=2 connections=$CONNECTIONS duration=$DURATION keys=$KEYS runs=$RUNS"
rows=var/bench-peer-rows.txt
: >"$rows"
for i in $(seq "$RUNS"); do
  {
    echo "$i k floor $(measure "$K/api/health")"
    echo "$i p floor $(measure "$P/health")"
    echo "$i k hot $(measure -H "Authorization: Bearer $K_HOT" "$K/api/production/v1/me")"
    echo "$i p hot $(measure -H "Authorization: Bearer $P_HOT" "$P/me")"
    echo "$i k spread $(spread "$K" "$K_KEYS" /api/production/v1/me)"
    echo "$i p spread $(spread "$P" "$P_KEYS" /me)"
  } | tee -a "$rows"
done
.venv/bin/python bench/peer_report.py "$rows"
