/*
 * bert.c — the BERT encoder (all-MiniLM, bge, ... as Ollama and llama.cpp ship them) and the
 * embedding entry points of hearth.h.
 *
 *   x = tok_embd[t] + token_types[0] + position_embd[pos];  x = LN(x)
 *   per layer:  x = LN(x + Wo attn(Wq x + bq, Wk x + bk, Wv x + bv) + bo)
 *               x = LN(x + Wdown gelu(Wup x + bup) + bdown)
 *   pooled per sequence (mean, CLS or last token, from bert.pooling_type).
 *
 * Attention is bidirectional inside a sequence, so a sequence must be whole in one batch
 * slice. There is no KV cache: the batch's own K and V activations are the "cache" the
 * backend's attention reads, each token seeing exactly the rows of its own sequence.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

enum { POOL_NONE = 0, POOL_MEAN = 1, POOL_CLS = 2, POOL_LAST = 3 };

static hearth_status check_range(hearth_model *m, const char *what, int64_t v, int64_t max, hearth_error *err)
{
    if (v <= 0 || v > max)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: 'bert.%s' must be between 1 and %lld, found %lld", m->path, what,
                           (long long)max, (long long)v);
    return HEARTH_OK;
}

static hearth_status load_hparams(hearth_model *m, hearth_error *err)
{
    hearth_hparams *hp = &m->hp;
    hearth_status st;
    if ((st = hearth_model_hp_i32(m, "context_length", true, 0, &hp->n_ctx_train, err)) ||
        (st = hearth_model_hp_i32(m, "embedding_length", true, 0, &hp->n_embd, err)) ||
        (st = hearth_model_hp_i32(m, "block_count", true, 0, &hp->n_layer, err)) ||
        (st = hearth_model_hp_i32(m, "feed_forward_length", true, 0, &hp->n_ff, err)) ||
        (st = hearth_model_hp_i32(m, "attention.head_count", true, 0, &hp->n_head, err)) ||
        (st = hearth_model_hp_f32(m, "attention.layer_norm_epsilon", true, 0, &hp->norm_eps, err)) ||
        (st = hearth_model_hp_i32(m, "pooling_type", false, POOL_MEAN, &hp->pooling, err)))
        return st;
    if ((st = check_range(m, "context_length", hp->n_ctx_train, 1 << 20, err)) ||
        (st = check_range(m, "embedding_length", hp->n_embd, 1 << 16, err)) ||
        (st = check_range(m, "block_count", hp->n_layer, 1024, err)) ||
        (st = check_range(m, "feed_forward_length", hp->n_ff, 1 << 18, err)) ||
        (st = check_range(m, "attention.head_count", hp->n_head, 1024, err)))
        return st;
    if ((st = hearth_model_hp_i32(m, "attention.head_count_kv", false, hp->n_head, &hp->n_head_kv, err))) return st;
    if (hp->n_head_kv != hp->n_head || hp->n_embd % hp->n_head)
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: bert needs head_count_kv == head_count (%d, %d) dividing embedding_length %d",
                           m->path, hp->n_head_kv, hp->n_head, hp->n_embd);
    if (!(hp->norm_eps >= 0) || hp->norm_eps > 1)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: 'bert.attention.layer_norm_epsilon' out of range: %g", m->path,
                           (double)hp->norm_eps);
    if (hp->pooling == POOL_NONE) {
        hearth_warn("%s: bert.pooling_type 0 (none): pooling with the mean", m->path);
        hp->pooling = POOL_MEAN;
    }
    if (hp->pooling != POOL_MEAN && hp->pooling != POOL_CLS && hp->pooling != POOL_LAST)
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s: bert.pooling_type %d is not supported (1 mean, 2 cls, 3 last)",
                           m->path, hp->pooling);
    hp->head_dim = hp->head_dim_v = hp->n_embd / hp->n_head;
    hp->n_rot = 2; /* no RoPE; keeps the context's (unused) rope table non-empty */
    hp->rope_mode = HEARTH_ROPE_NONE;
    hp->rope_freq_base = 10000.0f;
    hp->rope_freq_scale = 1.0f;
    hp->n_ctx_orig = hp->n_ctx_train;
    hp->causal = false;
    return HEARTH_OK;
}

