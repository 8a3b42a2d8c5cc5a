#!/bin/sh
# tests/cli/run.sh — `hearth run`, `hearth eval`, `hearth show` on fixtures: results that can be
# checked against llama2.c / llama.cpp references, determinism, and clean errors (one line,
# "hearth CMD: ...", exit 1; usage errors exit 2).
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
FX=${HEARTH_FIXTURES:-../shared/fixtures}
STORIES=$FX/real/stories260K/stories260K.gguf
QWEN=$FX/models/qwen3-f32.gguf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect RC DESCRIPTION command...: runs the command, stdout -> $T/out, stderr -> $T/err
expect() {
    want=$1; what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -eq "$want" ] || { fail "$what: exit $rc, expected $want"; sed 's/^/    /' "$T/err" | head -5; }
}
has() { grep -q -- "$2" "$T/$1" || fail "$3: '$2' not in $1: $(head -c 300 "$T/$1")"; }
one_error_line() { # the error is exactly one line starting with "hearth CMD:"
    n=$(grep -c '' "$T/err"); first=$(head -n 1 "$T/err")
    case "$first" in "hearth $1: "*) ;; *) fail "$2: error line '$first'";; esac
    [ "$n" -le 2 ] || fail "$2: $n lines on stderr"
}

# --- help -----------------------------------------------------------------------------------
for c in run eval show; do
    expect 0 "$c --help" "$H" "$c" --help
    has out "usage: hearth $c" "$c --help"
done

# --- run: greedy from BOS reproduces llama2.c's ids (stories260K, F32 KV cache) ----------------
expect 0 "run greedy json" "$H" run "$STORIES" "" -n 12 --temp 0 --kv-type f32 --json
ids=$(sed -n 's/^      "id": \([0-9]*\),$/\1/p' "$T/out" | tr '\n' ',')
[ "$ids" = "461,461,401,401,401,461,378,455,473,456,435,299," ] || fail "greedy ids $ids"
has out '"stop": "max_tokens"' "run json stop"
has out '"generation_tokens_per_s"' "run json timings"
has err 'prompt: 1 tokens' "speed line"
# the model read into memory instead of mapped (--no-mmap, or HEARTH_MMAP=0): the same ids
expect 0 "run --no-mmap" "$HA" run "$STORIES" "" -n 12 --temp 0 --kv-type f32 --json --no-mmap
ids=$(sed -n 's/^      "id": \([0-9]*\),$/\1/p' "$T/out" | tr '\n' ',')
[ "$ids" = "461,461,401,401,401,461,378,455,473,456,435,299," ] || fail "--no-mmap greedy ids $ids"
HEARTH_MMAP=0 "$H" run "$STORIES" "" -n 12 --temp 0 --kv-type f32 --json >"$T/out" 2>"$T/err" || fail "HEARTH_MMAP=0 run"
ids=$(sed -n 's/^      "id": \([0-9]*\),$/\1/p' "$T/out" | tr '\n' ',')
[ "$ids" = "461,461,401,401,401,461,378,455,473,456,435,299," ] || fail "HEARTH_MMAP=0 greedy ids $ids"

# streaming text mode, with the prompt on stdin, under the sanitizer build
echo "hello" | "$HA" run "$STORIES" -n 8 --temp 0 >"$T/out" 2>"$T/err" || fail "run from stdin (asan)"
has err 'generation: 8 tokens' "stdin run speed line"
[ -s "$T/out" ] || fail "run printed nothing"

# same seed, same text; another seed, (almost surely) another text
"$H" run "$QWEN" "hello world" -n 24 --seed 7 --temp 1 --top-k 0 --top-p 1 --min-p 0 >"$T/a" 2>/dev/null
"$H" run "$QWEN" "hello world" -n 24 --seed 7 --temp 1 --top-k 0 --top-p 1 --min-p 0 >"$T/b" 2>/dev/null
"$H" run "$QWEN" "hello world" -n 24 --seed 8 --temp 1 --top-k 0 --top-p 1 --min-p 0 >"$T/c" 2>/dev/null
cmp -s "$T/a" "$T/b" || fail "same seed gave different text"
cmp -s "$T/a" "$T/c" && fail "seeds 7 and 8 gave the same 24 tokens"

