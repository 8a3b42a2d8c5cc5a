/*
 * tool_rag.c — `rag.search` and `rag.read` over the agent's document stores (src/rag/).
 * Stores open lazily on the first call, so an agent whose plan never retrieves does not need
 * its stores to exist. With models.embedder set the search is hybrid (BM25 + vectors, fused
 * by reciprocal rank); without, BM25. Hit ids are "STORE#CHUNK" so rag.read can fetch the
 * full chunk that a search result only excerpts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "rag/embedder.h"
#include "rag/rag.h"
#include "rag/search.h"

struct agent_rag {
    const agent_config *cfg;
    rag_store **stores;
    bool opened;
    char open_error[1400];
    rag_embedder emb;
    bool have_emb;
};

static json_t *rag_error(const char *msg)
{
    char buf[1500];
    snprintf(buf, sizeof buf, "%s", msg);
    return json_pack("{s:b, s:s}", "ok", 0, "error", agent_utf8_fix(buf));
}

static bool open_all(agent_rag *r)
{
    if (r->opened) return !r->open_error[0];
    r->opened = true;
    const agent_config *c = r->cfg;
    if (!c->stores.n) {
        snprintf(r->open_error, sizeof r->open_error, "this agent has no stores (add `stores:` to %s)", c->path);
        return false;
    }
    r->stores = calloc(c->stores.n, sizeof *r->stores);
    if (!r->stores) {
        snprintf(r->open_error, sizeof r->open_error, "out of memory");
        return false;
    }
    hearth_error err = {0};
    if (c->model_embedder) {
        if (rag_embedder_open_model(c->model_embedder, 0, &r->emb, &err)) {
            snprintf(r->open_error, sizeof r->open_error, "rag: embedder: %s", err.message);
            return false;
        }
        r->have_emb = true;
    }
    for (size_t i = 0; i < c->stores.n; i++) {
        char path[4096];
        if (rag_store_resolve(c->stores.items[i], false, path, sizeof path, &err) ||
            rag_store_open(path, false, &r->stores[i], &err)) {
            snprintf(r->open_error, sizeof r->open_error, "rag: store '%s': %s", c->stores.items[i], err.message);
            return false;
        }
    }
    return true;
}

hearth_status agent_rag_new(const agent_config *cfg, agent_rag **out, hearth_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    (*out)->cfg = cfg;
    return HEARTH_OK;
}

void agent_rag_free(agent_rag *r)
{
    if (!r) return;
    for (size_t i = 0; r->stores && i < r->cfg->stores.n; i++) rag_store_close(r->stores[i]);
    free(r->stores);
    if (r->have_emb) rag_embedder_close(&r->emb);
    free(r);
}

typedef struct {
    rag_hit hit;
    size_t store;
} scored;

static int by_score(const void *a, const void *b)
{
    double x = ((const scored *)a)->hit.score, y = ((const scored *)b)->hit.score;
    return x < y ? 1 : x > y ? -1 : 0;
}

json_t *agent_rag_search(agent_rag *r, json_t *args)
{
    const char *query = json_string_value(json_object_get(args, "query"));
    json_t *kj = json_object_get(args, "k");
    int k = json_is_integer(kj) ? (int)json_integer_value(kj) : 5;
    if (!query || !*query) return rag_error("rag.search: missing string argument 'query'");
    if (k < 1 || k > 50) return rag_error("rag.search: 'k' must be 1..50");
    if (!open_all(r)) return rag_error(r->open_error);
    scored *all = NULL;
    size_t n_all = 0;
    for (size_t i = 0; i < r->cfg->stores.n; i++) {
        rag_search_params p = rag_search_default_params();
        p.k = k;
        p.mode = r->have_emb ? RAG_MODE_HYBRID : RAG_MODE_BM25;
        p.embedder = r->have_emb ? &r->emb : NULL;
        rag_hit *hits = NULL;
        int32_t n = 0;
        hearth_error err = {0};
        if (rag_search(r->stores[i], query, &p, &hits, &n, &err)) {
            for (size_t j = 0; j < n_all; j++) rag_hit_clear(&all[j].hit);
            free(all);
            return rag_error(err.message);
        }
        scored *grown = realloc(all, (n_all + (size_t)n + 1) * sizeof *all);
        if (!grown) {
            rag_hits_free(hits, n);
            break;
        }
        all = grown;
        for (int32_t h = 0; h < n; h++) {
            all[n_all].hit = hits[h]; /* takes the strings */
            all[n_all++].store = i;
        }
        free(hits);
    }
    if (n_all) qsort(all, n_all, sizeof *all, by_score);
    json_t *out = json_array();
    for (size_t j = 0; j < n_all; j++) {
        rag_hit *h = &all[j].hit;
        if ((int)j < k) {
            char id[320], lines[64];
            snprintf(id, sizeof id, "%s#%lld", r->cfg->stores.items[all[j].store], (long long)h->chunk_id);
            snprintf(lines, sizeof lines, "%d-%d", h->line_start, h->line_end);
            char *snip = rag_snippet(h->text ? h->text : "", query, 400);
            json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:f, s:s}", "id", id, "path", h->path ? h->path : "",
                                                 "lines", lines, "heading", h->heading ? h->heading : "", "score",
                                                 h->score, "text", agent_utf8_fix(snip ? snip : "")));
            free(snip);
        }
        rag_hit_clear(h);
    }
    free(all);
    return json_pack("{s:b, s:o}", "ok", 1, "output", out);
}

json_t *agent_rag_read(agent_rag *r, json_t *args)
{
    const char *id = json_string_value(json_object_get(args, "id"));
    const char *hash = id ? strrchr(id, '#') : NULL;
    if (!hash) return rag_error("rag.read: 'id' must be STORE#CHUNK as returned by rag.search");
    char *end;
    long long chunk = strtoll(hash + 1, &end, 10);
    if (end == hash + 1 || *end) return rag_error("rag.read: 'id' must end in #NUMBER");
    if (!open_all(r)) return rag_error(r->open_error);
    for (size_t i = 0; i < r->cfg->stores.n; i++) {
        const char *name = r->cfg->stores.items[i];
        if (strlen(name) != (size_t)(hash - id) || strncmp(name, id, (size_t)(hash - id))) continue;
        rag_hit h = {0};
        bool found = false;
        hearth_error err = {0};
        if (rag_store_chunk_get(r->stores[i], chunk, &h, &found, &err)) return rag_error(err.message);
        if (!found) return rag_error("rag.read: no such chunk (the document may have been re-ingested)");
        json_t *out = json_pack("{s:b, s:{s:s, s:s, s:i, s:i, s:s}}", "ok", 1, "output", "path", h.path ? h.path : "",
                                "heading", h.heading ? h.heading : "", "line_start", h.line_start, "line_end",
                                h.line_end, "text", h.text ? agent_utf8_fix(h.text) : "");
        rag_hit_clear(&h);
        return out;
    }
    return rag_error("rag.read: the id names a store this agent does not use");
}
