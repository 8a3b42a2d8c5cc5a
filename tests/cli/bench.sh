#!/bin/sh
# tests/cli/bench.sh — `hearth bench` runs and reports what scripts read (tiny sizes: this
# checks the command, it is not a benchmark; timings are never asserted).
set -u
H=${HEARTH:-build/hearth}
FX=${HEARTH_FIXTURES:-../shared/fixtures}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

"$H" bench "$FX/models/qwen3-q4_k.gguf" -p 16 -n 4 -r 1 -t 1 --json >"$T/b.json" 2>"$T/err" || fail "bench exit: $(cat "$T/err")"
[ "$(field "$T/b.json" 'd["pp"]["n"], d["tg"]["n"], d["threads"]')" = "(16, 4, 1)" ] || fail "bench json shape: $(cat "$T/b.json")"
[ "$(field "$T/b.json" 'd["pp"]["tps"] > 0 and d["tg"]["tps"] > 0 and d["bound_tps"] > 0 and d["bytes_per_token"] > 0')" = True ] ||
    fail "bench json values: $(cat "$T/b.json")"
"$H" bench "$FX/models/qwen3-q4_k.gguf" -p 0 -n 2 -r 1 >"$T/out" 2>&1 || fail "bench text exit"
grep -q "weights mmapped" "$T/out" || fail "bench text: mmap line: $(cat "$T/out")"
"$H" bench "$FX/models/qwen3-q4_k.gguf" -p 4 -n 2 -r 1 --no-mmap --json >"$T/nm.json" 2>"$T/err" || fail "bench --no-mmap: $(cat "$T/err")"
[ "$(field "$T/nm.json" 'd["mmap"]')" = "False" ] || fail "bench --no-mmap json: $(cat "$T/nm.json")"
[ "$(field "$T/b.json" 'd["mmap"]')" = "True" ] || fail "bench json mmap: $(cat "$T/b.json")"
grep -q "^tg2 " "$T/out" || fail "bench text: $(cat "$T/out")"

"$H" bench "$FX/vocab/llama3.gguf" --tokenize --mb 0.05 -r 1 --json >"$T/t.json" 2>"$T/err" || fail "tokenize exit: $(cat "$T/err")"
[ "$(field "$T/t.json" 'd["pre"], d["tokens"] > 5000, d["mb_per_s"] > 0')" = "('llama-bpe', True, True)" ] ||
    fail "tokenize json: $(cat "$T/t.json")"

"$H" bench >/dev/null 2>&1; [ $? -eq 2 ] || fail "no model: exit 2"
"$H" bench "$FX/models/qwen3-q4_k.gguf" -p -3 >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad -p: exit 2"
"$H" bench "$T/none.gguf" >/dev/null 2>"$T/err"; [ $? -eq 1 ] || fail "missing model: exit 1"
grep -q "^hearth bench: " "$T/err" || fail "missing model message: $(cat "$T/err")"
"$H" bench --help | grep -q "usage: hearth bench" || fail "--help"
[ "$fails" -eq 0 ] && echo "bench: all passed"
exit "$fails"
