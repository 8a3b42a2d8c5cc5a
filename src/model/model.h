/*
 * model — architectures, weights, KV cache and the forward pass (the engine behind
 * hearth_model_* / hearth_context_* / hearth_decode in include/hearth.h).
 *
 * A hearth_model is the GGUF mapping plus what was read from it: hyperparameters, one
 * hearth_weight per tensor the architecture uses (a host view into the mapping plus the
 * backend's handle for it), and the vocabulary. It is read-only after loading.
 *
 * A hearth_context owns the KV cache (per layer, on that layer's backend), the activation
 * buffers sized for n_batch tokens, and the logits of the last batch. The KV cache has
 * n_seq_max * n_ctx cells: sequence s owns cells [s * n_ctx, (s + 1) * n_ctx), and its
 * position p lives in cell s * n_ctx + p, so sequences never interfere and hearth_seq_copy
 * is a copy of cache rows (no recomputation).
 *
 * Adding an architecture: write hearth_arch_ops (load: hparams + tensors via the helpers
 * below; forward: a batch through the backend table) and add it to the table in model.c.
 *
 * GPU offload (the plan the seam is built for): the loader gives each layer a backend
 * (hearth_layer.be) and binds its weights with that backend's weight_new, so offloaded layers
 * are uploaded once at load; the output layer goes with the last layer. A context then makes
 * one instance per backend used, with its own activation buffers, and puts each layer's KV
 * cache on that layer's backend (ctx->k_cache[il]). The forward pass walks the layers in
 * runs of equal backend; where the backend changes it moves the hidden state (n_tok x n_embd
 * floats, the only tensor that crosses) with buf_read into a host staging row and buf_write
 * on the other side. Today every layer is on the CPU, so there is one run and no transfer.
 */
#ifndef HEARTH_MODEL_H
#define HEARTH_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/backend.h"

typedef struct hearth_vocab hearth_vocab; /* src/tokenizer/ */

typedef enum hearth_arch {
    HEARTH_ARCH_LLAMA = 0,
    HEARTH_ARCH_QWEN2,
    HEARTH_ARCH_QWEN3,
    HEARTH_ARCH_PHI3,
    HEARTH_ARCH_BERT,
    HEARTH_ARCH_COUNT
} hearth_arch;

typedef enum hearth_rope_scaling {
    HEARTH_ROPE_SCALING_NONE = 0,
    HEARTH_ROPE_SCALING_LINEAR,
    HEARTH_ROPE_SCALING_YARN
} hearth_rope_scaling;

typedef struct hearth_hparams {
    int32_t n_vocab;
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;
    int32_t n_ff;
    int32_t head_dim;      /* attention.key_length, default n_embd / n_head               */
    int32_t head_dim_v;    /* attention.value_length, default head_dim                    */
    int32_t n_rot;         /* rope.dimension_count, default head_dim                      */
    float norm_eps;        /* attention.layer_norm_rms_epsilon (or layer_norm_epsilon)    */
    float rope_freq_base;  /* rope.freq_base, default 10000                               */
    float rope_freq_scale; /* 1 / rope.scaling.factor for linear scaling, else 1          */
    int32_t n_ctx_orig;    /* rope.scaling.original_context_length, default n_ctx_train   */
    int32_t n_swa;         /* attention.sliding_window: attend to the last n_swa positions; 0 = all */
    hearth_rope_scaling rope_scaling;
    float rope_mscale;     /* cos/sin magnitude: rope.scaling.attn_factor (x YaRN's)      */
    float yarn_low, yarn_high; /* YaRN correction range (pair indices)                  */
    hearth_rope_mode rope_mode;
    bool causal;           /* decoder (true) or encoder (bert: false)                     */
    int32_t pooling;       /* bert: pooling_type (0 none, 1 mean, 2 cls, ...)             */
} hearth_hparams;

/* A weight: the GGUF tensor as a host matrix view (data == NULL: absent) and the backend's
 * handle for it. 1-D tensors are one row of n values. */
typedef struct hearth_weight {
    hearth_matrix m;
    hearth_bweight *bw;
    const char *name; /* GGUF tensor name (owned by the gguf), for messages */
} hearth_weight;

