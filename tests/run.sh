#!/bin/sh
# tests/run.sh RELEASE_BUILD ASAN_BUILD — runs every test and prints one closing summary line.
#   unit tests (cmocka, tests/unit/test_*.c) run from the sanitizer build;
#   CLI tests (tests/cli/*.sh) run against both builds' `hearth` where they are fast, and
#   valgrind runs over selected CLI paths in tests/cli/valgrind.sh.
# Each test binary or script counts as one test; failures are listed at the end.
set -u
REL=${1:-build}; SAN=${2:-build-asan}
export HEARTH_FIXTURES="${HEARTH_FIXTURES:-$(cd "$(dirname "$0")/../.." && pwd)/shared/fixtures}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
LOG=${TEST_LOG_DIR:-$REL/test-logs}
mkdir -p "$LOG/unit" "$LOG/cli" # test names are unit/NAME and cli/NAME
passed=0; failed=0; failures=""
run_one() { # name, command...
    name=$1; shift
    start=$(date +%s)
    if "$@" >"$LOG/$name.log" 2>&1; then
        passed=$((passed + 1)); status=ok
    else
        failed=$((failed + 1)); status=FAIL; failures="$failures $name"
    fi
    printf '%-44s %s (%ss)\n' "$name" "$status" "$(( $(date +%s) - start ))"
}
for t in "$SAN"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "unit/$(basename "$t")" "$t"
done
for s in tests/cli/*.sh; do
    [ -f "$s" ] || continue
    run_one "cli/$(basename "$s" .sh)" env HEARTH="$REL/hearth" HEARTH_ASAN="$SAN/hearth" BUILD="$REL" sh "$s"
done
if [ -n "$failures" ]; then
    echo "failed:$failures (logs in $LOG/)"
    for f in $failures; do echo "--- $f"; tail -n 30 "$LOG/$f.log"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
