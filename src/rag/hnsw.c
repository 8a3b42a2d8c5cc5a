/*
 * hnsw.c — Hierarchical Navigable Small World graph over inner product (see hnsw.h).
 *
 * Layout is chosen for search speed. Queries traverse an 8-bit copy of the vectors (vdot.h:
 * one scale per vector, VNNI dot) kept inside each node's 64-byte-aligned layer-0 block next to
 * its links, so scoring a 384-d neighbour reads 6 cache lines instead of 24 for float32, and
 * nearly all of a search's misses are prefetched in batches; the final ef candidates are then re-ranked by exact float dot, so the order and
 * scores returned are exact and only the traversal is approximate. Inserts find their
 * candidates the same way, then rank them and choose links (the neighbour heuristic) with
 * float distances, so the graph is as good as a float-built one. Float vectors live in one
 * contiguous array; upper-layer links per node; "visited" is a stamp per node so a search
 * never clears memory. Distances are -dot(a, b): smaller is closer.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rag/hnsw.h"
#include "rag/rag.h"
#include "rag/vdot.h"

#define MAX_LEVEL 24
#define FILE_MAGIC "HRAGHNSW"
#define FILE_VERSION 1u
#define NONE UINT32_MAX

typedef struct cand {
    float d;
    uint32_t i;
} cand;

/* Binary heap of candidates (see heap_push) */
typedef struct heap {
    cand *a;
    size_t n, cap;
} heap;

struct rag_hnsw {
    int32_t dim, M, M0, efc, efs;
    double ml;
    uint64_t rng;
    size_t n, cap, n_deleted;
    /* layer 0, one block per node: [count, 2M link slots | pad to 64][qdim u8], so expanding
     * a node and scoring it touch neighbouring memory; the 8-bit vectors' scales in their own
     * small array (hot in L2), so scoring reads no line of the link header */
    uint8_t *level0;
    size_t stride, q_off, qdim; /* block size, offset of the 8-bit vector, its padded length */
    float *vecs;                /* n x dim float vectors: inserts and the final re-ranking */
    float *scales;              /* per node: the 8-bit vector's scale */
    bool float_traversal;
    int8_t *qq;                 /* the query, quantized (scratch, qdim) */
    int64_t *ids;
    uint8_t *level, *deleted;
    uint32_t **upper;   /* per node: level x (M + 1) */
    uint32_t entry;
    int32_t max_level;
    int64_t *map_keys;  /* id -> node, open addressing */
    uint32_t *map_vals;
    size_t map_cap;
    uint32_t *visited, stamp;
    heap cands, res;
    cand *sel;          /* scratch for neighbour selection (2 * M0 + 2) */
    rag_dot_fn dot;
    rag_idot_fn idot;
};

/* How a walk measures distance to the query: float dot (inserts) or the 8-bit copy (queries). */
typedef struct qctx {
    const float *q;
    bool quant;
    float mul;    /* -(query scale): distance = idot * node scale * mul */
    int32_t qsum; /* sum of the quantized query */
} qctx;

rag_hnsw_params rag_hnsw_default_params(void)
{
    return (rag_hnsw_params){.M = 16, .ef_construction = 200, .ef_search = 64, .seed = 0x9e3779b97f4a7c15ull};
}

/* ---- heap ----------------------------------------------------------------------------------
 * max: the largest distance on top (the results), else the smallest (the candidates). Always
 * inlined with a constant `max`, so the comparisons carry no run-time branch on it. */
#define HEAP_INLINE static inline __attribute__((always_inline))
HEAP_INLINE bool before(bool max, const cand *x, const cand *y) { return max ? x->d > y->d : x->d < y->d; }

HEAP_INLINE bool heap_push(heap *h, float d, uint32_t i, bool max)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        cand *na = realloc(h->a, cap * sizeof *na);
        if (!na) return false;
        h->a = na;
        h->cap = cap;
    }
    size_t k = h->n++;
    cand c = {d, i};
    while (k > 0) {
        size_t p = (k - 1) / 2;
        if (!before(max, &c, &h->a[p])) break;
        h->a[k] = h->a[p];
        k = p;
    }
    h->a[k] = c;
    return true;
}

