/*
 * synth.c — what `hearth synth` builds: presets with real models' shapes, type and mix
 * parsing, and the plan (tensor names, shapes and types exactly as llama.cpp lays out
 * each architecture; see synth.h for the quantization rules).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/synth.h"

typedef struct preset {
    const char *name, *about, *arch;
    int64_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx;
    double rope_theta, norm_eps;
    bool tied;
    int pooling;
    double llama3_rope_factor;
} preset;

/* Shapes from the models' config.json files on Hugging Face. */
static const preset presets[] = {
    {"qwen3-0.6b", "Qwen3-0.6B", "qwen3", 1024, 28, 16, 8, 128, 3072, 151936, 40960, 1e6, 1e-6, true, 0, 0},
    {"qwen3-1.7b", "Qwen3-1.7B", "qwen3", 2048, 28, 16, 8, 128, 6144, 151936, 40960, 1e6, 1e-6, true, 0, 0},
    {"qwen3-4b", "Qwen3-4B", "qwen3", 2560, 36, 32, 8, 128, 9728, 151936, 40960, 1e6, 1e-6, true, 0, 0},
    {"qwen3-8b", "Qwen3-8B", "qwen3", 4096, 36, 32, 8, 128, 12288, 151936, 40960, 1e6, 1e-6, false, 0, 0},
    {"llama-3.2-1b", "Llama-3.2-1B", "llama", 2048, 16, 32, 8, 64, 8192, 128256, 131072, 500000, 1e-5, true, 0, 32},
    {"llama-3.2-3b", "Llama-3.2-3B", "llama", 3072, 28, 24, 8, 128, 8192, 128256, 131072, 500000, 1e-5, true, 0, 32},
    {"llama-3.1-8b", "Llama-3.1-8B", "llama", 4096, 32, 32, 8, 128, 14336, 128256, 131072, 500000, 1e-5, false, 0, 8},
    {"qwen2.5-0.5b", "Qwen2.5-0.5B", "qwen2", 896, 24, 14, 2, 64, 4864, 151936, 32768, 1e6, 1e-6, true, 0, 0},
    {"qwen2.5-1.5b", "Qwen2.5-1.5B", "qwen2", 1536, 28, 12, 2, 128, 8960, 151936, 32768, 1e6, 1e-6, true, 0, 0},
    {"qwen2.5-7b", "Qwen2.5-7B", "qwen2", 3584, 28, 28, 4, 128, 18944, 152064, 32768, 1e6, 1e-6, false, 0, 0},
    {"phi3-mini", "Phi-3-mini-4k", "phi3", 3072, 32, 32, 32, 96, 8192, 32064, 4096, 10000, 1e-5, false, 0, 0},
    {"all-minilm-l6", "all-MiniLM-L6-v2 (bert, mean pooling)", "bert", 384, 6, 12, 12, 32, 1536, 30522, 512, 0, 1e-12, false, 1, 0},
    {"bge-small", "bge-small-en-v1.5 (bert, CLS pooling)", "bert", 384, 12, 12, 12, 32, 1536, 30522, 512, 0, 1e-12, false, 2, 0},
    {"bge-base", "bge-base-en-v1.5 (bert, CLS pooling)", "bert", 768, 12, 12, 12, 64, 3072, 30522, 512, 0, 1e-12, false, 2, 0},
};

int hearth_synth_n_presets(void) { return (int)HEARTH_ARRAY_LEN(presets); }
const char *hearth_synth_preset_name(int i) { return i >= 0 && i < hearth_synth_n_presets() ? presets[i].name : NULL; }

const char *hearth_synth_preset_about(int i)
{
    static char buf[HEARTH_ARRAY_LEN(presets)][160];
    if (i < 0 || i >= hearth_synth_n_presets()) return NULL;
    const preset *p = &presets[i];
    snprintf(buf[i], sizeof buf[i], "%s: %s, %lld layers, n_embd %lld, %lld/%lld heads of %lld, n_ff %lld, vocab %lld%s",
             p->about, p->arch, (long long)p->n_layer, (long long)p->n_embd, (long long)p->n_head,
             (long long)p->n_head_kv, (long long)p->head_dim, (long long)p->n_ff, (long long)p->n_vocab,
             p->tied ? ", tied" : "");
    return buf[i];
}

void hearth_synth_defaults(hearth_synth_config *c)
{
    memset(c, 0, sizeof *c);
    c->type = HEARTH_TYPE_F16;
    c->mix = HEARTH_SYNTH_PURE;
    c->embd_type = c->output_type = -1;
    c->rope_theta = 10000;
    c->norm_eps = 1e-5;
}

