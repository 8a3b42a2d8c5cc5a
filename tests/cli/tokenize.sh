#!/bin/sh
# tests/cli/tokenize.sh — `hearth tokenize` / `hearth detokenize`: known ids from llama.cpp's
# references, stdin input, JSON output, and every malformed-argument path (clean one-line
# error, exit 2 for usage, 1 for bad files or ids; never a crash). Runs the release binary,
# and the sanitizer binary too when it exists.
set -u
F=${HEARTH_FIXTURES:-../shared/fixtures}
fail=0
check() { # description, expected, actual
    if [ "$2" != "$3" ]; then
        echo "FAIL: $1"; echo "  want: $2"; echo "  got:  $3"; fail=1
    fi
}
expect_rc() { # description, expected rc, command...
    d=$1 want=$2; shift 2
    out=$("$@" 2>&1 >/dev/null); rc=$?
    [ "$rc" = "$want" ] || { echo "FAIL: $d: exit $rc, want $want ($out)"; fail=1; return; }
    case "$out" in
        *"hearth "*) ;;
        *) echo "FAIL: $d: error message missing: '$out'"; fail=1 ;;
    esac
    [ "$(printf '%s\n' "$out" | grep -c 'AddressSanitizer\|runtime error')" = 0 ] || { echo "FAIL: $d: sanitizer report"; fail=1; }
}

tested=0
for H in "${HEARTH:-build/hearth}" "${HEARTH_ASAN:-}"; do
    [ -n "$H" ] && [ -x "$H" ] || continue
    tested=$((tested + 1))
    check "help" 0 "$($H tokenize --help >/dev/null; echo $?)"
    check "detok help" 0 "$($H detokenize --help >/dev/null; echo $?)"
    check "llama3 json" '{"ids":[128000,9906,1917],"pieces":["<|begin_of_text|>","Hello"," world"]}' \
        "$($H tokenize "$F/vocab/llama3.gguf" 'Hello world' --json)"
    check "qwen3 specials" '{"ids":[151644,872,198,9707,151645],"pieces":["<|im_start|>","user","\n","Hello","<|im_end|>"]}' \
        "$($H tokenize "$F/vocab/qwen3.gguf" "$(printf '<|im_start|>user\nHello<|im_end|>')" --json)"
    check "qwen3 no-special" "27 91 318 4906 91 29" \
        "$($H tokenize "$F/vocab/qwen3.gguf" '<|im_start|>' --no-special | awk '{printf "%s%s", s, $1; s=" "}')"
    check "mistral no-bos" "22557 1526" \
        "$($H tokenize "$F/vocab/mistral.gguf" 'Hello world' --no-bos | awk '{printf "%s%s", s, $1; s=" "}')"
    check "bert stdin" '{"ids":[101,7592,2088,102],"pieces":["[CLS]"," hello"," world","[SEP]"]}' \
        "$(printf 'Hello world' | $H tokenize "$F/vocab/bert.gguf" - --json)"
    check "empty text" '{"ids":[2],"pieces":["<bos>"]}' "$($H tokenize "$F/vocab/gemma3.gguf" '' --json)"
    check "dash text" "12 20 41776" "$($H tokenize "$F/vocab/llama3.gguf" --no-bos -- '-5 apples' | awk '{printf "%s%s", s, $1; s=" "}')"
    check "detok" "<|begin_of_text|>Hello world" "$($H detokenize "$F/vocab/llama3.gguf" 128000,9906,1917)"
    check "detok spaces" "Hello world" "$($H detokenize "$F/vocab/llama3.gguf" 128000 9906 ' 1917' --no-special)"
    check "detok stdin json" '{"text":"Hello world"}' "$(echo '9906, 1917' | $H detokenize "$F/vocab/llama3.gguf" - --json)"
    check "detok bytes" "$(printf 'Hello \360\237\244\226')" "$($H detokenize "$F/vocab/mistral.gguf" 22557 28705 243 162 167 153)"
    check "round trip" "line one
line two" "$($H detokenize "$F/vocab/qwen3.gguf" "$($H tokenize "$F/vocab/qwen3.gguf" 'line one
line two' | awk '{print $1}')")"

    # success paths exit 0 (under ASan this also catches leaks)
    check "rc tokenize" 0 "$($H tokenize "$F/vocab/gemma3.gguf" 'Grüße, 世界 🤖' --json >/dev/null 2>&1; echo $?)"
    check "rc detokenize" 0 "$($H detokenize "$F/vocab/bert.gguf" 101 7592 102 --json >/dev/null 2>&1; echo $?)"
    expect_rc "no args" 2 $H tokenize
    expect_rc "no text" 2 $H tokenize "$F/vocab/llama3.gguf"
    expect_rc "extra arg" 2 $H tokenize "$F/vocab/llama3.gguf" a b
    expect_rc "bad option" 2 $H tokenize "$F/vocab/llama3.gguf" x --frobnicate
    expect_rc "missing file" 1 $H tokenize /nonexistent/model.gguf x
    expect_rc "not gguf" 1 $H tokenize "$F/reference/tokenizer-strings.json" x
    expect_rc "detok no ids" 2 $H detokenize "$F/vocab/llama3.gguf"
    expect_rc "detok nothing" 2 $H detokenize
    expect_rc "detok junk" 2 $H detokenize "$F/vocab/llama3.gguf" 12,x3
    expect_rc "detok float" 2 $H detokenize "$F/vocab/llama3.gguf" 1.5
    expect_rc "detok range" 1 $H detokenize "$F/vocab/llama3.gguf" 128256
    expect_rc "detok negative" 1 $H detokenize "$F/vocab/llama3.gguf" -1
    expect_rc "detok huge" 1 $H detokenize "$F/vocab/llama3.gguf" 99999999999999999999
    expect_rc "detok bad option" 2 $H detokenize "$F/vocab/llama3.gguf" 1 --nope
    tmp=$(mktemp); head -c 100 "$F/vocab/mistral.gguf" > "$tmp"
    expect_rc "truncated gguf" 1 $H tokenize "$tmp" x
    rm -f "$tmp"
done
[ $tested -gt 0 ] || { echo "FAIL: no hearth binary (set HEARTH)"; fail=1; }
[ $fail = 0 ] && echo "tokenize: ok"
exit $fail