static hearth_status load_bert(hearth_model *m, hearth_error *err)
{
    hearth_hparams *hp = &m->hp;
    hearth_status st = load_hparams(m, err);
    if (st) return st;
    const hearth_gguf_tensor *te = hearth_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te) return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: missing tensor 'token_embd.weight'", m->path);
    hp->n_vocab = (int32_t)HEARTH_MIN(te->ne[1], (int64_t)INT32_MAX);
    int64_t e = hp->n_embd;
    const hearth_gguf_tensor *tt = hearth_gguf_find_tensor(m->gguf, "token_types.weight");
    int64_t n_types = tt ? tt->ne[1] : 1;
    hearth_weight types;
    /* only token type 0 is ever used (one text per sequence): bind that row as a bias */
    if ((st = hearth_model_bind(m, &m->tok_embd, true, e, hp->n_vocab, err, "token_embd.weight")) ||
        (st = hearth_model_tensor(m, &types, true, e, n_types, err, "token_types.weight")) ||
        (st = hearth_model_bind_rows(m, &m->tok_types, &types, 0, 1, err)) ||
        (st = hearth_model_bind(m, &m->pos_embd, true, e, hp->n_ctx_train, err, "position_embd.weight")) ||
        (st = hearth_model_bind(m, &m->embd_norm, true, e, 1, err, "token_embd_norm.weight")) ||
        (st = hearth_model_bind(m, &m->embd_norm_b, true, e, 1, err, "token_embd_norm.bias")))
        return st;
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", m->path);
    for (int il = 0; il < hp->n_layer; il++) {
        hearth_layer *L = &m->layers[il];
        L->be = m->cpu;
#define BIND(w, cols, rows, name) \
    if ((st = hearth_model_bind(m, &L->w, true, cols, rows, err, "blk.%d." name, il))) return st
        BIND(wq, e, e, "attn_q.weight");
        BIND(bq, e, 1, "attn_q.bias");
        BIND(wk, e, e, "attn_k.weight");
        BIND(bk, e, 1, "attn_k.bias");
        BIND(wv, e, e, "attn_v.weight");
        BIND(bv, e, 1, "attn_v.bias");
        BIND(wo, e, e, "attn_output.weight");
        BIND(bo, e, 1, "attn_output.bias");
        BIND(attn_out_norm, e, 1, "attn_output_norm.weight");
        BIND(attn_out_norm_b, e, 1, "attn_output_norm.bias");
        BIND(ffn_up, e, hp->n_ff, "ffn_up.weight");
        BIND(ffn_up_b, hp->n_ff, 1, "ffn_up.bias");
        BIND(ffn_down, hp->n_ff, e, "ffn_down.weight");
        BIND(ffn_down_b, e, 1, "ffn_down.bias");
        BIND(out_norm, e, 1, "layer_output_norm.weight");
        BIND(out_norm_b, e, 1, "layer_output_norm.bias");
#undef BIND
    }
    return HEARTH_OK;
}

static void linear(hearth_backend *be, const hearth_weight *w, const hearth_weight *b, const hearth_buffer *x,
                   int32_t n, hearth_buffer *y)
{
    be->ops->matmul(be, w->bw, x, n, y);
    be->ops->add_bias(be, y, b->bw, n, w->m.rows);
}

/* Each token attends to the rows of its own sequence in this slice; sequences must be whole
 * (start at position 0, consecutive, contiguous). Fills ctx->cell0 / ctx->n_kv. */
static hearth_status sequence_ranges(hearth_context *ctx, const hearth_ubatch *ub, hearth_attn_batch *attn,
                                     hearth_error *err)
{
    int32_t n = ub->n_tok, max_kv = 0;
    for (int32_t j = 0; j < n;) {
        int32_t s = ub->seq[j], k = j;
        if (ub->pos[j] != 0)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                               "bert: sequence %d starts at position %d in this batch slice; an encoder needs each "
                               "sequence whole in one slice (n_batch >= its tokens, positions from 0)", s, ub->pos[j]);
        while (k < n && ub->seq[k] == s && ub->pos[k] == k - j) k++;
        if (k < n && ub->seq[k] == s)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "bert: positions of sequence %d are not consecutive", s);
        for (int32_t i = j; i < k; i++) {
            ctx->cell0[i] = j;
            ctx->n_kv[i] = k - j;
        }
        max_kv = HEARTH_MAX(max_kv, k - j);
        j = k;
    }
    *attn = (hearth_attn_batch){n, ctx->cell0, ctx->n_kv, max_kv};
    return HEARTH_OK;
}

