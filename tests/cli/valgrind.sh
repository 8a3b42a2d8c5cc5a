#!/bin/sh
# tests/cli/valgrind.sh — the main CLI paths of the release binary under valgrind memcheck:
# no invalid reads/writes, no uninitialised values steering control flow, no definite leaks.
# (Valgrind's CPU has no AVX-512; the kernels' CPUID dispatch then picks AVX2 by itself.)
set -u
H=${HEARTH:-build/hearth}
FX=${HEARTH_FIXTURES:-../shared/fixtures}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
if ! command -v valgrind >/dev/null 2>&1; then
    echo "FAIL: valgrind is not installed (make check installs it)"
    exit 1
fi
fails=0
# vg WANT_RC NAME ARGS...: runs hearth under memcheck; errors exit 99
vg() {
    want=$1; name=$2; shift 2
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --log-file="$T/$name.vg" "$H" "$@" >"$T/$name.out" 2>"$T/$name.err" <"${VG_STDIN:-/dev/null}"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL: $name: exit $rc, expected $want"
        head -n 30 "$T/$name.vg" "$T/$name.err"
        fails=$((fails + 1))
    fi
}
Q=$FX/models/qwen3-real-vocab-q8_0.gguf
vg 0 show show "$FX/models/llama-q4_k.gguf"
vg 0 tokenize tokenize "$FX/vocab/llama3.gguf" "Hello, world! 123 <|eot_id|>" --json
vg 0 detokenize detokenize "$FX/vocab/qwen3.gguf" 9707,11,1879
vg 0 run run "$FX/models/qwen2-q5_k.gguf" "Once upon" -n 8 --temp 0.7 --seed 3 --logprobs 2
vg 0 eval eval "$FX/models/phi3-q6_k-gqa.gguf" --tokens 1,5,9,200,33 --top 5 --json
vg 0 embed embed "$FX/models/bert-real-vocab-q8_0.gguf" "a first sentence" "and a second" --json
printf '[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]' >"$T/msgs.json"
vg 0 template template "$FX/vocab/qwen3.gguf" "$T/msgs.json" --add-generation-prompt
printf 'hello\n/bye\n' >"$T/chat.in"
VG_STDIN="$T/chat.in" vg 0 chat chat "$Q" -n 4 --temp 0
vg 0 synth synth --arch llama --n-embd 64 --n-layer 1 --n-head 2 --n-ff 128 --n-vocab 300 --type q4_k -o "$T/s.gguf"
# error paths free what they allocated, too
vg 1 missing show "$T/nope.gguf"
head -c 3000 "$FX/models/llama-f32.gguf" >"$T/trunc.gguf"
vg 1 truncated run "$T/trunc.gguf" "x"
vg 2 badopt run "$Q" --temp banana
[ "$fails" -eq 0 ] && echo "valgrind: all passed"
exit "$fails"