/* Puts c at the top's place and sifts it down: pop + push in one pass. */
HEAP_INLINE void heap_replace_top(heap *h, cand c, bool max)
{
    size_t k = 0;
    for (;;) {
        size_t l = 2 * k + 1, r = l + 1, b = k;
        const cand *best = &c;
        if (l < h->n && before(max, &h->a[l], best)) b = l, best = &h->a[l];
        if (r < h->n && before(max, &h->a[r], best)) b = r;
        if (b == k) break;
        h->a[k] = h->a[b];
        k = b;
    }
    h->a[k] = c;
}

HEAP_INLINE cand heap_pop(heap *h, bool max)
{
    cand top = h->a[0], last = h->a[--h->n];
    if (h->n) heap_replace_top(h, last, max);
    return top;
}

/* ---- id map ------------------------------------------------------------------------------- */
static inline size_t map_slot(int64_t id, size_t cap)
{
    uint64_t x = (uint64_t)id + 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return (size_t)(x ^ (x >> 31)) & (cap - 1);
}

static uint32_t map_get(const rag_hnsw *h, int64_t id)
{
    if (!h->map_cap) return NONE;
    for (size_t s = map_slot(id, h->map_cap);; s = (s + 1) & (h->map_cap - 1)) {
        if (h->map_vals[s] == NONE) return NONE;
        if (h->map_keys[s] == id) return h->map_vals[s];
    }
}

static bool map_put(rag_hnsw *h, int64_t id, uint32_t v)
{
    if ((h->n + 1) * 2 > h->map_cap) {
        size_t cap = h->map_cap ? h->map_cap * 2 : 1024;
        int64_t *keys = malloc(cap * sizeof *keys);
        uint32_t *vals = malloc(cap * sizeof *vals);
        if (!keys || !vals) {
            free(keys);
            free(vals);
            return false;
        }
        memset(vals, 0xff, cap * sizeof *vals);
        for (size_t i = 0; i < h->map_cap; i++) {
            if (h->map_vals[i] == NONE) continue;
            size_t s = map_slot(h->map_keys[i], cap);
            while (vals[s] != NONE) s = (s + 1) & (cap - 1);
            keys[s] = h->map_keys[i];
            vals[s] = h->map_vals[i];
        }
        free(h->map_keys);
        free(h->map_vals);
        h->map_keys = keys;
        h->map_vals = vals;
        h->map_cap = cap;
    }
    size_t s = map_slot(id, h->map_cap);
    while (h->map_vals[s] != NONE) s = (s + 1) & (h->map_cap - 1);
    h->map_keys[s] = id;
    h->map_vals[s] = v;
    return true;
}

/* ---- construction ------------------------------------------------------------------------- */
hearth_status rag_hnsw_new(int32_t dim, const rag_hnsw_params *p, rag_hnsw **out, hearth_error *err)
{
    *out = NULL;
    if (dim < 1 || dim > 65536 || p->M < 2 || p->M > 128 || p->ef_construction < 1 || p->ef_search < 1)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                           "hnsw: dim %d, M %d, efConstruction %d, efSearch %d: expected dim 1..65536, "
                           "M 2..128, ef >= 1", dim, p->M, p->ef_construction, p->ef_search);
    rag_hnsw *h = calloc(1, sizeof *h);
    if (!h) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    h->dim = dim;
    h->M = p->M;
    h->M0 = 2 * p->M;
    h->efc = HEARTH_MAX(p->ef_construction, p->M);
    h->efs = p->ef_search;
    h->ml = 1.0 / log((double)p->M);
    h->q_off = ((size_t)(h->M0 + 1) * sizeof(uint32_t) + 63) / 64 * 64;
    h->qdim = ((size_t)dim + 63) / 64 * 64;
    h->stride = h->q_off + h->qdim;
    h->float_traversal = p->float_traversal;
    h->rng = p->seed ? p->seed : 1;
    h->entry = NONE;
    h->max_level = -1;
    h->dot = rag_dot_get();
    h->idot = rag_idot_get();
    h->sel = malloc((size_t)(2 * h->M0 + 2) * sizeof *h->sel);
    h->qq = malloc(h->qdim);
    if (!h->sel || !h->qq) {
        free(h->sel);
        free(h->qq);
        free(h);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    *out = h;
    return HEARTH_OK;
}

void rag_hnsw_free(rag_hnsw *h)
{
    if (!h) return;
    for (size_t i = 0; i < h->n; i++) free(h->upper[i]);
    free(h->upper);
    free(h->level0);
    free(h->vecs);
    free(h->scales);
    free(h->qq);
    free(h->ids);
    free(h->level);
    free(h->deleted);
    free(h->map_keys);
    free(h->map_vals);
    free(h->visited);
    free(h->cands.a);
    free(h->res.a);
    free(h->sel);
    free(h);
}

