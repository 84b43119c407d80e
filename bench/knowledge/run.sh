#!/bin/sh
# Retrieval benchmark of the knowledge base (see benches/knowledge.rs):
# recall@3 / MRR for full text and hybrid, latency p50/p95 at 300 and
# 5,000 pages. Needs PostgreSQL as for the tests.
set -eu
cd "$(dirname "$0")/../.."
exec cargo bench --bench knowledge "$@"
