/*
 * synth — random-weight models in the exact GGUF layout of real architectures, so speed and
 * loading can be tested at any size without downloading anything (`hearth synth`).
 *
 * Tensor names, shapes, metadata keys and quantization choices follow what llama.cpp's
 * convert_hf_to_gguf.py and llama-quantize produce for llama, qwen2, qwen3, phi3 and bert,
 * so llama.cpp loads the files too. Weights come from a seeded PRNG (same seed, same bytes,
 * whatever the thread count), roughly N(0, 0.02) for matrices and 1 +- 0.02 for norm
 * weights, so the models produce finite, non-degenerate logits.
 *
 * Types: a plain type ("q8_0", "q4_k", "f16", ...) is used for every 2-D weight matrix
 * (like `llama-quantize --pure`); 1-D tensors (norms, biases, rope_freqs) are F32, and
 * bert's position_embd/token_types stay float (llama-quantize never quantizes them). A
 * mix ("q4_k_m", "q4_k_s", "q5_k_m", "q5_k_s", "q3_k_m") follows llama-quantize's rules
 * (src/llama-quant.cpp) for dense models:
 *   output.weight (token_embd.weight when tied)     Q6_K
 *   q4_k_m/q5_k_m: attn_v, ffn_down in "more bits" layers (first and last eighth, and
 *                  every third layer between)   Q6_K; phi3 attn_qkv Q5_K (q5_k_m: Q6_K)
 *   q4_k_s: attn_v of layers 0-3 and ffn_down of the first eighth of layers   Q5_K
 *   q3_k_m: attn_v of layers 0-1 Q5_K, else Q4_K; ffn_down of the first 1/16 of layers
 *           Q5_K, else Q4_K; attn_output Q4_K; attn_qkv Q4_K
 * A matrix whose row length is not a multiple of its type's block size falls back like
 * llama-quantize does: Q4_K->Q5_0, Q5_K->Q5_1, Q6_K->Q8_0, Q2_K/Q3_K->Q4_0, and F16 when
 * even 32 does not divide it (the output tensor goes straight to Q8_0 in that case).
 */
#ifndef HEARTH_MODEL_SYNTH_H
#define HEARTH_MODEL_SYNTH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "kernels/types.h"

typedef enum hearth_synth_mix {
    HEARTH_SYNTH_PURE = 0, /* every matrix gets `type` */
    HEARTH_SYNTH_Q3_K_M,
    HEARTH_SYNTH_Q4_K_S,
    HEARTH_SYNTH_Q4_K_M,
    HEARTH_SYNTH_Q5_K_S,
    HEARTH_SYNTH_Q5_K_M,
} hearth_synth_mix;

typedef struct hearth_synth_config {
    char arch[16];  /* "llama", "qwen2", "qwen3", "phi3", "bert"           */
    char name[64];  /* general.name; empty: "<preset or arch> (hearth synth)" */
    int64_t n_embd, n_layer, n_head, n_head_kv;
    int64_t head_dim; /* 0: n_embd / n_head                                */
    int64_t n_ff, n_vocab, n_ctx;
    double rope_theta;
    double norm_eps;
    bool tied;        /* no output.weight: the output reuses token_embd   */
    int pooling;      /* bert: 0 none, 1 mean, 2 cls                       */
    double llama3_rope_factor; /* > 0: write rope_freqs.weight like Llama 3.1/3.2 */
    hearth_type type;          /* base type of the matrices               */
    hearth_synth_mix mix;
    int embd_type, output_type; /* -1: chosen by type/mix                 */
    uint64_t seed;
    const char *vocab_path;     /* copy tokenizer.* from this GGUF; NULL: synthetic SPM vocab */
    int n_threads;              /* 0: physical cores                      */
} hearth_synth_config;

/* Presets: real models' shapes (qwen3-0.6b, llama-3.2-1b, ...). */
int hearth_synth_n_presets(void);
const char *hearth_synth_preset_name(int i);
const char *hearth_synth_preset_about(int i); /* "Qwen3-0.6B: 28 layers, ..." */
/* Fills *c with the preset's shape (type F16, seed 0, synthetic vocab); false if unknown. */
bool hearth_synth_preset(const char *name, hearth_synth_config *c);
/* A config with no shape (all dims 0), type F16, for explicit dims. */
void hearth_synth_defaults(hearth_synth_config *c);

/* Parses "q8_0", "f16", "q4_k_m", ... into type + mix; false if unknown or if hearth cannot
 * quantize to it. */
bool hearth_synth_parse_type(const char *s, hearth_type *type, hearth_synth_mix *mix);

/* One tensor the model will contain. */
typedef struct hearth_synth_tensor {
    char name[64];
    uint32_t n_dims;
    int64_t ne[2];
    hearth_type type;
    enum { SYNTH_INIT_MATRIX, SYNTH_INIT_NORM, SYNTH_INIT_BIAS, SYNTH_INIT_ROPE_FREQS } init;
} hearth_synth_tensor;

/* The tensors a config produces, in file order (malloc'd; the caller frees). Validates
 * the config first: HEARTH_ERR_INVALID_ARG with a message naming the bad option. */
hearth_status hearth_synth_plan(const hearth_synth_config *c, hearth_synth_tensor **out, int64_t *n,
                                hearth_error *err);

/* Progress: called after each piece written, done/total in bytes of tensor data. Returning
 * false stops the write: hearth_synth_write returns HEARTH_ERR_CANCELLED and removes its
 * temporary file. */
typedef bool (*hearth_synth_progress_fn)(const char *tensor, uint64_t done, uint64_t total, void *user);

typedef struct hearth_synth_result {
    int64_t n_tensors;
    uint64_t n_params;
    uint64_t file_size;
    int64_t n_vocab; /* after --vocab */
} hearth_synth_result;

/* Writes the model to path (atomically: temp file + rename), streaming tensor by tensor in
 * bounded memory. */
hearth_status hearth_synth_write(const hearth_synth_config *c, const char *path, hearth_synth_progress_fn progress,
                                 void *user, hearth_synth_result *result, hearth_error *err);

/* internal, shared by synth*.c --------------------------------------------------------- */
typedef struct hearth_gguf_writer hearth_gguf_writer;
/* Writes tokenizer.* for the synthetic SentencePiece vocab of n_vocab tokens ("llama"
 * model: <unk> <s> </s>, 256 byte tokens, then pieces; phi3 gets its control tokens). */
hearth_status synth_vocab_write(hearth_gguf_writer *w, const char *arch, int64_t n_vocab, hearth_error *err);
/* Deterministic pseudo-random numbers for tensor `name`, row `row`. */
uint64_t synth_seed(uint64_t seed, const char *name, int64_t row);

#endif
