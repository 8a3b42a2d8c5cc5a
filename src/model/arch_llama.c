/*
 * arch_llama.c — hyperparameters and tensors of the llama family: llama, qwen2 (QKV bias),
 * qwen3 (per-head Q/K RMSNorm), phi3 (fused QKV and gate/up). All share one forward pass
 * (forward.c); what differs is which tensors exist and how RoPE pairs dimensions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

hearth_status hearth_llama_forward(hearth_context *ctx, const hearth_ubatch *ub, hearth_error *err);

static hearth_status check_positive(hearth_model *m, const char *what, int64_t v, hearth_error *err)
{
    if (v <= 0 || v > (1 << 24))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: '%s.%s' must be between 1 and %d, found %lld",
                           m->path, m->ops->name, what, 1 << 24, (long long)v);
    return HEARTH_OK;
}

/* YaRN's correction range (as ggml computes it, in float): the pair indices whose
 * wavelength spans between beta_fast and beta_slow turns over the original context. */
static float yarn_corr_dim(int n_dims, int n_ctx_orig, float beta, float base)
{
    return (float)n_dims * logf((float)n_ctx_orig / (beta * 2.0f * (float)M_PI)) / (2.0f * logf(base));
}

static hearth_status rope_scaling(hearth_model *m, hearth_error *err)
{
    hearth_hparams *hp = &m->hp;
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", m->ops->name);
    const char *type = "none";
    if (hearth_gguf_get(m->gguf, key)) {
        hearth_status st = hearth_gguf_get_str(m->gguf, key, &type, err);
        if (st) return st;
    }
    float factor = 0, attn_factor = 1, beta_fast = 32, beta_slow = 1, log_mul = 0;
    hearth_status st;
    if ((st = hearth_model_hp_f32(m, "rope.scaling.factor", false, 0.0f, &factor, err)) ||
        (st = hearth_model_hp_i32(m, "rope.scaling.original_context_length", false, hp->n_ctx_train,
                                  &hp->n_ctx_orig, err)) ||
        (st = hearth_model_hp_f32(m, "rope.scaling.attn_factor", false, 1.0f, &attn_factor, err)) ||
        (st = hearth_model_hp_f32(m, "rope.scaling.yarn_beta_fast", false, 32.0f, &beta_fast, err)) ||
        (st = hearth_model_hp_f32(m, "rope.scaling.yarn_beta_slow", false, 1.0f, &beta_slow, err)) ||
        (st = hearth_model_hp_f32(m, "rope.scaling.yarn_log_multiplier", false, 0.0f, &log_mul, err)))
        return st;
    if (!(factor >= 0 && factor <= 1e6) || !(attn_factor > 0 && attn_factor < 100) || !(beta_fast > 0) ||
        !(beta_slow > 0) || hp->n_ctx_orig <= 0)
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: rope scaling out of range (factor %g, attn_factor %g, yarn betas %g/%g, original context %d)",
                           m->path, (double)factor, (double)attn_factor, (double)beta_fast, (double)beta_slow,
                           hp->n_ctx_orig);
    hp->rope_freq_scale = 1.0f;
    hp->rope_mscale = attn_factor;
    if (!strcmp(type, "none")) {
        hp->rope_scaling = HEARTH_ROPE_SCALING_NONE;
    } else if (!strcmp(type, "linear")) {
        hp->rope_scaling = HEARTH_ROPE_SCALING_LINEAR;
        if (factor > 0) hp->rope_freq_scale = 1.0f / factor;
    } else if (!strcmp(type, "yarn")) {
        if (log_mul != 0)
            return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s: YaRN with a log multiplier (DeepSeek style) is not supported",
                               m->path);
        hp->rope_scaling = HEARTH_ROPE_SCALING_YARN;
        if (factor > 0) hp->rope_freq_scale = 1.0f / factor;
        /* like llama.cpp: interpolated dims keep their length, scaled by 1 + 0.1 ln(factor) */
        if (factor > 1) hp->rope_mscale *= 1.0f + 0.1f * logf(factor);
        hp->yarn_low = fmaxf(0.0f, floorf(yarn_corr_dim(hp->n_rot, hp->n_ctx_orig, beta_fast, hp->rope_freq_base)));
        hp->yarn_high = fminf((float)(hp->n_rot - 1), ceilf(yarn_corr_dim(hp->n_rot, hp->n_ctx_orig, beta_slow, hp->rope_freq_base)));
    } else {
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s: '%s' = '%s' is not supported (none, linear, yarn)",
                           m->path, key, type);
    }
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
        (st = hearth_model_hp_i32(m, "attention.head_count", true, 0, &hp->n_head, err)))
        return st;
    if ((st = check_positive(m, "context_length", hp->n_ctx_train, err)) ||
        (st = check_positive(m, "embedding_length", hp->n_embd, err)) ||
        (st = check_positive(m, "block_count", hp->n_layer, err)) ||
        (st = check_positive(m, "feed_forward_length", hp->n_ff, err)) ||
        (st = check_positive(m, "attention.head_count", hp->n_head, err)))
        return st;
    if ((st = hearth_model_hp_i32(m, "attention.head_count_kv", false, hp->n_head, &hp->n_head_kv, err)) ||
        (st = hearth_model_hp_i32(m, "attention.key_length", false, hp->n_embd / hp->n_head, &hp->head_dim, err)))
        return st;
    if ((st = hearth_model_hp_i32(m, "attention.value_length", false, hp->head_dim, &hp->head_dim_v, err)) ||
        (st = hearth_model_hp_i32(m, "rope.dimension_count", false, hp->head_dim, &hp->n_rot, err)) ||
        (st = hearth_model_hp_f32(m, "rope.freq_base", false, 10000.0f, &hp->rope_freq_base, err)) ||
        (st = hearth_model_hp_f32(m, "attention.layer_norm_rms_epsilon", true, 0, &hp->norm_eps, err)))
        return st;
    /* phi3 GGUFs carry attention.sliding_window, but llama.cpp ignores it (the converters do
     * not record which layers use it), and so do we: full causal attention. */
    hp->n_swa = 0;
    if ((st = check_positive(m, "attention.head_count_kv", hp->n_head_kv, err)) ||
        (st = check_positive(m, "attention.key_length", hp->head_dim, err)) ||
        (st = check_positive(m, "rope.dimension_count", hp->n_rot, err)))
        return st;
    if (hp->n_head % hp->n_head_kv)
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: '%s.attention.head_count' (%d) must be a multiple of head_count_kv (%d)",
                           m->path, m->ops->name, hp->n_head, hp->n_head_kv);
    if (hp->head_dim_v != hp->head_dim)
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s: key_length %d != value_length %d is not supported",
                           m->path, hp->head_dim, hp->head_dim_v);
    if (hp->n_rot > hp->head_dim || hp->n_rot % 2)
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: '%s.rope.dimension_count' must be even and <= the head size %d, found %d",
                           m->path, m->ops->name, hp->head_dim, hp->n_rot);
    if (!(hp->rope_freq_base > 0) || !(hp->norm_eps >= 0) || hp->norm_eps > 1)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: rope.freq_base (%g) or layer_norm_rms_epsilon (%g) out of range",
                           m->path, (double)hp->rope_freq_base, (double)hp->norm_eps);
    hp->causal = true;
    /* llama rotates adjacent pairs; the others were converted from NeoX-style checkpoints */
    hp->rope_mode = m->ops->arch == HEARTH_ARCH_LLAMA ? HEARTH_ROPE_NORM : HEARTH_ROPE_NEOX;
    return rope_scaling(m, err);
}

