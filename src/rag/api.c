/* api.c — the public RAG API of include/hearth.h (hearth_rag_*): a store handle that owns its
 * rag_store and, optionally, the embedding model, over the module's own functions. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rag/embedder.h"
#include "rag/ingest.h"
#include "rag/search.h"

_Static_assert((int)HEARTH_RAG_SKIP_COUNT == (int)RAG_SKIP_REASONS, "public skip reasons mirror rag_skip");
_Static_assert((int)HEARTH_RAG_SKIP_EMPTY == (int)RAG_SKIP_EMPTY, "public skip reasons mirror rag_skip");
_Static_assert((int)HEARTH_RAG_MODE_HYBRID == (int)RAG_MODE_HYBRID, "public modes mirror rag_mode");

struct hearth_rag_store {
    rag_store *s;
    rag_embedder emb;
    bool have_emb;
    char *record_model; /* a model loaded by path: recorded as model.path after an ingest */
};

hearth_rag_store *hearth_rag_open(const char *name_or_path, bool create, hearth_error *err)
{
    char path[4096];
    if (!name_or_path) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "store name is NULL");
        return NULL;
    }
    hearth_rag_store *h = calloc(1, sizeof *h);
    if (!h) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    if (rag_store_resolve(name_or_path, create, path, sizeof path, err) || rag_store_open(path, create, &h->s, err)) {
        free(h);
        return NULL;
    }
    return h;
}

void hearth_rag_unload_embedder(hearth_rag_store *store)
{
    if (!store) return;
    if (store->have_emb) rag_embedder_close(&store->emb);
    store->have_emb = false;
    free(store->record_model);
    store->record_model = NULL;
}

void hearth_rag_close(hearth_rag_store *store)
{
    if (!store) return;
    hearth_rag_unload_embedder(store);
    rag_store_close(store->s);
    free(store);
}

const char *hearth_rag_path(const hearth_rag_store *store) { return store ? rag_store_path(store->s) : NULL; }

bool hearth_rag_has_embedder(const hearth_rag_store *store) { return store && store->have_emb; }

hearth_status hearth_rag_load_embedder(hearth_rag_store *store, const char *model_path, int32_t n_threads, bool *loaded,
                                       hearth_error *err)
{
    if (loaded) *loaded = false;
    if (!store) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "store is NULL");
    hearth_rag_unload_embedder(store);
    char recorded[4096] = "";
    if (!model_path) {
        /* the store's own model; a store without one (BM25 only) is not an error */
        hearth_error ignore = {0};
        char dim[32];
        if (rag_store_meta_get(store->s, "model.path", recorded, sizeof recorded, &ignore) || !*recorded) return HEARTH_OK;
        if (rag_store_meta_get(store->s, "model.dim", dim, sizeof dim, &ignore) || atoi(dim) == 0) return HEARTH_OK;
    } else if (!(store->record_model = strdup(model_path))) {
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    hearth_status st = rag_embedder_open_model(model_path ? model_path : recorded, n_threads, &store->emb, err);
    if (st) {
        free(store->record_model);
        store->record_model = NULL;
        return st;
    }
    store->have_emb = true;
    if (loaded) *loaded = true;
    return HEARTH_OK;
}

/* ---- ingest ------------------------------------------------------------------------------------ */

const char *hearth_rag_skip_name(hearth_rag_skip reason) { return rag_skip_name((rag_skip)reason); }

hearth_rag_ingest_params hearth_rag_ingest_default_params(void)
{
    rag_ingest_params p = rag_ingest_default_params();
    return (hearth_rag_ingest_params){.max_file_size = p.max_file_size, .chunk_tokens = p.chunk.max_tokens,
                                      .chunk_overlap = p.chunk.overlap, .embed_batch = p.embed_batch};
}

typedef struct progress_relay {
    hearth_rag_progress_fn fn;
    void *user;
} progress_relay;