static hearth_status pool(hearth_context *ctx, const hearth_ubatch *ub, hearth_error *err)
{
    const hearth_hparams *hp = &ctx->model->hp;
    size_t e = (size_t)hp->n_embd;
    if (!ctx->embd && !(ctx->embd = calloc((size_t)ctx->n_seq * e, sizeof(float))))
        return hearth_fail(err, HEARTH_ERR_NOMEM, "bert: out of memory for embeddings");
    float *h = malloc((size_t)ub->n_tok * e * sizeof *h);
    if (!h) return hearth_fail(err, HEARTH_ERR_NOMEM, "bert: out of memory pooling");
    ctx->be->ops->buf_read(ctx->be, ctx->x, 0, h, (size_t)ub->n_tok * e * sizeof *h);
    for (int32_t j = 0; j < ub->n_tok; j += ctx->n_kv[j]) {
        int32_t len = ctx->n_kv[j];
        float *out = ctx->embd + (size_t)ub->seq[j] * e;
        if (hp->pooling == POOL_CLS || hp->pooling == POOL_LAST) {
            memcpy(out, h + (size_t)(hp->pooling == POOL_CLS ? j : j + len - 1) * e, e * sizeof *out);
            continue;
        }
        for (size_t c = 0; c < e; c++) {
            double s = 0;
            for (int32_t t = 0; t < len; t++) s += h[(size_t)(j + t) * e + c];
            out[c] = (float)(s / len);
        }
    }
    free(h);
    ctx->n_embd_out = ctx->n_seq;
    return HEARTH_OK;
}

static hearth_status bert_forward(hearth_context *ctx, const hearth_ubatch *ub, hearth_error *err)
{
    const hearth_model *m = ctx->model;
    const hearth_hparams *hp = &m->hp;
    hearth_backend *be = ctx->be;
    const hearth_backend_ops *op = be->ops;
    int32_t n = ub->n_tok;
    int64_t e = hp->n_embd;
    hearth_attn_batch attn;
    hearth_status st = sequence_ranges(ctx, ub, &attn, err);
    if (st) return st;
    for (int32_t j = 0; j < n; j++)
        if (ub->pos[j] >= hp->n_ctx_train)
            return hearth_fail(err, HEARTH_ERR_CONTEXT_FULL, "bert: position %d exceeds the model's %d positions",
                               ub->pos[j], hp->n_ctx_train);
    op->get_rows(be, m->tok_embd.bw, ub->tokens, n, ctx->x);
    op->get_rows(be, m->pos_embd.bw, ub->pos, n, ctx->xn);
    op->add(be, ctx->x, ctx->xn, (int64_t)n * e);
    op->add_bias(be, ctx->x, m->tok_types.bw, n, e);
    op->layernorm(be, ctx->x, m->embd_norm.bw, m->embd_norm_b.bw, n, e, hp->norm_eps, ctx->x);
    for (int il = 0; il < hp->n_layer; il++) {
        const hearth_layer *L = &m->layers[il];
        linear(be, &L->wq, &L->bq, ctx->x, n, ctx->q);
        linear(be, &L->wk, &L->bk, ctx->x, n, ctx->k);
        linear(be, &L->wv, &L->bv, ctx->x, n, ctx->v);
        op->attention(be, ctx->q, ctx->k, ctx->v, HEARTH_TYPE_F32, hp->n_head, hp->n_head, hp->head_dim,
                      1.0f / sqrtf((float)hp->head_dim), &attn, ctx->att);
        linear(be, &L->wo, &L->bo, ctx->att, n, ctx->xn);
        op->add(be, ctx->x, ctx->xn, (int64_t)n * e);
        op->layernorm(be, ctx->x, L->attn_out_norm.bw, L->attn_out_norm_b.bw, n, e, hp->norm_eps, ctx->x);
        linear(be, &L->ffn_up, &L->ffn_up_b, ctx->x, n, ctx->gate);
        op->gelu(be, ctx->gate, (int64_t)n * hp->n_ff);
        linear(be, &L->ffn_down, &L->ffn_down_b, ctx->gate, n, ctx->xn);
        op->add(be, ctx->x, ctx->xn, (int64_t)n * e);
        op->layernorm(be, ctx->x, L->out_norm.bw, L->out_norm_b.bw, n, e, hp->norm_eps, ctx->x);
    }
    return pool(ctx, ub, err);
}

