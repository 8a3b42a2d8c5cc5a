#!/bin/sh
# tests/cli/rag.sh — `hearth rag` and `hearth embed` end to end: ingest the bundled examples/docs
# corpus, recall@5 on tests/data/rag-questions.json (BM25 and, with the real-vocabulary bert
# fixture, vector and hybrid), incremental re-ingest, malformed inputs, hostile store files,
# model identity, ask's "I don't know" path and its cited answer, embed's JSON.
set -u
H=${HEARTH:-build/hearth}
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
EMB=$FIX/models/bert-real-vocab-q8_0.gguf
T=$(mktemp -d /tmp/hearth-rag-cli-XXXXXX)
export HEARTH_HOME=$T/home
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { # name, command... (expects success)
    name=$1; shift
    if "$@" >"$T/out" 2>"$T/err"; then ok "$name"; else bad "$name (exit $?)"; cat "$T/err"; fi
}
expect_exit() { # name, code, command...
    name=$1; code=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"; rc=$?
    if [ "$rc" -eq "$code" ]; then ok "$name"; else bad "$name (exit $rc, wanted $code)"; cat "$T/err"; fi
}
grep_out() { if grep -q -- "$2" "$T/$3"; then ok "$1"; else bad "$1 (no '$2' in $3)"; cat "$T/$3"; fi; }

for c in "rag" "rag ingest" "rag search" "rag ask" "rag status" "rag eval" "embed"; do
    # shellcheck disable=SC2086
    check "$c --help" $H $c --help
done
expect_exit "rag without subcommand" 2 $H rag
expect_exit "ingest without paths" 2 $H rag ingest --store x
expect_exit "search without store" 2 $H rag search hello
expect_exit "bad mode" 2 $H rag search q --store x --mode fuzzy
expect_exit "bad -k" 2 $H rag search q --store x -k 0
expect_exit "missing store" 1 $H rag search q --store nosuch
expect_exit "store in a missing directory" 1 $H rag ingest examples/docs --store "$T/no/such/dir/s.db"
grep_out "missing directory named" 'directory .*/no/such/dir does not exist' err

# ---- BM25-only store over the example corpus -------------------------------------------------
check "ingest examples/docs (bm25)" $H rag ingest examples/docs --store docs --json
grep_out "ingest summary" '"files":11' out
check "status" $H rag status --store docs --json
grep_out "status counts documents" '"documents":11' out
check "search bm25" $H rag search "hotel limit per night in London" --store docs -k 3 --json
grep_out "bm25 finds the expenses chapter" 'handbook/expenses.md' out
check "filter path=" $H rag search "days" --store docs --filter 'path=contracts/*' --json
if grep -o '"path":"[^"]*"' "$T/out" | grep -vq contracts/; then bad "filter leaks other paths"; else ok "filter keeps contracts only"; fi
check "eval bm25" $H rag eval tests/data/rag-questions.json --store docs --mode bm25 -k 5
cat "$T/out"
bm25=$(sed -n 's/.*recall@5: \([0-9.]*\).*/\1/p' "$T/out")
awk "BEGIN { exit !($bm25 >= 0.8) }" && ok "bm25 recall@5 $bm25 >= 0.8" || bad "bm25 recall@5 $bm25 < 0.8"

# ---- incremental re-ingest ------------------------------------------------------------------------
cp -r examples/docs "$T/corpus"
check "ingest copy" $H rag ingest "$T/corpus" --store inc --json
check "re-ingest unchanged" $H rag ingest "$T/corpus" --store inc --json
grep_out "nothing rewritten" '"unchanged":11' out
printf '\nRobots are serviced every 400 operating hours.\n' >>"$T/corpus/engineering/README.md"
rm "$T/corpus/benefits.csv"
printf '# Canteen\n\nThe canteen serves a vegan menu every Thursday.\n' >"$T/corpus/canteen.md"
check "re-ingest changes" $H rag ingest "$T/corpus" --store inc --json
grep_out "one updated" '"updated":1' out
grep_out "one removed" '"removed":1' out
grep_out "one added" '"added":1' out
check "deleted file gone" $H rag search "Deutschlandticket" --store inc --json
grep_out "no hits for deleted text" '"results":\[\]' out
check "new file found" $H rag search "vegan Thursday" --store inc --json
grep_out "canteen found" 'canteen.md' out

