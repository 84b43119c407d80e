#!/usr/bin/env bash
# Every figure of the performance goals (issue 19) in one run, each against
# a baseline measured in the same run on this machine, as one table and as
# JSON (bench/results/all-<UTC time>.json):
#
#   start-up           exec `nudge serve` -> /readyz 200 (median of 5)
#   webhook saturation loadgen, 32 connections, signed webhooks  vs  pgbench
#                      running the webhook's own SQL (bench/webhook_tx.sql)
#   webhook at R/s     loadgen open loop (latency from the scheduled send
#                      time), signed webhooks  vs  the same against /healthz
#   memory (serve)     `nudge serve` RSS after the two webhook runs
#   reminder burst     N reminders due at one instant for P people, one
#                      `nudge worker` process, fake Twilio unthrottled
#                      (tests/reminder_drill.rs, bulk mode): time until all
#                      are handed off  vs  the FOR UPDATE SKIP LOCKED claim
#                      rate of the same PostgreSQL (bench/claim_tx.sql)
#   memory (worker)    the worker's RSS after that burst
#   steady reminders   M reminders per minute for a minute: hand-off lateness p99
#   replies end to end 50 people, offline planner (benches/sms_e2e.rs)  vs
#                      one agent turn alone (benches/agent_turn.rs)
#
#   paced sending      reminders due at one instant at TWILIO_MAX_MPS=75, the
#                      fake Twilio answering 429 above 75 a second, people
#                      texting meanwhile (tests/paced_sending.rs): share of the
#                      allowed rate used, busiest second, 429s, reply latency.
#                      A minute's worth (4,500) by default: 30,000 take 400 s
#                      (NUDGE_BENCH_PACED=30000 runs them).
#
# The binaries run with the default settings plus the addresses, except
# that the webhook runs raise the per-person and edge rate limits (or they
# would measure the limiter) and give serve 32 connections, like pgbench.
# Logs as in production: RUST_LOG=info, LOG_FORMAT=json (to a file).
#
#   bench/all.sh [--quick] [--only SECTIONS]
#     --quick: every size cut about five times
#     --only: a comma-separated subset of start-up, webhook (saturation, fixed
#       rate and serve's memory), burst (SKIP LOCKED claim, burst, worker
#       memory), steady, replies, paced; builds only what those need
# A/B against another build: NUDGE_BENCH_NUDGE=<nudge binary> runs that
#   binary instead of this tree's in the start-up and webhook sections (it
#   migrates its own schema) and as the burst and steady drills' worker
#   (on this tree's schema: only for builds with the same migrations), and
#   NUDGE_BENCH_WEBHOOK_SQL=<file> gives pgbench that build's webhook SQL.
# Sizes (environment): NUDGE_BENCH_BURST=30000 NUDGE_BENCH_BURST_PEOPLE=10000
#   NUDGE_BENCH_STEADY_PER_MINUTE=10000 NUDGE_BENCH_SECONDS=15 (each webhook
#   run) NUDGE_BENCH_RATE=500; NUDGE_BENCH_PROFILE=release (dev builds faster).
# PostgreSQL and Redis as for scripts/test (started or installed if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/lib.sh

quick=
only=start-up,webhook,burst,steady,replies,paced
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1 ;;
        --only) only=${2:?--only needs sections}; shift ;;
        *) echo "usage: bench/all.sh [--quick] [--only start-up,webhook,burst,steady,replies,paced]" >&2; exit 2 ;;
    esac
    shift
