#!/bin/sh
# tests/cli/server-pull.sh — `hearth pull` (CLI and /api/pull) against a loopback registry
# (tests/server/registry.py) serving fixture models: success (Ollama names and hf.co names),
# resume after a killed transfer (the second pull sends Range and fetches only the rest),
# corrupted blob rejected (partial removed, no manifest), unknown model, HTTP 500, unreachable
# registry, invalid names; then list / cp / rm / show by name on the pulled store.
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
. "$(dirname "$0")/../server/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed (the test registry needs it)"; exit 0; }
T=$(mktemp -d /tmp/hearth-pull-XXXXXX)
REG_PID=
cleanup() { [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null; [ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
M=$FIX/models
sha() { sha256sum "$1" | cut -d' ' -f1; }
cat > "$T/config.json" <<JSON
{"library/tiny:latest": [{"mediaType": "application/vnd.ollama.image.model", "file": "$M/qwen3-bf16.gguf"},
                         {"mediaType": "application/vnd.ollama.image.params", "text": "{\"temperature\":0.2,\"stop\":[\"<|im_end|>\"]}"},
                         {"mediaType": "application/vnd.ollama.image.system", "text": "You are tiny."},
                         {"mediaType": "application/vnd.ollama.image.template", "text": "{{ .Prompt }}"}],
 "org/repo:Q8_0": [{"mediaType": "application/vnd.ollama.image.model", "file": "$M/bert-q8_0.gguf"}],
 "library/big:latest": [{"mediaType": "application/vnd.ollama.image.model", "file": "$M/qwen3-f32.gguf"}],
 "library/bad:latest": [{"mediaType": "application/vnd.ollama.image.model", "file": "$M/llama-f16.gguf"}],
 "library/err:latest": [{"mediaType": "application/vnd.ollama.image.model", "file": "$M/phi3-q4_0.gguf"}],
 "library/api:v1": [{"mediaType": "application/vnd.ollama.image.model", "file": "$M/qwen2-q5_k.gguf"}]}
JSON
python3 "$(dirname "$0")/../server/registry.py" "$T/config.json" "$T/reg.port" 2>"$T/reg.log" &
REG_PID=$!
i=0; while [ ! -s "$T/reg.port" ]; do i=$((i+1)); [ $i -gt 100 ] && fail "registry did not start: $(cat "$T/reg.log")"; sleep 0.1; done
REG="http://127.0.0.1:$(cat "$T/reg.port")"
export HEARTH_REGISTRY="$REG" HEARTH_MODELS="$T/store"
control() { curl -sf -X POST "$REG/_control" -d "$1" >/dev/null || fail "registry control $1"; }
blob() { echo "$T/store/blobs/sha256-$(sha "$1")"; }

# success, with the params/system/template layers
"$H" pull tiny >"$T/out" 2>&1 || fail "pull tiny: $(cat "$T/out")"
grep -q "^success" "$T/out" || fail "pull prints success: $(cat "$T/out")"
[ -f "$(blob "$M/qwen3-bf16.gguf")" ] || fail "model blob stored under its digest"
[ -f "$T/store/manifests/registry.ollama.ai/library/tiny/latest" ] || fail "manifest written"
"$H" list | grep -q "^tiny:latest " || fail "list shows tiny:latest: $("$H" list)"
"$H" show tiny --json | grep -q "\"architecture\": *\"qwen3\"" || fail "show by store name: $("$H" show tiny --json 2>&1 | head -3)"
"$H" pull tiny >"$T/out" 2>&1 || fail "second pull of a complete model"
n=$(curl -s "$REG/_log" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$n" -eq 5 ] || fail "second pull downloaded again ($n blob requests, expected 5: 4 layers + config once)"

# Hugging Face style names
"$H" pull hf.co/org/repo:Q8_0 >"$T/out" 2>&1 || fail "pull hf.co name: $(cat "$T/out")"
[ -f "$T/store/manifests/hf.co/org/repo/Q8_0" ] || fail "hf.co manifest path"
"$H" list | grep -q "^hf.co/org/repo:Q8_0 " || fail "list shows the hf.co name"

# resume after a killed transfer
size=$(stat -c %s "$M/qwen3-f32.gguf"); cut=1000000
control "{\"cut_after\": $cut}"
"$H" pull big >"$T/out" 2>&1 && fail "pull through a cut connection succeeded"
grep -q "^hearth pull: " "$T/out" || fail "cut transfer error line: $(cat "$T/out")"
part="$(blob "$M/qwen3-f32.gguf")-partial"
[ "$(stat -c %s "$part" 2>/dev/null)" = "$cut" ] || fail "partial blob kept with $cut bytes (has $(stat -c %s "$part" 2>/dev/null))"
[ -f "$T/store/manifests/registry.ollama.ai/library/big/latest" ] && fail "manifest written after a failed pull"
"$H" pull big >"$T/out" 2>&1 || fail "resumed pull: $(cat "$T/out")"
curl -s "$REG/_log" | python3 -c "
import json, sys
last = [e for e in json.load(sys.stdin) if e['path'].endswith('$(sha "$M/qwen3-f32.gguf")')][-1]
assert last['range'] == 'bytes=$cut-', last
assert last['status'] == 206 and last['sent'] == $size - $cut, last
" || fail "the second pull did not fetch only the rest with Range"
[ "$(sha "$(blob "$M/qwen3-f32.gguf")")" = "$(sha "$M/qwen3-f32.gguf")" ] || fail "resumed blob differs from the original"
[ -f "$part" ] && fail "partial left after success"

# corrupted blob: rejected, removed, nothing named
control '{"corrupt": true}'
"$H" pull bad >"$T/out" 2>&1 && fail "corrupt blob accepted"
grep -q "failed verification" "$T/out" || fail "corrupt blob message: $(cat "$T/out")"
[ -e "$(blob "$M/llama-f16.gguf")" ] || [ -e "$(blob "$M/llama-f16.gguf")-partial" ] && fail "corrupt blob or its partial kept"
"$H" list | grep -q "^bad:" && fail "a corrupt model is listed"
control '{}'
"$H" pull bad >/dev/null 2>&1 || fail "pull after the corruption is gone"

# unknown model, server error, unreachable registry, invalid names
"$H" pull nosuchmodel >"$T/out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "^hearth pull: model 'nosuchmodel:latest' not found in the registry" "$T/out" || fail "unknown model: rc $rc $(cat "$T/out")"
control '{"status": 500}'
"$H" pull err >"$T/out" 2>&1 && fail "HTTP 500 accepted"
grep -q "HTTP 500" "$T/out" || fail "500 message: $(cat "$T/out")"
p500="$(blob "$M/phi3-q4_0.gguf")-partial"
[ ! -s "$p500" ] || fail "an error page was written into the partial blob"
control '{}'
"$H" pull err >/dev/null 2>&1 || fail "pull after the 500s stop"
HEARTH_REGISTRY=http://127.0.0.1:1 "$H" pull other >"$T/out" 2>&1 && fail "unreachable registry"
grep -q "^hearth pull: .*127.0.0.1:1" "$T/out" || fail "unreachable registry message: $(cat "$T/out")"
for bad in "../../etc/passwd" "a/b/c/d" "x:" "UPPER/../x" ""; do
    "$H" pull "$bad" >"$T/out" 2>&1 && fail "invalid name '$bad' accepted"
    grep -q "^hearth pull: " "$T/out" || fail "invalid name '$bad' message: $(cat "$T/out")"
done

# cp / rm share and free blobs
"$H" cp tiny tiny2 >/dev/null || fail "cp"
"$H" rm tiny >/dev/null || fail "rm tiny"
[ -f "$(blob "$M/qwen3-bf16.gguf")" ] || fail "rm deleted a blob tiny2 still uses"
"$H" rm tiny2 >/dev/null || fail "rm tiny2"
[ -f "$(blob "$M/qwen3-bf16.gguf")" ] && fail "rm left an unused blob"
"$H" rm tiny2 >"$T/out" 2>&1 && fail "rm of a missing model"
grep -q "not found" "$T/out" || fail "rm missing message: $(cat "$T/out")"

# /api/pull through the server (ASan build): NDJSON progress, then success; errors as a line
srv_start "$HA" -t 1
curl -sN "$SRV_URL/api/pull" -d '{"model":"api:v1"}' >"$T/pull.ndjson" || fail "/api/pull"
tail -n 1 "$T/pull.ndjson" | grep -q '"status": *"success"' || fail "/api/pull last line: $(tail -n 2 "$T/pull.ndjson")"
grep -q '"completed":' "$T/pull.ndjson" || fail "/api/pull progress lines"
curl -s "$SRV_URL/api/tags" | grep -q '"api:v1"' || fail "/api/tags after /api/pull"
curl -sN "$SRV_URL/api/pull" -d '{"model":"missing"}' | tail -n 1 | grep -q '"error":.*not found' || fail "/api/pull error line"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$SRV_URL/api/pull" -d '{"model":"missing","stream":false}')
[ "$code" = 404 ] || fail "/api/pull stream:false unknown: $code $(cat "$T/out")"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$SRV_URL/api/pull" -d '{"model":"../../etc/passwd","stream":false}')
[ "$code" = 400 ] || fail "/api/pull traversal name: $code $(cat "$T/out")"
srv_stop
echo "pull: all checks passed"
