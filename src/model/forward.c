/*
 * forward.c — the llama-family forward pass over one batch slice, written only against the
 * backend table (so the same code drives the CPU and a GPU backend).
 *
 * Per layer:  h = x + Wo * attn(rope(norm_q(Wq n(x) + bq)), rope(norm_k(Wk n(x) + bk)), Wv n(x) + bv)
 *             x = h + Wdown (silu(Wgate n(h)) * Wup n(h))
 * then logits = Wout * rmsnorm(x) for the tokens that asked for them, in chunks.
 */
#include <math.h>

#include "model/model.h"

hearth_status hearth_llama_forward(hearth_context *ctx, const hearth_ubatch *ub, hearth_error *err);

static void linear(hearth_backend *be, const hearth_weight *w, const hearth_weight *bias,
                   const hearth_buffer *x, int32_t n, hearth_buffer *y)
{
    be->ops->matmul(be, w->bw, x, n, y);
    if (bias->bw) be->ops->add_bias(be, y, bias->bw, n, w->m.rows);
}

/* y[i] = W[i] x for the n weights on the same input, in one backend call where it has one */
static void project(hearth_backend *be, int n, const hearth_weight *const *w, const hearth_buffer *x, int32_t n_tok,
                    hearth_buffer *const *y)
{
    const hearth_bweight *bw[HEARTH_MATMUL_MAX_PARTS];
    if (!be->ops->matmul_many || n > HEARTH_MATMUL_MAX_PARTS) {
        for (int i = 0; i < n; i++) be->ops->matmul(be, w[i]->bw, x, n_tok, y[i]);
        return;
    }
    for (int i = 0; i < n; i++) bw[i] = w[i]->bw;
    be->ops->matmul_many(be, n, bw, x, n_tok, y);
}

static void attention_block(hearth_context *ctx, const hearth_layer *L, int il, const hearth_ubatch *ub,
                            const hearth_rope_params *rope)
{
    const hearth_model *m = ctx->model;
    const hearth_hparams *hp = &m->hp;
    hearth_backend *be = ctx->be;
    const hearth_backend_ops *op = be->ops;
    int32_t n = ub->n_tok;
    int64_t n_embd_kv = (int64_t)hp->n_head_kv * hp->head_dim;

    op->rmsnorm(be, ctx->x, L->attn_norm.bw, n, hp->n_embd, hp->norm_eps, ctx->xn);
    const hearth_weight *qkv[3] = {&L->wq, &L->wk, &L->wv}, *bias[3] = {&L->bq, &L->bk, &L->bv};
    hearth_buffer *out[3] = {ctx->q, ctx->k, ctx->v};
    project(be, 3, qkv, ctx->xn, n, out);
    for (int i = 0; i < 3; i++)
        if (bias[i]->bw) op->add_bias(be, out[i], bias[i]->bw, n, qkv[i]->m.rows);
    if (L->q_norm.bw) op->rmsnorm(be, ctx->q, L->q_norm.bw, (int64_t)n * hp->n_head, hp->head_dim, hp->norm_eps, ctx->q);
    if (L->k_norm.bw) op->rmsnorm(be, ctx->k, L->k_norm.bw, (int64_t)n * hp->n_head_kv, hp->head_dim, hp->norm_eps, ctx->k);
    op->rope(be, ctx->q, n, hp->n_head, hp->head_dim, rope, ctx->rope_tab);
    op->rope(be, ctx->k, n, hp->n_head_kv, hp->head_dim, rope, ctx->rope_tab);
    op->kv_store(be, ctx->k_cache[il], ctx->kv_type, n_embd_kv, ctx->k, ub->cell, n);
    op->kv_store(be, ctx->v_cache[il], ctx->kv_type, n_embd_kv, ctx->v, ub->cell, n);
    op->attention(be, ctx->q, ctx->k_cache[il], ctx->v_cache[il], ctx->kv_type, hp->n_head, hp->n_head_kv,
                  hp->head_dim, 1.0f / sqrtf((float)hp->head_dim), &ub->attn, ctx->att);
    linear(be, &L->wo, &L->bo, ctx->att, n, ctx->xn);
    op->add(be, ctx->x, ctx->xn, (int64_t)n * hp->n_embd);
}

