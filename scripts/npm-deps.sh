#!/usr/bin/env bash
# Installs the npm dependencies of the black-box test suite (tests/api) and
# of the runnable Quickstart (examples/quickstart) from their lockfiles,
# only when a lockfile changed since the last install.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
for dir in tests/api examples/quickstart; do
  cd "$root/$dir"
  [[ -f package-lock.json ]] || continue
  stamp=node_modules/.athos-lock-stamp
  if [[ -f $stamp ]] && cmp -s package-lock.json "$stamp"; then
    continue
  fi
  echo "npm-deps: installing $dir dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json "$stamp"
done
