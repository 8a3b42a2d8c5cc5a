/*
 * rag — retrieval over private documents: extraction, chunking, a crash-safe SQLite store,
 * exact and HNSW vector search, BM25 and hybrid (reciprocal rank fusion) search.
 *
 * Data flow: file bytes -> rag_extract (plain text + kind + page breaks) -> rag_chunk
 * (token-bounded chunks with byte/line ranges, heading path, page) -> embedder (optional) ->
 * rag_store_put_document (one transaction per document) -> rag_search.
 *
 * The embedding model is reached only through rag_embedder (a table of two functions), so the
 * store, ingestion and search work, and are tested, without a model (BM25 only), and any
 * embedding backend plugs in without this module knowing about the engine.
 */
#ifndef HEARTH_RAG_H
#define HEARTH_RAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ---- embedder ---------------------------------------------------------------------------- */
typedef struct rag_embedder {
    void *self;
    int32_t dim;
    /* identity recorded in the store: a store answers only to the model that built it */
    char name[256];        /* e.g. GGUF general.name or file name                              */
    char fingerprint[80];  /* hex hash over architecture, dims and some weight bytes          */
    int32_t max_tokens;    /* the model's context: chunks are kept below it                   */
    /* Number of tokens text[0..len) becomes (without special tokens); NULL: estimate. */
    int32_t (*count_tokens)(void *self, const char *text, size_t len);
    /* out[i*dim ..] = L2-normalized embedding of texts[i], i < n. */
    hearth_status (*embed)(void *self, const char *const *texts, const size_t *lens, int32_t n,
                           float *out, hearth_error *err);
} rag_embedder;

/* Whitespace-token estimate used when no tokenizer is at hand (about 4/3 tokens per word). */
int32_t rag_estimate_tokens(const char *text, size_t len);

/* ---- extraction -------------------------------------------------------------------------- */
typedef enum rag_kind {
    RAG_KIND_PLAIN = 0, /* paragraphs separated by blank lines                                 */
    RAG_KIND_MARKDOWN,  /* '#' headings, fenced code blocks (also what HTML is turned into)    */
    RAG_KIND_CODE,      /* source code: blank-line separated blocks                            */
    RAG_KIND_PDF        /* pages separated by '\f'                                             */
} rag_kind;

typedef struct rag_text {
    char *text;      /* NUL-terminated UTF-8, owned */
    size_t len;
    rag_kind kind;
    bool derived;    /* text is extracted (HTML/PDF): byte/line ranges refer to it, not the file */
} rag_text;

/* Why a file is not ingested (kept in the ingest summary). */
typedef enum rag_skip {
    RAG_SKIP_NONE = 0,
    RAG_SKIP_BINARY,
    RAG_SKIP_TOO_LARGE,
    RAG_SKIP_UNREADABLE,
    RAG_SKIP_CORRUPT,
    RAG_SKIP_EMPTY,
    RAG_SKIP_REASONS
} rag_skip;
const char *rag_skip_name(rag_skip reason);

/* True when bytes look like text: no NUL byte, and at most 1% invalid UTF-8 sequences. */
bool rag_looks_textual(const uint8_t *data, size_t len);
/* Turns the file's bytes into text. path picks the format by extension. On failure returns
 * non-OK, sets *skip to the reason and err to a one-line message. */
hearth_status rag_extract(const char *path, const uint8_t *data, size_t len, rag_text *out,
                          rag_skip *skip, hearth_error *err);
void rag_text_free(rag_text *t);

/* ---- chunking ---------------------------------------------------------------------------- */
typedef struct rag_chunk {
    char *text;           /* owned, NUL-terminated                                            */
    size_t byte_start, byte_end; /* [start, end) into the extracted text                     */
    int32_t line_start, line_end; /* 1-based, inclusive                                       */
    char *heading;        /* "Top > Sub > Subsub", owned ("" when none)                       */
    int32_t page;         /* 1-based for PDF, 0 when the format has no pages                   */
    int32_t n_tokens;
} rag_chunk;

typedef struct rag_chunk_params {
    int32_t max_tokens;   /* hard upper bound per chunk                                       */
    int32_t overlap;      /* tokens repeated from the end of the previous chunk of a section   */
    const rag_embedder *counter; /* its count_tokens, or NULL for the estimate                */
} rag_chunk_params;

rag_chunk_params rag_chunk_default_params(void);
hearth_status rag_chunk_text(const rag_text *t, const rag_chunk_params *p, rag_chunk **out,
                             size_t *n_out, hearth_error *err);
