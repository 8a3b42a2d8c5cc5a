#!/bin/sh
# tests/cli/agent_mcp_npm.sh — the agent's MCP client against the reference npm servers
# (@modelcontextprotocol/server-everything and server-filesystem). They are not a dependency of
# hearth: the test installs them outside the repository (into $HEARTH_MCP_NPM's parent, default
# /tmp/hearth-npm-mcp) when they are missing. Without node, or with the npm registry out of reach,
# it prints SKIP and why (it does not pretend to pass).
set -u
H=${HEARTH:-build/hearth}
NM=${HEARTH_MCP_NPM:-/tmp/hearth-npm-mcp/node_modules}
N="$NM/@modelcontextprotocol"
if ! command -v node >/dev/null 2>&1; then echo "SKIP: node is not installed"; exit 0; fi
if [ ! -f "$N/server-everything/dist/index.js" ] || [ ! -f "$N/server-filesystem/dist/index.js" ]; then
    if ! command -v npm >/dev/null 2>&1 || ! timeout 20 npm ping >/dev/null 2>&1; then
        echo "SKIP: MCP npm servers not under $NM and the npm registry is out of reach"; exit 0
    fi
    timeout 300 npm install --prefix "$(dirname "$NM")" --no-audit --no-fund --loglevel=error \
        @modelcontextprotocol/server-everything @modelcontextprotocol/server-filesystem >/dev/null 2>&1 ||
        { echo "FAIL: npm install of the MCP servers failed"; exit 1; }
fi
T=$(mktemp -d /tmp/hearth-mcp-npm-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir "$T/root" && echo "hello from the filesystem server" > "$T/root/note.txt"
cat > "$T/agent.yaml" <<YAML
name: npm-mcp
tools: ["ev.echo", "ev.get-sum", "files.*"]
mcp:
  - {name: ev, command: [node, $N/server-everything/dist/index.js, stdio], timeout_seconds: 30}
  - {name: files, command: [node, $N/server-filesystem/dist/index.js, $T/root], timeout_seconds: 30}
audit: {path: audit.jsonl, state: runs.db}
YAML
cat > "$T/script.json" <<JSON
{"responses":[
 {"role":"planner","samples":[{"text":"{\"steps\":[{\"tool\":\"ev.echo\",\"arguments\":{\"message\":\"hi from hearth\"}},{\"tool\":\"ev.get-sum\",\"arguments\":{\"a\":40,\"b\":2}},{\"tool\":\"files.read_text_file\",\"arguments\":{\"path\":\"$T/root/note.txt\"}},{\"tool\":\"files.read_text_file\",\"arguments\":{\"path\":\"/etc/passwd\"}},{\"tool\":\"ev.get-env\",\"arguments\":{}}]}"}]},
 {"role":"planner","samples":[{"text":"{\"final\":true}"}]},
 {"role":"answerer","samples":[{"text":"42 [2]","confidence":0.95}]}]}
JSON
out=$("$H" agent run "$T/agent.yaml" "use the npm servers" --script "$T/script.json" --json) || fail "run exit $?"
echo "$out" | grep '"type":"observation"' | grep -q 'Echo: hi from hearth' || fail "everything/echo: $out"
echo "$out" | grep '"type":"observation"' | grep -q 'The sum of 40 and 2 is 42' || fail "everything/get-sum"
echo "$out" | grep '"type":"observation"' | grep -q 'hello from the filesystem server' || fail "filesystem/read_text_file"
echo "$out" | grep '"type":"observation"' | grep '/etc/passwd' | grep -q '"ok":false' || fail "filesystem denies /etc/passwd"
echo "$out" | grep '"type":"observation"' | grep 'get-env' | grep -q 'not allowed' || fail "tool outside the allow-list denied"
"$H" audit verify "$T/audit.jsonl" >/dev/null || fail "audit"
echo "MCP npm servers: all checks passed"
