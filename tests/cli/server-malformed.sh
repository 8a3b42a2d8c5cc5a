#!/bin/sh
# tests/cli/server-malformed.sh — hostile input to `hearth serve`, on the ASan+UBSan build
# (tests/server/malformed.py): bad JSON, wrong types for every field, huge bodies (413),
# slowloris-style partial requests while other clients are served, unknown endpoints and
# methods, broken HTTP, invalid model names (path traversal, file paths), client disconnects
# that must cancel generation, overload (503), and bearer-token auth (401 shapes). The server
# must stay up throughout and exit cleanly with no sanitizer report.
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
. "$(dirname "$0")/../server/lib.sh"
D=$(cd "$(dirname "$0")/../server" && pwd)
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 0; }
T=$(mktemp -d /tmp/hearth-malformed-XXXXXX)
trap '[ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"' EXIT
srv_store "$T/store"
export HEARTH_REGISTRY=http://127.0.0.1:1 # /api/pull must fail fast, never reach out
srv_start "$HA" -t 1 --slots 2
python3 "$D/malformed.py" "$SRV_PORT" corpus "$FIX/models/qwen3-bf16.gguf" || srv_fail "malformed corpus"
srv_stop
srv_start "$HA" -t 1 --slots 1 --max-queue 1
python3 "$D/malformed.py" "$SRV_PORT" overload || srv_fail "overload"
srv_stop
HEARTH_API_KEY=s3cret-key srv_start "$HA" -t 1
python3 "$D/malformed.py" "$SRV_PORT" auth s3cret-key || srv_fail "auth"
srv_stop
# binding beyond loopback without a key warns; with a key it does not
srv_start "$H" --host 0.0.0.0
grep -q "warning: listening on 0.0.0.0 without HEARTH_API_KEY" "$SRV_LOG" || srv_fail "no warning for 0.0.0.0 without a key"
srv_stop
HEARTH_API_KEY=k srv_start "$H" --host 0.0.0.0
grep -q "warning" "$SRV_LOG" && srv_fail "warning despite HEARTH_API_KEY"
srv_stop
# --no-mmap: models read into memory instead of mapped; greedy text equals the mapped server's
gen() { python3 -c '
import json, sys, urllib.request
body = json.dumps({"model": "qwen", "prompt": "Hello", "stream": False, "options": {"temperature": 0, "num_predict": 6}}).encode()
r = urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/api/generate", body, {"Content-Type": "application/json"}), timeout=60)
print(json.load(r)["response"])' "$SRV_URL"; }
srv_start "$HA" -t 1
mapped=$(gen) || srv_fail "generate (mapped)"
srv_stop
srv_start "$HA" -t 1 --no-mmap
read_in=$(gen) || srv_fail "generate (--no-mmap)"
srv_stop
[ "$mapped" = "$read_in" ] || srv_fail "--no-mmap changed the text: '$mapped' vs '$read_in'"
echo "malformed: all checks passed"