static void relay_progress(void *user, size_t done, size_t total, const char *path)
{
    const progress_relay *r = user;
    r->fn(done, total, path, r->user);
}

hearth_status hearth_rag_ingest(hearth_rag_store *store, const char *const *paths, int32_t n_paths,
                                const hearth_rag_ingest_params *params, hearth_rag_ingest_summary *sum,
                                hearth_error *err)
{
    if (!store) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "store is NULL");
    if (n_paths <= 0 || !paths) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "no paths to ingest");
    for (int32_t i = 0; i < n_paths; i++)
        if (!paths[i]) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "path %d is NULL", i);
    hearth_rag_ingest_params hp = params ? *params : hearth_rag_ingest_default_params();
    if (hp.n_include < 0 || hp.n_exclude < 0 || (hp.n_include && !hp.include) || (hp.n_exclude && !hp.exclude))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "include/exclude: a count without its array");
    if (hp.chunk_tokens < 1 || hp.chunk_overlap < 0 || hp.chunk_overlap >= hp.chunk_tokens)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                           "chunk_overlap (%d) must be >= 0 and smaller than chunk_tokens (%d)", hp.chunk_overlap,
                           hp.chunk_tokens);
    rag_ingest_params p = rag_ingest_default_params();
    p.include = hp.include;
    p.n_include = (size_t)hp.n_include;
    p.exclude = hp.exclude;
    p.n_exclude = (size_t)hp.n_exclude;
    if (hp.max_file_size) p.max_file_size = (size_t)hp.max_file_size;
    p.chunk.max_tokens = hp.chunk_tokens;
    p.chunk.overlap = hp.chunk_overlap;
    if (hp.embed_batch > 0) p.embed_batch = hp.embed_batch;
    p.embedder = store->have_emb ? &store->emb : NULL;
    progress_relay relay = {hp.progress, hp.progress_user};
    if (hp.progress) {
        p.progress = relay_progress;
        p.progress_user = &relay;
    }
    rag_ingest_summary s;
    memset(&s, 0, sizeof s);
    hearth_status st = rag_ingest(store->s, paths, (size_t)n_paths, &p, &s, err);
    if (!st && store->record_model) st = rag_store_meta_set(store->s, "model.path", store->record_model, err);
    if (st) return st;
    if (sum) {
        memset(sum, 0, sizeof *sum);
        sum->files = s.files;
        sum->added = s.added;
        sum->updated = s.updated;
        sum->unchanged = s.unchanged;
        sum->removed = s.removed;
        sum->chunks = s.chunks;
        for (int r = 0; r < RAG_SKIP_REASONS; r++) {
            sum->skipped[r] = s.skipped[r];
            if (r) sum->skipped_total += s.skipped[r];
        }
        sum->seconds = s.seconds;
    }
    return HEARTH_OK;
}

/* ---- search ------------------------------------------------------------------------------------ */

const char *hearth_rag_mode_name(hearth_rag_mode mode)
{
    static const char *const names[] = {"vector", "bm25", "hybrid", "auto"};
    return (unsigned)mode < HEARTH_ARRAY_LEN(names) ? names[mode] : "?";
}

hearth_rag_mode hearth_rag_effective_mode(const hearth_rag_store *store, hearth_rag_mode mode)
{
    if (mode != HEARTH_RAG_MODE_AUTO) return mode;
    return hearth_rag_has_embedder(store) ? HEARTH_RAG_MODE_HYBRID : HEARTH_RAG_MODE_BM25;
}

hearth_rag_search_params hearth_rag_search_default_params(void)
{
    return (hearth_rag_search_params){.mode = HEARTH_RAG_MODE_AUTO, .k = rag_search_default_params().k};
}

