/*
 * search.c — vector, BM25 and hybrid search over a store, results with their source.
 *
 * Hybrid uses reciprocal rank fusion (Cormack et al. 2009) rather than mixing raw scores:
 * BM25 scores and cosine similarities live on unrelated scales, ranks do not.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "rag/search.h"

rag_search_params rag_search_default_params(void)
{
    return (rag_search_params){.mode = RAG_MODE_HYBRID, .k = 5, .index = rag_vindex_default_params()};
}

bool rag_path_matches(const char *glob, const char *path)
{
    if (!glob || !*glob) return true;
    if (fnmatch(glob, path, 0) == 0) return true;
    /* a relative pattern (docs/ANY.md, handbook.md) matches at any directory boundary */
    if (glob[0] != '/' && glob[0] != '*') {
        size_t n = strlen(glob);
        char *g = malloc(n + 3);
        if (!g) return false;
        memcpy(g, "*/", 2);
        memcpy(g + 2, glob, n + 1);
        bool ok = fnmatch(g, path, 0) == 0;
        free(g);
        return ok;
    }
    return false;
}

typedef struct rrf_entry {
    int64_t id;
    double score;
} rrf_entry;

static int cmp_rrf(const void *a, const void *b)
{
    const rrf_entry *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

int32_t rag_rrf(const int64_t *const *lists, const int32_t *lens, int32_t n_lists, int32_t k, int64_t *out_ids,
                double *out_scores)
{
    size_t total = 0;
    for (int32_t l = 0; l < n_lists; l++) total += (size_t)HEARTH_MAX(lens[l], 0);
    rrf_entry *e = malloc((total ? total : 1) * sizeof *e);
    if (!e) return 0;
    size_t n = 0;
    for (int32_t l = 0; l < n_lists; l++)
        for (int32_t r = 0; r < lens[l]; r++) {
            double add = 1.0 / (RAG_RRF_K + r + 1);
            size_t j = 0;
            while (j < n && e[j].id != lists[l][r]) j++; /* lists are short (tens of ids) */
            if (j == n) e[n++] = (rrf_entry){lists[l][r], 0};
            e[j].score += add;
        }
    qsort(e, n, sizeof *e, cmp_rrf);
    int32_t m = (int32_t)HEARTH_MIN(n, (size_t)HEARTH_MAX(k, 0));
    for (int32_t i = 0; i < m; i++) {
        out_ids[i] = e[i].id;
        if (out_scores) out_scores[i] = e[i].score;
    }
    free(e);
    return m;
}

typedef struct filter_ctx {
    sqlite3_stmt *q;
    const char *glob;
} filter_ctx;

static bool keep_chunk(void *u, int64_t id)
{
    filter_ctx *f = u;
    sqlite3_reset(f->q);
    sqlite3_bind_int64(f->q, 1, id);
    if (sqlite3_step(f->q) != SQLITE_ROW) return false;
    return rag_path_matches(f->glob, (const char *)sqlite3_column_text(f->q, 0));
}

void rag_hits_free(rag_hit *hits, int32_t n)
{
    if (!hits) return;
    for (int32_t i = 0; i < n; i++) rag_hit_clear(&hits[i]);
    free(hits);
}

static hearth_status vector_part(rag_store *s, const char *query, const rag_search_params *p, int32_t want,
                                 filter_ctx *f, int64_t *ids, double *scores, int32_t *n, hearth_error *err)
{
    const rag_embedder *emb = p->embedder;
    *n = 0;
    if (!emb)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "vector and hybrid search need an embedding model (--model)");
    hearth_status st = rag_store_check_model(s, emb, false, err);
    if (st != HEARTH_OK) return st;
    float *q = malloc((size_t)emb->dim * sizeof *q);
    float *sc = malloc((size_t)want * sizeof *sc);
    rag_vindex *v = NULL;
    size_t len = strlen(query);
    if (!q || !sc) st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    if (st == HEARTH_OK) st = emb->embed(emb->self, &query, &len, 1, q, err);
    if (st == HEARTH_OK) st = rag_vindex_open(s, &p->index, &v, err);
    if (st == HEARTH_OK) {
        *n = rag_vindex_search(v, q, want, p->ef_search, f->glob ? keep_chunk : NULL, f, ids, sc);
        for (int32_t i = 0; i < *n; i++) scores[i] = sc[i];
    }
    rag_vindex_free(v);
    free(q);
    free(sc);
    return st;
}

static hearth_status bm25_part(rag_store *s, const char *query, int32_t want, filter_ctx *f, int64_t *ids,
                               double *scores, int32_t *n, hearth_error *err)
{
    /* with a filter, over-fetch and keep the first `want` that pass */
    int32_t fetch = f->glob ? HEARTH_MAX(want * 20, 500) : want;
    int64_t *tid = malloc((size_t)fetch * sizeof *tid);
    double *tsc = malloc((size_t)fetch * sizeof *tsc);
    int32_t got = 0;
    hearth_status st = tid && tsc ? rag_store_bm25(s, query, fetch, tid, tsc, &got, err)
                                  : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    *n = 0;
    for (int32_t i = 0; st == HEARTH_OK && i < got && *n < want; i++)
        if (!f->glob || keep_chunk(f, tid[i])) ids[*n] = tid[i], scores[(*n)++] = tsc[i];
    free(tid);
    free(tsc);
    return st;
}

