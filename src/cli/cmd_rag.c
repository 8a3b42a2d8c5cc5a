/* cmd_rag.c — `hearth rag ingest|search|ask|status`: local retrieval over private documents.
 * The work is in src/rag/; this file parses options, draws progress, and prints results. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/rag_cli.h"

static const char *rag_help =
    "usage: hearth rag ingest PATH... --store NAME [--model EMBED.gguf] [options]\n"
    "       hearth rag search QUERY --store NAME [-k N] [--mode vector|bm25|hybrid] [options]\n"
    "       hearth rag ask QUESTION --store NAME --model CHAT.gguf [options]\n"
    "       hearth rag status --store NAME [--json]\n"
    "       hearth rag eval QUESTIONS.json --store NAME [-k N] [--mode MODE] [--json]\n"
    "\n"
    "Retrieval over private documents that never leave the machine. A store is one SQLite\n"
    "database: documents, chunks (with file, line range, heading path and page), an FTS5\n"
    "full-text index and, when ingested with an embedding model, one vector per chunk.\n"
    "Each command has its own --help (hearth rag ingest --help, ...).\n"
    "\n"
    "stores: --store NAME is $HEARTH_HOME/stores/NAME.db (HEARTH_HOME defaults to ~/.hearth);\n"
    "a NAME containing '/' is used as a path.\n";

static const char *ingest_help =
    "usage: hearth rag ingest PATH... --store NAME [--model EMBED.gguf] [options]\n"
    "\n"
    "Adds files and directories (recursively) to a store. Text (.txt, .md, source code, .json,\n"
    ".csv, any other UTF-8 file), HTML (scripts and styles dropped, headings kept) and PDF (with\n"
    "page numbers) are split along their structure (headings, paragraphs, blank-line blocks)\n"
    "into chunks of at most --chunk-tokens tokens that overlap by --overlap tokens.\n"
    "\n"
    "Re-running is incremental: files whose content is unchanged are skipped, changed files\n"
    "are replaced, and documents under an ingested directory whose file is gone are removed.\n"
    "Each document is written in one transaction: killing ingestion at any moment leaves every\n"
    "document either as it was or fully updated. Hidden files and directories are skipped;\n"
    "binary, unreadable, corrupt and oversized files are skipped with one warning each.\n"
    "\n"
    "The first ingest fixes the store's embedding model (or none: BM25 search only); later\n"
    "ingests and searches must use the same model.\n"
    "\n"
    "options:\n"
    "  --store NAME        the store (created if missing)\n"
    "  --model FILE        embedding model (bert GGUF, e.g. all-minilm, bge-small)\n"
    "  --include GLOB      only files matching GLOB (repeatable; a GLOB with '/' matches the\n"
    "                      path below PATH, otherwise the file name)\n"
    "  --exclude GLOB      skip files and directories matching GLOB (repeatable)\n"
    "  --max-size BYTES    skip larger files (default 67108864)\n"
    "  --chunk-tokens N    chunk size bound (default 200)\n"
    "  --overlap N         tokens repeated between consecutive chunks (default 32)\n"
    "  --threads N         threads for the embedding model (default: physical cores)\n"
    "  --json              print the summary as JSON\n"
    "\n"
    "A progress bar is drawn on stderr when it is a terminal; the summary lists files,\n"
    "chunks, skips by reason, and seconds.\n"
    "\n"
    "exit status: 0 on success (even with skipped files), 1 on a store or model error,\n"
    "2 on a usage error.\n"
    "\n"
    "example:\n"
    "  hearth rag ingest ~/handbook ~/contracts --store work --model all-minilm.gguf\n";

static const char *search_help =
    "usage: hearth rag search QUERY --store NAME [options]\n"
    "\n"
    "Finds the chunks that best match QUERY. Modes: bm25 (FTS5 full-text ranking), vector\n"
    "(cosine similarity of embeddings: exact below 20000 chunks, an HNSW index kept next to\n"
    "the store above), hybrid (reciprocal rank fusion of both; the default when the store has\n"
    "embeddings). The embedding model defaults to the file the store was ingested with.\n"
    "\n"
    "options:\n"
    "  --store NAME          the store\n"
    "  -k N                  number of results (default 5)\n"
    "  --mode MODE           vector, bm25 or hybrid\n"
    "  --model FILE          embedding model (must be the one the store was built with)\n"
    "  --filter path=GLOB    only documents whose path matches GLOB ('*' also matches '/';\n"
    "                        a relative GLOB matches at any directory, e.g. docs/x.md)\n"
    "  --ef N                HNSW candidate list size (higher: better recall, slower)\n"
    "  --json                print {\"results\":[{rank, score, path, line_start, line_end,\n"
    "                        page, heading, snippet, text}]}\n"
    "\n"
    "Each result line: rank, score, path:lines (or page), heading, and a snippet.\n"
    "\n"
    "exit status: 0 on success (also with no results), 1 on a store/model error, 2 on a usage\n"
    "error.\n";

static const char *eval_help =
    "usage: hearth rag eval QUESTIONS.json --store NAME [-k N] [--mode MODE] [--model FILE] [--json]\n"
    "\n"
    "Measures retrieval quality on a labelled question set: recall@k is the fraction of\n"
    "questions for which one of the top k results comes from the expected file and contains\n"
    "the expected passage. QUESTIONS.json: {\"questions\": [{\"question\": ..., \"path\": ...,\n"
    "\"passage\": ...}]}, where path is matched as a suffix of the stored path.\n"
    "Misses are listed on stderr.\n";

static const char *status_help =
    "usage: hearth rag status --store NAME [--check] [--json]\n"
    "\n"
    "Prints the store's path, embedding model, and counts of documents, chunks and vectors.\n"
    "--check also verifies the store: SQLite integrity, the full-text index against the\n"
    "chunks, and that every document holds exactly the chunks (and vectors) it was written\n"
    "with; exit status 1 names the first problem.\n";

/* ---- shared with cmd_rag_ask.c ------------------------------------------------------------- */

