#!/bin/sh
# tests/cli/run_structured.sh — `hearth run` structured output: --format json / SCHEMA, --grammar,
# --samples N (--vote), confidence in text and --json output, and clean errors for bad schema,
# bad grammar, and flag misuse. Fixture: qwen3-real-vocab-q8_0 (real Qwen3 vocabulary).
set -u
H=${HEARTH:-build/hearth}
FIX=${HEARTH_FIXTURES:-../shared/fixtures}
M="$FIX/models/qwen3-real-vocab-q8_0.gguf"
T=$(mktemp -d /tmp/hearth-run-structured-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cat > "$T/city.json" <<'J'
{"type":"object","properties":{"city":{"type":"string","maxLength":12},"pop":{"type":"integer"}},"required":["city","pop"]}
J
printf 'root ::= "yes" | "no"\n' > "$T/yn.gbnf"
# a schema: the value parses and has the required keys; confidence is reported
"$H" run "$M" "City:" --format "$T/city.json" --temp 1.5 --seed 1 -n 64 --json > "$T/out.json" 2>"$T/err" || fail "run --format: $(cat "$T/err")"
python3 - "$T/out.json" <<'P' || fail "value/confidence in --json"
import json, sys
o = json.load(open(sys.argv[1]))
v = o["value"]
assert isinstance(v, dict) and set(v) == {"city", "pop"} and isinstance(v["pop"], int), v
assert len(v["city"]) <= 12 and o["stop"] == "grammar"
c = o["confidence"]
assert 0 <= c["score"] <= 1 and c["mean_logprob"] <= 0 and 0 <= c["min_prob"] <= 1 and c["agreement"] is None
P
# any JSON object, text mode: confidence line on stderr
"$H" run "$M" "x" --format json --seed 2 -n 48 > "$T/o.txt" 2> "$T/e.txt" || fail "run --format json"
python3 -c "import json,sys; assert isinstance(json.loads(open(sys.argv[1]).read()), dict)" "$T/o.txt" || fail "--format json output: $(cat "$T/o.txt")"
grep -q '^confidence: ' "$T/e.txt" || fail "no confidence line"
# GBNF
out=$("$H" run "$M" "ok?" --grammar "$T/yn.gbnf" --seed 3 -n 8 2>/dev/null) || fail "run --grammar"
[ "$out" = yes ] || [ "$out" = no ] || fail "grammar output '$out'"
# N samples with a vote: every sample reported, agreement set, chosen in range
"$H" run "$M" "ok?" --grammar "$T/yn.gbnf" --samples 5 --vote --seed 4 -n 8 --json > "$T/v.json" 2>/dev/null || fail "run --samples --vote"
python3 - "$T/v.json" <<'P' || fail "--samples --vote JSON"
import json, sys
o = json.load(open(sys.argv[1]))
texts = [s["text"] for s in o["samples"]]
assert len(texts) == 5 and all(t in ("yes", "no") for t in texts)
win = o["text"]
assert texts.count(win) == max(texts.count("yes"), texts.count("no"))
assert abs(o["confidence"]["agreement"] - texts.count(win) / 5) < 1e-6 and o["selection"] == "vote"
P
# errors: one line, non-zero
printf '{"type": "strin"}' > "$T/bad.json"
"$H" run "$M" "x" --format "$T/bad.json" >/dev/null 2>"$T/e"; [ $? -eq 1 ] || fail "bad schema exit"
grep -q "unknown type 'strin'" "$T/e" || fail "bad schema message: $(cat "$T/e")"
printf 'root ::= "a" (\n' > "$T/bad.gbnf"
"$H" run "$M" "x" --grammar "$T/bad.gbnf" >/dev/null 2>"$T/e"; [ $? -eq 1 ] || fail "bad grammar exit"
grep -q "grammar:1:" "$T/e" || fail "bad grammar message: $(cat "$T/e")"
"$H" run "$M" "x" --format "$T/missing.json" >/dev/null 2>&1; [ $? -eq 1 ] || fail "missing schema exit"
"$H" run "$M" "x" --vote >/dev/null 2>&1; [ $? -eq 2 ] || fail "--vote without --samples"
"$H" run "$M" "x" --format json --grammar "$T/yn.gbnf" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--format with --grammar"
"$H" run "$M" "x" --samples 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--samples 0"
echo "run structured: ok"
