#!/usr/bin/env bash
# lint.sh — the house rules a compiler does not check, run by `make test`
# (the `lint` target). Prints every offence as file:line: message and exits
# non-zero if there is any. Rules (issue 8, docs/internals/http.md "Layers"):
#
#   1. no atoi, sprintf, vsprintf, strcat, strtok in src/ (use strtoll with
#      checks, snprintf, bounded copies);
#   2. libmicrohttpd (MHD_…) only in src/http/, plus the live upgrade glue
#      listed in MHD_GLUE;
#   3. SQL (SELECT, INSERT INTO, UPDATE … SET, DELETE FROM, CREATE/ALTER/DROP
#      TABLE … in string literals) only in src/store/;
#   4. src/persona/ and src/scoring/ include only libc, jansson, src/nlu/,
#      util/dynbuf.h, util/json_spec.h and their own folder (pure cores: no
#      I/O, no server header);
#   5. src/live/ and src/cli/ never include http/server.h, and no cli/*.c
#      reaches <microhttpd.h> through its includes;
#   6. src/http/ includes nothing of api/, auth/, live/ (or app.h), and the
#      include graph between top-level src/ folders has no cycle through
#      http/;
#   7. the C of src/, tests/ and tools/ is as clang-format leaves it with
#      the repository's .clang-format (only when linting this repository's
#      own tree; clang-format comes from scripts/install-deps.sh).
#
# Comments are ignored by every rule; string literals only by 1, 2 and 5.
# Usage: scripts/lint.sh [SRC_DIR]   (default: src/ of this repository)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${1:-$ROOT/src}"
cd "$SRC/.." || exit 2
SRC="$(basename "$SRC")"

# The only files outside src/http/ allowed to name libmicrohttpd: the live
# loop closes upgraded sockets through MHD's handle.
MHD_GLUE="$SRC/live/loop.c $SRC/live/live_internal.h"
# What the pure cores may include besides their own folder.
PURE_LIBC="assert.h ctype.h errno.h float.h inttypes.h iso646.h limits.h locale.h math.h
setjmp.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h
string.h strings.h time.h uchar.h wchar.h wctype.h"
PURE_OTHER="jansson.h"
PURE_DIRS="nlu"
# Two pure util/ headers they may share: the bounded buffer and the JSON
# field spec (libc and jansson only; no I/O, no state).
PURE_HEADERS="util/dynbuf.h util/json_spec.h"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FAIL=0
offence() { printf '%s\n' "$1"; FAIL=1; }

mapfile -t FILES < <(find "$SRC" -type f \( -name '*.c' -o -name '*.h' \) | LC_ALL=C sort)

# Every file as "path:line:text" lines, comments blanked; strings kept
# (code.txt) and strings emptied (bare.txt).
awk '
function flush() { print FILENAME ":" FNR ":" out > code; print FILENAME ":" FNR ":" bare > nostr }
FNR == 1 { incomment = 0 }
{
  out = ""; bare = ""; line = $0; n = length(line); i = 1; instr = 0
  while (i <= n) {
    c = substr(line, i, 1); c2 = substr(line, i, 2)
    if (incomment) {
      if (c2 == "*/") { incomment = 0; i += 2; out = out "  "; bare = bare "  "; continue }
      out = out " "; bare = bare " "; i++; continue
    }
    if (instr) {
      if (c == "\\") { out = out c2; bare = bare "  "; i += 2; continue }
      if (c == quote) { instr = 0; out = out c; bare = bare c; i++; continue }
      out = out c; bare = bare " "; i++; continue
    }
    if (c2 == "/*") { incomment = 1; out = out "  "; bare = bare "  "; i += 2; continue }
    if (c2 == "//") break
    if (c == "\"" || c == "\047") { instr = 1; quote = c }
    out = out c; bare = bare c; i++
  }
  flush()
}' code="$TMP/code.txt" nostr="$TMP/bare.txt" "${FILES[@]}"