# logprobs: the table after the text, and in JSON with alternatives
expect 0 "run logprobs" "$H" run "$STORIES" "" -n 4 --temp 0 --logprobs 3
has out 'alternatives' "logprobs table"
expect 0 "run logprobs json" "$H" run "$STORIES" "" -n 2 --temp 0 --logprobs 3 --json
has out '"top": \[' "logprobs json"
# the first token's logprob is llama2.c's (-1.25568)
has out '"logprob": -1.25' "first logprob"

# context fills up: generation stops cleanly and says why
expect 0 "run to a full context" "$H" run "$STORIES" "" --ctx 8 -n 0 --temp 0
has err 'generation: 7 tokens' "full context count"
has err 'stop: context_full' "full context reason"
expect 0 "run other kv types" "$H" run "$QWEN" "hi" -n 4 --kv-type q8_0 --temp 0

# --- eval: teacher forcing in the reference shape --------------------------------------------
expect 0 "eval json" "$H" eval "$STORIES" --tokens 1,461,461 --top 3 --kv-type f32 --json
has out '{"positions":\[{"pos":0,"token":1,' "eval shape"
has out '"top":\[{"id":461,"logit":9.489' "eval top-1 logit (llama2.c 9.48928)"
grep -o '"pos":' "$T/out" | wc -l | grep -q '^3$' || fail "eval: 3 positions expected"
expect 0 "eval table" "$H" eval "$QWEN" --tokens 1,292,500 --top 2
[ "$(grep -c '' "$T/out")" -eq 3 ] || fail "eval table rows"
expect 0 "eval text" "$H" eval "$QWEN" --text "hello world" --top 1 --json
has out '"positions"' "eval --text"

# --- show -------------------------------------------------------------------------------------
expect 0 "show" "$H" show "$FX/models/qwen3-real-vocab-q8_0.gguf"
has out 'architecture  *qwen3' "show arch"
has out 'quantization  *Q8_0' "show quant"
has out 'vocabulary size  *151936' "show vocab"
has out '<|im_start|>' "show template"
expect 0 "show json verbose" "$H" show "$QWEN" --json --verbose
has out '"architecture": "qwen3"' "show json"
has out '"qwen3.block_count": "2"' "show metadata"

# --- errors -----------------------------------------------------------------------------------
expect 1 "missing file" "$H" run "$T/nope.gguf" hi
one_error_line run "missing file"
has err 'nope.gguf' "missing file names the file"
printf 'GGUF\003\000\000\000garbage' >"$T/bad.gguf"
for c in run show eval; do
    if [ "$c" = eval ]; then expect 1 "$c bad file" "$HA" eval "$T/bad.gguf" --tokens 1
    else expect 1 "$c bad file" "$HA" "$c" "$T/bad.gguf"; fi
    one_error_line "$c" "$c bad file"
done
expect 1 "bert is not a generator" "$H" run "$FX/models/bert-f32.gguf" hi
one_error_line run "bert run"
expect 1 "prompt longer than context" "$H" run "$STORIES" "$(printf 'word %.0s' $(seq 1 40))" --ctx 8
has err 'context' "context message"
expect 2 "bad option" "$H" run "$STORIES" --bogus
expect 2 "bad number" "$H" run "$STORIES" x --temp abc
expect 2 "out of range" "$H" run "$STORIES" x --top-p 2
expect 2 "missing value" "$H" run "$STORIES" x -n
expect 2 "bad kv type" "$H" eval "$STORIES" --tokens 1 --kv-type f8
expect 2 "bad token list" "$H" eval "$STORIES" --tokens 1,,2
expect 2 "no tokens" "$H" eval "$STORIES"
expect 1 "token outside vocab" "$H" eval "$STORIES" --tokens 1,512
one_error_line eval "token outside vocab"
expect 2 "show without model" "$H" show

[ "$fails" -eq 0 ] && echo "cli/run: all passed"
[ "$fails" -eq 0 ]
