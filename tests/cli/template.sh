#!/bin/sh
# tests/cli/template.sh — `hearth template`: every reference conversation rendered with the
# template stored in the vocab GGUF equals the reference byte for byte (no newline added);
# the ChatML fallback warns; bad input fails with one line "hearth template: ..." and exit 1.
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
B=${BUILD:-build}
FX=${HEARTH_FIXTURES:-../shared/fixtures}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
expect() { # RC DESCRIPTION command...: stdout -> $T/out, stderr -> $T/err
    want=$1; what=$2; shift 2
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -eq "$want" ] || { fail "$what: exit $rc, expected $want"; sed 's/^/    /' "$T/err" | head -5; }
}
has() { grep -q -- "$2" "$T/$1" || fail "$3: '$2' not in $1: $(head -c 300 "$T/$1")"; }
one_error_line() {
    first=$(head -n 1 "$T/err")
    case "$first" in "hearth template: "*) ;; *) fail "$1: error line '$first'";; esac
    [ "$(grep -c '' "$T/err")" -le 1 ] || fail "$1: more than one line on stderr"
}

expect 0 "--help" "$H" template --help
has out "usage: hearth template MODEL MESSAGES.json" "--help"

# --- every reference case, through the model's own template ---------------------------------
checked=0
for v in llama3 qwen3 gemma3; do
    mkdir -p "$T/$v"
    n=$("$B/tools/chat_cases" "$FX/reference/chat-$v.json" "$T/$v") || { fail "chat_cases $v"; continue; }
    i=0
    while [ "$i" -lt "$n" ]; do
        # the ASan binary for a few, the release binary for the rest (speed)
        bin=$H; [ "$i" -lt 2 ] && bin=$HA
        # shellcheck disable=SC2046
        "$bin" template "$FX/vocab/$v.gguf" "$T/$v/$i.json" $(cat "$T/$v/$i.flags") >"$T/out" 2>"$T/err"
        rc=$?
        if [ -f "$T/$v/$i.want" ]; then
            if [ "$rc" -ne 0 ]; then fail "$v case $i: exit $rc: $(head -n 1 "$T/err")"
            elif ! cmp -s "$T/out" "$T/$v/$i.want"; then fail "$v case $i: output differs from the reference"; fi
        else
            [ "$rc" -eq 1 ] || fail "$v case $i: exit $rc, expected 1 (template raises)"
            grep -qF -- "$(cat "$T/$v/$i.err")" "$T/err" || fail "$v case $i: error lacks the template's message"
            one_error_line "$v case $i"
        fi
        checked=$((checked + 1))
        i=$((i + 1))
    done
done
[ "$checked" -ge 36 ] || fail "only $checked reference cases checked"

# --- messages from stdin, --json, --tools ---------------------------------------------------
printf '[{"role":"user","content":"Hi"}]' >"$T/m.json"
expect 0 "stdin" sh -c "\"$H\" template \"$FX/vocab/qwen3.gguf\" - --add-generation-prompt <\"$T/m.json\""
printf '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' >"$T/want"
cmp -s "$T/out" "$T/want" || fail "stdin: output $(od -c "$T/out" | head -3)"
expect 0 "--json" "$H" template "$FX/vocab/qwen3.gguf" "$T/m.json" --json
has out '"prompt": "<|im_start|>user\\nHi<|im_end|>\\n"' "--json"
printf '[{"type":"function","function":{"name":"now","description":"time","parameters":{"type":"object","properties":{}}}}]' >"$T/tools.json"
expect 0 "--tools" "$H" template "$FX/vocab/qwen3.gguf" "$T/m.json" --tools "$T/tools.json"
has out '{"type": "function", "function": {"name": "now", "description": "time", "parameters": {"type": "object", "properties": {}}}}' "--tools"

# --- a model without a template gets ChatML and a warning ------------------------------------
expect 0 "chatml fallback" "$H" template "$FX/vocab/mistral.gguf" "$T/m.json" --add-generation-prompt
cmp -s "$T/out" "$T/want" || fail "chatml fallback output"
has err "no tokenizer.chat_template; using ChatML" "chatml warning"

# --- --template-file without a model --------------------------------------------------------
printf '{%% for m in messages %%}[{{ m.content | upper }}]{%% endfor %%}\n' >"$T/t.j2"
expect 0 "--template-file" "$H" template --template-file "$T/t.j2" "$T/m.json"
[ "$(cat "$T/out")" = "[HI]" ] || fail "--template-file output '$(cat "$T/out")'"

printf '{{ date_string }}/{{ messages | length }}' >"$T/d.j2"
expect 0 "--vars" "$H" template --template-file "$T/d.j2" "$T/m.json" --vars '{"date_string": "26 Jul 2024"}'
[ "$(cat "$T/out")" = "26 Jul 2024/1" ] || fail "--vars output '$(cat "$T/out")'"
expect 1 "--vars not an object" "$H" template --template-file "$T/d.j2" "$T/m.json" --vars '[1]'
one_error_line "--vars not an object"

# --- errors: one line, exit 1 (2 for usage) --------------------------------------------------
printf '[{"role":"user","content":"Hi"' >"$T/bad.json"
expect 1 "bad json" "$HA" template "$FX/vocab/qwen3.gguf" "$T/bad.json"
one_error_line "bad json"; has err "messages: invalid JSON" "bad json"
printf '[{"role":"wizard","content":"x"}]' >"$T/role.json"
expect 1 "bad role" "$HA" template "$FX/vocab/qwen3.gguf" "$T/role.json"
one_error_line "bad role"; has err "messages\[0\].role" "bad role"
printf '{%% for m in messages %%}\n{{ m | nosuchfilter }}{%% endfor %%}' >"$T/badt.j2"
expect 1 "bad template" "$HA" template --template-file "$T/badt.j2" "$T/m.json"
one_error_line "bad template"; has err "line 2, col 8: unknown filter 'nosuchfilter'" "bad template"
printf '{%% macro f() %%}{{ f() }}{%% endmacro %%}{{ f() }}' >"$T/bomb.j2"
expect 1 "recursion bomb" "$HA" template --template-file "$T/bomb.j2" "$T/m.json"
one_error_line "recursion bomb"; has err "nest deeper than" "recursion bomb"
expect 1 "missing model" "$H" template "$T/nope.gguf" "$T/m.json"
one_error_line "missing model"
expect 1 "missing messages" "$H" template "$FX/vocab/qwen3.gguf" "$T/nope.json"
one_error_line "missing messages"; has err "nope.json: cannot open" "missing messages"
head -c 4096 /dev/urandom >"$T/junk.gguf"
expect 1 "junk model" "$HA" template "$T/junk.gguf" "$T/m.json"
one_error_line "junk model"
expect 2 "no args" "$H" template
expect 2 "unknown option" "$H" template --frobnicate
expect 2 "--tools without file" "$H" template "$FX/vocab/qwen3.gguf" "$T/m.json" --tools

[ "$fails" -eq 0 ] && echo "template: all passed"
[ "$fails" -eq 0 ]
