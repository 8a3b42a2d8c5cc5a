/*
 * search.h — queries over a store: vector (exact below a size threshold, HNSW above), BM25
 * (FTS5) and hybrid (reciprocal rank fusion of the two), with a path-glob filter.
 */
#ifndef HEARTH_RAG_SEARCH_H
#define HEARTH_RAG_SEARCH_H

#include "rag/hnsw.h"
#include "rag/rag.h"

typedef enum rag_mode { RAG_MODE_VECTOR = 0, RAG_MODE_BM25, RAG_MODE_HYBRID } rag_mode;

/* ---- vector index over a store -------------------------------------------------------------- */
typedef struct rag_vindex rag_vindex;

typedef struct rag_vindex_params {
    size_t hnsw_threshold;      /* at or above this many vectors use HNSW; below, exact     */
    rag_hnsw_params hnsw;
} rag_vindex_params;
rag_vindex_params rag_vindex_default_params(void);

/* Loads the store's vectors. Above the threshold, the HNSW file next to the store
 * (STORE.hnsw) is loaded and brought up to date incrementally (inserts for new chunks,
 * tombstones for removed ones; rebuilt when missing, corrupt, or a quarter tombstones),
 * then saved. */
hearth_status rag_vindex_open(rag_store *s, const rag_vindex_params *p, rag_vindex **out, hearth_error *err);
void rag_vindex_free(rag_vindex *v);
bool rag_vindex_is_hnsw(const rag_vindex *v);
size_t rag_vindex_size(const rag_vindex *v);
/* k best chunks for a normalized query vector; keep(id) filters (NULL: all). */
int32_t rag_vindex_search(rag_vindex *v, const float *q, int32_t k, int32_t ef,
                          bool (*keep)(void *u, int64_t id), void *u, int64_t *ids, float *scores);

/* Exact top-k by inner product over an n x dim row-major matrix. */
int32_t rag_exact_search(const float *mat, const int64_t *ids, size_t n, int32_t dim, const float *q,
                         int32_t k, bool (*keep)(void *u, int64_t id), void *u, int64_t *out_ids,
                         float *out_scores);

/* ---- fusion --------------------------------------------------------------------------------- */
#define RAG_RRF_K 60
/* Reciprocal rank fusion: score(d) = sum over lists of 1 / (RAG_RRF_K + rank), rank from 1.
 * Writes up to k fused ids, best first (ties: lower id first); returns the count. */
int32_t rag_rrf(const int64_t *const *lists, const int32_t *lens, int32_t n_lists, int32_t k,
                int64_t *out_ids, double *out_scores);

/* ---- search --------------------------------------------------------------------------------- */
typedef struct rag_search_params {
    rag_mode mode;
    int32_t k;
    const char *path_glob;      /* fnmatch over the document path ('*' crosses '/'); NULL: all */
    const rag_embedder *embedder; /* needed for vector and hybrid                              */
    int32_t ef_search;          /* 0: the index default                                       */
    rag_vindex_params index;
} rag_search_params;

rag_search_params rag_search_default_params(void);
/* Fills *hits (caller frees with rag_hits_free) with up to k results, best first. */
hearth_status rag_search(rag_store *s, const char *query, const rag_search_params *p, rag_hit **hits,
                         int32_t *n_hits, hearth_error *err);
void rag_hits_free(rag_hit *hits, int32_t n);
/* A short, one-line excerpt of text around the first query word found (or its start). */
char *rag_snippet(const char *text, const char *query, size_t max_len);
bool rag_path_matches(const char *glob, const char *path);

#endif
