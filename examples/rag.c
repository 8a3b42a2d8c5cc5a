/* rag.c — retrieval over your own documents from a program: ingest a directory into a store,
 * then search it. Uses only <hearth.h>. Build: cc rag.c $(pkg-config --cflags --libs hearth)
 * Run:   ./rag STORE.db DIRECTORY "QUERY" [EMBED.gguf]
 * Without an embedding model the store is BM25 (full text) only; with one (a bert GGUF such as
 * all-minilm) every chunk also gets a vector and the search is hybrid. */
#include <hearth.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const hearth_error *err, hearth_rag_store *store)
{
    fprintf(stderr, "rag: %s\n", err->message);
    hearth_rag_close(store);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s STORE.db DIRECTORY QUERY [EMBED.gguf]\n", argv[0]);
        return 2;
    }
    hearth_error err = {0};
    /* a name with '/' is a path; a bare name lives in $HEARTH_HOME/stores */
    hearth_rag_store *store = hearth_rag_open(argv[1], true, &err);
    if (!store) return fail(&err, NULL);
    if (hearth_rag_load_embedder(store, argc == 5 ? argv[4] : NULL, 0, NULL, &err)) return fail(&err, store);

    /* incremental: a second run skips unchanged files */
    hearth_rag_ingest_params ip = hearth_rag_ingest_default_params();
    const char *paths[] = {argv[2]};
    hearth_rag_ingest_summary sum;
    if (hearth_rag_ingest(store, paths, 1, &ip, &sum, &err)) return fail(&err, store);
    printf("%lld files: %lld added, %lld updated, %lld unchanged, %lld skipped; %lld chunks\n",
           (long long)sum.files, (long long)sum.added, (long long)sum.updated, (long long)sum.unchanged,
           (long long)sum.skipped_total, (long long)sum.chunks);

    hearth_rag_search_params sp = hearth_rag_search_default_params(); /* auto mode, k = 5 */
    hearth_rag_hit *hits;
    int32_t n;
    if (hearth_rag_search(store, argv[3], &sp, &hits, &n, &err)) return fail(&err, store);
    printf("%s search for \"%s\": %d result(s)\n", hearth_rag_mode_name(hearth_rag_effective_mode(store, sp.mode)),
           argv[3], n);
    for (int32_t i = 0; i < n; i++) {
        char where[4200];
        hearth_rag_hit_location(&hits[i], where, sizeof where);
        char *snippet = hearth_rag_snippet(hits[i].text, argv[3], 100);
        printf("%d. %.4f  %s  %s\n   %s\n", i + 1, hits[i].score, where, hits[i].heading, snippet ? snippet : "");
        free(snippet);
    }
    hearth_rag_hits_free(hits, n);
    hearth_rag_close(store);
    return 0;
}
