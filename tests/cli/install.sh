#!/bin/sh
# tests/cli/install.sh — `make install PREFIX=...` gives another program all it needs: the
# header, the libraries and hearth.pc; examples/embed.c builds against it with pkg-config alone.
set -u
B=${BUILD:-build}
FX=${HEARTH_FIXTURES:-../shared/fixtures}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
make -s install BUILD="$B" PREFIX="$T/prefix" >"$T/make.log" 2>&1 || { fail "make install"; cat "$T/make.log"; exit 1; }
for f in bin/hearth include/hearth.h lib/libhearth.a lib/libhearth.so lib/libhearth.so.0 lib/pkgconfig/hearth.pc; do
    [ -e "$T/prefix/$f" ] || fail "missing $f"
done
grep -q "^prefix=$T/prefix$" "$T/prefix/lib/pkgconfig/hearth.pc" || fail "hearth.pc prefix: $(head -1 "$T/prefix/lib/pkgconfig/hearth.pc")"
export PKG_CONFIG_PATH="$T/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror -o "$T/embed" examples/embed.c $(pkg-config --cflags --libs hearth) \
    -Wl,-rpath,"$T/prefix/lib" 2>"$T/cc.log" || { fail "example does not build: $(head -5 "$T/cc.log")"; }
if [ -x "$T/embed" ]; then
    "$T/embed" "$FX/models/qwen3-f32.gguf" "Hello" >"$T/out" 2>"$T/err" || fail "example exit: $(head -3 "$T/err")"
    [ -s "$T/out" ] || fail "example printed nothing"
    "$T/embed" "$T/none.gguf" "x" >/dev/null 2>&1 && fail "example should fail on a missing model"
fi
"$T/prefix/bin/hearth" --version | grep -q "^hearth " || fail "installed hearth --version"
make -s uninstall PREFIX="$T/prefix" >/dev/null 2>&1 || fail "make uninstall"
[ -e "$T/prefix/include/hearth.h" ] && fail "uninstall left the header"
[ "$fails" -eq 0 ] && echo "install: all passed"
exit "$fails"
