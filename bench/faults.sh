#!/usr/bin/env bash
# The fault suite at full size: the real `nudge serve` and `nudge worker`
# binaries with the default configuration, 500 people texting at once, a
# 10-minute Twilio outage (503 with Retry-After, then hanging), a Redis that
# never answers under 1,000 concurrent webhooks, connections cut mid-burst,
# rate limits, poison messages and operator chats. Prints one line per
# scenario: messages in, replies out, lost, duplicated, p99 acknowledgement.
# Release build; PostgreSQL and Redis as for scripts/test.
# Usage: bench/faults.sh [people=500] [outage_s=600] [webhooks=1000]
set -euo pipefail
cd "$(dirname "$0")/.."
export NUDGE_TEST_DATABASE_URL="${NUDGE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export NUDGE_TEST_REDIS_URL="${NUDGE_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
NUDGE_FAULTS_PEOPLE=${1:-500} NUDGE_FAULTS_OUTAGE_SECONDS=${2:-600} NUDGE_FAULTS_WEBHOOKS=${3:-1000} \
    cargo test --release --test faults -- --nocapture --test-threads=1 2>&1 \
    | grep -E "FAULTS|burst:|test result|panicked|left:|right:"