void rag_chunks_free(rag_chunk *c, size_t n);

/* ---- store ------------------------------------------------------------------------------- */
typedef struct rag_store rag_store;

/* NAME -> $HEARTH_HOME/stores/NAME.db (HEARTH_HOME defaults to ~/.hearth); a NAME that
 * contains '/' is used as a path. Creates the stores directory when create is true. */
hearth_status rag_store_resolve(const char *name, bool create, char *out, size_t cap,
                                hearth_error *err);
/* Opens (create: or creates) a store; checks it is a hearth store with an understood schema. */
hearth_status rag_store_open(const char *path, bool create, rag_store **out, hearth_error *err);
void rag_store_close(rag_store *s);
const char *rag_store_path(const rag_store *s);

/* The model the store's vectors come from. A store created without a model has name "" and
 * dim 0 (BM25 only). bind: record emb's identity if the store has no documents yet. */
hearth_status rag_store_check_model(rag_store *s, const rag_embedder *emb, bool bind,
                                    hearth_error *err);
hearth_status rag_store_model(rag_store *s, char *name, size_t name_cap, int32_t *dim,
                              hearth_error *err);

typedef struct rag_doc_info {
    const char *path;
    char hash[17];      /* 64-bit content hash, hex */
    int64_t mtime;      /* seconds */
    int64_t size;       /* bytes of the file */
} rag_doc_info;

/* Looks up a document by path: *found false when absent; else info's hash, mtime and size
 * (info->path is set to NULL). */
hearth_status rag_store_doc_get(rag_store *s, const char *path, bool *found, rag_doc_info *info,
                                hearth_error *err);
/* Replaces a document and all its chunks (and embeddings, dim floats each, or NULL) in one
 * transaction: a crash leaves either the old document or the new one, never a mix. */
hearth_status rag_store_put_document(rag_store *s, const rag_doc_info *doc, const rag_chunk *c,
                                     size_t n, const float *embeddings, int32_t dim,
                                     hearth_error *err);
/* Updates only the recorded mtime (content unchanged). */
hearth_status rag_store_touch_document(rag_store *s, const char *path, int64_t mtime,
                                       hearth_error *err);
hearth_status rag_store_delete_document(rag_store *s, const char *path, hearth_error *err);
/* Calls fn for every document path (stops early when fn returns false). */
hearth_status rag_store_each_document(rag_store *s, bool (*fn)(void *u, const char *path),
                                      void *u, hearth_error *err);

typedef struct rag_store_stats {
    int64_t documents, chunks, embeddings, generation;
} rag_store_stats;
hearth_status rag_store_stats_get(rag_store *s, rag_store_stats *st, hearth_error *err);

/* Every embedding as a contiguous n x dim matrix with chunk ids (caller frees both). */
hearth_status rag_store_load_vectors(rag_store *s, int64_t **ids, float **vecs, size_t *n,
                                     int32_t *dim, hearth_error *err);

/* One stored chunk with its document path. */
typedef struct rag_hit {
    int64_t chunk_id;
    double score;
    char *path, *text, *heading;
    int32_t line_start, line_end, page;
    int64_t byte_start, byte_end;
} rag_hit;
/* Fills hit (path/text/heading owned by hit) for a chunk id; found false if it is gone. */
hearth_status rag_store_chunk_get(rag_store *s, int64_t chunk_id, rag_hit *hit, bool *found,
                                  hearth_error *err);
void rag_hit_clear(rag_hit *h);

/* BM25 over the FTS5 index: up to k (chunk id, score = -bm25, higher is better). */
hearth_status rag_store_bm25(rag_store *s, const char *query, int32_t k, int64_t *ids,
                             double *scores, int32_t *n_out, hearth_error *err);

/* Free-form store metadata (meta table), e.g. "model.path". get: HEARTH_ERR_FORMAT when absent. */
hearth_status rag_store_meta_get(rag_store *s, const char *key, char *buf, size_t cap, hearth_error *err);
hearth_status rag_store_meta_set(rag_store *s, const char *key, const char *value, hearth_error *err);

/* Checks a store completely: SQLite integrity, FTS index vs chunks, every document holding
 * exactly its chunks (and vectors). HEARTH_ERR_FORMAT names the first problem. */
hearth_status rag_store_verify(rag_store *s, hearth_error *err);

/* The underlying connection, for tests and integrity checks. */
struct sqlite3 *rag_store_db(rag_store *s);

/* 64-bit FNV-1a, the content hash (change detection, not security). */
uint64_t rag_hash64(const void *data, size_t len, uint64_t seed);

#endif
