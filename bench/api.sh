#!/usr/bin/env bash
# bench/api.sh — load GET /calls/{id} and POST /session with wrk (keep-alive,
# loopback) and compare with nginx serving the same response bytes as a
# static file (the physical-limit baseline). A benchmark, not a test: it
# prints figures and exits 0 unless something could not run.
#
#   bench/api.sh                       builds build/athos (as `make build`) and runs
#   ATHOS_BIN=path bench/api.sh        uses that binary instead, no build
#   BENCH_DURATION=10s BENCH_CONNECTIONS=64 BENCH_THREADS=1   wrk settings
#   ATHOS_THREADS=N                    passed through to athos serve
#
# Target (issue 2): GET /calls/{id} >= 0.6x nginx requests/s, p99 <= 5 ms.
# Results are also written to bench/results/api-<time>.txt.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-64}
WRK_THREADS=${BENCH_THREADS:-1}

for tool in wrk nginx sqlite3 curl; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || {
    echo "bench: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

if [[ -z ${ATHOS_BIN:-} ]]; then
  # the same build as `make build` (a no-op when it is up to date)
  echo "bench: building build/athos" >&2
  cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$REPO/build" -j"$(nproc)" >/dev/null
  ATHOS_BIN=$REPO/build/athos
fi
[[ -x $ATHOS_BIN ]] || { echo "bench: no binary at $ATHOS_BIN" >&2; exit 1; }

TMP=$(mktemp -d /tmp/athos-bench.XXXXXX)
ATHOS_PID=""
NGINX_PID=""
cleanup() {
  [[ -n $ATHOS_PID ]] && kill "$ATHOS_PID" 2>/dev/null && wait "$ATHOS_PID" 2>/dev/null
  [[ -n $NGINX_PID ]] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() { # url
  for _ in $(seq 1 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

rand_id() { # n
  head -c 256 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c "$1"
}

# ------------------------------------------------------------------ athos
DB=$TMP/athos.db
export ATHOS_DATABASE_URL="sqlite:$DB"
APORT=$(free_port)
"$ATHOS_BIN" migrate >/dev/null
TENANT_JSON=$("$ATHOS_BIN" tenant create --name bench)
TENANT_ID=$(sed -E 's/.*"tenantId" *: *"([^"]+)".*/\1/' <<<"$TENANT_JSON")
API_KEY=$(sed -E 's/.*"apiKey" *: *"([^"]+)".*/\1/' <<<"$TENANT_JSON")
# metered (the buckets run on every request) but never binding: one client at full speed
"$ATHOS_BIN" tenant update "$TENANT_ID" --rate-limit 100000000 >/dev/null

# One scored call of realistic size: 24 turns and a full score blob.
CALL_ID="athos_call_$(rand_id 21)"
NOW_MS=$(($(date +%s) * 1000))
{
  echo "BEGIN;"
  echo "INSERT INTO calls(public_id, session_id, tenant_id, source, external_user_id, external_agency_id,"
  echo " drill_key, difficulty, persona_index, persona_name, seed, status, score_json, created_at, started_at,"
  echo " ended_at, scored_at, updated_at, duration_sec) VALUES ('$CALL_ID', 'ext_$(rand_id 21)',"
  echo " (SELECT id FROM tenants WHERE public_id = '$TENANT_ID'), 'roleplay', 'rep_8842', 'agency_chicago',"
  echo " 'ma-full-sale', 'Advanced', 0, 'James Carter', 42, 'scored',"
  echo " '{\"overallScore\":82,\"summary\":\"Prospect asked about Medicare options; the agent built rapport but rushed the close.\",\"feedback\":\"Lead with a clear greeting and one discovery question; slow down before presenting the plan.\",\"rubricVersion\":\"ma-full-sale@1\",\"dimensions\":[{\"key\":\"rapport\",\"score\":85,\"evidence\":[1,3]},{\"key\":\"discovery\",\"score\":70,\"evidence\":[5,7,9]},{\"key\":\"presentation\",\"score\":78,\"evidence\":[13]},{\"key\":\"objections\",\"score\":66,\"evidence\":[15,17]},{\"key\":\"close\",\"score\":60,\"evidence\":[21]}],\"compliance\":[{\"key\":\"recorded_line\",\"passed\":true,\"turn\":1},{\"key\":\"soa\",\"passed\":false,\"turn\":null}],\"metrics\":{\"talkRatio\":0.56,\"questionsAsked\":9,\"longestMonologueSec\":41}}',"
  echo " $((NOW_MS - 120000)), $((NOW_MS - 115000)), $((NOW_MS - 60000)), $((NOW_MS - 30000)), $((NOW_MS - 29900)), 55);"
  for i in $(seq 0 23); do
    if ((i % 2 == 0)); then role=assistant; text="Well, I have been on Original Medicare for a while and my neighbour keeps telling me about these Advantage plans (turn $i)."
    else role=user; text="That makes sense. Can I ask which doctors you see regularly, and whether keeping them matters to you? (turn $i)"; fi
    echo "INSERT INTO call_turns(call_id, idx, role, content, at_ms) VALUES ((SELECT id FROM calls WHERE public_id = '$CALL_ID'), $i, '$role', '$text', $((i * 2500)));"
  done
  echo "COMMIT;"
} | sqlite3 -batch "$DB"

ATHOS_LISTEN=127.0.0.1:$APORT ATHOS_DRILLS_DIR=$REPO/drills ATHOS_LOG_LEVEL=${ATHOS_LOG_LEVEL:-warn} \
  "$ATHOS_BIN" serve >"$TMP/athos.log" 2>&1 &
ATHOS_PID=$!
wait_http "http://127.0.0.1:$APORT/healthz" || { echo "bench: athos did not start" >&2; tail -20 "$TMP/athos.log" >&2; exit 1; }

CALL_URL="http://127.0.0.1:$APORT/api/external/v1/calls/$CALL_ID"
SESSION_URL="http://127.0.0.1:$APORT/api/external/v1/session"

# ------------------------------------------------------------------ nginx
NPORT=$(free_port)
mkdir -p "$TMP/nginx/www"
curl -fsS -H "Authorization: Bearer $API_KEY" "$CALL_URL" -o "$TMP/nginx/www/call.json"
BODY_BYTES=$(stat -c %s "$TMP/nginx/www/call.json")
sed -e "s#@PREFIX@#$TMP/nginx#g" -e "s#@PORT@#$NPORT#g" "$REPO/bench/nginx.conf.template" >"$TMP/nginx/nginx.conf"
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/nginx-error.log" >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NPORT/api/external/v1/calls/$CALL_ID"
wait_http "$NGINX_URL" || { echo "bench: nginx did not start" >&2; cat "$TMP/nginx/nginx-error.log" >&2; exit 1; }
cmp -s "$TMP/nginx/www/call.json" <(curl -fsS "$NGINX_URL") || { echo "bench: nginx serves other bytes" >&2; exit 1; }

cat >"$TMP/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"externalUserId":"rep_8842","externalAgencyId":"agency_chicago"}'
wrk.headers["Content-Type"] = "application/json"
EOF

# --------------------------------------------------------------- run wrk
to_ms() { # "1.23ms" | "850.00us" | "1.02s" -> ms
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    else printf "%s", v }'
}

declare -A RPS P50 P99 ERRS
run() { # name url [extra wrk args…]
  local name=$1 url=$2
  shift 2
  # a short warm-up so connection set-up and caches are not measured
  wrk -t"$WRK_THREADS" -c"$CONNS" -d1s "$@" "$url" >/dev/null 2>&1 || true
  local out
  out=$(wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION" --latency "$@" "$url")
  echo "$out" >"$TMP/wrk-$name.txt"
  RPS[$name]=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  P50[$name]=$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")
  P99[$name]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
  local non2xx sockerr
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  sockerr=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print}' <<<"$out")
  ERRS[$name]="${non2xx:+non-2xx=$non2xx }${sockerr:+socket: $sockerr}"
}

echo "bench: wrk -t$WRK_THREADS -c$CONNS -d$DURATION --latency, body $BODY_BYTES bytes, $(nproc) cores" >&2
run nginx "$NGINX_URL" -H "Authorization: Bearer $API_KEY"
run get_call "$CALL_URL" -H "Authorization: Bearer $API_KEY"
run post_session "$SESSION_URL" -H "Authorization: Bearer $API_KEY" -s "$TMP/post.lua"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

REPORT=$(
  printf 'athos API benchmark — %s, wrk -t%s -c%s -d%s, keep-alive, loopback, %s cores\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$WRK_THREADS" "$CONNS" "$DURATION" "$(nproc)"
  printf 'GET /calls/{id} body: %s bytes; athos threads: %s\n\n' "$BODY_BYTES" "${ATHOS_THREADS:-default}"
  printf '%-22s %12s %10s %10s %10s  %s\n' target 'requests/s' 'p50 ms' 'p99 ms' 'x nginx' errors
  for n in nginx get_call post_session; do
    case $n in
      nginx) label='nginx static (base)' ;;
      get_call) label='GET /calls/{id}' ;;
      post_session) label='POST /session' ;;
    esac
    printf '%-22s %12s %10s %10s %10s  %s\n' "$label" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" \
      "$(ratio "${RPS[$n]}" "${RPS[nginx]}")" "${ERRS[$n]:-none}"
  done
  echo
  verdict=$(awk -v r="$(ratio "${RPS[get_call]}" "${RPS[nginx]}")" -v p="${P99[get_call]}" \
    'BEGIN { print ((r >= 0.6 && p <= 5) ? "MET" : "NOT MET") }')
  printf 'target GET /calls/{id} >= 0.60x nginx and p99 <= 5 ms: %s\n' "$verdict"
)
echo "$REPORT"
mkdir -p "$REPO/bench/results"
echo "$REPORT" >"$REPO/bench/results/api-$(date -u +%Y%m%dT%H%M%SZ).txt"
