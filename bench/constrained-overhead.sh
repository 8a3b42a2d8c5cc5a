#!/bin/sh
# bench/constrained-overhead.sh [BUILD] — what structured output and parallel sampling cost on a
# Qwen3-0.6B-shaped Q8_0 model (made with `hearth synth`, Qwen3's real 151,936-token vocabulary
# when the fixtures are around): tokens/s unconstrained vs JSON-constrained (grammar applied to
# every token, not only on rejection; goal <= 10% overhead), and 8 parallel samples of 128 tokens
# vs one (goal <= 2.5x the wall time). THREADS threads (default 2), best of REPS (default 3).
# Nothing else may run meanwhile. A schema file can be given with SCHEMA=path.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}; THREADS=${THREADS:-2}; REPS=${REPS:-3}; N=${N:-128}
OUT=bench/out
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
mkdir -p "$OUT/models"
[ -x "$BUILD/tools/bench_constrained" ] || { echo "build $BUILD/tools/bench_constrained first (make tests BUILD=$BUILD)" >&2; exit 1; }
m="$OUT/models/qwen3-0.6b-q8_0.gguf"
if [ ! -f "$m" ]; then
    VOCAB=""; [ -f "$FIX/vocab/qwen3.gguf" ] && VOCAB="--vocab $FIX/vocab/qwen3.gguf"
    # shellcheck disable=SC2086
    "$BUILD/hearth" synth --like qwen3-0.6b --type q8_0 $VOCAB -o "$m"
fi
set -- "$m" -n "$N" -r "$REPS" --samples 8 --threads "$THREADS"
[ -n "${SCHEMA:-}" ] && set -- "$@" --schema "$SCHEMA"
"$BUILD/tools/bench_constrained" "$@"