# 1. Banned functions.
while IFS= read -r hit; do
  fn="$(grep -oE '\b(atoi|sprintf|vsprintf|strcat|strtok)[[:space:]]*\(' <<<"${hit#*:*:}" | head -1 | tr -d ' (')"
  offence "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): $fn is banned (use a bounded, checked form)"
done < <(grep -E '^[^:]+:[0-9]+:.*\b(atoi|sprintf|vsprintf|strcat|strtok)[[:space:]]*\(' "$TMP/bare.txt")

# 2. libmicrohttpd outside src/http/ and the glue.
while IFS= read -r hit; do
  f="${hit%%:*}"
  case "$f" in "$SRC"/http/*) continue ;; esac
  case " $MHD_GLUE " in *" $f "*) continue ;; esac
  offence "$f:$(cut -d: -f2 <<<"$hit"): libmicrohttpd (MHD_) outside src/http/"
done < <(grep -E '^[^:]+:[0-9]+:.*(\bMHD_|<microhttpd\.h>)' "$TMP/bare.txt")

# 3. SQL outside src/store/.
SQL='"[^"]*\b(SELECT [^"]*FROM|INSERT INTO|UPDATE [A-Za-z_]+ SET|DELETE FROM|CREATE (TABLE|INDEX|UNIQUE INDEX)|ALTER TABLE|DROP (TABLE|INDEX)|BEGIN (IMMEDIATE|TRANSACTION))\b'
while IFS= read -r hit; do
  f="${hit%%:*}"
  case "$f" in "$SRC"/store/*) continue ;; esac
  offence "$f:$(cut -d: -f2 <<<"$hit"): SQL outside src/store/"
done < <(grep -E "^[^:]+:[0-9]+:.*$SQL" "$TMP/code.txt")

# The #include lines as "file:line:header" (<h> or "h" kept).
grep -E '^[^:]+:[0-9]+:[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' "$TMP/code.txt" |
  sed -E 's/^([^:]+:[0-9]+:)[[:space:]]*#[[:space:]]*include[[:space:]]*([<"][^>"]*[>"]).*/\1\2/' \
  >"$TMP/includes.txt"

# 4. The pure cores.
while IFS= read -r hit; do
  f="${hit%%:*}"; h="${hit##*:}"; own="$(cut -d/ -f2 <<<"$f")"
  name="${h:1:${#h}-2}"
  ok=0
  if [ "${h:0:1}" = "<" ]; then
    for a in $PURE_LIBC $PURE_OTHER; do [ "$name" = "$a" ] && ok=1; done
  else
    top="${name%%/*}"
    [ "$top" = "$own" ] && ok=1
    for d in $PURE_DIRS; do [ "$top" = "$d" ] && ok=1; done
    for a in $PURE_HEADERS; do [ "$name" = "$a" ] && ok=1; done
  fi
  [ $ok = 1 ] || offence "$f:$(cut -d: -f2 <<<"$hit"): $own/ is a pure core: it may not include $h"
done < <(grep -E "^$SRC/(persona|scoring)/" "$TMP/includes.txt")

# 5. live/ and cli/ never include the HTTP server.
while IFS= read -r hit; do
  offence "${hit%:*}: include app.h, not http/server.h"
done < <(grep -E "^$SRC/(live|cli)/[^:]+:[0-9]+:\"http/server\.h\"" "$TMP/includes.txt")

# The quoted includes of one file (paths relative to src/).
deps_of() { grep -E "^$SRC/$1:[0-9]+:\"" "$TMP/includes.txt" | sed -E 's/.*:"(.*)"$/\1/'; }
# Every header a file reaches through quoted includes, and each <system>
# header on the way.
closure() {
  local -A seen=()
  local queue=("$1") f h
  while [ ${#queue[@]} -gt 0 ]; do
    f="${queue[0]}"; queue=("${queue[@]:1}")
    [ -n "${seen[$f]:-}" ] && continue
    seen[$f]=1
    echo "$f"
    grep -E "^$SRC/$f:[0-9]+:<" "$TMP/includes.txt" | sed -E 's/.*:(<.*>)$/\1/'
    while IFS= read -r h; do
      [ -f "$SRC/$h" ] && queue+=("$h")
    done < <(deps_of "$f")
  done
}
for f in "$SRC"/cli/*.c; do
  [ -f "$f" ] || continue
  if closure "${f#"$SRC"/}" | grep -x '<microhttpd.h>' >/dev/null; then
    offence "$f:1: reaches <microhttpd.h> through its includes (the CLI is no HTTP server)"
  fi
done

# 6. The folder graph: a node per top-level folder (a top-level file is
# its own node: app, errors, config, main).
node_of() { local p="${1#"$SRC"/}"; case "$p" in */*) echo "${p%%/*}" ;; *) p="${p%.*}"; echo "$p" ;; esac; }
: >"$TMP/edges.txt"
while IFS= read -r hit; do
  f="${hit%%:*}"; h="${hit##*:}"; h="${h:1:${#h}-2}"
  [ -f "$SRC/$h" ] || continue
  a="$(node_of "$f")"; b="$(node_of "$SRC/$h")"
  [ "$a" = "$b" ] && continue
  echo "$a $b $f:$(cut -d: -f2 <<<"$hit")" >>"$TMP/edges.txt"
done < <(grep -E ':"[^"]*"$' "$TMP/includes.txt")
# http/ includes none of the layers above it.
while read -r a b where; do
  case "$b" in api | auth | live | app) offence "$where: http/ must not include $b/ (http/ is below it)" ;; esac
done < <(awk '$1 == "http"' "$TMP/edges.txt")
# No cycle through http/: nothing http/ reaches may reach http/ back.
reach() {
  local -A seen=([$1]=1)
  local queue=("$1") n m
  while [ ${#queue[@]} -gt 0 ]; do
    n="${queue[0]}"; queue=("${queue[@]:1}")
    for m in $(awk -v n="$n" '$1 == n { print $2 }' "$TMP/edges.txt" | sort -u); do
      [ -n "${seen[$m]:-}" ] && continue
      seen[$m]=1; queue+=("$m"); echo "$m"
    done
  done
}
for n in $(reach http); do
  if reach "$n" | grep -x http >/dev/null; then
    offence "$SRC/http: include cycle http -> … -> $n -> … -> http"
  fi
done

# 7. Formatting: one style, the tool's (`clang-format -i FILE` fixes a file).
if [ -z "${1:-}" ]; then
  if ! command -v clang-format >/dev/null; then
    offence "clang-format is missing (scripts/install-deps.sh installs it)"
  else
    while IFS= read -r f; do
      clang-format --dry-run -Werror "$f" >/dev/null 2>&1 ||
        offence "$f: not as clang-format leaves it (clang-format -i $f)"
    done < <(cd "$ROOT" && git ls-files -co --exclude-standard -- 'src/*.[ch]' 'tests/*.[ch]' 'tools/*.[ch]' 'bench/*.[ch]' | sed "s#^#$ROOT/#")
  fi
fi

if [ $FAIL -ne 0 ]; then
  echo "lint: FAILED (rules at the top of scripts/lint.sh)" >&2
  exit 1
fi
echo "lint: ok (${#FILES[@]} files)"