# ---- malformed inputs: one warning each, ingestion goes on -------------------------------------
mkdir -p "$T/bad"
cp examples/docs/handbook/leave-policy.md "$T/bad/"
printf '\177ELF\000\000\001binary' >"$T/bad/program.txt"
printf '%%PDF-1.7\n1 0 obj <<>> garbage garbage' >"$T/bad/broken.pdf"
head -c 300000 /dev/zero | tr '\000' 'a' >"$T/bad/huge.txt"
ln -s "$T/bad/nowhere" "$T/bad/dangling.md"
printf '' >"$T/bad/empty.md"
check "ingest malformed set" $H rag ingest "$T/bad" --store bad --max-size 100000 --json
grep_out "good file added" '"added":1' out
grep_out "binary skipped" '"binary":1' out
grep_out "corrupt pdf skipped" '"corrupt":1' out
grep_out "huge skipped" '"too large":1' out
n_warn=$(grep -c 'warning' "$T/err")
[ "$n_warn" -eq 5 ] && ok "one warning per bad file" || { bad "expected 5 warnings, got $n_warn"; cat "$T/err"; }
printf 'not a database, just bytes that look nothing like SQLite at all.........' >"$T/corrupt.db"
expect_exit "corrupt store file" 1 $H rag search q --store "$T/corrupt.db"
grep_out "corrupt store named" 'corrupt.db' err
sqlite3 "$T/other.db" 'CREATE TABLE t(x)' 2>/dev/null && {
    expect_exit "foreign sqlite db" 1 $H rag status --store "$T/other.db"
    grep_out "not a hearth store" 'not a hearth store' err
}

# ---- embeddings: vector and hybrid with the real-vocabulary bert fixture -------------------------
if [ -f "$EMB" ]; then
    check "embed --json" $H embed "$EMB" "hello world" "The agent called a tool." --json
    grep_out "embed shape" '"embeddings":\[\[' out
    expect_exit "embed with a decoder model" 1 $H embed "$FIX/models/llama-f32.gguf" hi
    check "ingest with model" $H rag ingest examples/docs --store vec --model "$EMB" --threads 2 --json
    check "vector search" $H rag search "parental leave" --store vec --mode vector --json
    grep_out "vector mode used" '"mode":"vector"' out
    check "hybrid search (model from the store)" $H rag search "parental leave allowance" --store vec --json
    grep_out "hybrid default" '"mode":"hybrid"' out
    for mode in vector hybrid; do
        check "eval $mode" $H rag eval tests/data/rag-questions.json --store vec --mode $mode -k 5
        cat "$T/out"
    done
    expect_exit "other model refused" 1 $H rag search q --store vec --model "$FIX/models/bert-f32.gguf"
    grep_out "model mismatch explained" 'built with embedding model' err
    expect_exit "ingest with another model refused" 1 $H rag ingest examples/docs --store vec --model "$FIX/models/bert-f16.gguf"
    # ask: nothing relevant -> says so without running the chat model; relevant -> sources listed
    check "ask irrelevant" $H rag ask "zebra xylophone quantum" --store docs --model "$FIX/models/llama-f32.gguf" --json
    grep_out "does not know" '"known":false' out
    check "ask relevant" $H rag ask "hotel limit per night in London" --store docs --model "$FIX/models/llama-f32.gguf" --max-tokens 8 --threads 2
    grep_out "sources listed" 'Sources:' out
    grep_out "expenses cited" 'expenses.md' out
fi

echo "$fails failed"
[ "$fails" -eq 0 ]
