#!/usr/bin/env bash
# The reminder crash drill at full size: 2,000 reminders due within the same
# 2 minutes for 200 people; the `nudge worker` process is SIGKILLed three
# times during the run and restarted. Prints delivered, lost (must be 0),
# duplicates (at most one per kill) and lateness p50/p99 at the hand-off to
# (a fake) Twilio. Release build; PostgreSQL and Redis as for scripts/test.
# Usage: bench/reminder_drill.sh [reminders=2000] [people=200] [kills=3] [window_s=120]
set -euo pipefail
cd "$(dirname "$0")/.."
NUDGE_DRILL_REMINDERS=${1:-2000} NUDGE_DRILL_USERS=${2:-200} NUDGE_DRILL_KILLS=${3:-3} \
NUDGE_DRILL_WINDOW_SECONDS=${4:-120} \
    cargo test --release --test reminder_drill -- --nocapture 2>&1 | grep -E "drill:|test result|panicked"
