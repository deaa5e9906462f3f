#!/usr/bin/env bash
# Runs the black-box suites (tests/api/*.test.js) against the built binary
# with Node's test runner.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export ATHOS_BIN=$(realpath "${ATHOS_BIN:-$root/build/athos}")
cd "$root/tests/api"
shopt -s nullglob
tests=(*.test.js)
if ((${#tests[@]} == 0)); then
  echo "api-test: no black-box tests found" >&2
  exit 1
fi
exec node --test --test-concurrency=1 --test-reporter=spec "${tests[@]}"
