#!/usr/bin/env bash
# Runs the store contract test (build/test_store_contract, the same cmocka
# cases as on SQLite) and the black-box suites (tests/api/*.test.js; given
# files instead run only those, `contract` only the contract test) against
# PostgreSQL: starts a throwaway PostgreSQL 15 cluster
# in a temp directory (trust auth on 127.0.0.1, a free port, fsync off),
# creates a database, points the harness at it with ATHOS_TEST_DATABASE_URL
# (each test server then gets a fresh database of its own) and stops the
# cluster on exit. As root, initdb and pg_ctl run as `postgres` (initdb
# refuses root).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export ATHOS_BIN=$(realpath "${ATHOS_BIN:-$root/build/athos}")
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [[ ! -x $PGBIN/initdb ]]; then
  echo "pg-test: $PGBIN/initdb not found (scripts/install-deps.sh installs postgresql)" >&2
  exit 1
fi

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/athos-pg.XXXXXX")
chmod 755 "$tmp"
mkdir -m 700 "$tmp/data"
mkdir -m 755 "$tmp/sock"
[[ $(id -u) -eq 0 ]] && chown postgres: "$tmp/data" "$tmp/sock"

cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$tmp/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
as_pg "$PGBIN/initdb" -D "$tmp/data" -U postgres -A trust -E UTF8 --no-sync >"$tmp/initdb.log" 2>&1 ||
  { cat "$tmp/initdb.log" >&2; exit 1; }
cat >>"$tmp/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$tmp/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 400
CONF
# trust only for 127.0.0.1 (and the private socket directory)
cat >"$tmp/data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
[[ $(id -u) -eq 0 ]] && chown postgres: "$tmp/data/pg_hba.conf"
as_pg "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/sock/server.log" -w -t 30 start >/dev/null ||
  { cat "$tmp/sock/server.log" >&2; exit 1; }

admin="postgres://postgres@127.0.0.1:$port/postgres"
psql -q -v ON_ERROR_STOP=1 "$admin" -c "CREATE DATABASE athos_test" >/dev/null
export ATHOS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/athos_test"
echo "pg-test: PostgreSQL on 127.0.0.1:$port ($tmp)" >&2

if (($# == 0)) || [[ $1 == contract ]]; then
  contract=$(realpath "${ATHOS_CONTRACT_BIN:-$(dirname "$ATHOS_BIN")/test_store_contract}")
  echo "pg-test: store contract ($contract)" >&2
  "$contract"
  [[ ${1:-} == contract ]] && exit 0
fi

cd "$root/tests/api"
shopt -s nullglob
if (($#)); then tests=("$@"); else tests=(*.test.js); fi
node --test --test-concurrency=1 --test-reporter=spec "${tests[@]}"