const hearth_arch_ops hearth_arch_bert = {HEARTH_ARCH_BERT, "bert", load_bert, bert_forward};

/* ---- public embedding API ------------------------------------------------------------------- */

const float *hearth_get_embeddings_seq(hearth_context *ctx, int32_t seq_id)
{
    if (!ctx || !ctx->embd || seq_id < 0 || seq_id >= ctx->n_embd_out) return NULL;
    return ctx->embd + (size_t)seq_id * (size_t)ctx->model->hp.n_embd;
}

hearth_status hearth_embed(hearth_context *ctx, const char *const *texts, const int32_t *lens, int32_t n_texts,
                           float *out, bool normalize, int32_t *n_truncated, hearth_error *err)
{
    const hearth_model *m = ctx->model;
    if (m->ops->arch != HEARTH_ARCH_BERT)
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s: '%s' is not an embedding model", m->path, m->ops->name);
    int32_t e = m->hp.n_embd, max_tok = HEARTH_MIN(ctx->n_ctx, ctx->params.n_batch);
    max_tok = HEARTH_MIN(max_tok, m->hp.n_ctx_train);
    if (n_truncated) *n_truncated = 0;
    /* several texts share one decode call: one sequence each, while they fit the batch */
    size_t cap = (size_t)max_tok;
    hearth_token *tok = malloc(cap * sizeof *tok), *one = malloc(cap * sizeof *one);
    int32_t *pos = malloc(cap * sizeof *pos), *seq = malloc(cap * sizeof *seq);
    hearth_status st = tok && one && pos && seq ? HEARTH_OK : hearth_fail(err, HEARTH_ERR_NOMEM, "embed: out of memory");
    int32_t i = 0;
    while (st == HEARTH_OK && i < n_texts) {
        int32_t n_tok = 0, first = i;
        while (i < n_texts && i - first < ctx->n_seq) {
            int32_t len = lens ? lens[i] : (int32_t)strlen(texts[i]);
            int32_t k = hearth_tokenize(m, texts[i], len, one, max_tok, true, false);
            bool cut = k < 0;
            if (cut) { /* longer than the context: keep the head and the final special token */
                hearth_token *all = malloc((size_t)-k * sizeof *all);
                if (!all) {
                    st = hearth_fail(err, HEARTH_ERR_NOMEM, "embed: out of memory");
                    break;
                }
                int32_t kk = hearth_tokenize(m, texts[i], len, all, -k, true, false);
                memcpy(one, all, (size_t)max_tok * sizeof *one);
                if (kk > 0 && hearth_token_is_control(m, all[kk - 1])) one[max_tok - 1] = all[kk - 1];
                free(all);
                k = max_tok;
            }
            if (k == 0) one[k++] = hearth_token_bos(m) >= 0 ? hearth_token_bos(m) : 0;
            if (n_tok + k > max_tok) break; /* next call */
            if (cut && n_truncated) (*n_truncated)++;
            for (int32_t t = 0; t < k; t++) {
                tok[n_tok + t] = one[t];
                pos[n_tok + t] = t;
                seq[n_tok + t] = i - first;
            }
            n_tok += k;
            i++;
        }
        if (st != HEARTH_OK) break;
        hearth_batch b = {.n_tokens = n_tok, .tokens = tok, .pos = pos, .seq_id = seq};
        if ((st = hearth_decode(ctx, &b, err))) break;
        for (int32_t t = first; t < i; t++) {
            const float *v = hearth_get_embeddings_seq(ctx, t - first);
            float *o = out + (size_t)t * (size_t)e;
            double ss = 0;
            for (int32_t c = 0; c < e; c++) ss += (double)v[c] * v[c];
            float scale = normalize && ss > 0 ? (float)(1.0 / sqrt(ss)) : 1.0f;
            for (int32_t c = 0; c < e; c++) o[c] = v[c] * scale;
        }
    }
    free(tok);
    free(one);
    free(pos);
    free(seq);
    return st;
}
