#!/bin/sh
# tests/cli/server-clients.sh — `hearth serve` against the real npm client libraries: ollama,
# openai and @langchain/ollama (tests/server/clients.mjs: chat, streaming, tools, structured
# output, embeddings, list/show/ps/copy/delete, pull from a loopback registry, errors).
# The packages are installed outside the repository ($HEARTH_NPM_DIR, default
# /tmp/hearth-npm-clients; kept between runs). Without node, or when npm cannot install them
# (offline), this prints SKIP and why and exits 0 — in no other case does it pass untested.
set -u
H=${HEARTH:-build/hearth}
. "$(dirname "$0")/../server/lib.sh"
D=$(cd "$(dirname "$0")/../server" && pwd)
NPM_DIR=${HEARTH_NPM_DIR:-/tmp/hearth-npm-clients}
PKGS="ollama@0.6 openai@6 @langchain/ollama@1 @langchain/core@1 zod@4"
command -v node >/dev/null 2>&1 || { echo "SKIP: node is not installed"; exit 0; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed (the test registry needs it)"; exit 0; }
have_pkgs() {
    for p in ollama openai @langchain/ollama @langchain/core zod; do
        [ -f "$NPM_DIR/node_modules/$p/package.json" ] || return 1
    done
}
if ! have_pkgs; then
    command -v npm >/dev/null 2>&1 || { echo "SKIP: npm is not installed"; exit 0; }
    if ! timeout 30 npm ping --fetch-retries=0 >/dev/null 2>&1; then
        echo "SKIP: the npm registry ($(npm config get registry 2>/dev/null)) cannot be reached (offline?)"; exit 0
    fi
    mkdir -p "$NPM_DIR"
    if ! timeout 300 npm install --fetch-retries=1 --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error $PKGS >"$NPM_DIR/install.log" 2>&1 || ! have_pkgs; then
        echo "SKIP: npm could not install $PKGS (offline?): $(tail -n 3 "$NPM_DIR/install.log")"
        exit 0
    fi
fi
T=$(mktemp -d /tmp/hearth-clients-XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; [ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
srv_store "$T/store"
cat > "$T/registry.json" <<JSON
{"library/pulled:v1": [{"mediaType": "application/vnd.ollama.image.model", "file": "$FIX/models/qwen3-bf16.gguf"}]}
JSON
python3 "$D/registry.py" "$T/registry.json" "$T/reg.port" 2>"$T/reg.log" &
REG_PID=$!
i=0; while [ ! -s "$T/reg.port" ]; do i=$((i+1)); [ $i -gt 100 ] && srv_fail "registry did not start"; sleep 0.1; done
export HEARTH_REGISTRY="http://127.0.0.1:$(cat "$T/reg.port")"
srv_start "$H" --keep-alive 60
CLIENTS_NODE_MODULES="$NPM_DIR/node_modules" timeout 600 node "$D/clients.mjs" "$SRV_URL" || srv_fail "client library tests"
srv_stop
echo "npm clients: all checks passed ($(cd "$NPM_DIR" && for p in ollama openai @langchain/ollama; do printf '%s@%s ' $p "$(node -p "require('./node_modules/$p/package.json').version")"; done))"
