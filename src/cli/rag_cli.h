/* rag_cli.h — helpers shared by cmd_rag.c and cmd_rag_ask.c (option parsing, opening a
 * store and the embedding model the store was built with). */
#ifndef HEARTH_CLI_RAG_CLI_H
#define HEARTH_CLI_RAG_CLI_H

#include "rag/search.h"

int cmd_rag_ask(int argc, char **argv);
/* argv[*i] == name: takes its value (advancing *i); a missing value sets *rc to a usage error. */
bool rag_cli_arg(int argc, char **argv, int *i, const char *name, const char **val, int *rc, const char *cmd);
int rag_cli_open_store(const char *cmd, const char *name, bool create, rag_store **s);
/* model NULL: the model recorded at ingest, if any (*have false when the store has none). */
int rag_cli_open_embedder(const char *cmd, rag_store *s, const char *model, int32_t threads, rag_embedder *emb,
                          bool *have);
int rag_cli_parse_mode(const char *cmd, const char *v, rag_mode *mode);

/* The retrieval options search, eval and ask share. */
typedef struct rag_cli_query_opts {
    const char *store, *model, *filter;
    bool json, mode_set;
    long k, ef;
    rag_mode mode;
} rag_cli_query_opts;
/* Consumes argv[*i] (and its value) when it is --store, --model, --filter, --json, -k, --ef or
 * --mode; a bad value sets *rc. */
bool rag_cli_query_opt(int argc, char **argv, int *i, const char *cmd, rag_cli_query_opts *o, int *rc);
/* Opens the embedding model (o->model or the store's) and fills p from o; a store without
 * vectors and no explicit --mode falls back to BM25. */
int rag_cli_search_setup(const char *cmd, rag_store *s, const rag_cli_query_opts *o, int32_t threads,
                         rag_embedder *emb, bool *have, rag_search_params *p);
/* "path:12-30" or "path (page 3)" */
void rag_cli_location(const rag_hit *h, char *buf, size_t cap);

#endif