done
# want SECTION: whether this run includes it.
want() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
for section in ${only//,/ }; do
    want_known=" start-up webhook burst steady replies paced "
    [ "${want_known/ $section /}" != "$want_known" ] || { echo "bench/all.sh: unknown section $section" >&2; exit 2; }
done
profile=${NUDGE_BENCH_PROFILE:-release}
burst=${NUDGE_BENCH_BURST:-${quick:+6000}}; burst=${burst:-30000}
burst_people=${NUDGE_BENCH_BURST_PEOPLE:-${quick:+2000}}; burst_people=${burst_people:-10000}
steady=${NUDGE_BENCH_STEADY_PER_MINUTE:-${quick:+2000}}; steady=${steady:-10000}
paced=${NUDGE_BENCH_PACED:-${quick:+900}}; paced=${paced:-4500}
secs=${NUDGE_BENCH_SECONDS:-${quick:+5}}; secs=${secs:-15}
rate=${NUDGE_BENCH_RATE:-500}
conns=32

fail() { echo "bench/all.sh: $*" >&2; exit 1; }

export NUDGE_TEST_DATABASE_URL="${NUDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export NUDGE_TEST_REDIS_URL="${NUDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
ensure_rust
ensure_postgres
ensure_redis
ensure_twilio_python
command -v pgbench >/dev/null || apt_install postgresql-contrib
command -v pgbench >/dev/null || fail "pgbench is missing (apt-get install postgresql-contrib)"
command -v curl >/dev/null || apt_install curl
python3 -c 'import twilio' 2>/dev/null || fail "python3 twilio is missing (pip install twilio)"

server=$NUDGE_TEST_DATABASE_URL
hostport=$(python3 -c "import urllib.parse,sys;u=urllib.parse.urlparse(sys.argv[1]);print(f'{u.hostname}:{u.port or 5432}')" "$server")
db=nudge_bench_all_$$
owner="${server%/*}/$db"
app="postgres://nudge_bench_app@$hostport/$db"
work=$(mktemp -d /tmp/nudge-bench.XXXXXX)
rows=$work/rows.tsv
: >"$rows"
serve_pid=

stop_serve() {
    if [ -n "$serve_pid" ]; then
        kill "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
        serve_pid=
    fi
}
cleanup() {
    stop_serve
    psql -X -q "$server" -c "drop database if exists $db with (force)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# key=value from a line of a file: field FILE KEY
field() { { grep -o "$2=[^ ]*" "$1" || echo "$2=nan"; } | tail -n1 | cut -d= -f2; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# One row of the table: figure, baseline label, baseline, value, unit, ratio, goal, pass.
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"; }
# pass/FAIL from an awk condition over v (value), b (baseline), r (ratio).
judge() { awk -v v="$1" -v b="$2" -v r="$3" "BEGIN { exit !($4) }" && echo pass || echo FAIL; }

echo "== build ($profile profile, once)"
case $profile in release) target_dir=release ;; dev) target_dir=debug ;; *) target_dir=$profile ;; esac
[ -n "${NUDGE_BENCH_NUDGE:-}" ] || cargo build -q --profile "$profile" --bin nudge
if want burst || want steady; then cargo test -q --profile "$profile" --test reminder_drill --no-run; fi
if want paced; then cargo test -q --profile "$profile" --test paced_sending --no-run; fi
if want replies; then cargo bench -q --profile "$profile" --bench sms_e2e --bench agent_turn --no-run; fi
if want webhook; then cargo bench -q --profile "$profile" --bench loadgen --no-run; fi
nudge=${NUDGE_BENCH_NUDGE:-$root/target/$target_dir/nudge}
webhook_sql=${NUDGE_BENCH_WEBHOOK_SQL:-bench/webhook_tx.sql}
loadgen() { cargo bench -q --profile "$profile" --bench loadgen -- "$@" 2>/dev/null | grep '^loadgen'; }

echo "== database $db"
psql -X -q "$server" -c "create database $db" >/dev/null
NUDGE_ENV=development DATABASE_URL="$app" DATABASE_ADMIN_URL="$owner" "$nudge" migrate >/dev/null
psql -X -q "$owner" <<'SQL'
insert into users (id, display_name, timezone)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'bench ' || n, 'America/Montreal'
from generate_series(0, 999) n;
insert into user_phone_numbers (user_id, e164, verified, is_primary)
select ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, '+1514555' || lpad(n::text, 4, '0'), true, true
from generate_series(0, 999) n;
SQL

port=$(free_port)
token=bench-token
start_serve() {
    env -i PATH="$PATH" NUDGE_ENV=development DATABASE_URL="$app" DATABASE_MAX_CONNECTIONS=$conns \
        REDIS_URL="$NUDGE_TEST_REDIS_URL" REDIS_KEY_PREFIX="bench:$$:$RANDOM:" \
        TWILIO_AUTH_TOKEN=$token TWILIO_ACCOUNT_SID=ACbench TWILIO_FROM_NUMBER=+15005550006 \
        TWILIO_API_BASE="http://127.0.0.1:9" \
        BIND_ADDR=127.0.0.1:$port METRICS_ADDR=127.0.0.1:$(free_port) PUBLIC_BASE_URL=http://127.0.0.1:$port \
        INBOUND_MESSAGES_PER_MINUTE=1000000 EDGE_REQUESTS_PER_SECOND=1000000 EDGE_BURST=1000000 \
        RUST_LOG=info LOG_FORMAT=json \
        "$nudge" serve >>"$work/serve.log" 2>&1 &
    serve_pid=$!
}

if want start-up; then
echo "== start-up: exec -> /readyz 200, 5 times"
startups=()
for _ in 1 2 3 4 5; do
    t0=$(date +%s%N)
    start_serve
    ready=
    for _ in $(seq 1 2000); do
        if curl -sf -o /dev/null "http://127.0.0.1:$port/readyz"; then ready=1; break; fi
        kill -0 "$serve_pid" 2>/dev/null || break
        sleep 0.005
    done
    t1=$(date +%s%N)
    [ -n "$ready" ] || { tail -n 5 "$work/serve.log" >&2; fail "nudge serve never became ready"; }
    startups+=("$(( (t1 - t0) / 1000000 ))")
    stop_serve
done
startup_ms=$(printf '%s\n' "${startups[@]}" | sort -n | sed -n 3p)
echo "   ${startups[*]} ms"
row "start-up: exec -> /readyz 200 (median of 5)" "-" "-" "$startup_ms" ms "-" "<= 200 ms" \
    "$(judge "$startup_ms" 0 0 'v <= 200')"
fi

if want webhook; then
echo "== webhook saturation: pgbench ($conns clients, ${secs}s) vs signed webhooks ($conns connections)"
uid0=00000000-0000-4000-8000-000000000000
tps=$(PGPASSWORD='' pgbench -n -M prepared -c "$conns" -j 2 -T "$secs" -D uid=$uid0 \
    -f "$webhook_sql" "$app" 2>/dev/null | awk '/^tps/ { printf "%.0f", $3 }')
echo "   pgbench: $tps tx/s"
need=$((secs * 4000))
python3 bench/sign_requests.py "http://127.0.0.1:$port/twilio/sms" "$token" "$need" "$work/sat.txt" SMsat
python3 bench/sign_requests.py "http://127.0.0.1:$port/twilio/sms" "$token" $((secs * rate + 10)) "$work/open.txt" SMopen
start_serve
for _ in $(seq 1 400); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.05; done
loadgen --url "http://127.0.0.1:$port/twilio/sms" --requests "$work/sat.txt" --connections "$conns" \
    --seconds "$secs" | tee "$work/sat.out" | sed 's/^/   /'
sat=$(field "$work/sat.out" rps)
[ "$(field "$work/sat.out" failed)" = 0 ] || echo "   (some webhooks failed: see the failed= count)"
ratio=$(awk -v a="$sat" -v b="$tps" 'BEGIN { printf "%.2f", a / b }')
row "webhook saturation (req/s)" "pgbench same SQL (tx/s)" "$tps" "$sat" "req/s" "$ratio" ">= 0.8 x" \
    "$(judge "$sat" "$tps" "$ratio" 'r >= 0.8')"

echo "== webhooks at a fixed $rate/s (open loop, ${secs}s): /healthz baseline, then signed webhooks"
loadgen --url "http://127.0.0.1:$port/healthz" --rate "$rate" --seconds "$secs" | tee "$work/health.out" | sed 's/^/   /'
loadgen --url "http://127.0.0.1:$port/twilio/sms" --requests "$work/open.txt" --rate "$rate" \
    --seconds "$secs" | tee "$work/open.out" | sed 's/^/   /'
hp99=$(field "$work/health.out" p99_ms)
wp50=$(field "$work/open.out" p50_ms) wp99=$(field "$work/open.out" p99_ms) wp999=$(field "$work/open.out" p999_ms)
ratio=$(awk -v a="$wp99" -v b="$hp99" 'BEGIN { printf "%.1f", a / b }')
row "webhook at $rate/s: p99 (p50 $wp50, p99.9 $wp999)" "/healthz p99 at $rate/s" "$hp99" "$wp99" ms "$ratio" \
    "<= 10 ms" "$(judge "$wp99" "$hp99" "$ratio" 'v <= 10')"
serve_rss=$(rss_mb "$serve_pid")
row "memory: serve RSS after the webhook runs" "-" "-" "$serve_rss" MB "-" "<= 60 MB" \
    "$(judge "$serve_rss" 0 0 'v <= 60')"
stop_serve
fi

if want burst; then
echo "== SKIP LOCKED claim rate: $burst rows, batches of 100, 2 clients"
psql -X -q "$owner" -c "create table bench_claim (id bigserial primary key, due_at timestamptz not null, claimed boolean not null default false)" \
    -c "insert into bench_claim (due_at) select now() - interval '1 second' from generate_series(1, $burst)" \
    -c "create index on bench_claim (due_at) where not claimed" -c "analyze bench_claim"
claim_tps=$(pgbench -n -M prepared -c 2 -j 2 -t $((burst / 200)) -f bench/claim_tx.sql "$owner" 2>/dev/null \
    | awk '/^tps/ { printf "%.0f", $3 }')
claim_rate=$((claim_tps * 100))
echo "   $claim_rate rows/s"

echo "== reminder burst: $burst due at one instant, $burst_people people"
NUDGE_DRILL_BULK=1 NUDGE_DRILL_REMINDERS=$burst NUDGE_DRILL_USERS=$burst_people NUDGE_DRILL_KILLS=0 \
    NUDGE_DRILL_WINDOW_SECONDS=0 cargo test -q --profile "$profile" --test reminder_drill -- --nocapture \
    >"$work/burst.out" 2>&1 || true
grep -E '^(BENCH|drill:)' "$work/burst.out" | sed 's/^/   /' || { tail -n 20 "$work/burst.out" >&2; fail "burst drill failed"; }
handoff=$(field "$work/burst.out" handoff_s) burst_rate=$(field "$work/burst.out" rate_per_s)
lost=$(field "$work/burst.out" lost) worker_rss=$(field "$work/burst.out" worker_rss_mb)
ratio=$(awk -v a="$burst_rate" -v b="$claim_rate" 'BEGIN { printf "%.3f", a / b }')
row "reminder burst: $burst due, last hand-off after ($lost not handed off in the drill)" "SKIP LOCKED claim (rows/s)" "$claim_rate" \
    "$handoff s ($burst_rate/s)" s "$ratio" ">= 2000/s and >= 0.05 x" \
    "$(judge "$burst_rate" "$claim_rate" "$ratio" "v >= 2000 && r >= 0.05 && \"$lost\" == \"0\"")"
