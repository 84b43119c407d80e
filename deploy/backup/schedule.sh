#!/bin/sh
# The backup service's loop (UTC):
#   02:00 daily          full to repo1
#   every 4 h otherwise  incremental to repo1 (06:00, 10:00, 14:00, 18:00, 22:00)
#   Sunday 03:00         full to repo2 (weekly)
#   1st of month 04:00   full to repo3 (monthly)
# A failed backup is logged and retried at the next slot; the
# NudgeBackupTooOld alert notices when they keep failing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
run() { "$here/backup.sh" "$@" || echo "schedule.sh: backup $* failed" >&2; }

# The first full as soon as the service starts, so a fresh stack is covered.
if ! "$here/pgbackrest-env" --stanza="${NUDGE_BACKUP_STANZA:-nudge}" --repo=1 info --output=json 2>/dev/null \
        | grep -q '"label"'; then
    run full 1
fi

while true; do
    # Sleep to the start of the next minute, then act on that minute.
    sleep $((60 - $(date -u +%S | sed 's/^0//')))
    hm=$(date -u +%H:%M)
    case "$hm" in
        02:00) run full 1 ;;
        06:00|10:00|14:00|18:00|22:00) run incr 1 ;;
    esac
    if [ "$hm" = "03:00" ] && [ "$(date -u +%u)" = "7" ]; then run full 2; fi
    if [ "$hm" = "04:00" ] && [ "$(date -u +%d)" = "01" ]; then run full 3; fi
done