/* 64-byte aligned; big arrays on 2 MiB boundaries and asked for transparent huge pages: a
 * search jumps between random nodes, and with 4 KiB pages nearly every jump into a 100k-node
 * graph (58 MB of layer 0) would also miss the TLB. */
static void *alloc_nodes(size_t bytes)
{
    size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (posix_memalign(&p, bytes >= 2 * huge ? huge : 64, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= 2 * huge) madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure only costs speed */
#endif
    return p;
}

static bool grow(rag_hnsw *h, size_t need)
{
    if (need <= h->cap) return true;
    size_t cap = h->cap ? h->cap : 1024;
    while (cap < need) cap *= 2;
    size_t bytes;
    if (!hearth_size_mul(cap, h->stride, &bytes) || cap >= NONE) return false;
    /* aligned blocks (realloc would not keep the 64-byte alignment) */
    void *l0, *fv;
    size_t fbytes;
    if (!hearth_size_mul(cap, (size_t)h->dim * sizeof(float), &fbytes) || !(fv = alloc_nodes(fbytes))) return false;
    if (!(l0 = alloc_nodes(bytes))) {
        free(fv);
        return false;
    }
    if (h->level0) memcpy(l0, h->level0, h->cap * h->stride);
    if (h->vecs) memcpy(fv, h->vecs, h->cap * (size_t)h->dim * sizeof(float));
    free(h->level0);
    free(h->vecs);
    h->level0 = l0;
    h->vecs = fv;
#define GROW(field, bytes)                                   \
    do {                                                     \
        void *np_ = realloc(h->field, bytes);                \
        if (!np_) return false;                              \
        h->field = np_;                                      \
    } while (0)
    GROW(ids, cap * sizeof *h->ids);
    GROW(scales, cap * sizeof *h->scales);
    GROW(level, cap);
    GROW(deleted, cap);
    GROW(upper, cap * sizeof *h->upper);
    GROW(visited, cap * sizeof *h->visited);
#undef GROW
    memset(h->visited + h->cap, 0, (cap - h->cap) * sizeof *h->visited);
    h->cap = cap;
    return true;
}

static inline float *vec(const rag_hnsw *h, uint32_t i) { return h->vecs + (size_t)i * (size_t)h->dim; }
static inline uint8_t *qvec(const rag_hnsw *h, uint32_t i) { return h->level0 + (size_t)i * h->stride + h->q_off; }
static inline float *qscale(const rag_hnsw *h, uint32_t i) { return h->scales + i; }
static inline float dist(const rag_hnsw *h, const qctx *c, uint32_t i)
{
    if (c->quant) return (float)h->idot(qvec(h, i), h->qq, c->qsum, h->qdim) * (*qscale(h, i) * c->mul);
    return -h->dot(c->q, vec(h, i), (size_t)h->dim);
}
/* the lines dist() will read for node i */
static inline void prefetch_node(const rag_hnsw *h, const qctx *c, uint32_t i)
{
    if (c->quant) {
        const uint8_t *p = qvec(h, i);
        for (size_t off = 0; off < h->qdim; off += 64) __builtin_prefetch(p + off);
        __builtin_prefetch(qscale(h, i));
    } else {
        __builtin_prefetch(vec(h, i));
    }
}
static inline uint32_t *links(const rag_hnsw *h, uint32_t i, int l)
{
    return l == 0 ? (uint32_t *)(void *)(h->level0 + (size_t)i * h->stride)
                  : h->upper[i] + (size_t)(l - 1) * (size_t)(h->M + 1);
}

static int random_level(rag_hnsw *h)
{
    h->rng ^= h->rng << 13;
    h->rng ^= h->rng >> 7;
    h->rng ^= h->rng << 17;
    double u = ((double)(h->rng >> 11) + 1.0) / 9007199254740993.0; /* (0, 1] */
    int l = (int)(-log(u) * h->ml);
    return l > MAX_LEVEL ? MAX_LEVEL : l;
}

static uint32_t next_stamp(rag_hnsw *h)
{
    if (++h->stamp == 0) {
        memset(h->visited, 0, h->cap * sizeof *h->visited);
        h->stamp = 1;
    }
    return h->stamp;
}

/* Greedy walk on layer l from *cur towards q. */
static void greedy(const rag_hnsw *h, const qctx *q, int l, uint32_t *cur, float *dcur)
{
    bool changed = true;
    while (changed) {
        changed = false;
        const uint32_t *ls = links(h, *cur, l);
        for (uint32_t k = 1; k <= ls[0]; k++) {
            float d = dist(h, q, ls[k]);
            if (d < *dcur) *dcur = d, *cur = ls[k], changed = true;
        }
    }
}

/* Best-first search of layer l from ep; leaves up to ef results in h->res (a max-heap).
 * skip_deleted: tombstones route the search but are not results (queries, not inserts).
 * Each expansion first collects the unvisited neighbours and prefetches all their vectors,
 * so their cache misses overlap instead of being paid one after another. */
static bool search_layer(rag_hnsw *h, const qctx *q, uint32_t ep, float dep, int32_t ef, int l, bool skip_deleted)
{
    uint32_t stamp = next_stamp(h), todo[2 * 128]; /* M <= 128: at most 2M links per node */
    h->cands.n = h->res.n = 0;
    h->visited[ep] = stamp;
    bool ok = heap_push(&h->cands, dep, ep, false);
    if (!skip_deleted || !h->deleted[ep]) ok = ok && heap_push(&h->res, dep, ep, true);
    float bound = h->res.n ? dep : INFINITY;
    bool any_deleted = skip_deleted && h->n_deleted;
    while (ok && h->cands.n) {
        cand c = h->cands.a[0];
        if (c.d > bound && ((int32_t)h->res.n >= ef || !any_deleted)) break;
        heap_pop(&h->cands, false);
        const uint32_t *ls = links(h, c.i, l);
        uint32_t cnt = ls[0], n = 0;
        for (uint32_t k = 1; k <= cnt; k++) {
            uint32_t e = ls[k];
            if (h->visited[e] == stamp) continue;
            h->visited[e] = stamp;
            prefetch_node(h, q, e);
            todo[n++] = e;
        }
        if (n && h->cands.n) __builtin_prefetch(links(h, h->cands.a[0].i, l)); /* likely the next expanded */
        for (uint32_t k = 0; k < n; k++) {
            uint32_t e = todo[k];
            float d = dist(h, q, e);
            if ((int32_t)h->res.n < ef || d < bound) {
                ok = ok && heap_push(&h->cands, d, e, false);
                if (!skip_deleted || !h->deleted[e]) {
                    if ((int32_t)h->res.n < ef) ok = ok && heap_push(&h->res, d, e, true);
                    else heap_replace_top(&h->res, (cand){d, e}, true);
                }
                if (h->res.n) bound = h->res.a[0].d;
            }
        }
    }
    return ok;
}

/* The walk's context for vector q: 8-bit (q quantized into h->qq) unless float_traversal. */
static qctx query_ctx(rag_hnsw *h, const float *q)
{
    qctx ctx = {.q = q, .quant = !h->float_traversal};
    if (ctx.quant) {
        ctx.mul = -rag_quant_s8(q, (size_t)h->dim, h->qdim, h->qq, &ctx.qsum);
    }
    return ctx;
}

/* Replaces c's distances (from an 8-bit walk) by exact float ones. */
static void exact_distances(const rag_hnsw *h, const float *q, cand *c, size_t n)
{
    size_t bytes = (size_t)h->dim * sizeof(float);
    for (size_t i = 0; i < n; i++) /* all their misses at once */
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch((const char *)vec(h, c[i].i) + off);
    for (size_t i = 0; i < n; i++) c[i].d = -h->dot(q, vec(h, c[i].i), (size_t)h->dim);
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return x->d < y->d ? -1 : x->d > y->d ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* The heuristic of the HNSW paper: keep a candidate only if it is closer to the base than to
 * every neighbour already kept, which spreads links over directions instead of clumping them
 * inside one cluster. c is sorted by distance to the base; returns how many it kept in place. */
static size_t select_neighbours(const rag_hnsw *h, cand *c, size_t n, size_t max)
{
    size_t kept = 0;
    for (size_t i = 0; i < n && kept < max; i++) {
        bool good = true;
        for (size_t j = 0; j < kept && good; j++)
            if (-h->dot(vec(h, c[i].i), vec(h, c[j].i), (size_t)h->dim) < c[i].d) good = false;
        if (good) c[kept++] = c[i];
    }
    return kept;
}

/* Adds a link s -> x on layer l, re-selecting s's links when it has too many. */
static void link_to(rag_hnsw *h, uint32_t s, uint32_t x, int l)
{
    uint32_t *ls = links(h, s, l);
    uint32_t cap = (uint32_t)(l == 0 ? h->M0 : h->M);
    for (uint32_t k = 1; k <= ls[0]; k++)
        if (ls[k] == x) return;
    if (ls[0] < cap) {
        ls[++ls[0]] = x;
        return;
    }
    size_t n = 0;
    for (uint32_t k = 1; k <= ls[0]; k++) h->sel[n++] = (cand){-h->dot(vec(h, s), vec(h, ls[k]), (size_t)h->dim), ls[k]};
    h->sel[n++] = (cand){-h->dot(vec(h, s), vec(h, x), (size_t)h->dim), x};
    qsort(h->sel, n, sizeof *h->sel, cmp_cand);
    size_t kept = select_neighbours(h, h->sel, n, cap);
    ls[0] = (uint32_t)kept;
    for (size_t k = 0; k < kept; k++) ls[k + 1] = h->sel[k].i;
}

hearth_status rag_hnsw_add(rag_hnsw *h, int64_t id, const float *v, hearth_error *err)
{
    if (map_get(h, id) != NONE) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hnsw: id %lld is already present", (long long)id);
    if (!grow(h, h->n + 1)) return hearth_fail(err, HEARTH_ERR_NOMEM, "hnsw: out of memory growing to %zu nodes", h->n + 1);
    uint32_t x = (uint32_t)h->n;
    int lv = random_level(h);
    h->upper[x] = NULL;
    if (lv > 0 && !(h->upper[x] = calloc((size_t)lv * (size_t)(h->M + 1), sizeof(uint32_t))))
        return hearth_fail(err, HEARTH_ERR_NOMEM, "hnsw: out of memory");
    if (!map_put(h, id, x)) {
        free(h->upper[x]);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "hnsw: out of memory");
    }
    memcpy(vec(h, x), v, (size_t)h->dim * sizeof(float));
    *qscale(h, x) = rag_quant_u8(v, (size_t)h->dim, h->qdim, qvec(h, x));
    h->ids[x] = id;
    h->level[x] = (uint8_t)lv;
    h->deleted[x] = 0;
    links(h, x, 0)[0] = 0;
    h->visited[x] = 0;
    h->n++;
    if (h->entry == NONE) {
        h->entry = x;
        h->max_level = lv;
        return HEARTH_OK;
    }
    /* the candidates are found like a query's (8-bit walk), then ranked and pruned in float */
    qctx ctx = query_ctx(h, v);
    uint32_t cur = h->entry;
    float dcur = dist(h, &ctx, cur);
    for (int l = h->max_level; l > lv; l--) greedy(h, &ctx, l, &cur, &dcur);
    for (int l = HEARTH_MIN(lv, h->max_level); l >= 0; l--) {
        if (!search_layer(h, &ctx, cur, dcur, h->efc, l, false))
            return hearth_fail(err, HEARTH_ERR_NOMEM, "hnsw: out of memory");
        size_t n = h->res.n;
        cand *c = h->res.a; /* reuse the heap's array: sorted ascending, it is the candidate list */
        if (ctx.quant) exact_distances(h, v, c, n);
        qsort(c, n, sizeof *c, cmp_cand);
        cur = c[0].i;
        dcur = ctx.quant ? dist(h, &ctx, cur) : c[0].d; /* the next layer walks in the walk's metric */
        size_t kept = select_neighbours(h, c, n, (size_t)h->M);
        uint32_t *ls = links(h, x, l);
        ls[0] = (uint32_t)kept;
        for (size_t k = 0; k < kept; k++) ls[k + 1] = c[k].i;
        for (size_t k = 0; k < kept; k++) link_to(h, ls[k + 1], x, l);
    }
    if (lv > h->max_level) {
        h->max_level = lv;
        h->entry = x;
    }
    return HEARTH_OK;
}

bool rag_hnsw_remove(rag_hnsw *h, int64_t id)
{
    uint32_t x = map_get(h, id);
    if (x == NONE || h->deleted[x]) return false;
    h->deleted[x] = 1;
    h->n_deleted++;
    return true;
}

bool rag_hnsw_contains(const rag_hnsw *h, int64_t id)
{
    uint32_t x = map_get(h, id);
    return x != NONE && !h->deleted[x];
}

size_t rag_hnsw_live(const rag_hnsw *h) { return h->n - h->n_deleted; }
size_t rag_hnsw_nodes(const rag_hnsw *h) { return h->n; }
int32_t rag_hnsw_dim(const rag_hnsw *h) { return h->dim; }

int64_t rag_hnsw_id_at(const rag_hnsw *h, size_t i, bool *deleted)
{
    *deleted = h->deleted[i] != 0;
    return h->ids[i];
}

int32_t rag_hnsw_search(rag_hnsw *h, const float *q, int32_t k, int32_t ef, int64_t *ids, float *scores)
{
    if (k <= 0 || h->entry == NONE || rag_hnsw_live(h) == 0) return 0;
    ef = HEARTH_MAX(ef > 0 ? ef : h->efs, k);
    qctx ctx = query_ctx(h, q);
    uint32_t cur = h->entry;
    float dcur = dist(h, &ctx, cur);
    for (int l = h->max_level; l > 0; l--) greedy(h, &ctx, l, &cur, &dcur);
    if (!search_layer(h, &ctx, cur, dcur, ef, 0, true)) return 0;
    /* exact scores for the survivors of the 8-bit walk, then the k best of them in order */
    cand *c = h->res.a;
    size_t n = h->res.n;
    if (ctx.quant) exact_distances(h, q, c, n);
    qsort(c, n, sizeof *c, cmp_cand);
    h->res.n = 0; /* no longer a heap */
    int32_t m = (int32_t)HEARTH_MIN(n, (size_t)k);
    for (int32_t i = 0; i < m; i++) {
        ids[i] = h->ids[c[i].i];
        scores[i] = -c[i].d;
    }
    return m;
}

/* ---- file format ---------------------------------------------------------------------------
 * "HRAGHNSW" u32 version, u32 dim, u32 M, u32 efConstruction, u32 efSearch, u64 n, u32 entry,
 * i32 max_level, u64 tag; then per node: i64 id, u8 level, u8 deleted, dim f32, (2M+1) u32
 * layer-0 links, level x (M+1) u32 upper links; then u64 FNV-1a of everything before it.
 * Little-endian host order (the file is a cache: a mismatch only costs a rebuild). */
typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
} wbuf;

