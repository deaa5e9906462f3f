#!/usr/bin/env bash
# `make bench`: every benchmark in turn. Each prints its figures with a
# baseline measured in the same run and the ratio to it. Benchmarks are
# measurements, not tests: nothing here fails on a slow machine.
set -uo pipefail
cd "$(dirname "$0")"
for b in api.sh live.sh webhooks.sh score.sh understanding.sh; do
  if [[ -x $b ]]; then
    echo "== bench/$b"
    ./"$b" || echo "bench/$b exited with $?"
  fi
done