typedef struct hearth_layer {
    hearth_backend *be; /* the backend this layer runs on */
    /* attention */
    hearth_weight attn_norm, attn_norm_b;          /* pre-attention norm (b: bert layernorm)  */
    hearth_weight wq, wk, wv, wo;                  /* phi3: row slices of attn_qkv           */
    hearth_weight bq, bk, bv, bo;                  /* biases: qwen2 (q/k/v), bert (all)      */
    hearth_weight q_norm, k_norm;                  /* qwen3: per-head RMSNorm [head_dim]     */
    hearth_weight attn_out_norm, attn_out_norm_b;  /* bert: post-attention layernorm         */
    /* feed-forward */
    hearth_weight ffn_norm, ffn_norm_b;
    hearth_weight ffn_gate, ffn_up, ffn_down;      /* phi3: gate/up = halves of ffn_up       */
    hearth_weight ffn_up_b, ffn_down_b;            /* bert                                    */
    hearth_weight out_norm, out_norm_b;            /* bert: layer_output_norm                 */
} hearth_layer;

typedef struct hearth_context hearth_context;
typedef struct hearth_model hearth_model;

/* One decode step after validation: token ids, positions, KV cells, which rows need logits. */
typedef struct hearth_ubatch {
    int32_t n_tok;
    const hearth_token *tokens;
    const int32_t *pos;      /* position within its sequence                               */
    const int32_t *seq;      /* sequence id                                                */
    const int32_t *cell;     /* KV cell each token is stored in                            */
    int32_t n_out;           /* tokens whose logits are kept                               */
    int32_t *out_rows;       /* their indices in the batch, ascending                      */
    int32_t out_base;        /* first row of ctx->logits this slice writes                 */
    hearth_attn_batch attn;  /* per-token visible KV range                                 */
} hearth_ubatch;

/* Rows of logits computed per output matmul (bounds the logits buffer for big vocabularies). */
#define HEARTH_OUT_CHUNK 16

typedef struct hearth_arch_ops {
    hearth_arch arch;
    const char *name; /* general.architecture value */
    /* Reads hparams and binds every tensor (shape-checked) into m->layers / m->tok_embd ... */
    hearth_status (*load)(hearth_model *m, hearth_error *err);
    /* Runs a validated batch; writes logits for ub->out_rows into ctx->logits (or, for
     * embedding models, fills ctx->embd). */
    hearth_status (*forward)(hearth_context *ctx, const hearth_ubatch *ub, hearth_error *err);
} hearth_arch_ops;

extern const hearth_arch_ops hearth_arch_llama_family[4]; /* llama, qwen2, qwen3, phi3 (forward.c) */
extern const hearth_arch_ops hearth_arch_bert;            /* bert.c (RAG helper)                    */

struct hearth_model {
    hearth_gguf *gguf;
    char *path;
    const hearth_arch_ops *ops;
    hearth_hparams hp;
    hearth_vocab *vocab;
    bool vocab_only;

    hearth_backend *cpu; /* always present; layers with be == cpu run here */
    hearth_backend *gpu; /* set by hearth_gpu_offload (src/cuda/cuda.h): holds every weight */
    int32_t n_gpu_layers; /* layers whose matrices are on the GPU (the last ones)            */
    const hearth_kernels *kernels;

    hearth_weight tok_embd;                    /* [n_vocab rows][n_embd]                    */
    hearth_weight tok_types, pos_embd;         /* bert                                      */
    hearth_weight embd_norm, embd_norm_b;      /* bert: token_embd_norm                      */
    hearth_weight out_norm;                    /* output_norm                               */
    hearth_weight out_norm_b;
    hearth_weight output;                      /* output.weight, or tok_embd when tied      */
    bool tied_output;
    float *rope_freqs;                         /* n_rot/2 factors (rope_freqs.weight) or NULL */
    float *rope_long, *rope_short;             /* LongRoPE factor sets (phi3 128k) or NULL   */
    hearth_layer *layers;                      /* n_layer                                   */

    /* every weight bound (for freeing and n_params), in binding order */
    hearth_weight **bound;
    int32_t n_bound, cap_bound;

    /* info strings computed at load */
    const char *file_type;
    uint64_t n_params;
    uint64_t bytes_per_token; /* weight bytes a decode step reads (hearth_model_info)    */
};

