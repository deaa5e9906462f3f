#!/usr/bin/env bash
# live.sh — the live transport benchmark: starts `athos serve` on a temp
# SQLite database, holds CALLS concurrent live calls with bench/live_load.js
# at RATE utterances/s for SECONDS_STEADY s, then runs the same load against
# a baseline (a plain Node `ws` server answering every say, no persona, no
# database) and prints both results and the ratios.
#
#   bench/live.sh                      # 10,000 calls, 1,000 utterances/s, 30 s
#   CALLS=2000 RATE=500 bench/live.sh  # smaller
#   ATHOS_BIN=build-rel/athos bench/live.sh
#
# Use a release build (no sanitizers) for figures worth quoting.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${ATHOS_BIN:-build/athos}
CALLS=${CALLS:-10000}
RATE=${RATE:-1000}
STEADY=${SECONDS_STEADY:-30}

# 10,000 sockets on each side: raise the soft limit as far as allowed.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((CALLS + 500)) ]; then
  echo "live.sh: ulimit -n is $(ulimit -n); $((CALLS + 500)) descriptors are needed" >&2
  exit 1
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
wait_http() {
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.05
  done
  echo "live.sh: $1 did not come up" >&2
  return 1
}

export ATHOS_DATABASE_URL="sqlite:$tmp/athos.db"
export ATHOS_DRILLS_DIR="$PWD/drills"
"$BIN" migrate >/dev/null
key=$("$BIN" tenant create --name bench | node -pe 'JSON.parse(require("fs").readFileSync(0)).apiKey')

port=$(free_port)
# one load generator opens every call from one IP: no per-IP cap or rate limit
ATHOS_LISTEN="127.0.0.1:$port" ATHOS_MAX_CONNECTIONS=$((CALLS + 1000)) ATHOS_MAX_CONNECTIONS_PER_IP=0 ATHOS_LOG_LEVEL=warn \
  ATHOS_RATE_LIMIT=0 ATHOS_RATE_LIMIT_PER_IP=0 \
  "$BIN" serve 2>"$tmp/serve.log" &
apid=$!
pids+=("$apid")
wait_http "http://127.0.0.1:$port/healthz"
echo "athos serve (pid $apid) on port $port: $CALLS calls, $RATE utterances/s, ${STEADY}s" >&2
if ! node bench/live_load.js --url "http://127.0.0.1:$port" --api-key "$key" --pid "$apid" \
  --calls "$CALLS" --rate "$RATE" --seconds "$STEADY" --label athos >"$tmp/athos.json"; then
  echo "live.sh: the load against athos failed; server log tail:" >&2
  tail -20 "$tmp/serve.log" >&2
  exit 1
fi
kill "$apid"
wait "$apid" 2>/dev/null || true

eport=$(free_port)
node bench/live_load.js --echo-server "$eport" &
epid=$!
pids+=("$epid")
sleep 0.5
echo "baseline: node ws echo server (pid $epid) on port $eport" >&2
node bench/live_load.js --baseline "ws://127.0.0.1:$eport" --pid "$epid" \
  --calls "$CALLS" --rate "$RATE" --seconds "$STEADY" --label node-ws-echo >"$tmp/echo.json"

node -e '
const fs = require("fs");
const a = JSON.parse(fs.readFileSync(process.argv[1]));
const b = JSON.parse(fs.readFileSync(process.argv[2]));
const row = (r) => [r.label.padEnd(13), String(r.callsHeld).padStart(6), String(r.rssPerCallKiB).padStart(9),
  String(r.ratePerSec).padStart(8), String(r.latencyMs.p50).padStart(8), String(r.latencyMs.p99).padStart(8),
  String(r.latencyMs.max).padStart(8)].join(" ");
console.log(["label".padEnd(13), "held".padStart(6), "KiB/call".padStart(9), "utt/s".padStart(8),
  "p50 ms".padStart(8), "p99 ms".padStart(8), "max ms".padStart(8)].join(" "));
console.log(row(a));
console.log(row(b));
const ratio = (x, y) => (y ? (x / y).toFixed(2) : "n/a");
console.log(`ratio athos/baseline: KiB/call ${ratio(a.rssPerCallKiB, b.rssPerCallKiB)},` +
  ` p50 ${ratio(a.latencyMs.p50, b.latencyMs.p50)}, p99 ${ratio(a.latencyMs.p99, b.latencyMs.p99)}`);
console.log(JSON.stringify({ athos: a, baseline: b }));
' "$tmp/athos.json" "$tmp/echo.json"