static hearth_status to_internal(const hearth_rag_store *store, const hearth_rag_search_params *hp,
                                 rag_search_params *p, hearth_error *err)
{
    *p = rag_search_default_params();
    if ((unsigned)hp->mode > HEARTH_RAG_MODE_AUTO)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "search mode %d: expected vector, bm25, hybrid or auto",
                           (int)hp->mode);
    if (hp->k < 1) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "k must be at least 1, found %d", hp->k);
    if (hp->ef_search < 0) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "ef_search must be >= 0");
    p->mode = (rag_mode)hearth_rag_effective_mode(store, hp->mode);
    p->k = hp->k;
    p->path_glob = hp->path_glob;
    p->ef_search = hp->ef_search;
    p->embedder = store->have_emb ? &store->emb : NULL;
    return HEARTH_OK;
}

/* Moves rag_hits (their strings change owner) into a public array. */
static hearth_status publish_hits(rag_hit *in, int32_t n, hearth_rag_hit **out, hearth_error *err)
{
    *out = NULL;
    if (n == 0) {
        free(in);
        return HEARTH_OK;
    }
    hearth_rag_hit *h = calloc((size_t)n, sizeof *h);
    if (!h) {
        rag_hits_free(in, n);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    for (int32_t i = 0; i < n; i++)
        h[i] = (hearth_rag_hit){.chunk_id = in[i].chunk_id, .score = in[i].score, .path = in[i].path,
                                .text = in[i].text, .heading = in[i].heading, .line_start = in[i].line_start,
                                .line_end = in[i].line_end, .page = in[i].page, .byte_start = in[i].byte_start,
                                .byte_end = in[i].byte_end};
    free(in);
    *out = h;
    return HEARTH_OK;
}

hearth_status hearth_rag_search(hearth_rag_store *store, const char *query, const hearth_rag_search_params *params,
                                hearth_rag_hit **hits, int32_t *n_hits, hearth_error *err)
{
    if (hits) *hits = NULL;
    if (n_hits) *n_hits = 0;
    if (!store || !query || !hits || !n_hits)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_rag_search: store, query, hits and n_hits are required");
    hearth_rag_search_params hp = params ? *params : hearth_rag_search_default_params();
    rag_search_params p;
    hearth_status st = to_internal(store, &hp, &p, err);
    rag_hit *raw = NULL;
    int32_t n = 0;
    if (!st) st = rag_search(store->s, query, &p, &raw, &n, err);
    if (st) return st;
    if ((st = publish_hits(raw, n, hits, err))) return st;
    *n_hits = n;
    return HEARTH_OK;
}

void hearth_rag_hits_free(hearth_rag_hit *hits, int32_t n_hits)
{
    if (!hits) return;
    for (int32_t i = 0; i < n_hits; i++) {
        free(hits[i].path);
        free(hits[i].text);
        free(hits[i].heading);
    }
    free(hits);
}

char *hearth_rag_snippet(const char *text, const char *query, size_t max_len)
{
    return text && query ? rag_snippet(text, query, max_len) : NULL;
}

int32_t hearth_rag_hit_location(const hearth_rag_hit *hit, char *buf, size_t cap)
{
    if (!hit || !buf || !cap) return 0;
    /* stores keep absolute paths; below the current directory, show them relative */
    char cwd[4096];
    const char *path = hit->path ? hit->path : "";
    size_t n = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/') path += n + 1;
    int len = hit->page > 0 ? snprintf(buf, cap, "%s (page %d)", path, hit->page)
                            : snprintf(buf, cap, "%s:%d-%d", path, hit->line_start, hit->line_end);
    return len < 0 ? 0 : (size_t)len >= cap ? (int32_t)cap - 1 : len;
}

/* ---- status ------------------------------------------------------------------------------------ */

hearth_status hearth_rag_get_info(hearth_rag_store *store, hearth_rag_info *info, hearth_error *err)
{
    if (!store || !info) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_rag_get_info: store and info are required");
    memset(info, 0, sizeof *info);
    rag_store_stats st;
    hearth_status s = rag_store_stats_get(store->s, &st, err);
    if (!s) s = rag_store_model(store->s, info->model, sizeof info->model, &info->dim, err);
    if (s) return s;
    hearth_error ignore = {0}; /* a store ingested without a model file records none */
    if (rag_store_meta_get(store->s, "model.path", info->model_path, sizeof info->model_path, &ignore))
        info->model_path[0] = '\0';
    info->documents = st.documents;
    info->chunks = st.chunks;
    info->vectors = st.embeddings;
    return HEARTH_OK;
}

hearth_status hearth_rag_verify(hearth_rag_store *store, hearth_error *err)
{
    if (!store) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "store is NULL");
    return rag_store_verify(store->s, err);
}

