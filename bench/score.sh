#!/usr/bin/env bash
# score.sh — builds the scorer benchmark with -O2 straight from src/scoring
# (no server code needed) and prints transcripts scored per second on one
# core, next to the lowercase+split baseline. Usage: bench/score.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${TMPDIR:-/tmp}/athos-score-bench.$$"
trap 'rm -f "$out"' EXIT
gcc -std=c11 -D_GNU_SOURCE -O2 -DNDEBUG -Wall -Wextra -Werror -Isrc \
  src/scoring/*.c bench/score_bench.c -ljansson -lm -o "$out"
# one core: the figure is per core
if command -v taskset >/dev/null; then
  taskset -c 0 "$out" "${1:-2}" drills/ma-full-sale.rubric.json
else
  "$out" "${1:-2}" drills/ma-full-sale.rubric.json
fi
