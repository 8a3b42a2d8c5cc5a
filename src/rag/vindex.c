/*
 * vindex.c — the vector index of a store: exact search over one contiguous matrix for small
 * stores (no index to keep in step, and exact is fast up to tens of thousands of vectors),
 * HNSW above a threshold, persisted next to the store and synced by diffing chunk ids (chunk
 * ids are AUTOINCREMENT, never reused, so "id in index but not in store" means deleted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "rag/search.h"
#include "rag/vdot.h"

struct rag_vindex {
    int32_t dim;
    int64_t *ids; /* exact: n ids and an n x dim matrix */
    float *vecs;
    size_t n;
    rag_hnsw *hnsw;
    rag_dot_fn dot;
};

rag_vindex_params rag_vindex_default_params(void)
{
    return (rag_vindex_params){.hnsw_threshold = 20000, .hnsw = rag_hnsw_default_params()};
}

int32_t rag_exact_search(const float *mat, const int64_t *ids, size_t n, int32_t dim, const float *q, int32_t k,
                         bool (*keep)(void *u, int64_t id), void *u, int64_t *out_ids, float *out_scores)
{
    rag_dot_fn dot = rag_dot_get();
    int32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        float s = dot(mat + i * (size_t)dim, q, (size_t)dim);
        if (m == k && s <= out_scores[k - 1]) continue;
        if (keep && !keep(u, ids[i])) continue;
        /* insertion into the sorted top-k (k is small) */
        int32_t j = m < k ? m++ : k - 1;
        while (j > 0 && out_scores[j - 1] < s) {
            out_scores[j] = out_scores[j - 1];
            out_ids[j] = out_ids[j - 1];
            j--;
        }
        out_scores[j] = s;
        out_ids[j] = ids[i];
    }
    return m;
}

static char *index_path(rag_store *s)
{
    size_t n = strlen(rag_store_path(s)) + 8;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s.hnsw", rag_store_path(s));
    return p;
}

static hearth_status build(rag_vindex *v, rag_store *s, const rag_vindex_params *p, hearth_error *err)
{
    int64_t *ids;
    float *vecs;
    size_t n;
    int32_t dim;
    hearth_status st = rag_store_load_vectors(s, &ids, &vecs, &n, &dim, err);
    if (st != HEARTH_OK) return st;
    rag_hnsw_free(v->hnsw);
    v->hnsw = NULL;
    if ((st = rag_hnsw_new(dim, &p->hnsw, &v->hnsw, err)) == HEARTH_OK)
        for (size_t i = 0; i < n && st == HEARTH_OK; i++) st = rag_hnsw_add(v->hnsw, ids[i], vecs + i * (size_t)dim, err);
    free(ids);
    free(vecs);
    return st;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Brings a loaded index in step with the store: tombstones for gone chunks, inserts for new. */
static hearth_status sync(rag_vindex *v, rag_store *s, hearth_error *err)
{
    sqlite3 *db = rag_store_db(s);
    sqlite3_stmt *q, *one;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    if (sqlite3_prepare_v2(db, "SELECT chunk_id FROM embeddings ORDER BY chunk_id", -1, &q, NULL) != SQLITE_OK)
        return hearth_fail(err, HEARTH_ERR_IO, "%s: %s", rag_store_path(s), sqlite3_errmsg(db));
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            int64_t *ni = realloc(ids, cap * sizeof *ni);
            if (!ni) {
                free(ids);
                sqlite3_finalize(q);
                return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
            }
            ids = ni;
        }
        ids[n++] = sqlite3_column_int64(q, 0);
    }
    sqlite3_finalize(q);
    for (size_t i = 0; i < rag_hnsw_nodes(v->hnsw); i++) {
        bool del;
        int64_t id = rag_hnsw_id_at(v->hnsw, i, &del);
        if (!del && !bsearch(&id, ids, n, sizeof *ids, cmp_i64)) rag_hnsw_remove(v->hnsw, id);
    }
    hearth_status st = HEARTH_OK;
    if (sqlite3_prepare_v2(db, "SELECT vector FROM embeddings WHERE chunk_id = ?", -1, &one, NULL) != SQLITE_OK) {
        free(ids);
        return hearth_fail(err, HEARTH_ERR_IO, "%s: %s", rag_store_path(s), sqlite3_errmsg(db));
    }
    for (size_t i = 0; i < n && st == HEARTH_OK; i++) {
        if (rag_hnsw_contains(v->hnsw, ids[i])) continue;
        sqlite3_reset(one);
        sqlite3_bind_int64(one, 1, ids[i]);
        if (sqlite3_step(one) != SQLITE_ROW || sqlite3_column_bytes(one, 0) != v->dim * (int)sizeof(float)) {
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: embedding of chunk %lld is missing or has the wrong size",
                             rag_store_path(s), (long long)ids[i]);
            break;
        }
        st = rag_hnsw_add(v->hnsw, ids[i], sqlite3_column_blob(one, 0), err);
    }
    sqlite3_finalize(one);
    free(ids);
    return st;
}