static hearth_status load_layer(hearth_model *m, int il, hearth_error *err)
{
    const hearth_hparams *hp = &m->hp;
    hearth_layer *L = &m->layers[il];
    hearth_arch arch = m->ops->arch;
    int64_t e = hp->n_embd, q = (int64_t)hp->n_head * hp->head_dim, kv = (int64_t)hp->n_head_kv * hp->head_dim;
    hearth_status st;
    L->be = m->cpu;
#define BIND(w, req, cols, rows, name) \
    if ((st = hearth_model_bind(m, &L->w, req, cols, rows, err, "blk.%d." name, il))) return st
    BIND(attn_norm, true, e, 1, "attn_norm.weight");
    hearth_weight qkv;
    if ((st = hearth_model_tensor(m, &qkv, false, e, q + 2 * kv, err, "blk.%d.attn_qkv.weight", il))) return st;
    if (qkv.m.data && arch == HEARTH_ARCH_PHI3) {
        /* fused [Q; K; V] rows: three views, no copy */
        if ((st = hearth_model_bind_rows(m, &L->wq, &qkv, 0, q, err)) ||
            (st = hearth_model_bind_rows(m, &L->wk, &qkv, q, kv, err)) ||
            (st = hearth_model_bind_rows(m, &L->wv, &qkv, q + kv, kv, err)))
            return st;
    } else {
        BIND(wq, true, e, q, "attn_q.weight");
        BIND(wk, true, e, kv, "attn_k.weight");
        BIND(wv, true, e, kv, "attn_v.weight");
    }
    BIND(wo, true, q, e, "attn_output.weight");
    bool need_bias = arch == HEARTH_ARCH_QWEN2;
    BIND(bq, need_bias, q, 1, "attn_q.bias");
    BIND(bk, need_bias, kv, 1, "attn_k.bias");
    BIND(bv, need_bias, kv, 1, "attn_v.bias");
    BIND(bo, false, e, 1, "attn_output.bias");
    bool qk_norm = arch == HEARTH_ARCH_QWEN3;
    BIND(q_norm, qk_norm, hp->head_dim, 1, "attn_q_norm.weight");
    BIND(k_norm, qk_norm, hp->head_dim, 1, "attn_k_norm.weight");
    BIND(ffn_norm, true, e, 1, "ffn_norm.weight");
    if (arch == HEARTH_ARCH_PHI3) {
        /* phi3's ffn_up holds [gate; up]: the first n_ff rows go through SiLU */
        hearth_weight up;
        if ((st = hearth_model_tensor(m, &up, true, e, 2 * (int64_t)hp->n_ff, err, "blk.%d.ffn_up.weight", il)) ||
            (st = hearth_model_bind_rows(m, &L->ffn_gate, &up, 0, hp->n_ff, err)) ||
            (st = hearth_model_bind_rows(m, &L->ffn_up, &up, hp->n_ff, hp->n_ff, err)))
            return st;
    } else {
        BIND(ffn_gate, true, e, hp->n_ff, "ffn_gate.weight");
        BIND(ffn_up, true, e, hp->n_ff, "ffn_up.weight");
    }
    BIND(ffn_down, true, hp->n_ff, e, "ffn_down.weight");
#undef BIND
    return HEARTH_OK;
}

