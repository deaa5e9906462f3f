#!/usr/bin/env bash
# bench/webhooks.sh — the webhook pipeline's figures (issue 4): time from a
# live call's `end` to its signed call.scored webhook at a local receiver
# (p50/p99), sustained deliveries per second, and the same bodies posted by
# node itself with keep-alive as the baseline, with the ratio. A benchmark,
# not a test: it prints figures and exits 0 unless something could not run.
#
#   bench/webhooks.sh                     builds build/athos (Release) and runs
#   ATHOS_BIN=path bench/webhooks.sh      uses that binary instead, no build
#   BENCH_CALLS=200 BENCH_EVENTS=20000 BENCH_PIPELINE=3000   sizes
#
# Targets: end -> webhook p99 <= 200 ms; >= 2,000 deliveries/s.
# Results are also written to bench/results/webhooks-<time>.txt.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)

for tool in node sqlite3; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done
[[ -d $REPO/tests/api/node_modules/ws && -d $REPO/tests/api/node_modules/standardwebhooks ]] || {
  echo "bench: run 'npm ci' in tests/api first (ws, standardwebhooks)" >&2
  exit 1
}

if [[ -z ${ATHOS_BIN:-} ]]; then
  echo "bench: building build/athos (Release)" >&2
  cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$REPO/build" -j"$(nproc)" >/dev/null
  ATHOS_BIN=$REPO/build/athos
fi
[[ -x $ATHOS_BIN ]] || { echo "bench: no binary at $ATHOS_BIN" >&2; exit 1; }

mkdir -p "$REPO/bench/results"
OUT=$REPO/bench/results/webhooks-$(date -u +%Y%m%dT%H%M%SZ).txt
ATHOS_BIN=$(cd "$(dirname "$ATHOS_BIN")" && pwd)/$(basename "$ATHOS_BIN") \
  REPO=$REPO BENCH_OUT=$OUT NODE_PATH=$REPO/tests/api/node_modules \
  node "$REPO/bench/webhooks.js"
echo "bench: results in $OUT" >&2
