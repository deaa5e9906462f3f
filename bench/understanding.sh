#!/usr/bin/env bash
# understanding.sh — the old keyword matcher and the new language layer side
# by side, in one run, on the held-out evaluation sets (tests/eval/):
#   - intent precision/recall/F1 per intent and macro (drill_classify()),
#   - compliance statement accuracy and false violations on negated claims
#     (scorer_score() on one-statement calls),
#   - utterances classified per second, and scored 40-turn calls per second
#     on one core (bench/score_bench.c),
#   - the model choice: cross-validated F1 of logistic regression and of the
#     averaged perceptron on the training sets (tools/nlu_train.c --report),
#   - the persona's on-topic answer rate, when bench/persona_eval.c exists
#     (CMake target persona_eval, run as is),
#   - end of turn: how often nlu_turn_complete() says a whole utterance is
#     finished, and how often it says so of a prefix of one (bench/turn_eval.c).
# "Old" is commit $OLD_COMMIT (before the language layer), extracted with
# git archive into a temporary directory and built there; only public APIs
# present in both (drill_classify, scorer_score) are called, so no old code
# lives in the tree. Usage: bench/understanding.sh [seconds per speed run]
set -euo pipefail
cd "$(dirname "$0")/.."
OLD_COMMIT="${OLD_COMMIT:-10118b7}"
SECS="${1:-2}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/athos-understanding.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

CFLAGS=(-std=c11 -D_GNU_SOURCE -O2 -DNDEBUG -w)
run1() { if command -v taskset >/dev/null; then taskset -c 0 "$@"; else "$@"; fi; }

echo "== building old ($OLD_COMMIT) and new ($(git rev-parse --short HEAD))"
mkdir -p "$tmp/old"
git archive "$OLD_COMMIT" src drills tests/unit/scoring_calls.h | tar -x -C "$tmp/old"
gcc "${CFLAGS[@]}" -I"$tmp/old/src" "$tmp/old/src/persona/"*.c "$tmp/old/src/scoring/"*.c \
  bench/understanding_eval.c -ljansson -lm -o "$tmp/eval_old"
gcc "${CFLAGS[@]}" -I"$tmp/old/src" -I"$tmp/old" "$tmp/old/src/scoring/"*.c bench/score_bench.c \
  -ljansson -lm -o "$tmp/score_old"

gcc "${CFLAGS[@]}" -Isrc tools/nlu_train.c src/nlu/*.c -lm -o "$tmp/nlu_train"
"$tmp/nlu_train" --vocab drills/ma-full-sale.json --vocab drills/ma-full-sale.rubric.json \
  "$tmp/nlu_models.c" drills/nlu/*.tsv
gcc "${CFLAGS[@]}" -Isrc src/persona/*.c src/scoring/*.c src/nlu/*.c "$tmp/nlu_models.c" \
  bench/understanding_eval.c -ljansson -lm -o "$tmp/eval_new"
gcc "${CFLAGS[@]}" -Isrc src/scoring/*.c src/nlu/*.c "$tmp/nlu_models.c" bench/score_bench.c \
  -ljansson -lm -o "$tmp/score_new"

echo
echo "== understanding, on tests/eval/ ($(grep -vc '^#' tests/eval/intents.tsv) intent utterances," \
  "$(grep -vc '^#' tests/eval/compliance.tsv) compliance statements)"
run1 "$tmp/eval_old" old "$tmp/old/drills/ma-full-sale.json" \
  "$tmp/old/drills/ma-full-sale.rubric.json" tests/eval/intents.tsv tests/eval/compliance.tsv \
  >"$tmp/old.txt"
run1 "$tmp/eval_new" new drills/ma-full-sale.json drills/ma-full-sale.rubric.json \
  tests/eval/intents.tsv tests/eval/compliance.tsv >"$tmp/new.txt"
# per intent: old and new on one line
printf '%-22s %-26s %-26s\n' intent "old P/R/F1" "new P/R/F1"
paste -d'|' "$tmp/old.txt" "$tmp/new.txt" | awk -F'|' '
  $1 ~ / intent / && $1 !~ /speed/ {
    split($1, a, " "); split($2, b, " ");
    printf "%-22s %-26s %-26s\n", a[3], a[4] " " a[5] " " a[6], b[4] " " b[5] " " b[6] }'
grep -h "intent speed\|compliance" "$tmp/old.txt" "$tmp/new.txt"
echo "targets: intent macro-F1 >= 0.90; compliance accuracy >= 95% with no false violation on a negated claim"

echo
echo "== scored 40-turn calls per second, one core"
echo "old: $(run1 "$tmp/score_old" "$SECS" "$tmp/old/drills/ma-full-sale.rubric.json" | sed -n 2p)"
echo "new: $(run1 "$tmp/score_new" "$SECS" drills/ma-full-sale.rubric.json | sed -n 2p)"

echo
echo "== model choice: 5-fold cross-validation on the training sets (drills/nlu/)"
"$tmp/nlu_train" --report - drills/nlu/*.tsv | grep macro
"$tmp/nlu_train" --report --algo perceptron - drills/nlu/*.tsv | grep macro

if [ -f bench/persona_eval.c ]; then
  echo
  echo "== persona on-topic answers (bench/persona_eval.c)"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j2 --target persona_eval >/dev/null
  ./build/persona_eval
fi

echo
echo "== end of turn (the voice end-pointer's shorter silence; bench/turn_eval.c)"
gcc "${CFLAGS[@]}" -Isrc src/nlu/*.c "$tmp/nlu_models.c" bench/turn_eval.c -lm -o "$tmp/turn_eval"
"$tmp/turn_eval" "training utterances (drills/nlu/, tuned on)" drills/nlu/*.tsv
"$tmp/turn_eval" "held-out utterances (tests/eval/)" tests/eval/*.tsv