bool hearth_synth_preset(const char *name, hearth_synth_config *c)
{
    for (int i = 0; i < hearth_synth_n_presets(); i++) {
        const preset *p = &presets[i];
        if (strcasecmp(p->name, name) != 0) continue;
        hearth_synth_defaults(c);
        snprintf(c->arch, sizeof c->arch, "%s", p->arch);
        snprintf(c->name, sizeof c->name, "%s (hearth synth)", p->name);
        c->n_embd = p->n_embd;
        c->n_layer = p->n_layer;
        c->n_head = p->n_head;
        c->n_head_kv = p->n_head_kv;
        c->head_dim = p->head_dim;
        c->n_ff = p->n_ff;
        c->n_vocab = p->n_vocab;
        c->n_ctx = p->n_ctx;
        c->rope_theta = p->rope_theta ? p->rope_theta : 10000;
        c->norm_eps = p->norm_eps;
        c->tied = p->tied;
        c->pooling = p->pooling;
        c->llama3_rope_factor = p->llama3_rope_factor;
        return true;
    }
    return false;
}

static const struct {
    const char *name;
    hearth_type type;
    hearth_synth_mix mix;
} mixes[] = {
    {"q3_k_m", HEARTH_TYPE_Q3_K, HEARTH_SYNTH_Q3_K_M}, {"q4_k_s", HEARTH_TYPE_Q4_K, HEARTH_SYNTH_Q4_K_S},
    {"q4_k_m", HEARTH_TYPE_Q4_K, HEARTH_SYNTH_Q4_K_M}, {"q5_k_s", HEARTH_TYPE_Q5_K, HEARTH_SYNTH_Q5_K_S},
    {"q5_k_m", HEARTH_TYPE_Q5_K, HEARTH_SYNTH_Q5_K_M},
};

/* The types hearth_quantize can produce. */
static bool producible(hearth_type t)
{
    switch (t) {
    case HEARTH_TYPE_F32: case HEARTH_TYPE_F16: case HEARTH_TYPE_BF16: case HEARTH_TYPE_Q4_0: case HEARTH_TYPE_Q4_1:
    case HEARTH_TYPE_Q5_0: case HEARTH_TYPE_Q5_1: case HEARTH_TYPE_Q8_0: case HEARTH_TYPE_Q2_K: case HEARTH_TYPE_Q3_K:
    case HEARTH_TYPE_Q4_K: case HEARTH_TYPE_Q5_K: case HEARTH_TYPE_Q6_K:
        return true;
    default:
        return false;
    }
}

bool hearth_synth_parse_type(const char *s, hearth_type *type, hearth_synth_mix *mix)
{
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(mixes); i++)
        if (strcasecmp(s, mixes[i].name) == 0) {
            *type = mixes[i].type;
            *mix = mixes[i].mix;
            return true;
        }
    int t = hearth_type_from_name(s);
    if (t < 0 || !producible((hearth_type)t)) return false;
    *type = (hearth_type)t;
    *mix = HEARTH_SYNTH_PURE;
    return true;
}