bool rag_cli_arg(int argc, char **argv, int *i, const char *name, const char **val, int *rc, const char *cmd)
{
    if (strcmp(argv[*i], name) != 0) return false;
    if (*i + 1 >= argc) {
        *rc = cli_usage_error(cmd, "%s needs a value", name);
        *val = NULL;
        return true;
    }
    *val = argv[++*i];
    return true;
}

int rag_cli_open_store(const char *cmd, const char *name, bool create, hearth_rag_store **s)
{
    hearth_error err = {0};
    if (!name) return cli_usage_error(cmd, "--store NAME is required");
    if (!(*s = hearth_rag_open(name, create, &err))) return cli_fail(cmd, "%s", err.message);
    return 0;
}

/* ---- ingest ---------------------------------------------------------------------------------- */

static void progress(size_t done, size_t total, const char *path, void *user)
{
    (void)user;
    int width = 30, filled = total ? (int)(done * (size_t)width / total) : width;
    const char *name = path ? strrchr(path, '/') : NULL;
    name = name ? name + 1 : path ? path : "";
    fprintf(stderr, "\r\033[K[%.*s%.*s] %zu/%zu %.40s", filled, "##############################", width - filled,
            "..............................", done, total, name);
    if (!path) fputc('\n', stderr);
    fflush(stderr);
}

