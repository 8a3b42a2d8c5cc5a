/*
 * context.c — contexts: the KV cache, activation buffers, batch validation and splitting,
 * logits, and sequence bookkeeping (hearth_decode, hearth_seq_*).
 *
 * The cache has n_seq_max * n_ctx cells; sequence s at position p uses cell s * n_ctx + p.
 * A batch is validated completely before anything changes, then run in slices of at most
 * n_batch tokens (the activation buffers' size).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda.h"
#include "model/model.h"

#define DEFAULT_N_CTX 4096
#define DEFAULT_N_BATCH 512
#define MAX_N_CTX (1 << 22)
#define MAX_N_SEQ 256

hearth_context_params hearth_context_default_params(void)
{
    hearth_context_params p = {0};
    p.kv_type = HEARTH_KV_F16;
    return p;
}

int32_t hearth_context_n_ctx(const hearth_context *ctx) { return ctx->n_ctx; }

static hearth_type kv_hearth_type(hearth_kv_type t)
{
    return t == HEARTH_KV_F32 ? HEARTH_TYPE_F32 : t == HEARTH_KV_Q8_0 ? HEARTH_TYPE_Q8_0 : HEARTH_TYPE_F16;
}

static hearth_buffer *act(hearth_context *ctx, int64_t rows, int64_t width, hearth_error *err)
{
    size_t bytes;
    if (!hearth_size_mul((size_t)rows * sizeof(float), (size_t)width, &bytes)) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "context: buffer of %lld x %lld floats is too large",
                    (long long)rows, (long long)width);
        return NULL;
    }
    return ctx->be->ops->buf_new(ctx->be, bytes, err);
}

static hearth_status alloc_all(hearth_context *ctx, hearth_error *err)
{
    const hearth_hparams *hp = &ctx->model->hp;
    int32_t nb = ctx->params.n_batch;
    int64_t q = (int64_t)hp->n_head * hp->head_dim, kv = (int64_t)hp->n_head_kv * hp->head_dim;
    int64_t width_ff = HEARTH_MAX(hp->n_ff, 1);
    hearth_type kvt = ctx->kv_type;
    if (kvt == HEARTH_TYPE_Q8_0 && hp->head_dim % HEARTH_QK8_0)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                           "context: a Q8_0 KV cache needs a head size divisible by 32, this model's is %d",
                           hp->head_dim);
    if (!(ctx->x = act(ctx, nb, hp->n_embd, err)) || !(ctx->xn = act(ctx, nb, hp->n_embd, err)) ||
        !(ctx->q = act(ctx, nb, q, err)) || !(ctx->k = act(ctx, nb, kv, err)) ||
        !(ctx->v = act(ctx, nb, kv, err)) || !(ctx->att = act(ctx, nb, q, err)) ||
        !(ctx->gate = act(ctx, nb, width_ff, err)) || !(ctx->up = act(ctx, nb, width_ff, err)) ||
        !(ctx->rope_tab = act(ctx, nb, HEARTH_MAX(hp->n_rot, 2), err)) ||
        !(ctx->outx = act(ctx, nb, hp->n_embd, err)) ||
        !(ctx->logits_buf = act(ctx, HEARTH_OUT_CHUNK, hp->n_vocab, err)))
        return err ? err->status : HEARTH_ERR_NOMEM;
    int64_t cells = (int64_t)ctx->n_ctx * ctx->n_seq;
    ctx->k_cache = calloc((size_t)hp->n_layer, sizeof *ctx->k_cache);
    ctx->v_cache = calloc((size_t)hp->n_layer, sizeof *ctx->v_cache);
    if (!ctx->k_cache || !ctx->v_cache) return hearth_fail(err, HEARTH_ERR_NOMEM, "context: out of memory");
    for (int il = 0; il < hp->n_layer && hp->causal; il++) {
        hearth_backend *be = ctx->be; /* with a split, the layer's backend */
        if (!(ctx->k_cache[il] = be->ops->kv_new(be, kvt, cells, kv, err)) ||
            !(ctx->v_cache[il] = be->ops->kv_new(be, kvt, cells, kv, err)))
            return hearth_fail_wrap(err, "context: KV cache of %lld cells", (long long)cells);
    }
    hearth_status st = ctx->be->ops->reserve(ctx->be, nb, ctx->n_ctx, hp->n_head, hp->n_head_kv, hp->head_dim, err);
    if (st) return st;
    size_t n = (size_t)nb;
    ctx->pos = calloc(n, sizeof(int32_t));
    ctx->seq = calloc(n, sizeof(int32_t));
    ctx->cell = calloc(n, sizeof(int32_t));
    ctx->out_rows = calloc(n, sizeof(int32_t));
    ctx->cell0 = calloc(n, sizeof(int32_t));
    ctx->n_kv = calloc(n, sizeof(int32_t));
    ctx->tok = calloc(n, sizeof(hearth_token));
    ctx->seq_len = calloc((size_t)ctx->n_seq, sizeof(int32_t));
    ctx->run_len = calloc((size_t)ctx->n_seq, sizeof(int32_t));
    ctx->seen = calloc((size_t)ctx->n_seq, sizeof(int32_t));
    if (!ctx->pos || !ctx->seq || !ctx->cell || !ctx->out_rows || !ctx->cell0 || !ctx->n_kv ||
        !ctx->tok || !ctx->seq_len || !ctx->run_len || !ctx->seen)
        return hearth_fail(err, HEARTH_ERR_NOMEM, "context: out of memory");
    return HEARTH_OK;
}

