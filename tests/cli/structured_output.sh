#!/bin/sh
# tests/cli/structured_output.sh — JSON-Schema constrained decoding on Qwen3's real
# 151,936-token vocabulary: random high-temperature walks for every schema of
# tests/unit/schema_cases.h, then hearth_generate at temperature 1.5 on the random-weight
# fixture qwen3-real-vocab-q8_0.gguf. 100% of outputs must parse and validate against their
# schema (independent validator). Release build: the ASan unit test covers the same code on a
# synthetic vocabulary.
set -u
BUILD=${BUILD:-build}
E2E="$BUILD/tools/schema_e2e"
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
fail() { echo "FAIL: $*"; exit 1; }
[ -x "$E2E" ] || fail "$E2E not built (make tests)"
[ -f "$FIX/vocab/qwen3.gguf" ] || fail "fixture $FIX/vocab/qwen3.gguf missing"
"$E2E" vocab "$FIX/vocab/qwen3.gguf" || fail "walks on the real vocabulary"
"$E2E" model "$FIX/models/qwen3-real-vocab-q8_0.gguf" || fail "generations on qwen3-real-vocab-q8_0"
# usage errors are reported, not crashes
"$E2E" >/dev/null 2>&1; [ $? -eq 2 ] || fail "usage error exit status"
"$E2E" vocab /nonexistent.gguf >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing file exit status"
echo "structured output: ok"