static int cmd_ingest(int argc, char **argv)
{
    const char *cmd = "rag ingest", *store = NULL, *model = NULL, *v;
    const char **paths = calloc((size_t)argc, sizeof *paths), **inc = calloc((size_t)argc, sizeof *inc),
               **exc = calloc((size_t)argc, sizeof *exc);
    int32_t n_paths = 0, n_inc = 0, n_exc = 0;
    bool json = false;
    long chunk = 200, overlap = 32, threads = 0, max_size = 64L << 20;
    int rc = 0;
    hearth_rag_store *s = NULL;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            fputs(ingest_help, stdout);
            goto done;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (rag_cli_arg(argc, argv, &i, "--store", &store, &rc, cmd) || rag_cli_arg(argc, argv, &i, "--model", &model, &rc, cmd)) {
        } else if (rag_cli_arg(argc, argv, &i, "--include", &v, &rc, cmd)) {
            if (v) inc[n_inc++] = v;
        } else if (rag_cli_arg(argc, argv, &i, "--exclude", &v, &rc, cmd)) {
            if (v) exc[n_exc++] = v;
        } else if (rag_cli_arg(argc, argv, &i, "--chunk-tokens", &v, &rc, cmd)) {
            if (v && !cli_parse_long(cmd, "--chunk-tokens", v, 16, 8192, &chunk)) rc = 2;
        } else if (rag_cli_arg(argc, argv, &i, "--overlap", &v, &rc, cmd)) {
            if (v && !cli_parse_long(cmd, "--overlap", v, 0, 4096, &overlap)) rc = 2;
        } else if (rag_cli_arg(argc, argv, &i, "--threads", &v, &rc, cmd)) {
            if (v && !cli_parse_long(cmd, "--threads", v, 0, 1024, &threads)) rc = 2;
        } else if (rag_cli_arg(argc, argv, &i, "--max-size", &v, &rc, cmd)) {
            if (v && !cli_parse_long(cmd, "--max-size", v, 1, 1L << 40, &max_size)) rc = 2;
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
        } else {
            paths[n_paths++] = a;
        }
    }
    if (rc) goto done;
    if (!n_paths) {
        rc = cli_usage_error(cmd, "give at least one file or directory to ingest");
        goto done;
    }
    if (overlap >= chunk) {
        rc = cli_usage_error(cmd, "--overlap (%ld) must be smaller than --chunk-tokens (%ld)", overlap, chunk);
        goto done;
    }
    if ((rc = rag_cli_open_store(cmd, store, true, &s))) goto done;
    hearth_error err = {0};
    if (hearth_rag_load_embedder(s, model, (int32_t)threads, NULL, &err)) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    hearth_rag_ingest_params p = hearth_rag_ingest_default_params();
    p.include = inc;
    p.n_include = n_inc;
    p.exclude = exc;
    p.n_exclude = n_exc;
    p.max_file_size = (uint64_t)max_size;
    p.chunk_tokens = (int32_t)chunk;
    p.chunk_overlap = (int32_t)overlap;
    if (cli_stderr_is_tty()) p.progress = progress;
    hearth_rag_ingest_summary sum;
    if (hearth_rag_ingest(s, paths, n_paths, &p, &sum, &err)) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    int64_t skipped = sum.skipped_total;
    if (json) {
        json_t *o = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "store", hearth_rag_path(s), "files",
                              (json_int_t)sum.files, "added", (json_int_t)sum.added, "updated",
                              (json_int_t)sum.updated, "unchanged", (json_int_t)sum.unchanged, "removed",
                              (json_int_t)sum.removed, "chunks", (json_int_t)sum.chunks, "skipped",
                              (json_int_t)skipped, "seconds", sum.seconds);
        json_t *why = json_object();
        for (int r = 1; r < HEARTH_RAG_SKIP_COUNT; r++)
            if (sum.skipped[r]) json_object_set_new(why, hearth_rag_skip_name((hearth_rag_skip)r), json_integer(sum.skipped[r]));
        json_object_set_new(o, "skipped_by_reason", why);
        char *txt = json_dumps(o, JSON_COMPACT);
        puts(txt);
        free(txt);
        json_decref(o);
    } else {
        printf("%lld files: %lld added, %lld updated, %lld unchanged, %lld removed; %lld chunks written",
               (long long)sum.files, (long long)sum.added, (long long)sum.updated, (long long)sum.unchanged,
               (long long)sum.removed, (long long)sum.chunks);
        if (skipped) {
            printf("; %lld skipped (", (long long)skipped);
            const char *sep = "";
            for (int r = 1; r < HEARTH_RAG_SKIP_COUNT; r++)
                if (sum.skipped[r]) {
                    printf("%s%lld %s", sep, (long long)sum.skipped[r], hearth_rag_skip_name((hearth_rag_skip)r));
                    sep = ", ";
                }
            printf(")");
        }
        printf("; %.2f s\n", sum.seconds);
    }