row "memory: worker RSS after the burst ($burst_people people)" "-" "-" "$worker_rss" MB "-" "<= 60 MB" \
    "$(judge "$worker_rss" 0 0 'v <= 60 && v > 0')"
fi

if want steady; then
echo "== steady reminders: $steady in one minute"
people=$((steady / 10)); [ "$people" -ge 1 ] || people=1
NUDGE_DRILL_BULK=1 NUDGE_DRILL_REMINDERS=$steady NUDGE_DRILL_USERS=$people NUDGE_DRILL_KILLS=0 \
    NUDGE_DRILL_WINDOW_SECONDS=60 cargo test -q --profile "$profile" --test reminder_drill -- --nocapture \
    >"$work/steady.out" 2>&1 || true
grep -E '^(BENCH|drill:)' "$work/steady.out" | sed 's/^/   /' || { tail -n 20 "$work/steady.out" >&2; fail "steady drill failed"; }
late99=$(field "$work/steady.out" late_p99_ms) late50=$(field "$work/steady.out" late_p50_ms)
row "steady reminders $steady/min: lateness p99 (p50 $late50)" "-" "-" "$late99" ms "-" "<= 100 ms" \
    "$(judge "$late99" 0 0 'v <= 100')"
fi

turn50=-
if want replies; then
echo "== replies end to end: one agent turn alone, then 50 people"
cargo bench -q --profile "$profile" --bench agent_turn -- no-criterion-run 2>/dev/null \
    | grep '^agent_turn over' | tee "$work/turn.out" | sed 's/^/   /'
