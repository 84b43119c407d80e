#!/usr/bin/env bash
# Where a reminder burst's time goes: runs the burst drill (as bench/all.sh
# does, release build) with PostgreSQL's pg_stat_statements reset first, and
# prints
#   - CPU seconds by process kind (PostgreSQL backends, the `nudge worker`,
#     the drill itself with its fake Twilio), sampled from /proc;
#   - the statements by calls and by total execution time, with calls per
#     reminder: the round trips each occurrence costs.
# Needs pg_stat_statements in shared_preload_libraries (the script says how
# when it is not) and a superuser at NUDGE_TEST_DATABASE_URL.
#
#   bench/profile_burst.sh            # 30,000 due for 10,000 people
#   NUDGE_BENCH_BURST=6000 NUDGE_BENCH_BURST_PEOPLE=2000 bench/profile_burst.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export NUDGE_TEST_DATABASE_URL="${NUDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export NUDGE_TEST_REDIS_URL="${NUDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
burst=${NUDGE_BENCH_BURST:-30000}
people=${NUDGE_BENCH_BURST_PEOPLE:-10000}
server=$NUDGE_TEST_DATABASE_URL

if ! psql -X -Atq "$server" -c "show shared_preload_libraries" | grep -q pg_stat_statements; then
    echo "bench/profile_burst.sh: pg_stat_statements is not loaded; add" >&2
    echo "  shared_preload_libraries = 'pg_stat_statements'" >&2
    echo "to postgresql.conf (or a conf.d file) and restart PostgreSQL" >&2
    exit 1
fi
cargo build -q --release --bin nudge
cargo test -q --release --test reminder_drill --no-run
psql -X -q "$server" -c "create extension if not exists pg_stat_statements" -c "select pg_stat_statements_reset()" >/dev/null

work=$(mktemp -d /tmp/nudge-profile.XXXXXX)
trap 'kill "$sampler" 2>/dev/null || true; rm -rf "$work"' EXIT
# Cumulative CPU per live process, every 200 ms; the last sample of each
# pid is what it used (a process's ticks are gone from /proc once it exits).
python3 - "$work/cpu.json" <<'PY' &
import json, os, sys, time, signal
out = sys.argv[1]
seen = {}
def kind(comm):
    if comm == "postgres": return "postgresql"
    if comm == "nudge": return "nudge worker"
    if comm.startswith("reminder_drill"): return "drill + fake Twilio"
    return None
def dump(*_):
    totals = {}
    for k, ticks in seen.values():
        totals[k] = totals.get(k, 0) + ticks
    hz = os.sysconf("SC_CLK_TCK")
    json.dump({k: round(v / hz, 1) for k, v in totals.items()}, open(out, "w"))
    sys.exit(0)
signal.signal(signal.SIGTERM, dump)
start = {}
while True:
    for pid in os.listdir("/proc"):
        if not pid.isdigit(): continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        k = kind(comm)
        if k is None: continue
        f = stat[stat.rindex(")") + 2:].split()
        ticks = int(f[11]) + int(f[12])
        start.setdefault(pid, ticks)
        seen[pid] = (k, ticks - start[pid])
    time.sleep(0.2)
PY
sampler=$!
t0=$(date +%s.%N)
NUDGE_DRILL_BULK=1 NUDGE_DRILL_REMINDERS=$burst NUDGE_DRILL_USERS=$people NUDGE_DRILL_KILLS=0 \
    NUDGE_DRILL_WINDOW_SECONDS=0 cargo test -q --release --test reminder_drill -- --nocapture \
    >"$work/burst.out" 2>&1 || true
t1=$(date +%s.%N)
kill -TERM "$sampler"; wait "$sampler" 2>/dev/null || true
grep -E '^(BENCH|drill:)' "$work/burst.out" || { tail -n 20 "$work/burst.out" >&2; exit 1; }
echo "== CPU seconds by process over $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s of wall time (2 cores: at most twice that)"
python3 -c 'import json,sys; [print(f"   {k:22} {v:8.1f} s") for k, v in sorted(json.load(open(sys.argv[1])).items(), key=lambda kv: -kv[1])]' "$work/cpu.json"
echo "== statements by calls (calls per reminder = calls / $burst)"
psql -X -q "$server" -P pager=off <<SQL
select calls, round(calls::numeric / $burst, 2) as per_reminder,
       round(total_exec_time::numeric, 0) as total_ms, round(mean_exec_time::numeric, 3) as mean_ms,
       left(regexp_replace(query, '\s+', ' ', 'g'), 90) as query
from pg_stat_statements where calls >= $burst / 20
order by calls desc limit 30;
select sum(calls) as statements, round(sum(calls)::numeric / $burst, 1) as per_reminder,
       round(sum(total_exec_time)::numeric / 1000, 1) as exec_s
from pg_stat_statements;
SQL