done:
    hearth_rag_close(s);
    free(paths);
    free(inc);
    free(exc);
    return rc;
}

/* ---- search ----------------------------------------------------------------------------------- */

int rag_cli_parse_mode(const char *cmd, const char *v, hearth_rag_mode *mode)
{
    if (!strcmp(v, "vector")) *mode = HEARTH_RAG_MODE_VECTOR;
    else if (!strcmp(v, "bm25")) *mode = HEARTH_RAG_MODE_BM25;
    else if (!strcmp(v, "hybrid")) *mode = HEARTH_RAG_MODE_HYBRID;
    else return cli_usage_error(cmd, "--mode must be vector, bm25 or hybrid, got '%s'", v);
    return 0;
}

bool rag_cli_query_opt(int argc, char **argv, int *i, const char *cmd, rag_cli_query_opts *o, int *rc)
{
    const char *v;
    if (!strcmp(argv[*i], "--json")) {
        o->json = true;
    } else if (rag_cli_arg(argc, argv, i, "--store", &o->store, rc, cmd) ||
               rag_cli_arg(argc, argv, i, "--model", &o->model, rc, cmd)) {
    } else if (rag_cli_arg(argc, argv, i, "-k", &v, rc, cmd)) {
        if (v && !cli_parse_long(cmd, "-k", v, 1, 1000, &o->k)) *rc = 2;
    } else if (rag_cli_arg(argc, argv, i, "--ef", &v, rc, cmd)) {
        if (v && !cli_parse_long(cmd, "--ef", v, 1, 100000, &o->ef)) *rc = 2;
    } else if (rag_cli_arg(argc, argv, i, "--mode", &v, rc, cmd)) {
        if (v) *rc = rag_cli_parse_mode(cmd, v, &o->mode), o->mode_set = true;
    } else if (rag_cli_arg(argc, argv, i, "--filter", &v, rc, cmd)) {
        if (v && strncmp(v, "path=", 5) != 0) *rc = cli_usage_error(cmd, "--filter expects path=GLOB, got '%s'", v);
        else if (v) o->filter = v + 5;
    } else {
        return false;
    }
    return true;
}

int rag_cli_search_setup(const char *cmd, hearth_rag_store *s, const rag_cli_query_opts *o, int32_t threads,
                         hearth_rag_search_params *p)
{
    hearth_error err = {0};
    *p = hearth_rag_search_default_params();
    p->mode = o->mode_set ? o->mode : HEARTH_RAG_MODE_AUTO; /* auto: BM25 for a store without vectors */
    if (p->mode != HEARTH_RAG_MODE_BM25 && hearth_rag_load_embedder(s, o->model, threads, NULL, &err))
        return cli_fail(cmd, "%s", err.message);
    p->k = (int32_t)o->k;
    p->ef_search = (int32_t)o->ef;
    p->path_glob = o->filter;
    return 0;
}

