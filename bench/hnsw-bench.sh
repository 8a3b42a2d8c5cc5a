#!/bin/sh
# bench/hnsw-bench.sh [BUILD] [N] [DIM] [NQ] — our HNSW against hnswlib on the same clustered
# vectors, single thread, in one run: build time, then recall@10 and queries/s at the same
# efSearch values (M 16, efConstruction 200 for both), then each side's q/s interpolated at the
# other side's recall points, so "faster at the same recall" reads off directly. hnswlib comes
# from Debian's libhnswlib-dev (header-only), compiled here with -O3 -march=native, as fast as it
# gets on this machine. Default size 100000 x 384 with 1000 queries; try 20000 for a quick check.
# Goal (issue #6): recall@10 >= 0.95 at >= hnswlib's queries/s at that recall.
#
# Data (bench/hnsw-bench/hearth_hnsw.c): embedding-like clumps, not uniform noise. N/100 topic
# centres (1000 at 100k); each point = its topic's unit centre + SPREAD x a Gaussian mix of
# LATENT directions private to that topic + NOISE x isotropic noise, normalized. Sentence
# embeddings have an intrinsic dimension in the tens, so LATENT 32; SPREAD 1.0 makes a topic as
# wide as the distance between topics' centres (clusters touch, queries' neighbours are not all
# in one clump); NOISE 0.5 keeps some full-rank fuzz. Calibrated at 100k so that native hnswlib
# sits where the issue quotes it (0.97 at ~9,800 q/s): recall 0.96 at efSearch 16 (~11k q/s),
# 0.99 at 24 (~8.4k). NOISE 1.0 is a little harder (0.93 at ef 16); the difficulty barely moves
# with LATENT between 16 and 48. (The old generator, isotropic noise 2.5x the centre's norm, was
# near-uniform 384-d data: nobody reached 0.95 by ef 200.)
# Override with HNSW_CLUSTERS, HNSW_LATENT, HNSW_SPREAD, HNSW_NOISE.
# HNSW_BENCH_DATA_ONLY=1 skips our index (calibrating the data against hnswlib alone).
# HNSW_LOCK=FILE runs each timed side under `flock FILE` (two shorter holds instead of one long).
set -eu
BUILD=${1:-build}; N=${2:-100000}; DIM=${3:-384}; NQ=${4:-1000}; M=16; EFC=200
CLUSTERS=${HNSW_CLUSTERS:-$((N / 100))}; LATENT=${HNSW_LATENT:-32}; SPREAD=${HNSW_SPREAD:-1.0}; NOISE=${HNSW_NOISE:-0.5}
cd "$(dirname "$0")/.."
[ -f /usr/include/hnswlib/hnswlib.h ] || { echo "hnswlib headers missing: apt-get install libhnswlib-dev" >&2; exit 1; }
[ -f "$BUILD/libhearth.a" ] || { echo "$BUILD/libhearth.a missing: run make BUILD=$BUILD first" >&2; exit 1; }
T=$(mktemp -d /tmp/hnsw-bench-XXXXXX)
trap 'rm -rf "$T"' EXIT
LOCKED=""; [ -n "${HNSW_LOCK:-}" ] && LOCKED="flock $HNSW_LOCK"
LIBS="$(pkg-config --libs sqlite3 libpcre2-8 libutf8proc jansson libcurl libmicrohttpd yaml-0.1 libxml-2.0 poppler-glib) -lm -lpthread"
cc -std=c11 -D_GNU_SOURCE -O3 -march=native -Iinclude -Isrc -o "$T/hearth_hnsw" bench/hnsw-bench/hearth_hnsw.c \
    "$BUILD/libhearth.a" $LIBS
c++ -std=c++17 -O3 -march=native -DNDEBUG -o "$T/hnswlib_bench" bench/hnsw-bench/hnswlib_bench.cpp -lpthread
echo "== $N x $DIM, $NQ queries, single thread, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
$LOCKED "$T/hearth_hnsw" "$N" "$DIM" "$NQ" "$M" "$EFC" "$T" "$CLUSTERS" "$LATENT" "$SPREAD" "$NOISE" | tee "$T/ours.txt"
$LOCKED "$T/hnswlib_bench" "$T" "$M" "$EFC" | tee "$T/theirs.txt"
[ -n "${HNSW_BENCH_DATA_ONLY:-}" ] && exit 0
# Each curve's q/s at the other's recall points: linear between the two efSearch points that
# bracket the recall (no line where a curve never reaches it).
awk '
function at(side, r,   i, f) {
    for (i = 1; i < cnt[side]; i++)
        if (rec[side, i] <= r && r <= rec[side, i + 1]) {
            f = rec[side, i + 1] > rec[side, i] ? (r - rec[side, i]) / (rec[side, i + 1] - rec[side, i]) : 0
            return qps[side, i] + f * (qps[side, i + 1] - qps[side, i])
        }
    return -1
}
$2 == "ef" { s = $1; cnt[s]++; rec[s, cnt[s]] = $5; qps[s, cnt[s]] = $6 }
END {
    print "== at equal recall@10 (interpolated): hearth q/s / hnswlib q/s"
    for (i = 1; i <= cnt["hnswlib"]; i++) {
        r = rec["hnswlib", i]; q = at("hearth", r)
        if (i > 1 && r <= rec["hnswlib", i - 1]) continue  # a plateau (recall 1): only its first point
        if (q > 0) printf "recall %.4f  hearth %8.0f q/s  hnswlib %8.0f q/s  ratio %.2f\n", r, q, qps["hnswlib", i], q / qps["hnswlib", i]
    }
}' "$T/ours.txt" "$T/theirs.txt"
