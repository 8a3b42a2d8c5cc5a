/* ingest.h — files and directories into a store (see ingest.c for the rules). */
#ifndef HEARTH_RAG_INGEST_H
#define HEARTH_RAG_INGEST_H

#include "rag/rag.h"

typedef struct rag_ingest_params {
    const char *const *include; /* globs; none = every file                                   */
    size_t n_include;
    const char *const *exclude; /* globs; a matching directory is not descended               */
    size_t n_exclude;
    size_t max_file_size;       /* bigger files are skipped with a warning                    */
    rag_chunk_params chunk;
    const rag_embedder *embedder; /* NULL: BM25 only                                          */
    int32_t embed_batch;        /* chunks per embed call                                      */
    /* Called before each file (path) and once at the end (path NULL, done == total). */
    void (*progress)(void *user, size_t done, size_t total, const char *path);
    void *progress_user;
} rag_ingest_params;

typedef struct rag_ingest_summary {
    int64_t files;      /* files looked at                              */
    int64_t added, updated, unchanged, removed;
    int64_t chunks;     /* chunks written                               */
    int64_t skipped[RAG_SKIP_REASONS];
    double seconds;
} rag_ingest_summary;

rag_ingest_params rag_ingest_default_params(void);
/* Ingests files and directories (recursively, hidden entries skipped). Per-file problems are
 * warnings counted in sum->skipped; only store/embedding failures stop it with an error. */
hearth_status rag_ingest(rag_store *s, const char *const *paths, size_t n_paths,
                         const rag_ingest_params *p, rag_ingest_summary *sum, hearth_error *err);

#endif
