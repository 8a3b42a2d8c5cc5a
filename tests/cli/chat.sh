#!/bin/sh
# tests/cli/chat.sh — `hearth chat`: turns through the model's template (Qwen3's real one),
# multi-line messages, /clear, unknown commands, context overflow, and clean errors.
set -u
H=${HEARTH:-build/hearth}
HA=${HEARTH_ASAN:-$H}
FX=${HEARTH_FIXTURES:-../shared/fixtures}
QWEN=$FX/models/qwen3-real-vocab-q8_0.gguf
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# A conversation: two turns, a multi-line message, /clear, an unknown command, /bye.
printf 'hello there\n"""\nmulti\nline\n"""\n/frob\n/clear\nagain\n/bye\nnever read\n' |
    "$HA" chat "$QWEN" -n 4 --temp 0 --system "be brief" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -eq 0 ] || { fail "conversation exit $rc"; head -5 "$T/err"; }
[ "$(grep -c '' "$T/out")" -eq 3 ] || fail "expected 3 replies, got: $(cat "$T/out")"
grep -q "unknown command '/frob'" "$T/err" || fail "unknown command not reported"
[ "$(grep -c 'reply cut at 4 tokens' "$T/err")" -eq 3 ] || fail "each reply should stop at -n 4"

# Greedy is deterministic, and the cache reuse of turn 2 changes nothing: the second reply of a
# two-turn chat equals the reply to the same conversation rendered afresh.
printf 'one\ntwo\n' | "$H" chat "$QWEN" -n 5 --temp 0 >"$T/a" 2>/dev/null
printf 'one\ntwo\n' | "$H" chat "$QWEN" -n 5 --temp 0 >"$T/b" 2>/dev/null
cmp -s "$T/a" "$T/b" || fail "greedy chat not deterministic"

# A message longer than the whole context: a clear error, and the chat goes on.
long=$(awk 'BEGIN { for (i = 0; i < 400; i++) printf "word%d ", i }')
printf '%s\nshort\n' "$long" | "$H" chat "$QWEN" -n 2 --temp 0 --ctx 64 >"$T/out" 2>"$T/err"
grep -q "does not fit the 64-token context" "$T/err" || fail "overflow message: $(cat "$T/err")"
[ "$(grep -c '' "$T/out")" -ge 1 ] || fail "chat did not go on after the overflow"

# End of input without /bye ends cleanly; so does an empty input.
printf 'hi' | "$H" chat "$QWEN" -n 2 --temp 0 >/dev/null 2>&1 || fail "EOF without newline"
"$H" chat "$QWEN" </dev/null >/dev/null 2>&1 || fail "empty input"

# Usage and model errors.
"$H" chat --help | grep -q "usage: hearth chat" || fail "--help"
"$H" chat >/dev/null 2>"$T/err"; [ $? -eq 2 ] || fail "no model: exit 2"
"$H" chat "$QWEN" --temp nope >/dev/null 2>"$T/err"; [ $? -eq 2 ] || fail "bad --temp: exit 2"
"$H" chat "$T/missing.gguf" </dev/null >/dev/null 2>"$T/err"; [ $? -eq 1 ] || fail "missing model: exit 1"
grep -q "^hearth chat: " "$T/err" || fail "missing model message: $(cat "$T/err")"

[ "$fails" -eq 0 ] && echo "chat: all passed"
exit "$fails"