/* ---- types per tensor -------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* llama-quantize's use_more_bits: first and last eighth of the layers, every third between. */
static bool more_bits(int64_t i, int64_t n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* llama-quantize's fallback when a row is not a multiple of the block (tensor_type_fallback). */
static hearth_type fallback(hearth_type t, int64_t ncols)
{
    const hearth_type_traits *tr = hearth_type_traits_of((uint32_t)t);
    if (ncols % tr->block_size == 0) return t;
    switch (t) {
    case HEARTH_TYPE_Q2_K: case HEARTH_TYPE_Q3_K: t = HEARTH_TYPE_Q4_0; break;
    case HEARTH_TYPE_Q4_K: t = HEARTH_TYPE_Q5_0; break;
    case HEARTH_TYPE_Q5_K: t = HEARTH_TYPE_Q5_1; break;
    case HEARTH_TYPE_Q6_K: t = HEARTH_TYPE_Q8_0; break;
    default: break;
    }
    return ncols % hearth_type_traits_of((uint32_t)t)->block_size == 0 ? t : HEARTH_TYPE_F16;
}

static hearth_type matrix_type(const hearth_synth_config *c, const char *name, int64_t layer, int64_t ncols)
{
    /* llama-quantize never quantizes these, and llama.cpp's CPU add cannot take an F16
     * token_types row, so they stay F32 like the fixtures' bert models */
    if (strstr(name, "position_embd") || strstr(name, "token_types")) return HEARTH_TYPE_F32;
    bool is_output = strcmp(name, "output.weight") == 0 || (c->tied && strcmp(name, "token_embd.weight") == 0);
    if (is_output && c->output_type >= 0) return fallback((hearth_type)c->output_type, ncols);
    if (strcmp(name, "token_embd.weight") == 0 && c->embd_type >= 0) return fallback((hearth_type)c->embd_type, ncols);
    hearth_type t = c->type;
    hearth_synth_mix mx = c->mix;
    int64_t n = c->n_layer;
    if (mx == HEARTH_SYNTH_PURE) return fallback(t, ncols);
    if (is_output) return ncols % HEARTH_QK_K == 0 ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q8_0;
    if (strcmp(name, "token_embd.weight") == 0) return fallback(t, ncols);
    if (ends_with(name, "attn_v.weight")) {
        if ((mx == HEARTH_SYNTH_Q4_K_M || mx == HEARTH_SYNTH_Q5_K_M) && more_bits(layer, n)) t = HEARTH_TYPE_Q6_K;
        else if (mx == HEARTH_SYNTH_Q4_K_S && layer < 4) t = HEARTH_TYPE_Q5_K;
        else if (mx == HEARTH_SYNTH_Q3_K_M) t = layer < 2 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K;
    } else if (ends_with(name, "ffn_down.weight")) {
        if ((mx == HEARTH_SYNTH_Q4_K_M || mx == HEARTH_SYNTH_Q5_K_M) && more_bits(layer, n)) t = HEARTH_TYPE_Q6_K;
        else if (mx == HEARTH_SYNTH_Q4_K_S && layer < n / 8) t = HEARTH_TYPE_Q5_K;
        else if (mx == HEARTH_SYNTH_Q3_K_M) t = layer < n / 16 ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K;
    } else if (ends_with(name, "attn_qkv.weight")) {
        if (mx == HEARTH_SYNTH_Q4_K_M || mx == HEARTH_SYNTH_Q3_K_M) t = mx == HEARTH_SYNTH_Q4_K_M ? HEARTH_TYPE_Q5_K : HEARTH_TYPE_Q4_K;
        else if (mx == HEARTH_SYNTH_Q5_K_M) t = HEARTH_TYPE_Q6_K;
    } else if (ends_with(name, "attn_output.weight") && mx == HEARTH_SYNTH_Q3_K_M) {
        t = HEARTH_TYPE_Q4_K;
    }
    return fallback(t, ncols);
}

/* ---- the plan ---------------------------------------------------------------------------- */

typedef struct plan {
    hearth_synth_tensor *t;
    int64_t n, cap;
    const hearth_synth_config *c;
    bool oom;
} plan;

static void add(plan *p, int64_t layer, int init, int64_t ne0, int64_t ne1, const char *fmt, const char *part)
{
    if (p->n == p->cap) {
        int64_t cap = p->cap ? p->cap * 2 : 64;
        hearth_synth_tensor *t = realloc(p->t, (size_t)cap * sizeof *t);
        if (!t) {
            p->oom = true;
            return;
        }
        p->t = t;
        p->cap = cap;
    }
    hearth_synth_tensor *t = &p->t[p->n++];
    memset(t, 0, sizeof *t);
    if (layer >= 0) snprintf(t->name, sizeof t->name, "blk.%lld.%s", (long long)layer, part);
    else snprintf(t->name, sizeof t->name, "%s", fmt);
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->n_dims = ne1 > 1 ? 2 : 1;
    t->init = init;
    t->type = t->n_dims == 1 ? HEARTH_TYPE_F32 : matrix_type(p->c, t->name, layer, ne0);
}

#define GLOBAL(p, init, ne0, ne1, name) add(p, -1, init, ne0, ne1, name, NULL)
#define LAYER(p, il, init, ne0, ne1, part) add(p, il, init, ne0, ne1, NULL, part)

static int64_t head_dim(const hearth_synth_config *c) { return c->head_dim ? c->head_dim : c->n_embd / c->n_head; }

static void plan_decoder(plan *p, const hearth_synth_config *c)
{
    int64_t e = c->n_embd, hd = head_dim(c), q = c->n_head * hd, kv = c->n_head_kv * hd, ff = c->n_ff;
    bool phi3 = strcmp(c->arch, "phi3") == 0, qwen2 = strcmp(c->arch, "qwen2") == 0, qwen3 = strcmp(c->arch, "qwen3") == 0;
    if (c->llama3_rope_factor > 0) GLOBAL(p, SYNTH_INIT_ROPE_FREQS, hd / 2, 1, "rope_freqs.weight");
    GLOBAL(p, SYNTH_INIT_MATRIX, e, c->n_vocab, "token_embd.weight");
    for (int64_t il = 0; il < c->n_layer; il++) {
        LAYER(p, il, SYNTH_INIT_NORM, e, 1, "attn_norm.weight");
        if (phi3) {
            LAYER(p, il, SYNTH_INIT_MATRIX, e, q + 2 * kv, "attn_qkv.weight");
        } else {
            LAYER(p, il, SYNTH_INIT_MATRIX, e, q, "attn_q.weight");
            LAYER(p, il, SYNTH_INIT_MATRIX, e, kv, "attn_k.weight");
            LAYER(p, il, SYNTH_INIT_MATRIX, e, kv, "attn_v.weight");
        }
        if (qwen2) {
            LAYER(p, il, SYNTH_INIT_BIAS, q, 1, "attn_q.bias");
            LAYER(p, il, SYNTH_INIT_BIAS, kv, 1, "attn_k.bias");
            LAYER(p, il, SYNTH_INIT_BIAS, kv, 1, "attn_v.bias");
        }
        if (qwen3) {
            LAYER(p, il, SYNTH_INIT_NORM, hd, 1, "attn_q_norm.weight");
            LAYER(p, il, SYNTH_INIT_NORM, hd, 1, "attn_k_norm.weight");
        }
        LAYER(p, il, SYNTH_INIT_MATRIX, q, e, "attn_output.weight");
        LAYER(p, il, SYNTH_INIT_NORM, e, 1, "ffn_norm.weight");
        if (phi3) {
            LAYER(p, il, SYNTH_INIT_MATRIX, e, 2 * ff, "ffn_up.weight"); /* gate and up fused */
        } else {
            LAYER(p, il, SYNTH_INIT_MATRIX, e, ff, "ffn_gate.weight");
            LAYER(p, il, SYNTH_INIT_MATRIX, e, ff, "ffn_up.weight");
        }
        LAYER(p, il, SYNTH_INIT_MATRIX, ff, e, "ffn_down.weight");
    }
    GLOBAL(p, SYNTH_INIT_NORM, e, 1, "output_norm.weight");
    if (!c->tied) GLOBAL(p, SYNTH_INIT_MATRIX, e, c->n_vocab, "output.weight");
}

static void plan_bert(plan *p, const hearth_synth_config *c)
{
    int64_t e = c->n_embd, ff = c->n_ff;
    GLOBAL(p, SYNTH_INIT_MATRIX, e, c->n_vocab, "token_embd.weight");
    GLOBAL(p, SYNTH_INIT_MATRIX, e, 2, "token_types.weight");
    GLOBAL(p, SYNTH_INIT_MATRIX, e, c->n_ctx, "position_embd.weight");
    GLOBAL(p, SYNTH_INIT_NORM, e, 1, "token_embd_norm.weight");
    GLOBAL(p, SYNTH_INIT_BIAS, e, 1, "token_embd_norm.bias");
    static const char *const attn[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
    char part[32];
    for (int64_t il = 0; il < c->n_layer; il++) {
        for (size_t k = 0; k < HEARTH_ARRAY_LEN(attn); k++) {
            snprintf(part, sizeof part, "%s.weight", attn[k]);
            LAYER(p, il, SYNTH_INIT_MATRIX, e, e, part);
            snprintf(part, sizeof part, "%s.bias", attn[k]);
            LAYER(p, il, SYNTH_INIT_BIAS, e, 1, part);
        }
        LAYER(p, il, SYNTH_INIT_NORM, e, 1, "attn_output_norm.weight");
        LAYER(p, il, SYNTH_INIT_BIAS, e, 1, "attn_output_norm.bias");
        LAYER(p, il, SYNTH_INIT_MATRIX, e, ff, "ffn_up.weight");
        LAYER(p, il, SYNTH_INIT_BIAS, ff, 1, "ffn_up.bias");
        LAYER(p, il, SYNTH_INIT_MATRIX, ff, e, "ffn_down.weight");
        LAYER(p, il, SYNTH_INIT_BIAS, e, 1, "ffn_down.bias");
        LAYER(p, il, SYNTH_INIT_NORM, e, 1, "layer_output_norm.weight");
        LAYER(p, il, SYNTH_INIT_BIAS, e, 1, "layer_output_norm.bias");
    }
}

static hearth_status bad(hearth_error *err, const char *opt, const char *want, long long found)
{
    return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: expected %s, found %lld", opt, want, found);
}

static hearth_status validate(const hearth_synth_config *c, hearth_error *err)
{
    static const char *const archs[] = {"llama", "qwen2", "qwen3", "phi3", "bert"};
    bool known = false;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(archs); i++) known |= strcmp(c->arch, archs[i]) == 0;
    if (!known)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "--arch: expected llama, qwen2, qwen3, phi3 or bert, found '%s'",
                           c->arch[0] ? c->arch : "(none: give --arch or --like)");
    const int64_t big = (int64_t)1 << 20;
    if (c->n_embd < 1 || c->n_embd > big) return bad(err, "--n-embd", "1..1048576", (long long)c->n_embd);
    if (c->n_layer < 1 || c->n_layer > 4096) return bad(err, "--n-layer", "1..4096", (long long)c->n_layer);
    if (c->n_head < 1 || c->n_head > c->n_embd) return bad(err, "--n-head", "1..n_embd", (long long)c->n_head);
    if (c->n_head_kv < 1 || c->n_head_kv > c->n_head || c->n_head % c->n_head_kv != 0)
        return bad(err, "--n-head-kv", "a divisor of --n-head", (long long)c->n_head_kv);
    if (c->head_dim < 0 || c->head_dim > 4096) return bad(err, "--head-dim", "0..4096", (long long)c->head_dim);
    if (!c->head_dim && c->n_embd % c->n_head != 0)
        return bad(err, "--n-embd", "a multiple of --n-head (or give --head-dim)", (long long)c->n_embd);
    int64_t hd = head_dim(c);
    if (hd % 2 != 0) return bad(err, "--head-dim", "an even number (RoPE rotates pairs)", (long long)hd);
    bool fused = strcmp(c->arch, "phi3") == 0 || strcmp(c->arch, "bert") == 0;
    if (fused && hd * c->n_head != c->n_embd)
        return bad(err, "--head-dim", "n_embd / n_head for phi3 and bert", (long long)hd);
    if (strcmp(c->arch, "bert") == 0 && c->n_head_kv != c->n_head)
        return bad(err, "--n-head-kv", "--n-head for bert (no grouped-query attention)", (long long)c->n_head_kv);
    if (c->n_ff < 1 || c->n_ff > 8 * big) return bad(err, "--n-ff", "1..8388608", (long long)c->n_ff);
    if (c->n_vocab < 1 || c->n_vocab > 16 * big) return bad(err, "--n-vocab", "1..16777216", (long long)c->n_vocab);
    if (c->n_ctx < 1 || c->n_ctx > 16 * big) return bad(err, "--ctx", "1..16777216", (long long)c->n_ctx);
    if (strcmp(c->arch, "bert") == 0 && c->n_ctx > 65536) return bad(err, "--ctx", "at most 65536 for bert (position_embd rows)", (long long)c->n_ctx);
    if (!(c->rope_theta > 0)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "--rope-theta: expected > 0, found %g", c->rope_theta);
    if (!(c->norm_eps > 0)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "--norm-eps: expected > 0, found %g", c->norm_eps);
    if (c->pooling < 0 || c->pooling > 2) return bad(err, "--pooling", "none, mean or cls", c->pooling);
    if (!producible(c->type)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "--type: %s cannot be produced", hearth_type_name(c->type));
    if (c->embd_type >= 0 && !producible((hearth_type)c->embd_type))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "--embd-type: %s cannot be produced", hearth_type_name((uint32_t)c->embd_type));
    if (c->output_type >= 0 && !producible((hearth_type)c->output_type))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "--output-type: %s cannot be produced", hearth_type_name((uint32_t)c->output_type));
    return HEARTH_OK;
}

hearth_status hearth_synth_plan(const hearth_synth_config *c, hearth_synth_tensor **out, int64_t *n, hearth_error *err)
{
    *out = NULL;
    *n = 0;
    hearth_status st = validate(c, err);
    if (st) return st;
    plan p = {.c = c};
    if (strcmp(c->arch, "bert") == 0) plan_bert(&p, c);
    else plan_decoder(&p, c);
    if (p.oom) {
        free(p.t);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "synth: out of memory");
    }
    *out = p.t;
    *n = p.n;
    return HEARTH_OK;
}