hearth_status rag_search(rag_store *s, const char *query, const rag_search_params *p, rag_hit **hits,
                         int32_t *n_hits, hearth_error *err)
{
    *hits = NULL;
    *n_hits = 0;
    if (p->k < 1 || p->k > 10000) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "k = %d: expected 1..10000", p->k);
    int32_t want = p->mode == RAG_MODE_HYBRID ? HEARTH_MAX(p->k * 4, 50) : p->k;
    filter_ctx f = {NULL, p->path_glob && *p->path_glob ? p->path_glob : NULL};
    sqlite3 *db = rag_store_db(s);
    if (f.glob && sqlite3_prepare_v2(db, "SELECT d.path FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id = ?",
                                     -1, &f.q, NULL) != SQLITE_OK)
        return hearth_fail(err, HEARTH_ERR_IO, "%s: %s", rag_store_path(s), sqlite3_errmsg(db));
    int64_t *vid = malloc((size_t)want * sizeof *vid), *bid = malloc((size_t)want * sizeof *bid);
    double *vsc = malloc((size_t)want * sizeof *vsc), *bsc = malloc((size_t)want * sizeof *bsc);
    int32_t nv = 0, nb = 0;
    hearth_status st = vid && bid && vsc && bsc ? HEARTH_OK : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    if (st == HEARTH_OK && p->mode != RAG_MODE_BM25) st = vector_part(s, query, p, want, &f, vid, vsc, &nv, err);
    if (st == HEARTH_OK && p->mode != RAG_MODE_VECTOR) st = bm25_part(s, query, want, &f, bid, bsc, &nb, err);
    const int64_t *ids = p->mode == RAG_MODE_BM25 ? bid : vid;
    const double *scores = p->mode == RAG_MODE_BM25 ? bsc : vsc;
    int32_t n = p->mode == RAG_MODE_BM25 ? nb : nv;
    if (st == HEARTH_OK && p->mode == RAG_MODE_HYBRID) {
        const int64_t *lists[2] = {vid, bid};
        int32_t lens[2] = {nv, nb};
        /* fused into the bm25 arrays (they are no longer needed as they were) */
        int64_t *fid = malloc((size_t)want * sizeof *fid);
        if (!fid) {
            st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        } else {
            n = rag_rrf(lists, lens, 2, p->k, fid, vsc);
            memcpy(vid, fid, (size_t)n * sizeof *fid);
            free(fid);
            ids = vid;
            scores = vsc;
        }
    }
    n = HEARTH_MIN(n, p->k);
    rag_hit *out = st == HEARTH_OK ? calloc((size_t)(n ? n : 1), sizeof *out) : NULL;
    if (st == HEARTH_OK && !out) st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    int32_t m = 0;
    for (int32_t i = 0; st == HEARTH_OK && i < n; i++) {
        bool found;
        st = rag_store_chunk_get(s, ids[i], &out[m], &found, err);
        if (st == HEARTH_OK && found) out[m++].score = scores[i];
    }
    free(vid);
    free(bid);
    free(vsc);
    free(bsc);
    sqlite3_finalize(f.q);
    if (st != HEARTH_OK) {
        rag_hits_free(out, m);
        return st;
    }
    *hits = out;
    *n_hits = m;
    return HEARTH_OK;
}

static bool word_char(unsigned char c) { return c >= 0x80 || isalnum(c); }

char *rag_snippet(const char *text, const char *query, size_t max_len)
{
    size_t tl = strlen(text), at = 0;
    bool hit = false;
    /* earliest occurrence of any query word of 3+ characters, case-insensitive */
    for (const char *w = query ? query : ""; *w;) {
        while (*w && !word_char((unsigned char)*w)) w++;
        const char *we = w;
        while (*we && word_char((unsigned char)*we)) we++;
        size_t wl = (size_t)(we - w);
        if (wl >= 3)
            for (size_t i = 0; i + wl <= tl && (!hit || i < at); i++)
                if (strncasecmp(text + i, w, wl) == 0) {
                    if (!hit || i < at) at = i;
                    hit = true;
                    break;
                }
        w = we;
    }
    size_t start = hit && at > max_len / 4 ? at - max_len / 4 : 0;
    while (start > 0 && ((unsigned char)text[start] & 0xc0) == 0x80) start--;
    char *out = malloc(max_len + 8);
    if (!out) return NULL;
    size_t o = 0;
    if (start) o += (size_t)sprintf(out, "...");
    bool space = false;
    size_t i = start;
    for (; i < tl && o < max_len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (isspace(c) || c == '\f') {
            space = o > 0;
            continue;
        }
        if (space) out[o++] = ' ', space = false;
        out[o++] = (char)c;
    }
    /* do not cut a UTF-8 sequence in half */
    while (o > 0 && i < tl && ((unsigned char)text[i] & 0xc0) == 0x80) {
        i--;
        o--;
    }
    out[o] = 0;
    if (i < tl) strcat(out, "...");
    return out;
}
