/*
 * hnsw.h — our own HNSW graph (Malkov & Yashunin) for inner-product search over normalized
 * vectors: M links per node (2M on layer 0), efConstruction, efSearch, the neighbour-selection
 * heuristic, incremental insert, delete by tombstone (deleted nodes still route searches but
 * are never returned; the owner rebuilds when too many pile up), and a checksummed file format.
 * Searches walk the graph with 8-bit quantized vectors and re-rank the ef best by exact float
 * dot, so returned scores are exact dot products.
 * One thread at a time per index (search reuses internal scratch).
 */
#ifndef HEARTH_RAG_HNSW_H
#define HEARTH_RAG_HNSW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef struct rag_hnsw rag_hnsw;

typedef struct rag_hnsw_params {
    int32_t M;               /* links per node on upper layers (2M on layer 0); 4..64   */
    int32_t ef_construction; /* candidate list size while inserting                     */
    int32_t ef_search;       /* default candidate list size while searching (>= k used) */
    uint64_t seed;           /* level generator seed: same inserts -> same graph        */
    bool float_traversal;    /* walk the graph (searches and inserts) with float distances
                                instead of 8-bit ones: slower, for comparisons; not saved,
                                a loaded index walks 8-bit                                  */
} rag_hnsw_params;

rag_hnsw_params rag_hnsw_default_params(void);
hearth_status rag_hnsw_new(int32_t dim, const rag_hnsw_params *p, rag_hnsw **out, hearth_error *err);
void rag_hnsw_free(rag_hnsw *h);

/* Adds a vector under a caller id (must not be present already). */
hearth_status rag_hnsw_add(rag_hnsw *h, int64_t id, const float *vec, hearth_error *err);
/* Marks id deleted; false if it is not present (or already deleted). */
bool rag_hnsw_remove(rag_hnsw *h, int64_t id);
bool rag_hnsw_contains(const rag_hnsw *h, int64_t id);

size_t rag_hnsw_live(const rag_hnsw *h);    /* nodes not deleted */
size_t rag_hnsw_nodes(const rag_hnsw *h);   /* nodes including tombstones */
int32_t rag_hnsw_dim(const rag_hnsw *h);
/* Node i's id (i < nodes), *deleted set. For syncing with the store. */
int64_t rag_hnsw_id_at(const rag_hnsw *h, size_t i, bool *deleted);

/* Up to k nearest live vectors by inner product, best first; ef 0 = the default. Returns the
 * count written to ids/scores (scores are dot products). */
int32_t rag_hnsw_search(rag_hnsw *h, const float *q, int32_t k, int32_t ef, int64_t *ids, float *scores);

/* tag: an opaque value saved with the index (the store generation it reflects). */
hearth_status rag_hnsw_save(const rag_hnsw *h, const char *path, uint64_t tag, hearth_error *err);
hearth_status rag_hnsw_load(const char *path, rag_hnsw **out, uint64_t *tag, hearth_error *err);

#endif
