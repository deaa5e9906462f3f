#!/usr/bin/env bash
# Installs what building, running and testing athos needs on Debian 12.
# Idempotent: packages already present are skipped, so `make run` stays fast
# on a machine that has everything.
set -euo pipefail

PKGS=(build-essential cmake pkg-config
      libmicrohttpd-dev libwslay-dev libjansson-dev libssl-dev
      libsqlite3-dev libpq-dev libcurl4-openssl-dev libcmocka-dev
      sqlite3 postgresql nginx wrk curl ca-certificates chromium
      clang libclang-rt-14-dev clang-format nodejs npm python3-yaml
      libpocketsphinx-dev pocketsphinx-en-us flite1-dev
      libopus-dev libogg-dev libopusfile-dev opus-tools)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian's nodejs/npm may be absent while a newer node is on PATH: use that.
if command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
