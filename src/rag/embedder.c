/*
 * embedder.c — a rag_embedder backed by a GGUF embedding model (bert) through the engine.
 *
 * Identity: the fingerprint hashes the architecture, dimensions, vocabulary size and the
 * first bytes of the token embedding and of the last layer's output projection, so two
 * different weight files with the same name and shape are still told apart (and a renamed or
 * moved file is still recognised), without hashing a whole multi-GB file on every search.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "rag/embedder.h"

typedef struct model_embedder {
    hearth_model *model;
    hearth_context *ctx;
} model_embedder;

static int32_t count_tokens(void *self, const char *text, size_t len)
{
    model_embedder *me = self;
    if (len > INT32_MAX / 2) return INT32_MAX;
    int32_t n = hearth_tokenize(me->model, text, (int32_t)len, NULL, 0, false, false);
    return n < 0 ? -n : n;
}

static hearth_status embed(void *self, const char *const *texts, const size_t *lens, int32_t n, float *out,
                           hearth_error *err)
{
    model_embedder *me = self;
    int32_t *l32 = malloc((size_t)(n > 0 ? n : 1) * sizeof *l32);
    if (!l32) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n; i++) l32[i] = lens[i] > INT32_MAX / 2 ? INT32_MAX / 2 : (int32_t)lens[i];
    int32_t cut = 0;
    hearth_status st = hearth_embed(me->ctx, texts, l32, n, out, true, &cut, err);
    if (st == HEARTH_OK && cut)
        hearth_warn("%d text(s) longer than the embedding model's %d-token context were truncated", cut,
                    hearth_context_n_ctx(me->ctx));
    free(l32);
    return st;
}

static void hash_tensor(const hearth_gguf *g, const char *name, uint64_t *h)
{
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, name);
    if (t) *h = rag_hash64(t->data, HEARTH_MIN(t->size, (size_t)1 << 20), *h);
}

hearth_status rag_embedder_open_model(const char *path, int32_t n_threads, rag_embedder *out, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    model_embedder *me = calloc(1, sizeof *me);
    if (!me) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    me->model = hearth_model_load(path, NULL, err);
    if (!me->model) {
        free(me);
        return err ? err->status : HEARTH_ERR_IO;
    }
    hearth_model_info info;
    hearth_model_get_info(me->model, &info);
    if (strcmp(info.arch, "bert") != 0) {
        hearth_model_free(me->model);
        free(me);
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED,
                           "%s: architecture '%s' is not an embedding model (use a bert GGUF such as all-minilm or bge)",
                           path, info.arch);
    }
    int32_t ctx_len = HEARTH_MIN(info.n_ctx_train, 2048);
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = ctx_len;
    cp.n_batch = ctx_len;
    cp.n_seq_max = 64;
    cp.n_threads = n_threads;
    cp.embeddings = true;
    me->ctx = hearth_context_new(me->model, &cp, err);
    if (!me->ctx) {
        hearth_model_free(me->model);
        free(me);
        return err ? err->status : HEARTH_ERR_NOMEM;
    }
    const hearth_gguf *g = hearth_model_gguf(me->model);
    char buf[128];
    snprintf(buf, sizeof buf, "%s/%d/%d/%d/%d", info.arch, info.n_embd, info.n_layer, info.n_vocab, info.n_ctx_train);
    uint64_t h = rag_hash64(buf, strlen(buf), 0);
    hash_tensor(g, "token_embd.weight", &h);
    snprintf(buf, sizeof buf, "blk.%d.ffn_down.weight", info.n_layer - 1);
    hash_tensor(g, buf, &h);
    const char *slash = strrchr(path, '/');
    snprintf(out->name, sizeof out->name, "%s", info.name && *info.name ? info.name : slash ? slash + 1 : path);
    snprintf(out->fingerprint, sizeof out->fingerprint, "%s-%d-%016llx", info.arch, info.n_embd, (unsigned long long)h);
    out->self = me;
    out->dim = info.n_embd;
    out->max_tokens = HEARTH_MIN(ctx_len, 512);
    out->count_tokens = count_tokens;
    out->embed = embed;
    return HEARTH_OK;
}

void rag_embedder_close(rag_embedder *e)
{
    model_embedder *me = e ? e->self : NULL;
    if (!me) return;
    hearth_context_free(me->ctx);
    hearth_model_free(me->model);
    free(me);
    e->self = NULL;
}
