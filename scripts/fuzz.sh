#!/usr/bin/env bash
# fuzz.sh — builds the libFuzzer drivers of tests/fuzz/ into build-fuzz/ and
# runs each one for FUZZ_SECONDS on a copy of its seed corpus
# (tests/fuzz/corpus/<target>/). Exits non-zero if any target finds a
# crash, a leak, a timeout or an out-of-memory, and prints the reproducer.
# See docs/internals/fuzzing.md.
#
#   scripts/fuzz.sh                      every target, FUZZ_SECONDS (20) each
#   FUZZ_SECONDS=5 scripts/fuzz.sh       the `make test` budget
#   scripts/fuzz.sh cursor timefmt       only these targets
#   scripts/fuzz.sh --build              build only
#   scripts/fuzz.sh --list               the target names
#
# Environment: FUZZ_SECONDS (per target, default 20), FUZZ_BUILD (default
# build-fuzz), CC (default clang, else clang-14), FUZZ_KEEP_CORPUS=1 (keep
# and grow build-fuzz/corpus/<target> across runs instead of starting from
# the seeds), FUZZ_ARGS (extra libFuzzer flags), FUZZ_JOBS (parallel
# compiles, default nproc).
#
# Built directly with clang — not through CMake — so the sanitizer and
# coverage flags never leak into the real build. Library sources are built
# once into objects shared by every driver; a target is rebuilt when its
# driver or any source or header under src/ is newer than its binary.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD="${FUZZ_BUILD:-build-fuzz}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
JOBS="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"

if [ -z "${CC:-}" ]; then
  if command -v clang >/dev/null 2>&1; then CC=clang; else CC=clang-14; fi
fi
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "fuzz.sh: $CC not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

# -fno-sanitize-recover: a UBSan report is a failure, like an ASan one.
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
BASE="-g -O1 -std=c11 -D_GNU_SOURCE -Isrc $(pkg-config --cflags jansson 2>/dev/null || true)"
# Library sources: the project's warnings, not -Werror (their owners' build
# already enforces it; a newer clang warning must not fail `make test`).
LIB_CFLAGS="$BASE $SAN -fsanitize=fuzzer-no-link -Wall -Wextra"
# Drivers: ours, so warnings are errors.
DRV_CFLAGS="$BASE $SAN -fsanitize=fuzzer -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes"
LIBS="$(pkg-config --libs jansson 2>/dev/null || echo -ljansson) -lcrypto -lm"

# target | library sources (src/…) | extra link libraries | libFuzzer flags
NLU_SRC="nlu/normalize.c nlu/expand.c nlu/negation.c nlu/question.c nlu/classify.c nlu/lexicon.c"
PERSONA_SRC="persona/drill.c persona/engine.c persona/intents.c persona/understand.c util/fileio.c \
util/json_spec.c $NLU_SRC"
SCORING_SRC="scoring/analyse.c scoring/meaning.c scoring/rubric.c scoring/score.c scoring/summary.c \
scoring/text.c util/dynbuf.c util/json_spec.c $NLU_SRC"
TARGETS=(
  "nlu|$NLU_SRC||-max_len=8192"
  "cursor|api/cursor.c util/crypto.c util/ids.c||-max_len=512"
  "session_token|auth/session_token.c util/crypto.c||-max_len=4096"
  "validate|api/validate.c util/json_spec.c util/dynbuf.c||-max_len=8192"
  "timefmt|util/timefmt.c||-max_len=64"
  "cidr|auth/cidr.c||-max_len=1024"
  "base64|util/crypto.c||-max_len=2048"
  "persona|$PERSONA_SRC||-max_len=16384"
  "drill|$PERSONA_SRC||-max_len=65536"
  "scorer|$SCORING_SRC util/fileio.c||-max_len=16384"
  "rubric|$SCORING_SRC||-max_len=65536"
  "live_message|live/message.c ws/ws_util.c util/crypto.c||-max_len=16386"
  "ws_frames|live/message.c ws/ws.c ws/ws_util.c util/crypto.c|-lwslay|-max_len=40000"
)

field() { local IFS='|'; read -r -a f <<<"$1"; echo "${f[$2]:-}"; }
names() { for t in "${TARGETS[@]}"; do field "$t" 0; done; }

BUILD_ONLY=0
SELECTED=()
for a in "$@"; do
  case "$a" in
  --build) BUILD_ONLY=1 ;;
  --list) names; exit 0 ;;
  -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
  *) SELECTED+=("$a") ;;
  esac