static int cmd_search(int argc, char **argv)
{
    const char *cmd = "rag search", *query = NULL;
    rag_cli_query_opts o = {.k = 5};
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            fputs(search_help, stdout);
            return 0;
        } else if (rag_cli_query_opt(argc, argv, &i, cmd, &o, &rc)) {
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
        } else if (!query) {
            query = a;
        } else {
            rc = cli_usage_error(cmd, "one QUERY only (quote it), got '%s' too", a);
        }
    }
    if (rc) return rc;
    if (!query) return cli_usage_error(cmd, "QUERY is required");
    hearth_rag_store *s;
    if ((rc = rag_cli_open_store(cmd, o.store, false, &s))) return rc;
    hearth_rag_search_params p;
    bool json = o.json;
    rc = rag_cli_search_setup(cmd, s, &o, 0, &p);
    hearth_rag_hit *hits = NULL;
    int32_t n = 0;
    hearth_error err = {0};
    if (!rc && hearth_rag_search(s, query, &p, &hits, &n, &err)) rc = cli_fail(cmd, "%s", err.message);
    json_t *arr = json ? json_array() : NULL;
    for (int32_t i = 0; !rc && i < n; i++) {
        char *snip = hearth_rag_snippet(hits[i].text, query, 160);
        if (json) {
            json_array_append_new(arr, json_pack("{s:i,s:f,s:s,s:i,s:i,s:i,s:s,s:s,s:s}", "rank", i + 1, "score",
                                                 hits[i].score, "path", hits[i].path, "line_start", hits[i].line_start,
                                                 "line_end", hits[i].line_end, "page", hits[i].page, "heading",
                                                 hits[i].heading, "snippet", snip ? snip : "", "text", hits[i].text));
        } else {
            char loc[4200];
            hearth_rag_hit_location(&hits[i], loc, sizeof loc);
            printf("%d. %.4f  %s%s%s\n   %s\n", i + 1, hits[i].score, loc, *hits[i].heading ? "  # " : "",
                   hits[i].heading, snip ? snip : "");
        }
        free(snip);
    }
    if (!rc && json) {
        json_t *out = json_pack("{s:s,s:s,s:o}", "query", query, "mode", hearth_rag_mode_name(hearth_rag_effective_mode(s, p.mode)), "results", arr);
        arr = NULL;
        char *txt = json_dumps(out, JSON_COMPACT);
        puts(txt);
        free(txt);
        json_decref(out);
    } else if (!rc && n == 0) {
        printf("no results\n");
    }
    json_decref(arr);
    hearth_rag_hits_free(hits, n);
    hearth_rag_close(s);
    return rc;
}

/* ---- status ----------------------------------------------------------------------------------- */

static int cmd_status(int argc, char **argv)
{
    const char *cmd = "rag status", *store = NULL;
    bool json = false, check = false;
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        if (!strcmp(argv[i], "--help")) {
            fputs(status_help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--check")) {
            check = true;
        } else if (!rag_cli_arg(argc, argv, &i, "--store", &store, &rc, cmd)) {
            rc = cli_usage_error(cmd, "unknown argument '%s'", argv[i]);
        }
    }
    hearth_rag_store *s;
    if (rc || (rc = rag_cli_open_store(cmd, store, false, &s))) return rc;
    hearth_rag_info st;
    hearth_error err = {0};
    if ((check && hearth_rag_verify(s, &err)) || hearth_rag_get_info(s, &st, &err)) {
        rc = cli_fail(cmd, "%s", err.message);
    } else {
        const char *name = st.model, *mpath = st.model_path;
        int32_t dim = st.dim;
        if (json) {
            json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:I,s:I,s:I}", "store", hearth_rag_path(s), "model", name,
                                  "model_path", mpath, "dim", dim, "documents", (json_int_t)st.documents, "chunks",
                                  (json_int_t)st.chunks, "vectors", (json_int_t)st.vectors);
            char *txt = json_dumps(o, JSON_COMPACT);
            puts(txt);
            free(txt);
            json_decref(o);
        } else {
            printf("store      %s\nmodel      %s%s%s\ndocuments  %lld\nchunks     %lld\nvectors    %lld (%d dims)\n",
                   hearth_rag_path(s), *name ? name : "(none: BM25 only)", *mpath ? "  " : "", mpath,
                   (long long)st.documents, (long long)st.chunks, (long long)st.vectors, dim);
        }
    }
    hearth_rag_close(s);
    return rc;
}