hearth_status rag_vindex_open(rag_store *s, const rag_vindex_params *p, rag_vindex **out, hearth_error *err)
{
    *out = NULL;
    rag_vindex *v = calloc(1, sizeof *v);
    if (!v) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    v->dot = rag_dot_get();
    char name[256];
    sqlite3 *db = rag_store_db(s);
    /* one read transaction: the generation and the vectors come from the same snapshot */
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    rag_store_stats stats;
    hearth_status st = rag_store_model(s, name, sizeof name, &v->dim, err);
    if (st == HEARTH_OK) st = rag_store_stats_get(s, &stats, err);
    if (st != HEARTH_OK) goto done;
    if (v->dim <= 0) {
        st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: store has no embeddings (ingested without --model)",
                         rag_store_path(s));
        goto done;
    }
    if ((size_t)stats.embeddings < p->hnsw_threshold) {
        int32_t dim;
        st = rag_store_load_vectors(s, &v->ids, &v->vecs, &v->n, &dim, err);
        goto done;
    }
    char *path = index_path(s);
    if (!path) {
        st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        goto done;
    }
    uint64_t tag = 0;
    hearth_error lerr = {0};
    bool fresh = false;
    if (rag_hnsw_load(path, &v->hnsw, &tag, &lerr) != HEARTH_OK) {
        if (lerr.status != HEARTH_ERR_IO) hearth_warn("%s; rebuilding it from the store", lerr.message);
    } else if (rag_hnsw_dim(v->hnsw) != v->dim) {
        hearth_warn("%s: index has %d dims, store %d; rebuilding it", path, rag_hnsw_dim(v->hnsw), v->dim);
        rag_hnsw_free(v->hnsw);
        v->hnsw = NULL;
    } else {
        fresh = tag == (uint64_t)stats.generation;
    }
    if (!fresh) {
        if (v->hnsw) st = sync(v, s, err);
        if (st == HEARTH_OK && (!v->hnsw || rag_hnsw_nodes(v->hnsw) > rag_hnsw_live(v->hnsw) * 5 / 4))
            st = build(v, s, p, err);
        hearth_error serr = {0};
        if (st == HEARTH_OK && rag_hnsw_save(v->hnsw, path, (uint64_t)stats.generation, &serr) != HEARTH_OK)
            hearth_warn("%s (the index is rebuilt on the next search)", serr.message);
    }
    free(path);
done:
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (st != HEARTH_OK) {
        rag_vindex_free(v);
        return st;
    }
    *out = v;
    return HEARTH_OK;
}

void rag_vindex_free(rag_vindex *v)
{
    if (!v) return;
    free(v->ids);
    free(v->vecs);
    rag_hnsw_free(v->hnsw);
    free(v);
}

bool rag_vindex_is_hnsw(const rag_vindex *v) { return v->hnsw != NULL; }
size_t rag_vindex_size(const rag_vindex *v) { return v->hnsw ? rag_hnsw_live(v->hnsw) : v->n; }

int32_t rag_vindex_search(rag_vindex *v, const float *q, int32_t k, int32_t ef, bool (*keep)(void *u, int64_t id),
                          void *u, int64_t *ids, float *scores)
{
    if (!v->hnsw) return rag_exact_search(v->vecs, v->ids, v->n, v->dim, q, k, keep, u, ids, scores);
    if (!keep) return rag_hnsw_search(v->hnsw, q, k, ef, ids, scores);
    /* filtered: over-fetch, then keep the first k that pass */
    int32_t want = (int32_t)HEARTH_MIN((size_t)k * 10 + 50, rag_hnsw_live(v->hnsw));
    int64_t *tid = malloc((size_t)want * sizeof *tid);
    float *tsc = malloc((size_t)want * sizeof *tsc);
    int32_t m = 0;
    if (tid && tsc) {
        int32_t got = rag_hnsw_search(v->hnsw, q, want, HEARTH_MAX(ef, want), tid, tsc);
        for (int32_t i = 0; i < got && m < k; i++)
            if (keep(u, tid[i])) ids[m] = tid[i], scores[m++] = tsc[i];
    }
    free(tid);
    free(tsc);
    return m;
}
