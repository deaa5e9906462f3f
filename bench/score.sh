#!/usr/bin/env bash
# score.sh — builds the scorer benchmark with -O2 straight from src/scoring
# and the language layer it uses (src/nlu, with its classifiers trained from
# drills/nlu/*.tsv by tools/nlu_train.c; no server code needed) and prints
# transcripts scored per second on one core, next to the lowercase+split
# baseline. With valgrind installed it also prints the instructions one
# scored call costs (callgrind; the same count whatever the machine's load,
# unlike calls/s). Usage: bench/score.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d "${TMPDIR:-/tmp}/athos-score-bench.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
CFLAGS=(-std=c11 -D_GNU_SOURCE -O2 -DNDEBUG -Wall -Wextra -Werror -Isrc)
gcc "${CFLAGS[@]}" tools/nlu_train.c src/nlu/*.c -lm -o "$tmp/nlu_train"
"$tmp/nlu_train" --vocab drills/ma-full-sale.json --vocab drills/ma-full-sale.rubric.json \
  "$tmp/nlu_models.c" drills/nlu/*.tsv
gcc "${CFLAGS[@]}" src/scoring/*.c src/nlu/*.c "$tmp/nlu_models.c" bench/score_bench.c \
  -ljansson -lm -o "$tmp/score_bench"
gcc "${CFLAGS[@]}" src/scoring/*.c src/nlu/*.c "$tmp/nlu_models.c" bench/score_dump.c \
  src/util/fileio.c -ljansson -lm -o "$tmp/score_dump"
# one core: the figure is per core
if command -v taskset >/dev/null; then
  taskset -c 0 "$tmp/score_bench" "${1:-2}" drills/ma-full-sale.rubric.json
else
  "$tmp/score_bench" "${1:-2}" drills/ma-full-sale.rubric.json
fi

# instructions per call: (20 calls - 0 calls) / 20, the setup cancelling out
if command -v valgrind >/dev/null; then
  irefs() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tmp/score_dump" \
      drills/ma-full-sale.rubric.json -n "$1" 2>&1 | sed -n 's/.*refs: *//p' | tr -d ,
  }
  i0="$(irefs 0)"
  i20="$(irefs 20)"
  echo "instructions per scored call (callgrind): $(((i20 - i0) / 20))"
fi
