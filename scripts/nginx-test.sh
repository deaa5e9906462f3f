#!/usr/bin/env bash
# scripts/nginx-test.sh — runs black-box suites through nginx configured by
# deploy/nginx/athos.conf (TLS with a throwaway self-signed certificate,
# the WebSocket upgrade, the header, body and time limits), so the shipped
# reverse-proxy configuration is tested, not just written.
#
#   scripts/nginx-test.sh                      the default suites (about 1 min)
#   scripts/nginx-test.sh live.test.js ...     these suites (tests/api/), over TLS
#   NGINX_TEST_PLAIN=1 scripts/nginx-test.sh x.test.js   the same server block
#                                              without TLS (listen without ssl)
#   ATHOS_BIN=path scripts/nginx-test.sh       that binary (default build/athos)
#
# The default runs calls, abuse (REST, wss:// live calls, webhooks) over
# TLS, and session, api, live without TLS: those three open raw http://
# sockets or expect ws:// URLs, so over TLS they fail for reasons of the
# tests, not of the proxy.
#
# How: tests/api/harness.js puts the command in ATHOS_TEST_PROXY in front of
# every athos it starts. That command is this script with --proxy LISTEN
# UPSTREAM: it rewrites a copy of athos.conf for those ports and the test
# certificate, prints https://127.0.0.1:LISTEN and becomes nginx (one
# process, in the foreground; the harness kills it at exit).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CONF=$REPO/deploy/nginx/athos.conf

# Writes DIR/athos.conf and DIR/nginx.conf: the shipped file with only these
# edits — no plain-HTTP redirect server, loopback ports, the test
# certificate — inside a minimal main configuration (one process).
make_conf() {
  local dir=$1 listen=$2 upstream=$3 certs=$4
  mkdir -p "$dir/logs"
  sed -e '/^# --- plain HTTP: redirect only/,/^# --- end of the plain-HTTP block ---/d' \
      -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$upstream;|" \
      -e "s|listen 443 ssl http2;|listen 127.0.0.1:$listen ssl http2;|" \
      -e '/listen \[::\]:443 ssl http2;/d' \
      -e "s|/etc/ssl/athos/fullchain.pem|$certs/cert.pem|" \
      -e "s|/etc/ssl/athos/privkey.pem|$certs/key.pem|" \
      "$CONF" >"$dir/athos.conf"
  local want
  for want in "server 127.0.0.1:$upstream;" "listen 127.0.0.1:$listen ssl" "$certs/cert.pem" "$certs/key.pem"; do
    grep -qF "$want" "$dir/athos.conf" || { echo "nginx-test: $CONF changed shape: no '$want' after rewriting" >&2; return 2; }
  done
  if grep -q 'listen 80;' "$dir/athos.conf"; then
    echo "nginx-test: the plain-HTTP block of $CONF lost its markers" >&2
    return 2
  fi
  if [[ ${NGINX_TEST_PLAIN:-0} == 1 ]]; then # the same server without TLS
    sed -i "s|listen 127.0.0.1:$listen ssl http2;|listen 127.0.0.1:$listen;|" "$dir/athos.conf"
  fi
  local user=""
  [[ $(id -u) -eq 0 ]] && user="user root;"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
$user
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/client_body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  include $dir/athos.conf;
}
CONF
}

# -------------------------------------------------------------- proxy mode
if [[ ${1:-} == --proxy ]]; then
  listen=$2 upstream=$3
  [[ -n ${ATHOS_NGINX_TEST_DIR:-} ]] || { echo "nginx-test: --proxy needs ATHOS_NGINX_TEST_DIR" >&2; exit 2; }
  dir=$(mktemp -d "$ATHOS_NGINX_TEST_DIR/nginx-$listen-XXXX")
  make_conf "$dir" "$listen" "$upstream" "$ATHOS_NGINX_TEST_DIR"
  scheme=https
  [[ ${NGINX_TEST_PLAIN:-0} == 1 ]] && scheme=http
  echo "$scheme://127.0.0.1:$listen"
  exec nginx -p "$dir" -e "$dir/logs/error.log" -c "$dir/nginx.conf"
fi

# --------------------------------------------------------------- test mode

for tool in nginx openssl node; do
  command -v "$tool" >/dev/null || { echo "nginx-test: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
if [[ -z ${ATHOS_BIN:-} ]]; then
  ATHOS_BIN=$REPO/build/athos
  if [[ ! -x $ATHOS_BIN ]]; then
    cmake -S "$REPO" -B "$REPO/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$REPO/build" -j2 >/dev/null
  fi
fi
"$REPO/scripts/npm-deps.sh"

ATHOS_NGINX_TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/athos-nginx-test-XXXX")
trap 'rm -rf "$ATHOS_NGINX_TEST_DIR"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$ATHOS_NGINX_TEST_DIR/key.pem" \
  -out "$ATHOS_NGINX_TEST_DIR/cert.pem" 2>/dev/null

# The configuration, as rewritten for the tests, must pass nginx -t.
make_conf "$ATHOS_NGINX_TEST_DIR/check" 8443 8080 "$ATHOS_NGINX_TEST_DIR"
nginx -t -q -p "$ATHOS_NGINX_TEST_DIR/check" -e "$ATHOS_NGINX_TEST_DIR/check/logs/error.log" \
  -c "$ATHOS_NGINX_TEST_DIR/check/nginx.conf"

export ATHOS_NGINX_TEST_DIR
export ATHOS_TEST_PROXY="$REPO/scripts/nginx-test.sh --proxy"
export NODE_EXTRA_CA_CERTS=$ATHOS_NGINX_TEST_DIR/cert.pem
export ATHOS_BIN
cd "$REPO/tests/api"

# run PLAIN SUITE...: the suites through nginx, with TLS unless PLAIN is 1.
status=0
run() {
  local plain=$1 start rc=0
  shift
  start=$(date +%s)
  NGINX_TEST_PLAIN=$plain node --test --test-concurrency=1 "$@" || rc=$?
  echo "nginx-test: $* through nginx ($([[ $plain == 1 ]] && echo plain HTTP || echo TLS))" \
    "in $(($(date +%s) - start)) s (exit $rc)" >&2
  ((rc == 0)) || status=$rc
}
if (($#)); then
  run "${NGINX_TEST_PLAIN:-0}" "$@"
else
  run 0 calls.test.js abuse.test.js
  run 1 session.test.js api.test.js live.test.js
fi
exit $status
