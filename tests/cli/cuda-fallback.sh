#!/bin/sh
# tests/cli/cuda-fallback.sh — a CUDA build ($BUILD_CUDA/hearth, from `make CUDA=1
# BUILD=$BUILD_CUDA`) started where no GPU can be used prints ONE clear warning and then gives
# exactly the CPU build's output (BUILD_CUDA=build-cuda sh tests/cli/cuda-fallback.sh). Also checks `hearth info` and the --gpu-layers option on
# the CPU build. Builds nothing itself; without a CUDA build the CUDA part says SKIP.
# On a machine WITH a GPU this script is not the check: bench/gpu-check is.
set -u
H=${HEARTH:-build/hearth}
FX=${HEARTH_FIXTURES:-../shared/fixtures}
HC=${BUILD_CUDA:+$BUILD_CUDA/hearth}
M=$FX/models/qwen3-q4_k.gguf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# --- the CPU build: info, and --gpu-layers parses but changes nothing ----------------------
"$H" info >"$T/info" 2>&1 || fail "info: exit $?"
grep -q '^backends  cpu' "$T/info" || fail "info: no backends line: $(cat "$T/info")"
"$H" info --json | grep -q '"backends":\["cpu"' || fail "info --json: no backends array"
"$H" info --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "info --bogus: expected exit 2"
"$H" run "$M" "hello world" -n 8 --temp 0 >"$T/cpu" 2>/dev/null || fail "cpu run failed"
"$H" run "$M" "hello world" -n 8 --temp 0 --gpu-layers all >"$T/cpu_all" 2>"$T/cpu_all.err" ||
    fail "cpu run --gpu-layers all failed"
cmp -s "$T/cpu" "$T/cpu_all" || fail "--gpu-layers all changed the CPU build's output"
grep -q 'GPU' "$T/cpu_all.err" && fail "the CPU build talks about a GPU: $(cat "$T/cpu_all.err")"
"$H" run "$M" x --gpu-layers lots >/dev/null 2>"$T/bad"; [ $? -eq 2 ] || fail "--gpu-layers lots: expected exit 2"
grep -q '^hearth run: --gpu-layers' "$T/bad" || fail "--gpu-layers lots: message $(cat "$T/bad")"

# --- the CUDA build on a machine without a usable GPU -----------------------------------------
if [ -z "$HC" ] || [ ! -x "$HC" ]; then
    echo "SKIP: no CUDA build (set BUILD_CUDA to the directory of a make CUDA=1 build)"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "SKIP: this machine has a GPU (run bench/gpu-check instead)"
else
    "$HC" run "$M" "hello world" -n 8 --temp 0 >"$T/cuda" 2>"$T/cuda.err" || fail "cuda build run failed: $(cat "$T/cuda.err")"
    cmp -s "$T/cpu" "$T/cuda" || fail "cuda build output differs from the CPU build's"
    n=$(grep -c 'CUDA backend built, but no usable GPU (.*); running on the CPU' "$T/cuda.err")
    [ "$n" -eq 1 ] || fail "expected the fallback message once, found $n: $(cat "$T/cuda.err")"
    "$HC" info >"$T/cinfo" 2>/dev/null || fail "cuda info: exit $?"
    grep -q '^backends  cpu, cuda' "$T/cinfo" || fail "cuda info: $(cat "$T/cinfo")"
    grep -q '^gpu       none (' "$T/cinfo" || fail "cuda info: no 'gpu none (reason)' line"
    HEARTH_GPU_LAYERS=0 "$HC" run "$M" "hello world" -n 8 --temp 0 >"$T/cuda0" 2>"$T/cuda0.err" || fail "cuda build run (0 layers) failed"
    cmp -s "$T/cpu" "$T/cuda0" || fail "cuda build with HEARTH_GPU_LAYERS=0 differs"
    grep -q 'GPU' "$T/cuda0.err" && fail "HEARTH_GPU_LAYERS=0 still probes: $(cat "$T/cuda0.err")"
    # the kernels' block readers, compiled for the host, against the CPU's to_float (no GPU needed)
    NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
    if [ -x "$NVCC" ]; then
        libs=$(pkg-config --libs sqlite3 libpcre2-8 libutf8proc jansson libcurl libmicrohttpd yaml-0.1 libxml-2.0 poppler-glib)
        # shellcheck disable=SC2086
        "$NVCC" -std=c++17 -Isrc -Iinclude tests/cuda/chunk_check.cu "$BUILD_CUDA/libhearth.a" $libs -lcublas -lm -lpthread \
            -o "$T/chunk_check" >"$T/nvcc.log" 2>&1 || fail "chunk_check does not compile: $(head -5 "$T/nvcc.log")"
        [ -x "$T/chunk_check" ] && { "$T/chunk_check" >"$T/chunk.log" 2>&1 || fail "chunk_check: $(tail -5 "$T/chunk.log")"; }
    fi
fi
[ "$fails" -eq 0 ] && echo "cuda-fallback: all passed"
[ "$fails" -eq 0 ]
