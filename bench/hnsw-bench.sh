#!/bin/sh
# bench/hnsw-bench.sh [BUILD] [N] [DIM] [NQ] — our HNSW against hnswlib on the same clustered
# vectors, single thread, in one run: build time, then recall@10 and queries/s at the same
# efSearch values (M 16, efConstruction 200 for both). hnswlib comes from Debian's
# libhnswlib-dev (header-only), compiled here with -O3 -march=native, as fast as it gets on
# this machine. Default size 100000 x 384 with 1000 queries; try 10000 for a quick check.
# Compare at equal recall: the goal is recall@10 >= 0.95 at >= hnswlib's queries/s.
set -eu
BUILD=${1:-build}; N=${2:-100000}; DIM=${3:-384}; NQ=${4:-1000}; M=16; EFC=200
cd "$(dirname "$0")/.."
[ -f /usr/include/hnswlib/hnswlib.h ] || { echo "hnswlib headers missing: apt-get install libhnswlib-dev" >&2; exit 1; }
[ -f "$BUILD/libhearth.a" ] || { echo "$BUILD/libhearth.a missing: run make BUILD=$BUILD first" >&2; exit 1; }
T=$(mktemp -d /tmp/hnsw-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
LIBS="$(pkg-config --libs sqlite3 libpcre2-8 libutf8proc jansson libcurl libmicrohttpd yaml-0.1 libxml-2.0 poppler-glib) -lm -lpthread"
cc -std=c11 -D_GNU_SOURCE -O3 -march=native -Iinclude -Isrc -o "$T/hearth_hnsw" bench/hnsw-bench/hearth_hnsw.c \
    "$BUILD/libhearth.a" $LIBS
c++ -std=c++17 -O3 -march=native -DNDEBUG -o "$T/hnswlib_bench" bench/hnsw-bench/hnswlib_bench.cpp -lpthread
echo "== $N x $DIM, $NQ queries, single thread, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$T/hearth_hnsw" "$N" "$DIM" "$NQ" "$M" "$EFC" "$T"
"$T/hnswlib_bench" "$T" "$M" "$EFC"
