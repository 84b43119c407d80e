#!/usr/bin/env bash
# The nudge crash drill at full size: 500 reminders that persist until
# acknowledged, due within 20 s, one person each; half the people answer as
# soon as their reminder arrives, the others get K=3 nudges 3 s apart. The
# `nudge worker` process is SIGKILLed three times during the run and
# restarted. Prints texts, lost (must be 0), nudges after an answer (must be
# 0) and duplicates (at most one per kill). Release build; PostgreSQL and
# Redis as for scripts/test.
# Usage: bench/nudge_drill.sh [reminders=500] [kills=3] [window_s=20] [interval_s=3]
set -euo pipefail
cd "$(dirname "$0")/.."
NUDGE_DRILL_REMINDERS=${1:-500} NUDGE_DRILL_KILLS=${2:-3} \
NUDGE_DRILL_WINDOW_SECONDS=${3:-20} NUDGE_DRILL_INTERVAL_SECONDS=${4:-3} \
    cargo test --release --test nudge_drill -- --nocapture 2>&1 | grep -E "drill:|test result|panicked"