hearth_context *hearth_context_new(hearth_model *model, const hearth_context_params *params,
                                   hearth_error *err)
{
    hearth_context_params p = params ? *params : hearth_context_default_params();
    if (!model || model->vocab_only) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "context: the model was loaded without weights (vocab_only)");
        return NULL;
    }
    const hearth_hparams *hp = &model->hp;
    if (p.n_ctx < 0 || p.n_ctx > MAX_N_CTX || p.n_batch < 0 || p.n_threads < 0 || p.n_threads > 1024 ||
        p.n_seq_max < 0 || p.n_seq_max > MAX_N_SEQ ||
        (p.kv_type != HEARTH_KV_F16 && p.kv_type != HEARTH_KV_F32 && p.kv_type != HEARTH_KV_Q8_0)) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                    "context: parameters out of range (n_ctx %d (max %d), n_batch %d, n_threads %d, n_seq_max %d (max %d), kv_type %d)",
                    p.n_ctx, MAX_N_CTX, p.n_batch, p.n_threads, p.n_seq_max, MAX_N_SEQ, (int)p.kv_type);
        return NULL;
    }
    if (!p.n_ctx) p.n_ctx = HEARTH_MIN(hp->n_ctx_train, DEFAULT_N_CTX);
    if (p.n_ctx > hp->n_ctx_train)
        hearth_warn("context: n_ctx %d exceeds the %d tokens this model was trained for; quality may drop",
                    p.n_ctx, hp->n_ctx_train);
    if (!p.n_batch) p.n_batch = DEFAULT_N_BATCH;
    p.n_batch = HEARTH_MIN(p.n_batch, p.n_ctx);
    if (!p.n_seq_max) p.n_seq_max = 1;
    if (!p.n_threads) p.n_threads = hearth_default_threads();

    hearth_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "context: out of memory");
        return NULL;
    }
    ctx->model = model;
    ctx->params = p;
    ctx->n_ctx = p.n_ctx;
    ctx->n_seq = p.n_seq_max;
    ctx->kv_type = kv_hearth_type(p.kv_type);
    ctx->be = model->gpu ? hearth_gpu_context_backend(model, p.n_threads, err)
                         : hearth_backend_cpu_new(model->kernels, p.n_threads, err);
    if (!ctx->be || alloc_all(ctx, err)) {
        hearth_context_free(ctx);
        return NULL;
    }
    return ctx;
}

void hearth_context_free(hearth_context *ctx)
{
    if (!ctx) return;
    hearth_backend *be = ctx->be;
    if (be) {
        hearth_buffer *bufs[] = {ctx->x, ctx->xn, ctx->q, ctx->k, ctx->v, ctx->att, ctx->gate,
                                 ctx->up, ctx->rope_tab, ctx->outx, ctx->logits_buf};
        for (size_t i = 0; i < HEARTH_ARRAY_LEN(bufs); i++) be->ops->buf_free(be, bufs[i]);
        for (int il = 0; il < ctx->model->hp.n_layer; il++) {
            if (ctx->k_cache) be->ops->buf_free(be, ctx->k_cache[il]);
            if (ctx->v_cache) be->ops->buf_free(be, ctx->v_cache[il]);
        }
        be->ops->free(be);
    }
    free(ctx->k_cache);
    free(ctx->v_cache);
    free(ctx->pos);
    free(ctx->seq);
    free(ctx->cell);
    free(ctx->out_rows);
    free(ctx->cell0);
    free(ctx->n_kv);
    free(ctx->tok);
    free(ctx->seq_len);
    free(ctx->run_len);
    free(ctx->seen);
    free(ctx->logits);
    free(ctx->out_index);
    free(ctx->embd);
    free(ctx);
}

/* ---- decoding ----------------------------------------------------------------------------- */