static void ffn_block(hearth_context *ctx, const hearth_layer *L, int32_t n)
{
    const hearth_hparams *hp = &ctx->model->hp;
    hearth_backend *be = ctx->be;
    const hearth_backend_ops *op = be->ops;
    op->rmsnorm(be, ctx->x, L->ffn_norm.bw, n, hp->n_embd, hp->norm_eps, ctx->xn);
    const hearth_weight *gate_up[2] = {&L->ffn_gate, &L->ffn_up};
    hearth_buffer *out[2] = {ctx->gate, ctx->up};
    project(be, 2, gate_up, ctx->xn, n, out);
    op->swiglu(be, ctx->gate, ctx->up, (int64_t)n * hp->n_ff, ctx->gate);
    op->matmul(be, L->ffn_down.bw, ctx->gate, n, ctx->xn);
    op->add(be, ctx->x, ctx->xn, (int64_t)n * hp->n_embd);
}

/* Final norm and output projection for the rows that keep logits, HEARTH_OUT_CHUNK at a time. */
static void output_logits(hearth_context *ctx, const hearth_ubatch *ub)
{
    const hearth_model *m = ctx->model;
    const hearth_hparams *hp = &m->hp;
    hearth_backend *be = ctx->be;
    const hearth_backend_ops *op = be->ops;
    if (!ub->n_out) return;
    op->copy_rows(be, ctx->x, ub->out_rows, ub->n_out, hp->n_embd, ctx->outx);
    op->rmsnorm(be, ctx->outx, m->out_norm.bw, ub->n_out, hp->n_embd, hp->norm_eps, ctx->outx);
    size_t row_bytes = (size_t)hp->n_vocab * sizeof(float);
    for (int32_t r0 = 0; r0 < ub->n_out; r0 += HEARTH_OUT_CHUNK) {
        int32_t nr = HEARTH_MIN(HEARTH_OUT_CHUNK, ub->n_out - r0);
        /* later chunks start r0 rows into outx: gather them to the front of xn (decoding
         * has one chunk, read in place) */
        if (r0) {
            for (int32_t j = 0; j < nr; j++) ctx->chunk_rows[j] = r0 + j;
            op->copy_rows(be, ctx->outx, ctx->chunk_rows, nr, hp->n_embd, ctx->xn);
            op->matmul(be, m->output.bw, ctx->xn, nr, ctx->logits_buf);
        } else {
            op->matmul(be, m->output.bw, ctx->outx, nr, ctx->logits_buf);
        }
        op->buf_read(be, ctx->logits_buf, 0, ctx->logits + (size_t)(ub->out_base + r0) * hp->n_vocab,
                     (size_t)nr * row_bytes);
    }
}

hearth_status hearth_llama_forward(hearth_context *ctx, const hearth_ubatch *ub, hearth_error *err)
{
    (void)err;
    const hearth_model *m = ctx->model;
    const hearth_hparams *hp = &m->hp;
    hearth_backend *be = ctx->be;
    const float *factors = m->rope_freqs;
    if (!factors && m->rope_long) factors = ctx->n_ctx > hp->n_ctx_orig ? m->rope_long : m->rope_short;
    hearth_rope_params rope = {hp->rope_mode, hp->n_rot, hp->rope_freq_base, hp->rope_freq_scale, factors,
                               hp->rope_scaling == HEARTH_ROPE_SCALING_YARN, hp->yarn_low, hp->yarn_high,
                               hp->rope_mscale};
    be->ops->get_rows(be, m->tok_embd.bw, ub->tokens, ub->n_tok, ctx->x);
    be->ops->rope_table(be, &rope, ub->pos, ub->n_tok, ctx->rope_tab);
    for (int il = 0; il < hp->n_layer; il++) {
        const hearth_layer *L = &m->layers[il];
        attention_block(ctx, L, il, ub, &rope);
        ffn_block(ctx, L, ub->n_tok);
    }
    output_logits(ctx, ub);
    return HEARTH_OK;
}
