#!/bin/sh
# tests/cli/rag-crash.sh — kills `hearth rag ingest` with SIGKILL at random moments, 20 times,
# editing files between runs so that replacements (not only first inserts) are interrupted.
# After every kill the store must open, pass `hearth rag status --check` (SQLite integrity,
# FTS index consistent, only whole documents with all their vectors) and PRAGMA
# integrity_check; a final uninterrupted run must complete the set, and one more run must
# find everything unchanged.
set -u
H=${HEARTH:-build/hearth}
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
EMB=$FIX/models/bert-real-vocab-q8_0.gguf
T=$(mktemp -d /tmp/hearth-rag-crash-XXXXXX)
trap 'rm -rf "$T"' EXIT
STORE=$T/crash.db
fails=0
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
model=""
[ -f "$EMB" ] && model="--model $EMB --threads 1"

# a corpus big enough that ingestion takes a while: 120 markdown files of varying length
mkdir -p "$T/corpus/a" "$T/corpus/b"
i=0
while [ $i -lt 120 ]; do
    d=a; [ $((i % 2)) -eq 0 ] && d=b
    {
        echo "# Document $i"
        j=0
        while [ $j -lt $((3 + i % 9)) ]; do
            echo
            echo "## Section $j of document $i"
            echo
            echo "Paragraph about topic$i and subject$j: the warehouse robot number $i reports"
            echo "battery level $j, route $((i * j)), and maintenance window $((i + j)). Operators"
            echo "review these figures weekly and escalate anomalies to the on-call engineer."
            j=$((j + 1))
        done
    } >"$T/corpus/$d/doc$i.md"
    i=$((i + 1))
done
n_files=120

# how long one full ingest takes, to spread the kills over it
start=$(date +%s%N)
# shellcheck disable=SC2086
$H rag ingest "$T/corpus" --store "$T/timing.db" $model >/dev/null 2>&1
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$full_ms" -lt 50 ] && full_ms=50
echo "one full ingest: ${full_ms} ms"

seed=$$
k=0
killed=0
while [ $k -lt 20 ]; do
    # edit a third of the files so that this run replaces documents (delete + insert in one
    # transaction) and has work to be interrupted in
    for f in $(seq $((k % 3)) 3 119); do
        for d in a b; do
            [ -f "$T/corpus/$d/doc$f.md" ] && printf '\nRevision %d of this file adds a sentence.\n' $k >>"$T/corpus/$d/doc$f.md"
        done
    done
    seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
    delay_ms=$(( seed % (full_ms / 2) ))
    # shellcheck disable=SC2086
    $H rag ingest "$T/corpus" --store "$STORE" $model >/dev/null 2>"$T/err.$k" &
    pid=$!
    sleep "$(awk "BEGIN { printf \"%.3f\", $delay_ms / 1000 }")"
    kill -9 $pid 2>/dev/null && killed=$((killed + 1))
    wait $pid 2>/dev/null
    if [ -f "$STORE" ]; then
        if ! $H rag status --store "$STORE" --check >"$T/status" 2>&1; then
            bad "kill $k after ${delay_ms} ms: store check failed"; cat "$T/status"
        fi
        if command -v sqlite3 >/dev/null; then
            r=$(sqlite3 "$STORE" 'PRAGMA integrity_check' 2>&1)
            [ "$r" = "ok" ] || bad "kill $k: PRAGMA integrity_check: $r"
        fi
    fi
    k=$((k + 1))
done

# shellcheck disable=SC2086
$H rag ingest "$T/corpus" --store "$STORE" $model --json >"$T/final" 2>&1 || bad "final ingest failed: $(cat "$T/final")"
$H rag status --store "$STORE" --check --json >"$T/status" 2>&1 || bad "final check failed: $(cat "$T/status")"
grep -q "\"documents\":$n_files" "$T/status" || bad "final store does not hold all $n_files documents: $(cat "$T/status")"
# shellcheck disable=SC2086
$H rag ingest "$T/corpus" --store "$STORE" $model --json >"$T/again" 2>&1
grep -q "\"unchanged\":$n_files" "$T/again" || bad "a re-run after completion is not all-unchanged: $(cat "$T/again")"
cat "$T/final"
echo "killed mid-run: $killed of 20"
[ "$killed" -ge 10 ] || bad "only $killed of 20 kills hit a running ingest"
echo "$fails failed"
[ "$fails" -eq 0 ]
