#!/usr/bin/env bash
# bench/abuse.sh — a healthy client's figures alone and under each attack,
# in one run (issue 9): a healthy tenant's end -> webhook latency p50/p99
# alone and while another tenant's receiver hangs with 500 events queued
# (bench/abuse.js), then a healthy live call's reply latency alone and under
# each WebSocket attack: ping floods, a frame flood before start, a say flood
# (bench/abuse_live.js; BENCH_PHASE_SEC sets each phase's length). A benchmark, not a test: it prints figures and exits 0 unless
# something could not run.
#
#   bench/abuse.sh                     builds build/athos (Release) and runs
#   ATHOS_BIN=path bench/abuse.sh      uses that binary instead, no build
#   BENCH_CALLS=200 BENCH_QUEUED=500   sizes
#
# Target: the healthy tenant's p99 stays under 1 s while the receiver hangs.
# Results are also written to bench/results/abuse-<time>.txt.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)

for tool in node sqlite3; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done
[[ -d $REPO/tests/api/node_modules/ws ]] || {
  echo "bench: run 'npm ci' in tests/api first (scripts/npm-deps.sh)" >&2
  exit 1
}

if [[ -z ${ATHOS_BIN:-} ]]; then
  echo "bench: building build/athos (Release)" >&2
  cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$REPO/build" -j"$(nproc)" >/dev/null
  ATHOS_BIN=$REPO/build/athos
fi
[[ -x $ATHOS_BIN ]] || { echo "bench: no binary at $ATHOS_BIN" >&2; exit 1; }

OUT=$REPO/bench/results/abuse-$(date -u +%Y%m%dT%H%M%SZ).txt
ATHOS_BIN=$(cd "$(dirname "$ATHOS_BIN")" && pwd)/$(basename "$ATHOS_BIN")
export ATHOS_BIN BENCH_OUT=$OUT
node "$REPO/bench/abuse.js"
node "$REPO/bench/abuse_live.js"
echo "bench: results in $OUT" >&2