static void put(wbuf *b, const void *d, size_t n)
{
    if (b->oom) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n) cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
}
#define PUT(b, v) put(b, &(v), sizeof(v))

hearth_status rag_hnsw_save(const rag_hnsw *h, const char *path, uint64_t tag, hearth_error *err)
{
    wbuf b = {0};
    uint32_t version = FILE_VERSION, dim = (uint32_t)h->dim, M = (uint32_t)h->M, efc = (uint32_t)h->efc,
             efs = (uint32_t)h->efs;
    uint64_t n = h->n;
    put(&b, FILE_MAGIC, 8);
    PUT(&b, version);
    PUT(&b, dim);
    PUT(&b, M);
    PUT(&b, efc);
    PUT(&b, efs);
    PUT(&b, n);
    PUT(&b, h->entry);
    PUT(&b, h->max_level);
    PUT(&b, tag);
    for (size_t i = 0; i < h->n; i++) {
        PUT(&b, h->ids[i]);
        PUT(&b, h->level[i]);
        PUT(&b, h->deleted[i]);
        put(&b, vec(h, (uint32_t)i), (size_t)h->dim * sizeof(float));
        put(&b, links(h, (uint32_t)i, 0), (size_t)(h->M0 + 1) * sizeof(uint32_t));
        if (h->level[i]) put(&b, h->upper[i], (size_t)h->level[i] * (size_t)(h->M + 1) * sizeof(uint32_t));
    }
    uint64_t sum = b.oom ? 0 : rag_hash64(b.p, b.len, 0);
    PUT(&b, sum);
    hearth_status st = b.oom ? hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory serializing index", path)
                             : hearth_write_file_atomic(path, b.p, b.len, err);
    free(b.p);
    return st;
}

