/*
 * kernels — the CPU compute primitives, selected once at run time by CPUID.
 *
 * One table (hearth_kernels) per dispatch level: scalar (reference, always present), avx2
 * (AVX2+FMA+F16C), avx512 (F/BW/VL/DQ + VNNI), amx (avx512 plus AMX-INT8 tile multiplies
 * for batched prefill). A SIMD table starts as a copy of the level below and replaces what
 * it speeds up. Every entry computes the same thing as the scalar one: conversions and the
 * k-quant dots bit for bit, other dots within float reordering.
 * HEARTH_CPU=scalar|avx2|avx512|amx forces a level (tests run every level the machine has).
 *
 * Weights of type T are multiplied with activations first converted to vec_dot_type[T]:
 * Q8_0 for Q4_0/Q4_1/Q5_0/Q5_1/Q8_0 (ggml uses Q8_1 for Q4_1/Q5_1; we sum the Q8_0 quants in
 * the dot instead, so the offset term is not rounded to F16), Q8_K for the k-quants, and F32
 * for F32/F16/BF16 weights (no activation rounding; AVX512-BF16 is detected but unused).
 * Activation quantizers round to nearest even at every level.
 */
#ifndef HEARTH_KERNELS_H
#define HEARTH_KERNELS_H

#include <stdint.h>

#include "kernels/types.h"

typedef enum hearth_cpu_level {
    HEARTH_CPU_SCALAR = 0,
    HEARTH_CPU_AVX2 = 1,
    HEARTH_CPU_AVX512 = 2,
    HEARTH_CPU_AMX = 3,
    HEARTH_CPU_LEVELS
} hearth_cpu_level;

/* Small float vector operations the model needs (see the hearth_vec_* wrappers below). */
typedef struct hearth_vec_ops {
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    float (*dot_f16)(const hearth_f16 *a, const float *b, int64_t n);
    void (*axpy)(float *y, float a, const float *x, int64_t n);
    void (*axpy_f16)(float *y, float a, const hearth_f16 *x, int64_t n);
    void (*scale)(float *y, float s, int64_t n);
    void (*add)(float *y, const float *a, const float *b, int64_t n);
    void (*mul)(float *y, const float *a, const float *b, int64_t n);
    void (*f32_to_f16)(hearth_f16 *dst, const float *src, int64_t n);
    void (*f16_to_f32)(float *dst, const hearth_f16 *src, int64_t n);
    void (*rmsnorm)(float *y, const float *x, const float *w, int64_t n, float eps);
    void (*layernorm)(float *y, const float *x, const float *w, const float *b, int64_t n,
                      float eps);
    float (*softmax)(float *x, int64_t n);
    void (*silu)(float *y, const float *x, int64_t n);
    void (*swiglu)(float *y, const float *gate, const float *up, int64_t n);
    void (*gelu)(float *y, const float *x, int64_t n);
    float (*max)(const float *x, int64_t n);
    /* attention over an F16 cache, many rows per call (see hearth_vec_attn_* below) */
    void (*attn_scores_f16)(float *scores, const hearth_f16 *k, int64_t stride, int64_t n,
                            const float *q, int64_t nq, int64_t d, float scale);
    void (*attn_values_f16)(float *o, const float *p, const hearth_f16 *v, int64_t stride,
                            int64_t n, int64_t nq, int64_t d);
    /* Whole attention for a block of queries (prompt processing), or NULL where a level has
     * none (the caller then uses the gemm path): q is nq rows of d floats (d % 16 == 0); query
     * j sees F16 cache rows [0, n_kv[j]) (row r at k + r * stride, v + r * stride);
     * o (nq x d) = softmax(scale * q K^T) V. scratch: HEARTH_ATTN_SCRATCH(d, max n_kv) floats. */
    void (*attn_f16)(float *o, const float *q, int64_t nq, int64_t d, const hearth_f16 *k,
                     const hearth_f16 *v, int64_t stride, const int32_t *n_kv, float scale,
                     float *scratch);
} hearth_vec_ops;
#define HEARTH_ATTN_SCRATCH(d, n) (96 * (size_t)(d) + 32 * (size_t)(n))

