#!/bin/sh
# bench/agent-overhead.sh [BUILD] [RUNS] [STEPS] [DIR] — orchestration overhead per agent step,
# model time excluded (scripted backend), with and without the durable journal and the audit
# log. Goal: < 1 ms per step. DIR holds the journal (default /tmp; use the disk you deploy on).
set -eu
BUILD=${1:-build}; RUNS=${2:-20}; STEPS=${3:-20}; DIR=${4:-/tmp}
cd "$(dirname "$0")/.."
[ -f "$BUILD/libhearth.a" ] || { echo "$BUILD/libhearth.a missing: run make BUILD=$BUILD first" >&2; exit 1; }
T=$(mktemp -d /tmp/agent-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
LIBS="$(pkg-config --libs sqlite3 libpcre2-8 libutf8proc jansson libcurl libmicrohttpd yaml-0.1 libxml-2.0 poppler-glib) -lm -lpthread"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc $(pkg-config --cflags jansson) -o "$T/agent_overhead" \
    bench/agent-overhead/agent_overhead.c "$BUILD/libhearth.a" $LIBS
echo "== agent orchestration overhead: $RUNS runs x $STEPS steps, journal in $DIR"
"$T/agent_overhead" "$RUNS" "$STEPS" "$DIR"