/* Position of token i, given the running lengths (pos NULL: continue the sequence). */
static int32_t token_pos(const hearth_context *ctx, const hearth_batch *b, int32_t i, int32_t s)
{
    return b->pos ? b->pos[i] : ctx->run_len[s];
}

/* Checks every token before anything changes: ids, sequences, positions (consecutive within
 * a sequence, starting at or before its current length, below n_ctx). */
static hearth_status validate(hearth_context *ctx, const hearth_batch *b, int32_t *n_out, hearth_error *err)
{
    const hearth_hparams *hp = &ctx->model->hp;
    if (!b || b->n_tokens <= 0 || !b->tokens)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "decode: empty batch");
    memcpy(ctx->run_len, ctx->seq_len, (size_t)ctx->n_seq * sizeof(int32_t));
    memset(ctx->seen, 0, (size_t)ctx->n_seq * sizeof(int32_t));
    *n_out = 0;
    for (int32_t i = 0; i < b->n_tokens; i++) {
        hearth_token t = b->tokens[i];
        if (t < 0 || t >= hp->n_vocab)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "decode: token %d at batch index %d is outside the vocabulary (0..%d)",
                               t, i, hp->n_vocab - 1);
        int32_t s = b->seq_id ? b->seq_id[i] : 0;
        if (s < 0 || s >= ctx->n_seq)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "decode: sequence %d at batch index %d is outside 0..%d (n_seq_max)",
                               s, i, ctx->n_seq - 1);
        int32_t p = token_pos(ctx, b, i, s);
        if (p < 0 || (ctx->seen[s] ? p != ctx->run_len[s] : p > ctx->run_len[s]))
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                               "decode: position %d of sequence %d at batch index %d: expected %s%d", p, s, i,
                               ctx->seen[s] ? "" : "at most ", ctx->run_len[s]);
        if (p >= ctx->n_ctx)
            return hearth_fail(err, HEARTH_ERR_CONTEXT_FULL,
                               "context full: sequence %d needs position %d but the context holds %d tokens "
                               "(use a larger context size, or start over)", s, p, ctx->n_ctx);
        ctx->seen[s] = 1;
        ctx->run_len[s] = p + 1;
        if (b->logits ? b->logits[i] != 0 : i == b->n_tokens - 1) (*n_out)++;
    }
    return HEARTH_OK;
}

static hearth_status reserve_outputs(hearth_context *ctx, int32_t n_tokens, int32_t n_out, hearth_error *err)
{
    size_t need = (size_t)n_out * (size_t)ctx->model->hp.n_vocab;
    if (need > ctx->logits_cap) {
        float *l = realloc(ctx->logits, need * sizeof(float));
        if (!l) return hearth_fail(err, HEARTH_ERR_NOMEM, "decode: cannot allocate logits for %d tokens", n_out);
        ctx->logits = l;
        ctx->logits_cap = need;
    }
    if (n_tokens > ctx->out_index_cap) {
        int32_t *o = realloc(ctx->out_index, (size_t)n_tokens * sizeof(int32_t));
        if (!o) return hearth_fail(err, HEARTH_ERR_NOMEM, "decode: out of memory");
        ctx->out_index = o;
        ctx->out_index_cap = n_tokens;
    }
    return HEARTH_OK;
}

hearth_status hearth_decode(hearth_context *ctx, const hearth_batch *b, hearth_error *err)
{
    int32_t n_out = 0;
    if (!ctx) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "decode: context is NULL");
    hearth_status st = validate(ctx, b, &n_out, err);
    if (!st) st = reserve_outputs(ctx, b->n_tokens, n_out, err);
    if (st) return st;
    memcpy(ctx->run_len, ctx->seq_len, (size_t)ctx->n_seq * sizeof(int32_t));
    ctx->n_outputs = 0;
    int32_t swa = ctx->model->hp.n_swa;
    for (int32_t i0 = 0; i0 < b->n_tokens; i0 += ctx->params.n_batch) {
        int32_t n = HEARTH_MIN(ctx->params.n_batch, b->n_tokens - i0);
        hearth_ubatch ub = {.n_tok = n, .tokens = ctx->tok, .pos = ctx->pos, .seq = ctx->seq,
                            .cell = ctx->cell, .out_rows = ctx->out_rows, .out_base = ctx->n_outputs};
        int32_t max_kv = 0;
        for (int32_t j = 0; j < n; j++) {
            int32_t i = i0 + j, s = b->seq_id ? b->seq_id[i] : 0, p = token_pos(ctx, b, i, s);
            int32_t first = swa > 0 && p >= swa ? p - swa + 1 : 0; /* sliding window */
            ctx->tok[j] = b->tokens[i];
            ctx->pos[j] = p;
            ctx->seq[j] = s;
            ctx->cell[j] = s * ctx->n_ctx + p;
            ctx->cell0[j] = s * ctx->n_ctx + first;
            ctx->n_kv[j] = p - first + 1;
            max_kv = HEARTH_MAX(max_kv, ctx->n_kv[j]);
            ctx->run_len[s] = p + 1;
            bool out = b->logits ? b->logits[i] != 0 : i == b->n_tokens - 1;
            ctx->out_index[i] = out ? ctx->n_outputs + ub.n_out : -1;
            if (out) ctx->out_rows[ub.n_out++] = j;
        }
        ub.attn = (hearth_attn_batch){n, ctx->cell0, ctx->n_kv, max_kv};
        st = ctx->model->ops->forward(ctx, &ub, err);
        if (st) return st;
        /* the cache now holds these positions */
        for (int32_t j = 0; j < n; j++) ctx->seq_len[ctx->seq[j]] = ctx->pos[j] + 1;
        ctx->n_outputs += ub.n_out;
    }
    ctx->n_batch_tokens = b->n_tokens;
    return HEARTH_OK;
}

