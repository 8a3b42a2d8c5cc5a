/* rag_cli.h — helpers shared by cmd_rag.c and cmd_rag_ask.c (option parsing, opening a
 * store and the embedding model the store was built with). */
#ifndef HEARTH_CLI_RAG_CLI_H
#define HEARTH_CLI_RAG_CLI_H

#include "hearth.h"

int cmd_rag_ask(int argc, char **argv);
/* argv[*i] == name: takes its value (advancing *i); a missing value sets *rc to a usage error. */
bool rag_cli_arg(int argc, char **argv, int *i, const char *name, const char **val, int *rc, const char *cmd);
int rag_cli_open_store(const char *cmd, const char *name, bool create, hearth_rag_store **s);
int rag_cli_parse_mode(const char *cmd, const char *v, hearth_rag_mode *mode);

/* The retrieval options search, eval and ask share. */
typedef struct rag_cli_query_opts {
    const char *store, *model, *filter;
    bool json, mode_set;
    long k, ef;
    hearth_rag_mode mode;
} rag_cli_query_opts;
/* Consumes argv[*i] (and its value) when it is --store, --model, --filter, --json, -k, --ef or
 * --mode; a bad value sets *rc. */
bool rag_cli_query_opt(int argc, char **argv, int *i, const char *cmd, rag_cli_query_opts *o, int *rc);
/* Loads the embedding model (o->model or the store's) unless the mode is bm25, and fills p
 * from o; a store without vectors and no explicit --mode searches with BM25. */
int rag_cli_search_setup(const char *cmd, hearth_rag_store *s, const rag_cli_query_opts *o, int32_t threads,
                         hearth_rag_search_params *p);

#endif