typedef struct rbuf {
    const uint8_t *p;
    size_t len, off;
} rbuf;

static bool get(rbuf *b, void *d, size_t n)
{
    if (n > b->len - b->off) return false;
    memcpy(d, b->p + b->off, n);
    b->off += n;
    return true;
}
#define GET(b, v) get(b, &(v), sizeof(v))

hearth_status rag_hnsw_load(const char *path, rag_hnsw **out, uint64_t *tag, hearth_error *err)
{
    *out = NULL;
    char *data;
    size_t len;
    hearth_status st = hearth_read_file(path, SIZE_MAX / 2, &data, &len, err);
    if (st != HEARTH_OK) return st;
    rbuf b = {(const uint8_t *)data, len, 0};
    rag_hnsw *h = NULL;
    const char *what = "truncated";
    uint64_t sum, n;
    uint32_t version, dim, M, efc, efs, entry;
    int32_t max_level;
    if (len < 8 + 8 || memcmp(data, FILE_MAGIC, 8) != 0) {
        what = "not an HNSW index (bad magic)";
        goto bad;
    }
    memcpy(&sum, data + len - 8, 8);
    if (rag_hash64(data, len - 8, 0) != sum) {
        what = "checksum mismatch";
        goto bad;
    }
    b.len = len - 8;
    b.off = 8;
    if (!GET(&b, version) || !GET(&b, dim) || !GET(&b, M) || !GET(&b, efc) || !GET(&b, efs) || !GET(&b, n) ||
        !GET(&b, entry) || !GET(&b, max_level) || !GET(&b, *tag))
        goto bad;
    if (version != FILE_VERSION) {
        what = "unknown version";
        goto bad;
    }
    rag_hnsw_params p = {.M = (int32_t)M, .ef_construction = (int32_t)efc, .ef_search = (int32_t)efs, .seed = 1};
    if (M > 128 || efc > 1u << 20 || efs > 1u << 20 || dim > 65536 ||
        rag_hnsw_new((int32_t)dim, &p, &h, err) != HEARTH_OK) {
        what = "bad header";
        goto bad;
    }
    /* each node needs at least its fixed part: bound n by the file size before allocating */
    size_t node_min = 8 + 2 + (size_t)dim * 4 + (size_t)(2 * M + 1) * 4;
    if (n > (b.len - b.off) / node_min || !grow(h, (size_t)n)) goto bad;
    for (size_t i = 0; i < n; i++) {
        uint8_t lv, del;
        int64_t id;
        if (!GET(&b, id) || !GET(&b, lv) || !GET(&b, del) || lv > MAX_LEVEL || del > 1) goto bad;
        h->upper[i] = NULL;
        h->n = i; /* nodes below i own their upper arrays (freed on error) */
        if (!get(&b, vec(h, (uint32_t)i), (size_t)dim * 4) || !get(&b, links(h, (uint32_t)i, 0), (size_t)(2 * M + 1) * 4))
            goto bad;
        *qscale(h, (uint32_t)i) = rag_quant_u8(vec(h, (uint32_t)i), dim, h->qdim, qvec(h, (uint32_t)i));
        if (lv) {
            size_t words = (size_t)lv * (M + 1);
            if (!(h->upper[i] = malloc(words * 4)) || !get(&b, h->upper[i], words * 4)) {
                free(h->upper[i]);
                goto bad;
            }
        }
        h->n = i + 1;
        h->ids[i] = id;
        h->level[i] = lv;
        h->deleted[i] = del;
        h->n_deleted += del;
        h->visited[i] = 0;
        if (map_get(h, id) != NONE || !map_put(h, id, (uint32_t)i)) {
            what = "duplicate id";
            goto bad;
        }
    }
    if (b.off != b.len) {
        what = "trailing bytes";
        goto bad;
    }
    /* every link must name an existing node: a search must never read out of bounds */
    for (size_t i = 0; i < n; i++)
        for (int l = 0; l <= h->level[i]; l++) {
            const uint32_t *ls = links(h, (uint32_t)i, l);
            if (ls[0] > (uint32_t)(l ? M : 2 * M)) goto badlinks;
            for (uint32_t k = 1; k <= ls[0]; k++)
                if (ls[k] >= n || h->level[ls[k]] < l) goto badlinks;
        }
    if (n ? (entry >= n || max_level != h->level[entry]) : entry != NONE) {
        what = "bad entry point";
        goto bad;
    }
    h->entry = entry;
    h->max_level = n ? max_level : -1;
    free(data);
    *out = h;
    return HEARTH_OK;
badlinks:
    what = "link out of range";
bad:
    rag_hnsw_free(h);
    free(data);
    return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: HNSW index: %s", path, what);
}
