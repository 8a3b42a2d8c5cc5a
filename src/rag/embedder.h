/* embedder.h — rag_embedder over a GGUF embedding model (see embedder.c). */
#ifndef HEARTH_RAG_EMBEDDER_H
#define HEARTH_RAG_EMBEDDER_H

#include "rag/rag.h"

/* Loads a bert-architecture GGUF; n_threads 0 = default. Close with rag_embedder_close. */
hearth_status rag_embedder_open_model(const char *path, int32_t n_threads, rag_embedder *out, hearth_error *err);
void rag_embedder_close(rag_embedder *e);

#endif