typedef struct hearth_kernels {
    const char *name;        /* "scalar", "avx2", "avx512" */
    hearth_cpu_level level;
    /* dst[0..n) = the n elements of a row of type T starting at src (n % block_size == 0) */
    void (*to_float[HEARTH_TYPE_COUNT])(const void *src, float *dst, int64_t n);
    /* Quantizes n floats into type T's blocks (used for activations, T = a vec_dot type). */
    void (*from_float[HEARTH_TYPE_COUNT])(const float *src, void *dst, int64_t n);
    /* *s = dot(weights row of type T, activations already in vec_dot_type[T]), n elements */
    void (*vec_dot[HEARTH_TYPE_COUNT])(int64_t n, float *s, const void *w, const void *a);
    hearth_type vec_dot_type[HEARTH_TYPE_COUNT];
    /* Tiled dot products for batched prefill: y[t * ldy + r] = dot(weight row r, activation
     * row t) for r < nr, t < nt. Weight rows are w_stride bytes apart, activation rows (already
     * in vec_dot_type[T]) a_stride bytes apart; aux rows (see gemm_aux) aux_stride apart.
     * Loads each weight block once for many tokens. Equals vec_dot per (r, t) within float
     * rounding (the summation order differs). NULL where a level has no tiled kernel for T:
     * hearth_matmul then calls vec_dot for each (row, token). */
    void (*gemm[HEARTH_TYPE_COUNT])(int64_t n, float *y, int64_t ldy, const void *w,
                                    size_t w_stride, int nr, const void *a, size_t a_stride,
                                    const void *aux, size_t aux_stride, int nt);
    /* Per-token data gemm[T] wants precomputed once per matmul (activation group sums and
     * scales): gemm_aux_size[T](n) bytes per activation row of n elements, filled by
     * gemm_aux[T] from that row. NULL where gemm[T] needs none. */
    size_t (*gemm_aux_size[HEARTH_TYPE_COUNT])(int64_t n);
    void (*gemm_aux[HEARTH_TYPE_COUNT])(const void *a, int64_t n, void *aux);
    /* Where gemm[T] wants its activations regrouped 16 tokens at a time (AMX tiles: one
     * group's bytes of 16 tokens contiguous), gemm_tile_a[T](row, n, i, block) copies token i
     * of a 16-token block (an activation row in vec_dot_type[T], n elements) into the block
     * (16 * n bytes); hearth_matmul then hands gemm[T] that layout as `a`, with a_stride = n
     * bytes per token (so a + t * a_stride is token t's block when t % 16 == 0), and aux as
     * usual. NULL: activations as they are. */
    void (*gemm_tile_a[HEARTH_TYPE_COUNT])(const void *a, int64_t n, int i, void *block);
    hearth_vec_ops vec;
} hearth_kernels;

/* The best level this CPU supports, or the one HEARTH_CPU names (an unknown or unsupported
 * HEARTH_CPU value falls back to the best level with a warning). */
const hearth_kernels *hearth_kernels_get(void);
/* A given level, or NULL if this CPU cannot run it. */
const hearth_kernels *hearth_kernels_at(hearth_cpu_level level);
bool hearth_type_supported(hearth_type t); /* has to_float and vec_dot */

/* Reference quantization of weights (for `hearth synth` and tests): n_rows rows of n_per_row
 * floats into type T. Returns bytes written, 0 if T cannot be produced or n_per_row is not a
 * multiple of T's block size. Deterministic: the same floats give the same bytes. */
size_t hearth_quantize(hearth_type t, const float *src, void *dst, int64_t n_rows, int64_t n_per_row);

/* ---- threads ----------------------------------------------------------------------------- */
/* A fixed set of worker threads that spin briefly then sleep between jobs, so the many small
 * jobs of single-token decode cost little to hand out. */
typedef struct hearth_threadpool hearth_threadpool;
hearth_threadpool *hearth_threadpool_new(int n_threads); /* n_threads includes the caller */
void hearth_threadpool_free(hearth_threadpool *tp);
int hearth_threadpool_size(const hearth_threadpool *tp);
/* Runs fn(arg, ith, nth) for ith = 0..nth-1 (the caller runs ith 0) and waits for all.
 * One caller at a time per pool (each context owns its pool). */
void hearth_threadpool_run(hearth_threadpool *tp, void (*fn)(void *arg, int ith, int nth), void *arg);

/* ---- matrix multiplication -------------------------------------------------------------- */
/* A weight matrix as stored in GGUF: `rows` rows of `cols` elements of `type`, row-major,
 * rows hearth_row_size(type, cols) bytes apart. */
typedef struct hearth_matrix {
    hearth_type type;
    int64_t rows, cols;
    const void *data;
} hearth_matrix;

/* Reusable scratch for activation quantization; grows as needed, freed by the owner. */
typedef struct hearth_matmul_scratch {
    void *buf;
    size_t cap;
} hearth_matmul_scratch;
void hearth_matmul_scratch_free(hearth_matmul_scratch *s);

