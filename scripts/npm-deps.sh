#!/usr/bin/env bash
# Installs the black-box test suite's npm dependencies from its lockfile,
# only when the lockfile changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/../tests/api"
[[ -f package-lock.json ]] || exit 0
stamp=node_modules/.athos-lock-stamp
if [[ -f $stamp ]] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
echo "npm-deps: installing test dependencies (npm ci)" >&2
npm ci --no-audit --no-fund --loglevel=error >/dev/null
cp package-lock.json "$stamp"