const float *hearth_get_logits(hearth_context *ctx, int32_t i)
{
    if (!ctx || !ctx->n_outputs) return NULL;
    if (i == -1) return ctx->logits + (size_t)(ctx->n_outputs - 1) * (size_t)ctx->model->hp.n_vocab;
    if (i < 0 || i >= ctx->n_batch_tokens || ctx->out_index[i] < 0) return NULL;
    return ctx->logits + (size_t)ctx->out_index[i] * (size_t)ctx->model->hp.n_vocab;
}

/* ---- host work on the decode threads ---------------------------------------------------- */

typedef struct par_for {
    void (*fn)(void *arg, int32_t i);
    void *arg;
    int32_t n;
    atomic_int next; /* indices are taken one at a time: a worker that wakes late takes fewer */
} par_for;

static void par_for_worker(void *arg, int ith, int nth)
{
    (void)ith;
    (void)nth;
    par_for *p = arg;
    for (int32_t i; (i = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed)) < p->n;) p->fn(p->arg, i);
}

void hearth_context_parallel(hearth_context *ctx, int32_t n, void (*fn)(void *arg, int32_t i), void *arg)
{
    hearth_threadpool *tp = ctx && ctx->be->ops->threadpool ? ctx->be->ops->threadpool(ctx->be) : NULL;
    if (n < 2 || !tp || hearth_threadpool_size(tp) < 2) {
        for (int32_t i = 0; i < n; i++) fn(arg, i);
        return;
    }
    par_for p = {fn, arg, n, 0};
    hearth_threadpool_run(tp, par_for_worker, &p);
}

/* ---- sequences ------------------------------------------------------------------------------ */

int32_t hearth_seq_len(const hearth_context *ctx, int32_t seq_id)
{
    if (!ctx || seq_id < 0 || seq_id >= ctx->n_seq) return 0;
    return ctx->seq_len[seq_id];
}

void hearth_seq_truncate(hearth_context *ctx, int32_t seq_id, int32_t p0)
{
    if (!ctx || seq_id < 0 || seq_id >= ctx->n_seq) return;
    if (p0 < 0) p0 = 0;
    if (p0 < ctx->seq_len[seq_id]) ctx->seq_len[seq_id] = p0;
}

hearth_status hearth_seq_copy(hearth_context *ctx, int32_t src, int32_t dst, int32_t n, hearth_error *err)
{
    if (!ctx || src < 0 || src >= ctx->n_seq || dst < 0 || dst >= ctx->n_seq)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "seq_copy: sequences %d -> %d outside 0..%d (n_seq_max)",
                           src, dst, ctx ? ctx->n_seq - 1 : 0);
    if (n < 0 || n > ctx->seq_len[src])
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "seq_copy: %d positions requested, sequence %d has %d",
                           n, src, ctx->seq_len[src]);
    if (src != dst) {
        const hearth_hparams *hp = &ctx->model->hp;
        int64_t kv = (int64_t)hp->n_head_kv * hp->head_dim;
        for (int il = 0; il < hp->n_layer && hp->causal; il++) {
            hearth_backend *be = ctx->be;
            be->ops->kv_copy(be, ctx->k_cache[il], ctx->kv_type, kv, dst * ctx->n_ctx, src * ctx->n_ctx, n);
            be->ops->kv_copy(be, ctx->v_cache[il], ctx->kv_type, kv, dst * ctx->n_ctx, src * ctx->n_ctx, n);
        }
    }
    ctx->seq_len[dst] = n;
    return HEARTH_OK;
}

void hearth_kv_clear(hearth_context *ctx)
{
    if (ctx) memset(ctx->seq_len, 0, (size_t)ctx->n_seq * sizeof(int32_t));
}
