#!/usr/bin/env bash
# Backup and restore drill at a chosen size, end to end on this machine:
#   1. a source PostgreSQL (temporary data directory, spare port, as the
#      `postgres` user when run as root) archiving WAL with pgBackRest through
#      deploy/backup/pgbackrest-env, configured by deploy/backup/pgbackrest.conf
#      (paths overridden by PGBACKREST_* variables);
#   2. Nudge's schema (`nudge migrate`) and SIZE_MB of people, numbers,
#      messages and reminders;
#   3. a full backup by deploy/backup/backup.sh (encrypted, AES-256), then more
#      rows written after it (restored from the archived WAL);
#   4. scripts/restore-drill against it, which prints the time;
#   5. the same drill with a wrong passphrase, which must fail.
#
#   bench/restore_drill.sh [SIZE_MB]     default 1024 (the issue's 1 GB)
#   NUDGE_BIN=path/to/nudge              default target/release/nudge (built if missing)
# tests/deploy.rs (backup) runs it at 16 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
size_mb="${1:-1024}"

bin="${NUDGE_BIN:-$root/target/release/nudge}"
if [ ! -x "$bin" ]; then cargo build --release --bin nudge; fi

pg_bin=$(dirname "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

work=$(mktemp -d /tmp/nudge-drill.XXXXXX)
chmod 0755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres: "$work"
src="$work/src" sock="$work/sock" port=$(free_port)
as_pg mkdir -p "$sock" "$work/repo" "$work/lock" "$work/textfile"
cleanup() {
    as_pg "$pg_bin/pg_ctl" -D "$src" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The passphrase file, as Docker would mount the secret.
as_pg sh -c "umask 077; openssl rand -base64 48 > '$work/cipher'; openssl rand -base64 48 > '$work/wrong'"
export NUDGE_BACKUP_CIPHER_PASS_FILE="$work/cipher"
export PGBACKREST_CONFIG="$root/deploy/backup/pgbackrest.conf"
export PGBACKREST_REPO1_PATH="$work/repo/repo1" PGBACKREST_REPO2_PATH="$work/repo/repo2" \
    PGBACKREST_REPO3_PATH="$work/repo/repo3"
export PGBACKREST_PG1_PATH="$src" PGBACKREST_PG1_SOCKET_PATH="$sock" PGBACKREST_PG1_PORT="$port"
export PGBACKREST_LOCK_PATH="$work/lock"
export NUDGE_BACKUP_TEXTFILE_DIR="$work/textfile"

as_pg "$pg_bin/initdb" -D "$src" -U postgres --auth=trust --data-checksums >/dev/null
as_pg "$pg_bin/pg_ctl" -D "$src" -l "$work/src.log" -w \
    -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c wal_level=replica -c archive_mode=on -c archive_timeout=60 -c max_wal_size=4GB -c archive_command='$root/deploy/backup/pgbackrest-env --stanza=nudge archive-push %p'" \
    start >/dev/null
source_url="postgres://postgres@127.0.0.1:$port/nudge"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$source_url" "$@"; }
psql -X -q -v ON_ERROR_STOP=1 "postgres://postgres@127.0.0.1:$port/postgres" -c "create database nudge" >/dev/null

env -i PATH="$PATH" NUDGE_ENV=development \
    DATABASE_ADMIN_URL="$source_url" \
    DATABASE_URL="postgres://nudge_drill_app:drill-app-password@127.0.0.1:$port/nudge" \
    "$bin" migrate >/dev/null

# People texting ~150 messages each (a ~420-byte body; about 1,450 messages
# per MiB with the row and its indexes), loaded in batches until the
# database reaches SIZE_MB.
target=$((size_mb * 1048576))
people=$(( size_mb * 1450 / 150 + 1 ))
batch=$(( size_mb * 145 )); [ "$batch" -ge 2000 ] || batch=2000
load_started=$(date +%s.%N)
sql -v people="$people" <<'SQL'
insert into users (display_name, timezone)
select 'Drill person ' || g, 'America/Montreal' from generate_series(1, :people) g;
create schema drill;
create table drill.people as select id, row_number() over (order by id) as n from users;
insert into user_phone_numbers (user_id, e164)
select id, '+1514' || lpad(n::text, 7, '0') from drill.people;
insert into reminders (user_id, body, due_at, timezone)
select id, 'take the drill pill', now() + interval '1 day', 'America/Montreal' from drill.people;
SQL
messages=0
# At least one batch, however small the target.
while [ "$messages" -eq 0 ] || [ "$(sql -c "select pg_database_size('nudge')")" -lt "$target" ]; do
    sql -v people="$people" -v first="$((messages + 1))" -v last="$((messages + batch))" <<'SQL'
insert into messages (user_id, direction, body, phone_e164, status, created_at)
select p.id, case when g % 2 = 0 then 'inbound' else 'outbound' end,
       'drill message ' || g || ' ' || repeat(md5(g::text), 12),
       '+1514' || lpad(p.n::text, 7, '0'), 'received', now() - (g || ' seconds')::interval
from generate_series(:first, :last) g
join drill.people p on p.n = 1 + (g % :people);
SQL
    messages=$((messages + batch))
done
sql -c "set client_min_messages = warning; drop schema drill cascade" >/dev/null
sql -c "vacuum analyze" >/dev/null
load_s=$(awk -v a="$load_started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
db_bytes=$(sql -c "select pg_database_size('nudge')")
echo "drill: source database $((db_bytes / 1048576)) MiB ($people people, $messages messages) loaded in ${load_s} s"

backup_started=$(date +%s.%N)
as_pg env PATH="$PATH" "$root/deploy/backup/backup.sh" full 1 >"$work/backup.log" 2>&1 \
    || { cat "$work/backup.log" >&2; exit 1; }
backup_s=$(awk -v a="$backup_started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "drill: full backup in ${backup_s} s; $(tr '\n' ' ' <"$work/textfile/nudge_backup_full_repo1.prom" | grep -o 'nudge_backup_last_success_timestamp_seconds{[^}]*}')"

# Written after the backup: only the archived WAL brings these back.
sql -c "insert into messages (user_id, direction, body, status)
        select id, 'inbound', 'after the backup', 'received' from users limit 7" >/dev/null
sql -c "select pg_switch_wal()" >/dev/null
last=$(sql -c "select pg_walfile_name(pg_current_wal_lsn())")
for _ in $(seq 1 120); do
    archived=$(sql -c "select coalesce(last_archived_wal, '') from pg_stat_archiver")
    [[ "$archived" < "$last" ]] || break
    sleep 0.5
done

drill_port=$(free_port)
"$root/scripts/restore-drill" --source "$source_url" --port "$drill_port"

# The repository is encrypted: the wrong passphrase reads nothing.
if NUDGE_BACKUP_CIPHER_PASS_FILE="$work/wrong" "$root/scripts/restore-drill" --port "$drill_port" \
        >"$work/wrong.log" 2>&1; then
    echo "drill: the repository opened with a wrong passphrase" >&2
    exit 1
fi
if ! grep -q "no backup found" "$work/wrong.log"; then
    echo "drill: the wrong-passphrase run failed for another reason:" >&2
    cat "$work/wrong.log" >&2
    exit 1
fi
echo "ENCRYPTION wrong_passphrase_refused=yes cipher=$(grep -h '^cipher-type\|^repo1-cipher-type' "$PGBACKREST_CONFIG" | head -n1 | cut -d= -f2)"
