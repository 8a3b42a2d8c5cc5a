#!/bin/sh
# bench/embed-bench.sh [BUILD] — embedding throughput, hearth vs llama.cpp, on all-MiniLM-L6-
# shaped bert models made with `hearth synth` (F16 and Q8_0, real bert vocabulary when the
# fixtures are around): 256 chunks of 128 tokens, 16 chunks per batch, mean pooling, THREADS
# threads (default 2), best of REPS (default 3). Also the end-to-end ingest rate of
# `hearth rag ingest` over examples/docs (chunks/s, extraction + chunking + embedding + SQLite).
# llama.cpp is node-llama-cpp's prebuilt CPU libllama, installed by bench/compare-llamacpp
# (run that once first). Nothing else may run meanwhile.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}; THREADS=${THREADS:-2}; REPS=${REPS:-3}
OUT=bench/out
bins="$OUT/nlc/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
mkdir -p "$OUT/models"
LIBS="$(pkg-config --libs sqlite3 libpcre2-8 libutf8proc jansson libcurl libmicrohttpd yaml-0.1 libxml-2.0 poppler-glib) -lm -lpthread"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude bench/embed-bench.c -o "$OUT/embed-bench-hearth" "$BUILD/libhearth.a" $LIBS
have_llama=0
if [ -d "$bins" ] && [ -f "$OUT/llama.cpp/include/llama.h" ]; then
    cc -O2 -DUSE_LLAMA -I "$OUT/llama.cpp/include" -I "$OUT/llama.cpp/ggml/include" bench/embed-bench.c \
        -o "$OUT/embed-bench-llama" -L"$bins" -l:libllama.v0.5.0.so -l:libggml.v0.5.0.so -l:libggml-base.so \
        -Wl,-rpath,"$(cd "$bins" && pwd)" && have_llama=1
else
    echo "(llama.cpp not installed: run bench/compare-llamacpp once; hearth only)" >&2
fi
VOCAB=""; [ -f "$FIX/vocab/bert.gguf" ] && VOCAB="--vocab $FIX/vocab/bert.gguf"
printf '%-26s %12s %12s %7s\n' model "hearth t/s" "llama.cpp" ratio
for type in f16 q8_0; do
    m="$OUT/models/all-minilm-l6-$type.gguf"
    # shellcheck disable=SC2086
    [ -f "$m" ] || "$BUILD/hearth" synth --like all-minilm-l6 --type $type $VOCAB --seed 1 -q -o "$m"
    h=$("$OUT/embed-bench-hearth" "$m" "$THREADS" 128 256 16 "$REPS" | sed 's/.*"tokens_per_s":\([0-9.]*\).*/\1/')
    l=-
    [ $have_llama = 1 ] && l=$("$OUT/embed-bench-llama" "$bins" "$m" "$THREADS" 128 256 16 "$REPS" | sed 's/.*"tokens_per_s":\([0-9.]*\).*/\1/')
    ratio=$( [ "$l" != - ] && awk "BEGIN { printf \"%.2f\", $h / $l }" || echo -)
    printf '%-26s %12s %12s %7s\n' "all-minilm-l6-$type" "$h" "$l" "$ratio"
done
store=$(mktemp -d /tmp/embed-bench-XXXXXX)
"$BUILD/hearth" rag ingest examples/docs --store "$store/s.db" --model "$OUT/models/all-minilm-l6-q8_0.gguf" \
    --threads "$THREADS" --json | sed 's/.*"chunks":\([0-9]*\).*"seconds":\([0-9.e-]*\).*/ingest: \1 chunks in \2 s/' |
    awk '{ print; if ($5 > 0) printf "ingest end to end: %.1f chunks/s\n", $2 / $5 }'
rm -rf "$store"