struct hearth_context {
    hearth_model *model;
    hearth_context_params params; /* with defaults resolved */
    hearth_type kv_type;
    int32_t n_ctx;                /* cells per sequence                                       */
    int32_t n_seq;                /* sequences                                                */
    int32_t *seq_len;             /* [n_seq] next position of each sequence                  */

    hearth_backend *be;           /* backend of the activations (all layers for now)           */
    hearth_buffer **k_cache, **v_cache; /* [n_layer], on each layer's backend                  */

    /* activations, [n_batch][width] each, on ctx->be */
    hearth_buffer *x, *xn, *q, *k, *v, *att, *gate, *up, *rope_tab, *outx, *logits_buf;

    /* host-side per-batch arrays (sized n_batch), reused across calls */
    int32_t *pos, *seq, *cell, *out_rows, *cell0, *n_kv;
    hearth_token *tok;
    int32_t *run_len, *seen;      /* [n_seq] scratch for batch validation                      */

    float *logits;                /* [n_outputs][n_vocab], grown when a batch needs more rows  */
    size_t logits_cap;            /* floats                                                    */
    int32_t n_outputs;
    int32_t *out_index;           /* [n_batch_tokens] batch index -> logits row, -1 if none    */
    int32_t out_index_cap;
    int32_t n_batch_tokens;       /* tokens in the last hearth_decode batch                    */
    int32_t chunk_rows[HEARTH_OUT_CHUNK];
    float *embd;                  /* embedding models: [n_seq][n_embd] (bert.c fills it)       */
    int32_t n_embd_out;           /* rows of embd that are valid                               */
};

/* ---- used by architecture loaders (model.c) ----------------------------------------------- */

/* Binds tensor `name` (printf-style, e.g. "blk.%d.attn_q.weight") as a matrix of `rows` rows
 * of `cols` values (a 1-D tensor: rows = 1). Absent and !required: w->m.data = NULL, OK.
 * Wrong shape: HEARTH_ERR_FORMAT naming the tensor, expected and found dims. */
hearth_status hearth_model_bind(hearth_model *m, hearth_weight *w, bool required, int64_t cols,
                                int64_t rows, hearth_error *err, const char *fmt, ...)
    HEARTH_PRINTF(7, 8);
/* Same checks, but only fills w->m (no backend handle): for tensors that are split into
 * views (fused QKV) or read once at load (rope_freqs). */
hearth_status hearth_model_tensor(hearth_model *m, hearth_weight *w, bool required, int64_t cols,
                                  int64_t rows, hearth_error *err, const char *fmt, ...)
    HEARTH_PRINTF(7, 8);
/* Binds rows [row0, row0 + rows) of a found weight as its own weight (fused QKV or
 * gate/up halves: rows are contiguous, so this is a view, not a copy). */
hearth_status hearth_model_bind_rows(hearth_model *m, hearth_weight *out, const hearth_weight *src,
                                     int64_t row0, int64_t rows, hearth_error *err);
/* Hyperparameter getters: key is "%s.suffix" with the architecture name; missing required
 * key -> HEARTH_ERR_FORMAT "PATH: missing required key 'qwen3.block_count'". */
hearth_status hearth_model_hp_i32(hearth_model *m, const char *suffix, bool required, int32_t dflt,
                                  int32_t *out, hearth_error *err);
hearth_status hearth_model_hp_f32(hearth_model *m, const char *suffix, bool required, float dflt,
                                  float *out, hearth_error *err);

/* Runs fn(arg, i) for every i < n on the context's worker threads, the caller's included, and
 * returns when all are done (on the caller's thread alone, in order, when the context has one
 * thread or its backend no pool). Only between hearth_decode calls: the pool is the decode's.
 * Which thread runs which i varies, so fn must not care. */
void hearth_context_parallel(hearth_context *ctx, int32_t n, void (*fn)(void *arg, int32_t i), void *arg);

const hearth_vocab *hearth_model_vocab(const hearth_model *m);
const hearth_gguf *hearth_model_gguf(const hearth_model *m);
const hearth_hparams *hearth_model_hparams(const hearth_model *m);

#endif
