#!/bin/sh
# tests/cli/synth.sh — `hearth synth`: tiny models of every architecture and weight type are
# written, parse, and load in `hearth show`; the same seed gives the same bytes; bad options
# give one clear line and exit 2, unwritable outputs exit 1, and nothing is left behind.
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
T=$(mktemp -d /tmp/hearth-synth-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
DIMS="--n-embd 256 --n-layer 2 --n-head 4 --n-head-kv 2 --n-ff 512 --ctx 512"
TINY="$DIMS --n-vocab 600"

"$H" synth --help | grep -q "usage: hearth synth" || fail "synth --help"
"$H" --help | grep -q "synth" || fail "hearth --help lists synth"
"$H" synth --list | grep -q "qwen3-0.6b" || fail "--list shows qwen3-0.6b"
"$H" synth --list | grep -q "llama-3.2-1b" || fail "--list shows llama-3.2-1b"

# every architecture, several types; each file loads in hearth show
for arch in llama qwen2 qwen3 phi3 bert; do
    for type in f32 f16 bf16 q8_0 q4_0 q4_k_m q6_k; do
        kv=2; [ $arch = bert ] && kv=4
        out="$T/$arch-$type.gguf"
        line=$("$H" synth --arch $arch $TINY --n-head-kv $kv --type $type -o "$out") || fail "synth $arch $type: exit $?"
        echo "$line" | grep -q "^$out: $arch, " || fail "summary line for $arch $type: $line"
        [ -s "$out" ] || fail "$out not written"
        "$H" show "$out" >"$T/show.txt" 2>&1 || fail "hearth show $arch $type: $(cat "$T/show.txt")"
        grep -q "$arch" "$T/show.txt" || fail "show names the arch for $arch $type"
    done
done

# synthesized models compute: finite next-token logprobs (decoders), a finite embedding (bert)
for arch in llama qwen2 qwen3 phi3; do
    out=$("$H" eval "$T/$arch-q4_k_m.gguf" --tokens 1,300,400,500 --top 3 --json) || fail "eval $arch: exit $?"
    echo "$out" | grep -q '"logprob":-' || fail "eval $arch: no logprobs: $out"
    echo "$out" | grep -qi 'nan\|inf' && fail "eval $arch: non-finite values: $out"
done
out=$("$H" embed "$T/bert-q8_0.gguf" "hello world" --json) || fail "embed bert: exit $?"
echo "$out" | grep -q '"embeddings":\[\[' || fail "embed bert: $out"
echo "$out" | grep -qi 'nan\|inf' && fail "embed bert: non-finite values: $out"

# the sanitizer build writes the same bytes as the release build (and shows no errors)
"$HA" synth -q --arch qwen3 $TINY --head-dim 128 --type q4_k_m --seed 5 -o "$T/asan.gguf" || fail "asan synth"
"$H" synth -q --arch qwen3 $TINY --head-dim 128 --type q4_k_m --seed 5 -o "$T/rel.gguf" || fail "release synth"
cmp -s "$T/asan.gguf" "$T/rel.gguf" || fail "ASan and release builds differ for the same seed"
"$H" synth -q --arch qwen3 $TINY --head-dim 128 --type q4_k_m --seed 6 -o "$T/other.gguf" || fail "seed 6"
cmp -s "$T/other.gguf" "$T/rel.gguf" && fail "different seeds gave the same bytes"
"$H" synth -q --arch qwen3 $TINY --head-dim 128 --type q4_k_m --seed 5 --threads 1 -o "$T/one.gguf" || fail "1 thread"
cmp -s "$T/one.gguf" "$T/rel.gguf" || fail "thread count changed the bytes"

# --json summary
json=$("$H" synth --arch llama $TINY --type q8_0 --json -o "$T/j.gguf") || fail "--json"
echo "$json" | grep -q '"arch":"llama"' || fail "json arch: $json"
echo "$json" | grep -q '"n_tensors":21' || fail "json n_tensors: $json"

# a preset with fewer layers and a real vocabulary
if [ -f "$FIX/vocab/qwen3.gguf" ]; then
    "$H" synth -q --like qwen3-0.6b --n-layer 1 --n-embd 256 --n-ff 256 --head-dim 64 --vocab "$FIX/vocab/qwen3.gguf" \
        --type q8_0 -o "$T/vocab.gguf" || fail "synth --vocab"
    "$H" show "$T/vocab.gguf" | grep -q "151936" || fail "vocab size from --vocab"
fi

# usage errors: one line naming the problem, exit 2, no file
expect_usage() { # expected-substring, args...
    want=$1; shift
    "$H" synth "$@" >"$T/out.txt" 2>"$T/err.txt"; rc=$?
    [ $rc -eq 2 ] || fail "synth $*: exit $rc, expected 2 ($(cat "$T/err.txt"))"
    grep -q "^hearth synth: .*$want" "$T/err.txt" || fail "synth $*: expected '$want' in: $(cat "$T/err.txt")"
    [ ! -e "$T/bad.gguf" ] || fail "synth $*: left a file behind"
}
expect_usage "unknown option '--bogus'" --arch llama $TINY --bogus -o "$T/bad.gguf"
expect_usage "give the output file with -o" --arch llama $TINY
expect_usage "give --like PRESET or --arch ARCH" $TINY -o "$T/bad.gguf"
expect_usage "unknown preset 'gpt-9'" --like gpt-9 -o "$T/bad.gguf"
expect_usage "found 'q4_z'" --arch llama $TINY --type q4_z -o "$T/bad.gguf"
expect_usage "found 'iq2_xxs'" --arch llama $TINY --type iq2_xxs -o "$T/bad.gguf"
expect_usage "--arch: expected llama, qwen2, qwen3, phi3 or bert, found 'gpt2'" --arch gpt2 $TINY -o "$T/bad.gguf"
expect_usage "--n-head-kv: expected a divisor of --n-head, found 3" --arch llama $TINY --n-head-kv 3 -o "$T/bad.gguf"
expect_usage "--n-layer expects an integer" --arch llama $TINY --n-layer two -o "$T/bad.gguf"
expect_usage "--n-layer must be between" --arch llama $TINY --n-layer 0 -o "$T/bad.gguf"
expect_usage "--seed needs a value" --arch llama $TINY -o "$T/bad.gguf" --seed
expect_usage "--pooling: expected none, mean or cls" --arch bert $TINY --pooling max -o "$T/bad.gguf"
expect_usage "contradicts --like qwen3-0.6b" --like qwen3-0.6b --arch llama -o "$T/bad.gguf"
expect_usage "--n-vocab conflicts with --vocab" --arch llama $TINY --vocab "$T/x.gguf" -o "$T/bad.gguf"
expect_usage "unexpected argument" --arch llama $TINY stray -o "$T/bad.gguf"

# run-time errors: exit 1, one line, nothing left behind
"$H" synth --arch llama $TINY -o "$T/no/such/dir/x.gguf" 2>"$T/err.txt"; rc=$?
[ $rc -eq 1 ] || fail "unwritable output: exit $rc"
[ "$(wc -l <"$T/err.txt")" -eq 1 ] || fail "unwritable output: not one line: $(cat "$T/err.txt")"
grep -q "^hearth synth: .*no/such/dir" "$T/err.txt" || fail "unwritable output message: $(cat "$T/err.txt")"
"$H" synth --arch llama $DIMS --vocab "$T/missing.gguf" -o "$T/bad.gguf" 2>"$T/err.txt"; rc=$?
[ $rc -eq 1 ] || fail "missing vocab: exit $rc"
grep -q "^hearth synth: --vocab: $T/missing.gguf: cannot open" "$T/err.txt" || fail "missing vocab message: $(cat "$T/err.txt")"
printf 'GGUF\003\000\000\000garbage' >"$T/broken.gguf"
"$H" synth --arch llama $DIMS --vocab "$T/broken.gguf" -o "$T/bad.gguf" 2>"$T/err.txt"; rc=$?
[ $rc -eq 1 ] || fail "broken vocab: exit $rc"
grep -q "broken.gguf: header n_tensors: expected 8 bytes" "$T/err.txt" || fail "broken vocab message: $(cat "$T/err.txt")"
[ ! -e "$T/bad.gguf" ] || fail "a failed synth left its output"

# an interrupted synth removes its temporary file and says so
"$H" synth --like qwen3-0.6b --type q8_0 -o "$T/int.gguf" 2>"$T/err.txt" &
pid=$!
i=0
while [ $i -lt 300 ] && ! ls "$T" | grep -q '^int\.gguf\.tmp\.'; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid
wait $pid; rc=$?
[ $rc -eq 1 ] || fail "interrupted synth: exit $rc"
grep -q "^hearth synth: interrupted; $T/int.gguf was not written" "$T/err.txt" || fail "interrupt message: $(cat "$T/err.txt")"
[ ! -e "$T/int.gguf" ] || fail "an interrupted synth left its output"
ls "$T" | grep -q '\.tmp\.' && fail "temp files left behind: $(ls "$T")"
echo "synth CLI: ok"