done
if [ ${#SELECTED[@]} -eq 0 ]; then
  mapfile -t SELECTED < <(names)
fi
known() { for t in "${TARGETS[@]}"; do [ "$(field "$t" 0)" != "$1" ] || return 0; done; return 1; }
for s in "${SELECTED[@]}"; do
  known "$s" || { echo "fuzz.sh: unknown target '$s' (see --list)" >&2; exit 2; }
done

mkdir -p "$BUILD/obj" "$BUILD/logs" "$BUILD/artifacts" "$BUILD/corpus"

spec_of() {
  for t in "${TARGETS[@]}"; do
    if [ "$(field "$t" 0)" = "$1" ]; then echo "$t"; fi
  done
}

# The newest header under src/: any change rebuilds everything.
newest_header="$(find src -name '*.h' -printf '%T@ %p\n' | sort -n | sed -n '$s/^[^ ]* //p')"

# ---- build: library objects (once each, in parallel), then drivers ----
objs_needed=()
for s in "${SELECTED[@]}"; do
  for src in $(field "$(spec_of "$s")" 1); do objs_needed+=("$src"); done
done
mapfile -t objs_needed < <(printf '%s\n' "${objs_needed[@]}" | sort -u)

obj_path() { echo "$BUILD/obj/$(echo "$1" | tr '/' '_' | sed 's/\.c$/.o/')"; }
stale=()
for src in "${objs_needed[@]}"; do
  o="$(obj_path "$src")"
  if [ ! -f "$o" ] || [ "src/$src" -nt "$o" ] || [ "$newest_header" -nt "$o" ]; then
    stale+=("$src")
  fi
done
if [ ${#stale[@]} -gt 0 ]; then
  echo "fuzz.sh: compiling ${#stale[@]} source(s)"
  export CC LIB_CFLAGS BUILD
  printf '%s\n' "${stale[@]}" | xargs -P "$JOBS" -I{} sh -c \
    'o="$BUILD/obj/$(echo "{}" | tr / _ | sed "s/\.c\$/.o/")"; $CC $LIB_CFLAGS -c "src/{}" -o "$o.tmp" && mv "$o.tmp" "$o"'
fi

# The language layer's classifiers are generated (tools/nlu_train.c from
# drills/nlu/*.tsv, as the CMake build does); targets built on src/nlu link
# them. The trainer is a build tool: built without sanitizers.
nlu_gen="$BUILD/nlu_models.c"
nlu_obj="$BUILD/obj/nlu_models.o"
if printf '%s\n' "${objs_needed[@]}" | grep -q '^nlu/'; then
  if [ ! -f "$nlu_obj" ] || [ -n "$(find drills/nlu tools/nlu_train.c src/nlu -newer "$nlu_obj" | head -1)" ]; then
    echo "fuzz.sh: training the NLU classifiers"
    # shellcheck disable=SC2046
    $CC -O1 -std=c11 -D_GNU_SOURCE -Isrc tools/nlu_train.c $(ls src/nlu/*.c) -lm -o "$BUILD/nlu_train"
    "$BUILD/nlu_train" --vocab drills/ma-full-sale.json --vocab drills/ma-full-sale.rubric.json \
      "$nlu_gen" drills/nlu/*.tsv
    $CC $LIB_CFLAGS -c "$nlu_gen" -o "$nlu_obj"
  fi
fi

for s in "${SELECTED[@]}"; do
  spec="$(spec_of "$s")"
  drv="tests/fuzz/fuzz_$s.c"
  bin="$BUILD/fuzz_$s"
  objs=()
  for src in $(field "$spec" 1); do objs+=("$(obj_path "$src")"); done
  case " $(field "$spec" 1)" in *" nlu/"*) objs+=("$nlu_obj") ;; esac
  extra_libs="$(field "$spec" 2)"
  rebuild=0
  [ -f "$bin" ] || rebuild=1
  [ "$rebuild" = 1 ] || [ ! "$drv" -nt "$bin" ] || rebuild=1
  for o in "${objs[@]}"; do [ "$rebuild" = 1 ] || [ ! "$o" -nt "$bin" ] || rebuild=1; done
  [ "$rebuild" = 1 ] || [ ! "$newest_header" -nt "$bin" ] || rebuild=1
  if [ "$rebuild" = 1 ]; then
    echo "fuzz.sh: linking $bin"
    # shellcheck disable=SC2086
    $CC $DRV_CFLAGS "$drv" "${objs[@]}" -o "$bin.tmp" $LIBS $extra_libs
    mv "$bin.tmp" "$bin"
  fi
done
[ "$BUILD_ONLY" = 1 ] && exit 0

# ---- run ----
# LeakSanitizer on (libFuzzer reports leaks as failures); abort on the
# first report so the artifact is the input that caused it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
printf '%-14s %10s %8s %7s %7s %7s  %s\n' target execs exec/s cov ft corpus result
for s in "${SELECTED[@]}"; do
  spec="$(spec_of "$s")"
  bin="$BUILD/fuzz_$s"
  seeds="tests/fuzz/corpus/$s"
  work="$BUILD/corpus/$s"
  art="$BUILD/artifacts/$s"
  log="$BUILD/logs/$s.log"
  if [ "${FUZZ_KEEP_CORPUS:-0}" != 1 ]; then rm -rf "$work"; fi
  mkdir -p "$work" "$art"
  if [ -d "$seeds" ]; then cp -p "$seeds"/* "$work"/ 2>/dev/null || true; fi
  find "$art" -type f -delete
  flags=()
  for f in $(field "$spec" 3); do flags+=("$f"); done
  rc=0
  # -timeout: one input running this long is a hang (a real bug, even on a
  # loaded machine). -rss_limit_mb: an input needing this much is a leak
  # or an unbounded buffer. Both are reported as failures.
  # shellcheck disable=SC2086
  "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art/" "${flags[@]}" ${FUZZ_ARGS:-} \
    "$work" >"$log" 2>&1 || rc=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  eps="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  cov="$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')"
  ft="$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')"
  corp="$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')"
  result=ok
  repro=""
  for f in "$art"/*; do [ -f "$f" ] && { repro="$f"; break; }; done
  if [ "$rc" -ne 0 ] || [ -n "$repro" ]; then
    result="FAILED (exit $rc)"
    failed+=("$s")
  fi
  printf '%-14s %10s %8s %7s %7s %7s  %s\n' "$s" "${execs:--}" "${eps:--}" "${cov:--}" \
    "${ft:--}" "${corp:--}" "$result"
  if [ "$result" != ok ]; then
    { grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY' \
      "$log" || true; } | sed -n '1,5s/^/    /p'
    if [ -n "$repro" ]; then
      echo "    reproducer: $repro"
      echo "    replay:     $bin $repro"
    fi
    echo "    log:        $log"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${#SELECTED[@]} target(s), ${SECONDS_PER_TARGET}s each: no crash"