/* Reads an optional [n_rot/2] factor tensor into a malloc'd float array (NULL if absent). */
static hearth_status read_factors(hearth_model *m, const char *name, float **out, hearth_error *err)
{
    int32_t n = m->hp.n_rot / 2;
    hearth_weight w;
    hearth_status st = hearth_model_tensor(m, &w, false, n, 1, err, "%s", name);
    if (st || !w.m.data) return st;
    if (!m->kernels->to_float[w.m.type])
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s: tensor '%s' has unsupported type %s", m->path, name,
                           hearth_type_name(w.m.type));
    if (!(*out = malloc((size_t)n * sizeof(float)))) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", m->path);
    m->kernels->to_float[w.m.type](w.m.data, *out, n);
    for (int32_t i = 0; i < n; i++)
        if (!((*out)[i] > 0) || (*out)[i] > 1e30f)
            return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: tensor '%s': factor %d is %g, expected > 0", m->path, name,
                               i, (double)(*out)[i]);
    return HEARTH_OK;
}

static hearth_status load_llama(hearth_model *m, hearth_error *err)
{
    hearth_hparams *hp = &m->hp;
    hearth_status st = load_hparams(m, err);
    if (st) return st;
    const hearth_gguf_tensor *te = hearth_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: missing tensor 'token_embd.weight'", m->path);
    hp->n_vocab = (int32_t)HEARTH_MIN(te->ne[1], (int64_t)INT32_MAX);
    if ((st = hearth_model_bind(m, &m->tok_embd, true, hp->n_embd, hp->n_vocab, err, "token_embd.weight")) ||
        (st = hearth_model_bind(m, &m->out_norm, true, hp->n_embd, 1, err, "output_norm.weight")) ||
        (st = hearth_model_bind(m, &m->output, false, hp->n_embd, hp->n_vocab, err, "output.weight")))
        return st;
    if (!m->output.m.data) {
        m->output = m->tok_embd; /* tied: the same handle, bound (and freed) once */
        m->tied_output = true;
    }
    /* per-dimension frequency divisors: llama3's rope_freqs, or LongRoPE's (phi3 128k) pair
     * of factor sets, short for contexts within the original length and long beyond it */
    if ((st = read_factors(m, "rope_freqs.weight", &m->rope_freqs, err)) ||
        (st = read_factors(m, "rope_factors_long.weight", &m->rope_long, err)) ||
        (st = read_factors(m, "rope_factors_short.weight", &m->rope_short, err)))
        return st;
    if (!m->rope_long != !m->rope_short)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: LongRoPE needs both rope_factors_long and rope_factors_short",
                           m->path);
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", m->path);
    for (int il = 0; il < hp->n_layer; il++)
        if ((st = load_layer(m, il, err))) return st;
    return HEARTH_OK;
}

const hearth_arch_ops hearth_arch_llama_family[4] = {
    {HEARTH_ARCH_LLAMA, "llama", load_llama, hearth_llama_forward},
    {HEARTH_ARCH_QWEN2, "qwen2", load_llama, hearth_llama_forward},
    {HEARTH_ARCH_QWEN3, "qwen3", load_llama, hearth_llama_forward},
    {HEARTH_ARCH_PHI3, "phi3", load_llama, hearth_llama_forward},
};
