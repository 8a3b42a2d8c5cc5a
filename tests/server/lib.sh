# tests/server/lib.sh — sourced by the tests/cli/server-*.sh scripts: a temporary model store
# made with `hearth create` from fixture models, and a `hearth serve` on a free loopback port.
#   srv_store DIR          creates the store DIR (qwen: real Qwen3 vocab + chat template,
#                          qwen-sys: the same with a SYSTEM line, bert: embeddings)
#   srv_start BIN [ARGS]   starts BIN serve --port 0 in the background; sets SRV_PID, SRV_PORT,
#                          SRV_URL, SRV_LOG
#   srv_stop               SIGTERM, waits, fails if the server did not exit 0 (ASan reports
#                          make it exit non-zero)
FIX=${HEARTH_FIXTURES:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/fixtures}
srv_fail() { echo "FAIL: $*"; [ -n "${SRV_LOG:-}" ] && [ -f "$SRV_LOG" ] && tail -n 20 "$SRV_LOG"; exit 1; }

srv_store() { # DIR
    export HEARTH_MODELS="$1"
    mkdir -p "$1"
    [ -f "$FIX/models/qwen3-real-vocab-q8_0.gguf" ] || srv_fail "fixture models missing under $FIX"
    printf 'FROM %s\n' "$FIX/models/qwen3-real-vocab-q8_0.gguf" > "$1/Modelfile.qwen"
    printf 'FROM qwen\nSYSTEM """You are a pirate. Answer in pirate speak."""\nPARAMETER temperature 0\nPARAMETER num_predict 8\n' \
        > "$1/Modelfile.qwen-sys"
    printf 'FROM %s\n' "$FIX/models/bert-real-vocab-q8_0.gguf" > "$1/Modelfile.bert"
    for m in qwen qwen-sys bert; do
        "$H" create "$m" -f "$1/Modelfile.$m" >/dev/null || srv_fail "hearth create $m"
    done
}

srv_start() { # BIN [ARGS...]
    bin=$1; shift
    SRV_LOG=$(mktemp /tmp/hearth-serve-log-XXXXXX)
    pf=$(mktemp -u /tmp/hearth-serve-port-XXXXXX)
    "$bin" serve --port 0 --port-file "$pf" "$@" >"$SRV_LOG" 2>&1 &
    SRV_PID=$!
    i=0
    while [ ! -s "$pf" ]; do
        kill -0 "$SRV_PID" 2>/dev/null || srv_fail "server exited at start"
        i=$((i + 1)); [ $i -gt 600 ] && srv_fail "server did not start in 60 s"
        sleep 0.1
    done
    SRV_PORT=$(cat "$pf"); rm -f "$pf"
    SRV_URL="http://127.0.0.1:$SRV_PORT"
    grep -q "listening on http://.*:$SRV_PORT " "$SRV_LOG" || srv_fail "serve line does not name port $SRV_PORT"
}

srv_stop() {
    [ -n "${SRV_PID:-}" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null
    wait "$SRV_PID"; rc=$?
    SRV_PID=
    [ $rc -eq 0 ] || srv_fail "server exited with status $rc"
    if grep -q "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:" "$SRV_LOG"; then
        srv_fail "sanitizer report in the server log"
    fi
    rm -f "$SRV_LOG"
}
