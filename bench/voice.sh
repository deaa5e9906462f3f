#!/usr/bin/env bash
# voice.sh — the speech path's figures, without the server (the live loop is
# not wired to speech yet): word error rate on bench/voice_lines.txt (54 rep
# lines, synthesised by Flite, cut by the VAD, recognised by PocketSphinx)
# with the domain language model and without it; then N concurrent simulated
# voice calls (tools/voice_bench.c) streaming those lines in real time through
# the worker pool: end of rep speech -> first persona audio, p50/p99, and CPU
# per call. Not a timed test. Usage:
#   bench/voice.sh [seconds per load run, default 60]
# Environment: BUILD (default build/), CALLS (default "1 5 10"), WORKERS (2),
# SILENCE_MS (the end-pointer's trailing silence, 700), ATHOS_ASR_TUNING.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BUILD:-build}"
seconds="${1:-60}"
lines=bench/voice_lines.txt
cmake --build "$build" -j2 --target athos-voice athos-voice-bench >/dev/null
out="${TMPDIR:-/tmp}/athos-voice-bench.$$"
mkdir -p "$out"
trap 'rm -rf "$out"' EXIT

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

echo "== concurrent voice calls, ${seconds} s each, ${WORKERS:-2} workers"
for n in ${CALLS:-1 5 10}; do
  "$build/athos-voice-bench" --calls "$n" --seconds "$seconds" --workers "${WORKERS:-2}" \
    --silence "${SILENCE_MS:-700}" "$lines" 2>/dev/null
done