/* Y[t][r] = sum_c W[r][c] * X[t][c] for t < n_tok, r < W->rows. W must have a supported type
 * and whole blocks per row (the model loader checks); otherwise, or if scratch cannot grow,
 * Y is zeroed and a warning logged (no status: a matmul has no other way to fail).
 * X is n_tok x W->cols floats (row stride W->cols), Y is n_tok x W->rows (row stride W->rows).
 * n_tok == 1 is the decode mat-vec; larger n_tok is batched prefill (tiled GEMM). */
void hearth_matmul(hearth_threadpool *tp, const hearth_kernels *k, const hearth_matrix *W,
                   const float *X, int64_t n_tok, float *Y, hearth_matmul_scratch *scratch);

/* Y[i] = W[i] X for i < n, all on the same input X (Q, K and V; the FFN gate and up). One
 * job for a decode mat-vec (one token, the same activation type): one quantization of X and
 * one hand-out and wait instead of n; otherwise n hearth_matmul calls. */
#define HEARTH_MATMUL_MAX_PARTS 4
void hearth_matmul_many(hearth_threadpool *tp, const hearth_kernels *k, int n, const hearth_matrix *const *W,
                        const float *X, int64_t n_tok, float *const *Y, hearth_matmul_scratch *scratch);

/* ---- vector operations (dispatched through hearth_kernels_get()) ------------------------
 * y may alias x (or a/gate) in every operation below. n may be any length >= 0. */
/* sum a[i] * b[i] */
float hearth_vec_dot_f32(const float *a, const float *b, int64_t n);
/* sum f16(a[i]) * b[i]: an F16 K-cache row against an f32 query */
float hearth_vec_dot_f16(const hearth_f16 *a, const float *b, int64_t n);
/* y[i] += a * x[i] */
void hearth_vec_axpy(float *y, float a, const float *x, int64_t n);
/* y[i] += a * f16(x[i]): V-cache accumulation */
void hearth_vec_axpy_f16(float *y, float a, const hearth_f16 *x, int64_t n);
/* y[i] *= s */
void hearth_vec_scale(float *y, float s, int64_t n);
/* y[i] = a[i] + b[i];  y[i] = a[i] * b[i] */
void hearth_vec_add(float *y, const float *a, const float *b, int64_t n);
void hearth_vec_mul(float *y, const float *a, const float *b, int64_t n);
/* row conversions (round to nearest even) */
void hearth_vec_f32_to_f16(hearth_f16 *dst, const float *src, int64_t n);
void hearth_vec_f16_to_f32(float *dst, const hearth_f16 *src, int64_t n);
/* y = x / sqrt(mean(x^2) + eps) * w   (w may be NULL: no scale) */
void hearth_vec_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);
/* y = (x - mean) / sqrt(var + eps) * w + b   (w, b may be NULL) */
void hearth_vec_layernorm(float *y, const float *x, const float *w, const float *b, int64_t n,
                          float eps);
/* x = softmax(x) in place (-INFINITY entries become 0); returns the sum of exp(x - max)
 * before normalization (useful for log-sum-exp: logsumexp = max + log(sum)). */
float hearth_vec_softmax(float *x, int64_t n);
/* y = x * sigmoid(x);  y = silu(gate) * up;  y = gelu(x) with the tanh approximation */
void hearth_vec_silu(float *y, const float *x, int64_t n);
void hearth_vec_swiglu(float *y, const float *gate, const float *up, int64_t n);
void hearth_vec_gelu(float *y, const float *x, int64_t n);
/* max x[i] (-INFINITY for n == 0) */
float hearth_vec_max(const float *x, int64_t n);
/* Attention over F16 K/V cache rows (row j starts at k + j * stride, d elements) for nq query
 * heads that share those rows (GQA: the heads of one KV group), so each cache row is read from
 * memory once per call rather than once per row and head:
 *   scores[h * n + j] = scale * sum_i f16(k[j][i]) * q[h * d + i]     j < n, h < nq
 *   o[h * d + i]     += sum_j p[h * n + j] * f16(v[j][i])             i < d, h < nq  */
void hearth_vec_attn_scores_f16(float *scores, const hearth_f16 *k, int64_t stride, int64_t n,
                                const float *q, int64_t nq, int64_t d, float scale);
void hearth_vec_attn_values_f16(float *o, const float *p, const hearth_f16 *v, int64_t stride,
                                int64_t n, int64_t nq, int64_t d);

#endif
