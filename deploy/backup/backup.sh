#!/bin/sh
# One backup: backup.sh full|diff|incr [REPO]  (REPO 1, 2 or 3; default 1).
# Creates the stanza on first use, backs up, expires what retention allows,
# and on success writes the time for Prometheus (node-exporter's textfile
# collector): nudge_backup_last_success_timestamp_seconds{type,repo}.
#   NUDGE_BACKUP_TEXTFILE_DIR  default /var/lib/node-exporter/textfile
#   NUDGE_BACKUP_STANZA        default nudge
set -eu
type="${1:?usage: backup.sh full|diff|incr [REPO]}"
repo="${2:-1}"
case "$type" in full|diff|incr) ;; *) echo "backup.sh: type must be full, diff or incr" >&2; exit 2 ;; esac
case "$repo" in 1|2|3) ;; *) echo "backup.sh: repo must be 1, 2 or 3" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
stanza="${NUDGE_BACKUP_STANZA:-nudge}"
pgbr() { "$here/pgbackrest-env" --stanza="$stanza" "$@"; }

# Idempotent: does nothing once the stanza exists in every repository.
pgbr stanza-create >/dev/null
pgbr --repo="$repo" --type="$type" backup
pgbr --repo="$repo" expire

dir="${NUDGE_BACKUP_TEXTFILE_DIR:-/var/lib/node-exporter/textfile}"
if [ -d "$dir" ]; then
    file="$dir/nudge_backup_${type}_repo${repo}.prom"
    # Written aside then renamed, so the exporter never reads half a file.
    {
        echo "# HELP nudge_backup_last_success_timestamp_seconds When the last backup of this type succeeded."
        echo "# TYPE nudge_backup_last_success_timestamp_seconds gauge"
        echo "nudge_backup_last_success_timestamp_seconds{type=\"$type\",repo=\"$repo\"} $(date +%s)"
    } >"$file.tmp"
    mv "$file.tmp" "$file"
fi
echo "backup.sh: $type backup to repo$repo done"