turn50=$(sed -E 's/.*p50 ([0-9.]+) ms.*/\1/' "$work/turn.out") turn99=$(sed -E 's/.*p99 ([0-9.]+) ms.*/\1/' "$work/turn.out")
cargo bench -q --profile "$profile" --bench sms_e2e 2>/dev/null | grep '^sms_e2e' | tee "$work/e2e.out" | sed 's/^/   /'
e2e95=$(sed -E 's/.*p95 ([0-9.]+) ms.*/\1/' "$work/e2e.out") e2e99=$(sed -E 's/.*p99 ([0-9.]+) ms.*/\1/' "$work/e2e.out")
row "replies end to end, 50 people: p95" "agent_turn p99 alone" "$turn99" "$e2e95" ms \
    "$(awk -v a="$e2e95" -v b="$turn99" 'BEGIN { printf "%.1f", a / b }')" "<= 150 ms" \
    "$(judge "$e2e95" 0 0 'v <= 150')"
row "replies end to end, 50 people: p99" "agent_turn p99 alone" "$turn99" "$e2e99" ms \
    "$(awk -v a="$e2e99" -v b="$turn99" 'BEGIN { printf "%.1f", a / b }')" "<= 250 ms" \
    "$(judge "$e2e99" 0 0 'v <= 250')"