/* ---- answering --------------------------------------------------------------------------------- */

/* Relevant when some non-stopword of the question matches the full-text index, or the best
 * vector is close enough in absolute terms (cosine >= min_score) AND stands out from the rest
 * of the store (>= 0.1 above the median of the 50 best): embedding models put every text at a
 * model-specific baseline similarity, so the absolute threshold alone says little. */
hearth_status hearth_rag_relevant(hearth_rag_store *store, const char *question, const hearth_rag_search_params *params,
                                  double min_score, bool *relevant, hearth_error *err)
{
    if (relevant) *relevant = false;
    if (!store || !question || !relevant)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_rag_relevant: store, question and relevant are required");
    hearth_rag_search_params hp = params ? *params : hearth_rag_search_default_params();
    hp.k = 1;
    rag_search_params p;
    hearth_status st = to_internal(store, &hp, &p, err);
    if (st) return st;
    rag_hit *h;
    int32_t n;
    p.mode = RAG_MODE_BM25;
    if ((st = rag_search(store->s, question, &p, &h, &n, err))) return st;
    rag_hits_free(h, n);
    *relevant = n > 0;
    if (*relevant || !p.embedder) return HEARTH_OK;
    p.mode = RAG_MODE_VECTOR;
    p.k = 50;
    if ((st = rag_search(store->s, question, &p, &h, &n, err))) return st;
    *relevant = n > 0 && h[0].score >= min_score && (n < 3 || h[0].score - h[n / 2].score >= 0.1);
    rag_hits_free(h, n);
    return HEARTH_OK;
}

hearth_status hearth_rag_answer_messages(const char *question, const hearth_rag_hit *hits, int32_t n_hits,
                                         char **messages_json, hearth_error *err)
{
    if (messages_json) *messages_json = NULL;
    if (!question || !messages_json || n_hits < 0 || (n_hits && !hits))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_rag_answer_messages: question and messages_json are "
                                                        "required, and hits when n_hits > 0");
    size_t cap = strlen(question) + 1024;
    for (int32_t i = 0; i < n_hits; i++)
        cap += strlen(hits[i].text) + strlen(hits[i].path) + strlen(hits[i].heading) + 64;
    char *ctx = malloc(cap), loc[4200];
    if (!ctx) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    size_t o = 0;
    for (int32_t i = 0; i < n_hits; i++) {
        hearth_rag_hit_location(&hits[i], loc, sizeof loc);
        o += (size_t)snprintf(ctx + o, cap - o, "[%d] %s%s%s\n%s\n\n", i + 1, loc, *hits[i].heading ? " — " : "",
                              hits[i].heading, hits[i].text);
    }
    snprintf(ctx + o, cap - o, "Question: %s", question);
    json_t *msgs = json_pack("[{s:s,s:s},{s:s,s:s}]", "role", "system", "content",
                             "Answer the question using only the numbered sources the user gives. Cite the "
                             "sources you use as [n] right after the sentence they support. If the sources do "
                             "not contain the answer, say that you do not know. Be brief.",
                             "role", "user", "content", ctx);
    free(ctx);
    *messages_json = msgs ? json_dumps(msgs, JSON_COMPACT) : NULL;
    json_decref(msgs);
    return *messages_json ? HEARTH_OK : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
}
