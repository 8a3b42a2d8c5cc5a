#!/bin/sh
# tests/cli/server-agent.sh — POST /api/agent on `hearth serve` (sanitizer build) with the
# scripted model backend: the NDJSON stream carries the same events, in the same order, as
# `hearth agent run --json`, ending with the final answer; stream:false returns the final
# object; offline reaches the escalation decision; agent files outside the allow-list (the
# server's working directory, or $HEARTH_AGENTS) are 403 whatever the trick (absolute path,
# "..", a symlink out, a missing file outside), with 404 only for a missing file inside;
# malformed bodies and wrong types are 400, other methods 405; the server stays up throughout
# and exits cleanly with no sanitizer report.
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
. "$(dirname "$0")/../server/lib.sh"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed (the test's HTTP client)"; exit 0; }
fail() { srv_fail "$*"; }
abs() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
H=$(abs "$H"); HA=$(abs "$HA")
EX=$(cd "$(dirname "$0")/../.." && pwd)/examples
T=$(mktemp -d /tmp/hearth-agent-srv-XXXXXX)
trap '[ -n "${SRV_PID:-}" ] && kill "$SRV_PID" 2>/dev/null; rm -rf "$T"' EXIT

# An agent over a BM25 store of examples/docs, inside $T/agents; an outside copy in $T/outside.
mkdir -p "$T/agents/sub" "$T/outside" "$T/agents/dir.yaml"
"$H" rag ingest "$EX/docs" --store "$T/store.db" >/dev/null 2>&1 || fail "ingest"
cat > "$T/agents/agent.yaml" <<EOF
name: handbook
models:
  planner: model.gguf
stores: [$T/store.db]
tools: [rag.search, calc]
escalation:
  endpoint: http://127.0.0.1:9/v1
  api_key_env: HEARTH_TEST_UNSET_KEY
  budget_per_day: 1
audit:
  path: $T/audit.jsonl
EOF
cp "$EX/agent/demo-script.json" "$EX/agent/demo-script-unsure.json" "$T/agents/"
cp "$T/agents/agent.yaml" "$T/outside/agent.yaml"
cp "$EX/agent/demo-script.json" "$T/outside/script.json"
ln -s "$T/outside/agent.yaml" "$T/agents/link.yaml"
printf 'name: x\nbogus_key: 1\n' > "$T/agents/bad.yaml"
printf '{"responses": [{"role": "planner", "samples": [{"text": "{\\"final\\": true}", "confidence": 0.9}]}]}\n' \
    > "$T/agents/short.json" # no answerer entry: the run fails after it started
TASK="What per diem do I get for 3 full days and one 10-hour day, dinner provided once?"

# 1. allow-list = the server's working directory (no $HEARTH_AGENTS)
cd "$T/agents"
unset HEARTH_AGENTS
srv_start "$HA"
post() { # BODY -> $T/out (body), prints the HTTP status
    curl -s -o "$T/out" -w '%{http_code}' -X POST "$SRV_URL/api/agent" -H 'Content-Type: application/json' -d "$1"
}
expect() { # STATUS BODY WHAT
    code=$(post "$2")
    [ "$code" = "$1" ] || fail "$3: HTTP $code, expected $1: $(head -c 300 "$T/out")"
}

# streaming: NDJSON events in the order the CLI prints them, the final answer last
expect 200 "{\"agent\": \"agent.yaml\", \"task\": \"$TASK\", \"script\": \"demo-script.json\"}" "stream"
cp "$T/out" "$T/stream"
n=$(wc -l < "$T/stream")
[ "$n" -ge 10 ] || fail "stream has $n lines: $(cat "$T/stream")"
grep -v '^{"type":"[a-z_]*",' "$T/stream" && fail "a stream line is not an event object"
head -n 1 "$T/stream" | grep -q '^{"type":"start",.*"agent":"handbook"' || fail "first event: $(head -n 1 "$T/stream")"
tail -n 1 "$T/stream" | grep -q '^{"type":"final",.*"answer":"Your per diem is 86.8 EUR' || fail "last event: $(tail -n 1 "$T/stream")"
grep -q '"type":"tool",.*"tool":"rag.search"' "$T/stream" || fail "no rag.search tool event"
grep -q '"type":"observation",.*"tool":"calc","ok":true,"text":"86.8"' "$T/stream" || fail "no calc observation"
grep -q '"type":"decision",.*"decision":"accepted"' "$T/stream" || fail "no accepted decision"
types() { sed 's/^{"type":"\([a-z_]*\)".*/\1/' "$1" | tr '\n' ' '; }
"$H" agent run agent.yaml "$TASK" --script demo-script.json --json > "$T/cli" 2>"$T/cli.err" || fail "CLI run: $(cat "$T/cli.err")"
[ "$(types "$T/stream")" = "$(types "$T/cli")" ] ||
    fail "events differ from the CLI's: $(types "$T/stream") vs $(types "$T/cli")"

# not streaming: the final object with the run's counts
expect 200 "{\"agent\": \"./agent.yaml\", \"task\": \"$TASK\", \"script\": \"demo-script.json\", \"stream\": false}" "non-stream"
grep -q '^{"type":"final",.*"answer":"Your per diem is 86.8 EUR.*"decision":"accepted_after_retry"' "$T/out" ||
    fail "non-stream reply: $(cat "$T/out")"
grep -q '"tool_calls":2' "$T/out" || fail "non-stream tool_calls: $(cat "$T/out")"
[ "$(grep -c . "$T/out")" -eq 1 ] || fail "non-stream reply is one object"

# offline reaches the policy's refusal; without it, the missing key is the reason
expect 200 "{\"agent\": \"agent.yaml\", \"task\": \"Lisbon hotel?\", \"script\": \"demo-script-unsure.json\", \"offline\": true}" "offline"
grep -q '"decision":"low_confidence","reason":"network use disabled for this run"' "$T/out" || fail "offline decision: $(cat "$T/out")"
tail -n 1 "$T/out" | grep -q '"type":"final",.*"low_confidence":true' || fail "offline final"
expect 200 "{\"agent\": \"agent.yaml\", \"task\": \"Lisbon hotel?\", \"script\": \"demo-script-unsure.json\", \"stream\": false}" "online"
grep -q '"decision":"low_confidence"' "$T/out" || fail "online final: $(cat "$T/out")"
"$H" audit verify "$T/audit.jsonl" >/dev/null || fail "audit log of the server's runs does not verify"

# a run that fails after starting: the stream ends with an error event; non-stream is an error
expect 200 "{\"agent\": \"agent.yaml\", \"task\": \"t\", \"script\": \"short.json\"}" "failing run (stream)"
tail -n 1 "$T/out" | grep -q '^{"type":"error","error":".*script' || fail "failing stream's last line: $(tail -n 1 "$T/out")"
code=$(post '{"agent": "agent.yaml", "task": "t", "script": "short.json", "stream": false}')
[ "$code" -ge 400 ] && grep -q '"error"' "$T/out" || fail "failing run (non-stream): HTTP $code $(cat "$T/out")"

# the allow-list: 403 outside (existing or not), 404 missing inside, 400 not a file / wrong kind
for spec in "$T/outside/agent.yaml" "../outside/agent.yaml" "sub/../../outside/agent.yaml" "link.yaml" \
            "/nonexistent/x.yaml" "$T/outside/missing.yaml" "/agent.yaml"; do
    expect 403 "{\"agent\": \"$spec\", \"task\": \"t\", \"script\": \"demo-script.json\"}" "agent $spec"
    grep -q 'not inside an allowed agent directory' "$T/out" || fail "403 message for $spec: $(cat "$T/out")"
done
expect 403 "{\"agent\": \"agent.yaml\", \"task\": \"t\", \"script\": \"$T/outside/script.json\"}" "script outside"
expect 404 '{"agent": "missing.yaml", "task": "t"}' "missing inside"
expect 404 '{"agent": "sub/missing.yaml", "task": "t"}' "missing inside a subdirectory"
expect 400 '{"agent": "/etc/passwd", "task": "t"}' "not a .yaml"
expect 400 '{"agent": "agent.yaml", "task": "t", "script": "agent.yaml"}' "script not .json"
expect 400 '{"agent": "dir.yaml", "task": "t"}' "a directory"
expect 400 '{"agent": "bad.yaml", "task": "t", "script": "demo-script.json"}' "invalid agent file"
grep -q 'bad.yaml' "$T/out" || fail "invalid agent file error names the file: $(cat "$T/out")"

# malformed requests
expect 400 'not json' "bad JSON"
expect 400 '[1, 2]' "array body"
expect 400 '' "empty body"
expect 400 '{"task": "t"}' "agent missing"
expect 400 '{"agent": "agent.yaml"}' "task missing"
expect 400 '{"agent": "agent.yaml", "task": ""}' "empty task"
expect 400 '{"agent": 5, "task": "t"}' "agent not a string"
expect 400 '{"agent": "agent.yaml", "task": ["t"]}' "task not a string"
expect 400 '{"agent": "agent.yaml", "task": "t", "stream": "yes"}' "stream not a bool"
expect 400 '{"agent": "agent.yaml", "task": "t", "offline": 1}' "offline not a bool"
expect 400 '{"agent": "agent.yaml", "task": "t", "script": {}}' "script not a string"
expect 400 '{"agent": "agent.yaml", "agent": "x.yaml", "task": "t"}' "duplicate key"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$SRV_URL/api/agent")
[ "$code" = 405 ] || fail "GET /api/agent: HTTP $code"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$SRV_URL/api/version")
[ "$code" = 200 ] || fail "server not answering after the bad requests"
srv_stop

# 2. $HEARTH_AGENTS replaces the working directory
cd "$T"
HEARTH_AGENTS="/nonexistent:$T/outside" srv_start "$HA"
expect 200 "{\"agent\": \"$T/outside/agent.yaml\", \"task\": \"$TASK\", \"script\": \"$T/outside/script.json\", \"stream\": false}" "HEARTH_AGENTS"
grep -q '"answer":"Your per diem is 86.8 EUR' "$T/out" || fail "HEARTH_AGENTS run: $(cat "$T/out")"
expect 403 "{\"agent\": \"$T/agents/agent.yaml\", \"task\": \"t\"}" "outside HEARTH_AGENTS"
expect 403 '{"agent": "agents/agent.yaml", "task": "t"}' "the working directory is not allowed when HEARTH_AGENTS is set"
srv_stop
echo "server agent: ok"