fi
if want paced; then
echo "== paced sending: $paced due at one instant, TWILIO_MAX_MPS=75, 20 people texting meanwhile"
NUDGE_PACED_REMINDERS=$paced NUDGE_PACED_PEOPLE=$(( paced / 3 )) NUDGE_PACED_TEXTERS=20 \
    cargo test -q --profile "$profile" --test paced_sending -- --nocapture >"$work/paced.out" 2>&1 || true
grep -E '^BENCH' "$work/paced.out" | sed 's/^/   /' || { tail -n 20 "$work/paced.out" >&2; fail "paced drill failed"; }
used=$(field "$work/paced.out" rate_used) busiest=$(field "$work/paced.out" busiest_second)
rejected=$(field "$work/paced.out" rejected) reply95=$(field "$work/paced.out" reply_p95_ms)
used_pct=$(awk -v u="$used" 'BEGIN { printf "%.1f", u * 100 }')
row "paced sending at 75/s, $paced due: rate used (busiest second $busiest, $rejected x 429)" "allowed 75/s" 75 \
    "$used_pct" "%" "$used" ">= 95 %, never over, 0 x 429" \
    "$(judge "$used_pct" 75 "$used" "v >= 95 && $busiest <= 75 && $rejected == 0")"
row "paced sending: reply p95 during the backlog" "-" "-" "$reply95" ms "-" "<= 2000 ms" \
    "$(judge "$reply95" 0 0 'v <= 2000')"
fi

mkdir -p bench/results
out="bench/results/all-$(date -u +%Y%m%dT%H%M%SZ).json"
load=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$rows" "$out" "$profile" "$load" "$turn50" <<'PY'
import json, sys
rows_path, out, profile, load, turn50 = sys.argv[1:]
keys = ["figure", "baseline", "baseline_value", "value", "unit", "ratio", "goal", "result"]
rows = [dict(zip(keys, line.rstrip("\n").split("\t"))) for line in open(rows_path)]
json.dump({"profile": profile, "load_average": load, "agent_turn_p50_ms": turn50, "figures": rows},
          open(out, "w"), indent=2)
widths = [max(len(k), *(len(r[k]) for r in rows)) for k in keys]
line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths))
print(line(keys))
print(line(["-" * w for w in widths]))
for r in rows:
    print(line([r[k] for k in keys]))
PY
echo "load average at the end: $load; JSON: $out"
