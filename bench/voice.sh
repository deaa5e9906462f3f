#!/usr/bin/env bash
# voice.sh — the speech path's figures. First the word error rate on
# bench/voice_lines.txt (54 rep lines, synthesised by Flite, cut by the VAD,
# recognised by PocketSphinx) with the domain language model and without it;
# then, through the real server (bench/voice_load.js), N concurrent voice
# calls streaming those lines in real time: end of rep speech -> first
# persona audio byte, p50/p99, CPU per call (from /proc/<pid>/stat), and the
# text calls' p99 alone vs while the voice calls run. Not a timed test.
#   bench/voice.sh [seconds of the voice run, default 60]
# Environment: BUILD (default build/), CALLS (default 10), TEXT_CALLS (4),
# WORKERS (voice pool threads, 2), SILENCE_MS (the end-pointer's trailing
# silence; the server's default when unset), ATHOS_ASR_TUNING, SKIP_WER=1,
# SKIP_BASELINE=1 (skip the second load run: the same calls with the end-of-turn
# model off, ATHOS_VOICE_SILENCE_DONE_MS = the full silence, and the ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
seconds="${1:-60}"
lines=bench/voice_lines.txt
cmake --build "$build" -j2 --target athos athos-voice >/dev/null
[[ -d tests/api/node_modules ]] || scripts/npm-deps.sh >/dev/null
out="${TMPDIR:-/tmp}/athos-voice-bench.$$"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

if [[ -z "${SKIP_WER:-}" ]]; then
echo "== word error rate, $(grep -c . "$lines") synthesised rep lines"
for mode in domain general; do
  flag=""; [[ $mode == general ]] && flag="--no-domain"
  /usr/bin/time -f "%U %S" -o "$out/$mode.cpu" \
    "$build/athos-voice" loop $flag <"$lines" >"$out/$mode.txt" 2>"$out/$mode.err"
  read -r wer n words < <(python3 bench/voice_wer.py "$lines" "$out/$mode.txt")
  asr=$(awk -F'asr ' '/^audio/ {split($2, a, " "); s += a[1]; k++} END {printf "%.0f", s / k}' "$out/$mode.err")
  final=$(awk -F'final pass ' '/^audio/ {split($2, a, " "); s += a[1]; k++} END {printf "%.0f", s / k}' "$out/$mode.err")
  audio=$(awk '/^audio/ {s += $2; k++} END {printf "%.2f", s / k}' "$out/$mode.err")
  total=$(awk '/^audio/ {s += $2} END {print s}' "$out/$mode.err")
  cpu=$(awk -v a="$total" '{printf "%.3f", ($1 + $2) / a}' "$out/$mode.cpu")
  printf "%-8s WER %.1f %% over %d words; mean utterance %s s, recognised in %s ms (wall);\n" \
    "$mode" "$(awk "BEGIN {print $wer * 100}")" "$words" "$audio" "$asr"
  printf "         of which the final pass (left after the speech if fed while it comes) %s ms;\n" "$final"
  printf "         CPU (TTS + VAD + ASR + model load) %s s per second of speech\n" "$cpu"
done
fi

load() { # $1: key, $2: label, then voice_load.js arguments
  local key="$1" label="$2"; shift 2
  echo "== ${CALLS:-10} concurrent voice calls through the server, ${seconds} s, ${WORKERS:-2} workers ($label)"
  ATHOS_BIN="$PWD/$build/athos" node bench/voice_load.js --calls "${CALLS:-10}" --seconds "$seconds" \
    --text-calls "${TEXT_CALLS:-4}" --workers "${WORKERS:-2}" ${SILENCE_MS:+--silence-ms "$SILENCE_MS"} \
    --lines "$lines" "$@" | tee "$out/load-$key.txt"
}
load on "end of turn on"
if [[ -z "${SKIP_BASELINE:-}" ]]; then
  load off "baseline: end of turn off" --silence-done-ms "${SILENCE_MS:-700}"
  python3 - "$out/load-on.txt" "$out/load-off.txt" <<'PY'
import json, sys
new, old = (json.loads([l for l in open(f) if l.startswith('{')][-1]) for f in sys.argv[1:3])
n, o = new['speechEndToFirstAudioMs'], old['speechEndToFirstAudioMs']
print(f"== end of rep speech -> first persona audio, end of turn on / off: p50 {n['p50']} / {o['p50']} ms "
      f"(x{n['p50'] / o['p50']:.2f}), p99 {n['p99']} / {o['p99']} ms (x{n['p99'] / o['p99']:.2f})")
PY
fi
