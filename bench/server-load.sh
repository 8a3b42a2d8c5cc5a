#!/bin/sh
# bench/server-load.sh — `hearth serve` under load: a synthesized Qwen3-0.6B-shaped model
# (Q8_0, random weights, real Qwen3 vocabulary), first 1 streaming client, then 16 concurrent
# streaming clients (NDJSON and SSE alternately) for 2 minutes. Reports aggregate streamed
# tokens/s, decode tokens/s, mean batch size (generated tokens / decode steps), time to first
# token, errors, and resident memory after each phase (growth across phases would be a leak).
# Nothing else may run meanwhile (see docs/performance.md); run it from the repository root:
#   sh bench/server-load.sh [BUILD_DIR]     env: SECONDS_LOAD (120), SLOTS (16), THREADS (0 = all
#                                           cores), MAX_TOKENS (128), MODEL_GGUF (skip synth)
set -eu
BUILD=${1:-build}
H=$BUILD/hearth
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
SECONDS_LOAD=${SECONDS_LOAD:-120}; SLOTS=${SLOTS:-16}; THREADS=${THREADS:-0}; MAX_TOKENS=${MAX_TOKENS:-128}
T=${BENCH_DIR:-bench/out/server-load}
mkdir -p "$T"
G=${MODEL_GGUF:-$T/qwen3-0.6b-q8_0.gguf}
if [ ! -f "$G" ]; then
    echo "synthesizing $G ..."
    "$H" synth --like qwen3-0.6b --type q8_0 --vocab "$FIX/vocab/qwen3.gguf" -q -o "$G"
fi
export HEARTH_MODELS="$T/store"
printf 'FROM %s\n' "$(cd "$(dirname "$G")" && pwd)/$(basename "$G")" > "$T/Modelfile"
"$H" create bench-qwen3 -f "$T/Modelfile" >/dev/null
TFLAG=""; if [ "$THREADS" -gt 0 ]; then TFLAG="-t $THREADS"; fi
rm -f "$T/port"
"$H" serve --port 0 --port-file "$T/port" --slots "$SLOTS" $TFLAG --keep-alive -1 >"$T/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null' EXIT
i=0; while [ ! -s "$T/port" ]; do i=$((i+1)); [ $i -gt 600 ] && { echo "server did not start"; cat "$T/serve.log"; exit 1; }; sleep 0.1; done
PORT=$(cat "$T/port")
L=tests/server/load.py
python3 "$L" "$PORT" bench-qwen3 1 5 8 >/dev/null # load the model, warm up
one=$(python3 "$L" "$PORT" bench-qwen3 1 30 "$MAX_TOKENS")
many=$(python3 "$L" "$PORT" bench-qwen3 16 "$SECONDS_LOAD" "$MAX_TOKENS")
kill -TERM $PID; wait $PID || { echo "server exited with an error"; tail "$T/serve.log"; exit 1; }
trap - EXIT
python3 - "$one" "$many" "$SLOTS" <<'PY'
import json, sys
one, many, slots = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"hearth serve, Qwen3-0.6B-shaped Q8_0, --slots {slots}")
print("| clients | seconds | requests | errors | streamed tok/s | decode tok/s | mean batch | first token p50 / max (s) | RSS MB |")
print("|---|---|---|---|---|---|---|---|---|")
for r in (one, many):
    print(f"| {r['clients']} | {r['seconds']} | {r['requests']} | {r['errors']} | {r['tokens_per_second']} | "
          f"{r['decode_tokens_per_second']} | {r['mean_batch']} | {r['first_token_p50_s']} / {r['first_token_max_s']} | "
          f"{r['rss_bytes'] / 1e6:.0f} |")
print(f"aggregate speedup with batching: {many['tokens_per_second'] / max(one['tokens_per_second'], 1e-9):.2f}x")
if many["errors"] or one["errors"]:
    print("ERRORS:", one["errors_sample"] + many["errors_sample"])
    sys.exit(1)
PY
