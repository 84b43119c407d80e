#!/usr/bin/env bash
# Webhook acknowledgement benchmark, on this machine, in one run:
#  1. raw ceiling: pgbench running the webhook's own SQL (bench/webhook_tx.sql)
#  2. signed webhooks (Twilio's Python library signs them) with wrk against
#     a release `nudge serve` on the same database.
# Needs: PostgreSQL + Redis as for scripts/test, wrk, pgbench, python3 twilio.
# Usage: bench/webhook.sh [seconds=20] [connections=32]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-32}
SERVER=${NUDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
HOSTPORT=$(python3 -c "import urllib.parse,sys;u=urllib.parse.urlparse(sys.argv[1]);print(f'{u.hostname}:{u.port or 5432}')" "$SERVER")
DB=nudge_bench
APP="postgres://nudge_bench_app@$HOSTPORT/$DB"
OWNER="${SERVER%/*}/$DB"
PORT=18181
WORK=$(mktemp -d)
SERVE_PID=
trap 'kill $SERVE_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT

command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)"; exit 1; }
cargo build --release --bin nudge -q
psql -q "$SERVER" -c "drop database if exists $DB with (force)" -c "create database $DB"
NUDGE_ENV=development DATABASE_URL="$APP" DATABASE_ADMIN_URL="$OWNER" ./target/release/nudge migrate >/dev/null
psql -q "$OWNER" <<'SQL'
insert into users (id, display_name, timezone)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'bench ' || n, 'America/Montreal'
from generate_series(0, 999) n;
insert into user_phone_numbers (user_id, e164, verified, is_primary)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, '+1514555' || lpad(n::text, 4, '0'), true, true
from generate_series(0, 999) n;
SQL
UID0=00000000-0000-4000-8000-000000000000

echo "== raw ceiling: pgbench, $CONNS clients, ${SECS}s"
PGPASSWORD= pgbench -n -M prepared -c "$CONNS" -j 2 -T "$SECS" -D uid=$UID0 \
    -f bench/webhook_tx.sql "postgres://nudge_bench_app@$HOSTPORT/$DB" | grep -E "tps|latency average"

echo "== signed webhooks: wrk, $CONNS connections, ${SECS}s"
TOKEN=bench-token
python3 bench/sign_requests.py "http://127.0.0.1:$PORT/twilio/sms" "$TOKEN" $((SECS * 6000)) "$WORK/requests.txt"
NUDGE_ENV=development DATABASE_URL="$APP" DATABASE_MAX_CONNECTIONS=$CONNS \
    REDIS_URL=redis://127.0.0.1:6379 REDIS_KEY_PREFIX="bench:$RANDOM:" \
    TWILIO_AUTH_TOKEN=$TOKEN BIND_ADDR=127.0.0.1:$PORT METRICS_ADDR=127.0.0.1:$((PORT + 1)) \
    PUBLIC_BASE_URL=http://127.0.0.1:$PORT INBOUND_MESSAGES_PER_MINUTE=1000000 \
    EDGE_REQUESTS_PER_SECOND=1000000 EDGE_BURST=1000000 RUST_LOG=warn LOG_FORMAT=json \
    ./target/release/nudge serve > "$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 5s -s bench/webhook.lua "http://127.0.0.1:$PORT" -- "$WORK/requests.txt" 2 \
    | grep -E "Requests/sec|^p|requests|Latency"
echo "stored: $(psql -tA "$OWNER" -c "select count(*) from messages where provider_message_id like 'SMbench%'") messages," \
     "$(psql -tA "$OWNER" -c "select count(*) from apalis.jobs where job_type = 'agent_turn'") agent_turn jobs"