/* ---- eval ------------------------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return b <= a && strcmp(s + a - b, suffix) == 0 && (a == b || s[a - b - 1] == '/');
}

static int cmd_rag_eval(int argc, char **argv)
{
    const char *cmd = "rag eval", *file = NULL;
    rag_cli_query_opts o = {.k = 5};
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            fputs(eval_help, stdout);
            return 0;
        } else if (rag_cli_query_opt(argc, argv, &i, cmd, &o, &rc)) {
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
        } else if (!file) {
            file = a;
        } else {
            rc = cli_usage_error(cmd, "one QUESTIONS.json only");
        }
    }
    if (rc) return rc;
    if (!file) return cli_usage_error(cmd, "QUESTIONS.json is required");
    json_error_t je;
    json_t *root = json_load_file(file, 0, &je), *qs = json_object_get(root, "questions");
    if (!json_is_array(qs)) {
        json_decref(root);
        return cli_fail(cmd, "%s: line %d: expected {\"questions\": [...]}%s%s", file, je.line, root ? "" : ": ",
                        root ? "" : je.text);
    }
    hearth_rag_store *s;
    if ((rc = rag_cli_open_store(cmd, o.store, false, &s))) {
        json_decref(root);
        return rc;
    }
    bool json = o.json;
    hearth_rag_search_params p;
    long k = o.k;
    rc = rag_cli_search_setup(cmd, s, &o, 0, &p);
    size_t n_q = json_array_size(qs), found = 0;
    double rr = 0; /* mean reciprocal rank of the first correct hit */
    for (size_t i = 0; !rc && i < n_q; i++) {
        json_t *q = json_array_get(qs, i);
        const char *question = json_string_value(json_object_get(q, "question"));
        const char *path = json_string_value(json_object_get(q, "path"));
        const char *passage = json_string_value(json_object_get(q, "passage"));
        if (!question || !path || !passage) {
            rc = cli_fail(cmd, "%s: question %zu: expected string fields question, path and passage", file, i + 1);
            break;
        }
        hearth_rag_hit *h;
        int32_t n;
        hearth_error err = {0};
        if (hearth_rag_search(s, question, &p, &h, &n, &err)) {
            rc = cli_fail(cmd, "%s", err.message);
            break;
        }
        int32_t rank = 0;
        for (int32_t j = 0; j < n && !rank; j++)
            if (ends_with(h[j].path, path) && strstr(h[j].text, passage)) rank = j + 1;
        if (rank) found++, rr += 1.0 / rank;
        else fprintf(stderr, "miss: %s (expected %s: \"%s\")\n", question, path, passage);
        hearth_rag_hits_free(h, n);
    }
    const char *mode = hearth_rag_mode_name(hearth_rag_effective_mode(s, p.mode));
    if (!rc && json)
        printf("{\"mode\":\"%s\",\"k\":%ld,\"questions\":%zu,\"found\":%zu,\"recall\":%.4f,\"mrr\":%.4f}\n",
               mode, k, n_q, found, n_q ? (double)found / n_q : 0, n_q ? rr / n_q : 0);
    else if (!rc)
        printf("%s recall@%ld: %.3f (%zu/%zu), MRR %.3f\n", mode, k, n_q ? (double)found / n_q : 0, found,
               n_q, n_q ? rr / n_q : 0);
    hearth_rag_close(s);
    json_decref(root);
    return rc;
}

int cmd_rag(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(rag_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "ingest")) return cmd_ingest(argc - 1, argv + 1);
    if (!strcmp(argv[1], "search")) return cmd_search(argc - 1, argv + 1);
    if (!strcmp(argv[1], "ask")) return cmd_rag_ask(argc - 1, argv + 1);
    if (!strcmp(argv[1], "status")) return cmd_status(argc - 1, argv + 1);
    if (!strcmp(argv[1], "eval")) return cmd_rag_eval(argc - 1, argv + 1);
    return cli_usage_error("rag", "unknown subcommand '%s' (ingest, search, ask, status, eval)", argv[1]);
}
