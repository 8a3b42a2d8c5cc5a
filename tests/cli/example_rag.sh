#!/bin/sh
# tests/cli/example_rag.sh — examples/rag.c (the public RAG API as a program sees it): ingest the
# bundled examples/docs corpus, search it, re-run incrementally, and fail cleanly on a bad store.
set -u
H=${HEARTH:-build/hearth}
BUILD=${BUILD:-$(dirname "$H")}
EX=$BUILD/examples/rag
T=$(mktemp -d /tmp/hearth-example-rag-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$EX" ] || fail "$EX not built (make builds examples/*.c)"

out=$("$EX" "$T/s.db" examples/docs "hotel limit per night in London") || fail "first run exit $?: $out"
echo "$out" | head -1 | grep -q "^11 files: 11 added" || fail "first ingest: $out"
echo "$out" | grep -q '^bm25 search' || fail "a store without a model searches with bm25: $out"
echo "$out" | sed -n 3p | grep -q "handbook/expenses.md" || fail "best hit is the expenses chapter: $out"
out=$("$EX" "$T/s.db" examples/docs "vacation days") || fail "second run exit $?"
echo "$out" | head -1 | grep -q "11 unchanged" || fail "re-run is incremental: $out"
echo "$out" | sed -n 3p | grep -q "leave-policy.md" || fail "vacation query: $out"
"$EX" "$T/no/such/dir/s.db" examples/docs q >/dev/null 2>"$T/err" && fail "missing directory accepted"
grep -q "^rag: .*does not exist" "$T/err" || fail "error message: $(cat "$T/err")"
"$EX" >/dev/null 2>&1; [ $? -eq 2 ] || fail "usage exit"
echo "example rag: ok"
