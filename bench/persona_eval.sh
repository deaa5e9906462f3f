#!/usr/bin/env bash
# persona_eval.sh — the persona's on-topic answer rate and reply latency on
# tests/eval/persona_questions.tsv, for the engine of commit 10118b7 (the
# keyword matcher, built from `git archive` in a temp dir and playing its
# own drill) and for this tree (the persona_eval CMake target). Both are
# judged against this tree's drill facts. Usage: bench/persona_eval.sh [-v]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD_DIR:-build}"
old_rev="${OLD_REV:-10118b7}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/athos-persona-eval.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

git archive "$old_rev" src/persona src/util/fileio.c src/util/fileio.h \
  drills/ma-full-sale.json | tar -x -C "$tmp"
gcc -std=c11 -D_GNU_SOURCE -O2 -DNDEBUG -I"$tmp/src" "$tmp"/src/persona/*.c "$tmp/src/util/fileio.c" \
  bench/persona_eval.c -ljansson -lm -o "$tmp/persona_eval_old"
"$tmp/persona_eval_old" --play "$tmp/drills/ma-full-sale.json" \
  --judge drills/ma-full-sale.json --label "old $old_rev" "$@"

if [ ! -x "$build/persona_eval" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target persona_eval -j2 >/dev/null
"$build/persona_eval" --label new "$@"
