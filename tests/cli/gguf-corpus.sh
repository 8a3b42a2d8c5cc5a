#!/bin/sh
# tests/cli/gguf-corpus.sh — the binaries over malformed GGUF files: every file of the corpus
# (tests/unit/gguf_corpus.h, written out by tests/tools/gguf_corpus) makes `hearth show` exit 1
# with one line naming the file and the field; randomly damaged copies of a fixture either load
# or fail the same way, never crash (the sanitizer build runs them all).
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
BUILD=${BUILD:-$(dirname "$H")}
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
TOOL="$BUILD/tools/gguf_corpus"
T=$(mktemp -d /tmp/hearth-gguf-corpus-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$TOOL" ] || fail "$TOOL not built (make tests)"
N_FUZZ=${N_FUZZ:-60}
"$TOOL" "$T" "$FIX/models/qwen3-bf16.gguf" "$N_FUZZ" || fail "gguf_corpus"

n=0
for f in "$T"/[0-9]*.gguf; do
    want=$(cat "${f%.gguf}.expect")
    [ -s "$f" ] || want="file is empty" # mapping refuses it before the parser sees 0 bytes
    for bin in "$H" "$HA"; do
        "$bin" show "$f" >"$T/out" 2>"$T/err"; rc=$?
        [ $rc -eq 1 ] || fail "$bin show $(basename "$f"): exit $rc, expected 1: $(cat "$T/err")"
        [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$(basename "$f"): not one line: $(cat "$T/err")"
        grep -q "^hearth show: $f: " "$T/err" || fail "$(basename "$f"): message does not start with the path: $(cat "$T/err")"
        grep -qF -- "$want" "$T/err" || fail "$(basename "$f"): expected '$want' in: $(cat "$T/err")"
        [ -s "$T/out" ] && fail "$(basename "$f"): printed on stdout: $(cat "$T/out")"
    done
    n=$((n + 1))
done
[ $n -ge 30 ] || fail "only $n corpus files"

loaded=0
for f in "$T"/fuzz-*.gguf; do
    "$HA" show "$f" >"$T/out" 2>"$T/err"; rc=$?
    case $rc in
    0) loaded=$((loaded + 1)) ;;
    1) [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$(basename "$f"): not one line: $(head -c 2000 "$T/err")"
       grep -q "^hearth show: " "$T/err" || fail "$(basename "$f"): $(head -c 2000 "$T/err")" ;;
    *) fail "$(basename "$f"): exit $rc (crash?): $(head -c 3000 "$T/err")" ;;
    esac
done
echo "gguf corpus: $n malformed files rejected with their messages; $N_FUZZ damaged files: $loaded loaded, the rest rejected cleanly"
