/*
 * backend.h — the seam between the model code and the hardware that runs it.
 *
 * The forward pass never touches activation memory directly: it asks a backend for buffers
 * and calls operations through a table of function pointers. The CPU backend (backend_cpu.c)
 * is always built; a CUDA backend is a second table whose buffers live in device memory.
 *
 * Rules every backend follows (so model code stays backend-agnostic):
 *   - Activations are float32, row-major [rows][cols], contiguous, in hearth_buffer memory the
 *     backend owns. Model code passes buffers and sizes; it never dereferences them.
 *   - Weights are uploaded once: weight_new turns a host view of a GGUF tensor (a hearth_matrix
 *     into the mmap) into a hearth_bweight the backend holds (the CPU keeps the pointer; a GPU
 *     copies it to the device). Layers may live on different backends (a CPU/GPU split): the
 *     forward pass moves the hidden state between them with buf_read/buf_write at the boundary.
 *   - Small per-batch metadata (token ids, positions, KV cell indices) stays on the host and is
 *     passed as plain arrays; a device backend copies what it needs.
 *   - The KV cache of a layer lives on that layer's backend, in the cache type chosen at
 *     context creation (F32, F16, Q8_0), one row of n_embd_kv values per cell.
 *   - A model holds one instance per device kind for its weights; each context creates its
 *     own instance of the same kind (own threads/streams, buffers). Weight handles are valid
 *     in every instance of the same kind, so contexts on different threads share weights.
 */
#ifndef HEARTH_MODEL_BACKEND_H
#define HEARTH_MODEL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "kernels/kernels.h"

typedef struct hearth_backend hearth_backend; /* one instance: device, threads, scratch      */
typedef struct hearth_buffer hearth_buffer;   /* backend memory (activations, KV cache)      */
typedef struct hearth_bweight hearth_bweight; /* a weight as the backend holds it            */

typedef enum hearth_rope_mode {
    HEARTH_ROPE_NONE = 0, /* no rotary embedding (bert)                                        */
    HEARTH_ROPE_NORM,     /* rotate adjacent pairs (x[2i], x[2i+1]): llama                    */
    HEARTH_ROPE_NEOX      /* rotate halves (x[i], x[i + n_rot/2]): qwen2, qwen3, phi3, ...     */
} hearth_rope_mode;

/* How positions become rotation angles. With e(i) = pos * base^(-2i/n_rot) / freq_factors[i]
 * (freq_factors: llama3-style rope_freqs tensor, NULL if absent):
 *   theta(pos, i) = freq_scale * e(i)                                  (none, linear)
 *   theta(pos, i) = mix(freq_scale * e(i), e(i), ramp(i)), cos/sin x mscale   (YaRN)
 * where ramp(i) = 1 - clamp((i - yarn_low) / (yarn_high - yarn_low), 0, 1): dimensions that
 * turn fast keep their original angle, slow ones are interpolated. */
typedef struct hearth_rope_params {
    hearth_rope_mode mode;
    int32_t n_rot;             /* rotated dims per head (<= head_dim), even              */
    float freq_base;
    float freq_scale;          /* 1 / scaling factor                                     */
    const float *freq_factors; /* n_rot/2 host floats, or NULL                           */
    bool yarn;
    float yarn_low, yarn_high; /* correction range in pair indices                       */
    float mscale;              /* cos/sin magnitude (1 unless YaRN / attn_factor)        */
} hearth_rope_params;

/* Fills tab ([n_tok][n_rot/2][cos, sin]) for host positions pos: the table every backend's
 * rope_table holds (a device backend computes it here and uploads it). */
void hearth_rope_fill(const hearth_rope_params *rope, const int32_t *pos, int32_t n_tok, float *tab);

/* Which KV cells each token of a batch attends to: cells [cell0[t], cell0[t] + n_kv[t]) of the
 * layer's cache (its own sequence's cells, causal: up to and including its own position). */
typedef struct hearth_attn_batch {
    int32_t n_tok;
    const int32_t *cell0;
    const int32_t *n_kv;
    int32_t max_kv;            /* max over n_kv[] (scratch sizing)                        */
} hearth_attn_batch;

typedef struct hearth_backend_ops {
    const char *name; /* "cpu", "cuda" */
    void (*free)(hearth_backend *be);

    /* ---- memory --------------------------------------------------------------------------- */
    hearth_buffer *(*buf_new)(hearth_backend *be, size_t bytes, hearth_error *err);
    void (*buf_free)(hearth_backend *be, hearth_buffer *buf);
    /* host <-> backend copies at byte offsets (used at layer-split boundaries and for logits) */
    void (*buf_write)(hearth_backend *be, hearth_buffer *dst, size_t off, const void *src, size_t n);
    void (*buf_read)(hearth_backend *be, const hearth_buffer *src, size_t off, void *dst, size_t n);

    /* ---- weights ---------------------------------------------------------------------------- */
    /* Takes a host view (valid for the model's lifetime); a GPU backend uploads it here. Fails
     * with UNSUPPORTED if the backend cannot compute with the tensor's type. */
    hearth_status (*weight_new)(hearth_backend *be, const hearth_matrix *host, hearth_bweight **out,
                                hearth_error *err);
    void (*weight_free)(hearth_backend *be, hearth_bweight *w);

    /* ---- operations on float activations ------------------------------------------------- */
    /* out[t] = row ids[t] of W (any weight type), t < n */
    void (*get_rows)(hearth_backend *be, const hearth_bweight *W, const int32_t *ids, int32_t n,
                     hearth_buffer *out);
    /* out[i] = x[rows[i]] for i < n, rows of `cols` floats (gathers the rows that need logits) */
    void (*copy_rows)(hearth_backend *be, const hearth_buffer *x, const int32_t *rows, int32_t n,
                      int64_t cols, hearth_buffer *out);
    /* y[t] = W x[t] for t < n_tok  (W: rows x cols; x: [n_tok][cols]; y: [n_tok][rows]) */
    void (*matmul)(hearth_backend *be, const hearth_bweight *W, const hearth_buffer *x,
                   int32_t n_tok, hearth_buffer *y);
    /* y[i] = W[i] x for i < n, the same x (Q/K/V, FFN gate/up); optional: NULL means n
     * matmul calls (the CPU does a decode step's in one job) */
    void (*matmul_many)(hearth_backend *be, int n, const hearth_bweight *const *W, const hearth_buffer *x,
                        int32_t n_tok, hearth_buffer *const *y);
    /* x[t] += b for t < n_rows (b: a 1-row weight of n floats) */
    void (*add_bias)(hearth_backend *be, hearth_buffer *x, const hearth_bweight *b, int64_t n_rows,
                     int64_t n);
    /* x[i] += y[i], i < n */
    void (*add)(hearth_backend *be, hearth_buffer *x, const hearth_buffer *y, int64_t n);
    /* out[r] = x[r] / rms(x[r]) * w, rows of n (w NULL: no scale). out may be x. Used with
     * rows = n_tok for the layer norms and rows = n_tok * n_head, n = head_dim for Q/K norm. */
    void (*rmsnorm)(hearth_backend *be, const hearth_buffer *x, const hearth_bweight *w,
                    int64_t rows, int64_t n, float eps, hearth_buffer *out);
    /* out[r] = (x[r] - mean) / sqrt(var + eps) * w + b (w, b may be NULL). out may be x. */
    void (*layernorm)(hearth_backend *be, const hearth_buffer *x, const hearth_bweight *w,
                      const hearth_bweight *b, int64_t rows, int64_t n, float eps,
                      hearth_buffer *out);
    /* Writes the cos/sin table for a batch: [n_tok][n_rot/2][2] floats, into table. */
    void (*rope_table)(hearth_backend *be, const hearth_rope_params *rope, const int32_t *pos,
                       int32_t n_tok, hearth_buffer *table);
    /* Rotates the first n_rot dims of each head of x ([n_tok][n_head * head_dim]) in place. */
    void (*rope)(hearth_backend *be, hearth_buffer *x, int32_t n_tok, int32_t n_head,
                 int32_t head_dim, const hearth_rope_params *rope, const hearth_buffer *table);
    /* out[i] = silu(gate[i]) * up[i], i < n. out may be gate. */
    void (*swiglu)(hearth_backend *be, const hearth_buffer *gate, const hearth_buffer *up,
                   int64_t n, hearth_buffer *out);
    /* x[i] = gelu(x[i]) (tanh approximation, as BERT GGUFs expect), i < n */
    void (*gelu)(hearth_backend *be, hearth_buffer *x, int64_t n);
    /* softmax over each row of n, in place */
    void (*softmax)(hearth_backend *be, hearth_buffer *x, int64_t rows, int64_t n);

    /* Sizes the instance's scratch for batches of up to n_tok tokens attending to up to
     * max_kv cells with n_head query heads over n_head_kv KV heads of head_dim (called at
     * context creation, so the operations below never allocate). */
    hearth_status (*reserve)(hearth_backend *be, int32_t n_tok, int32_t max_kv, int32_t n_head,
                             int32_t n_head_kv, int32_t head_dim, hearth_error *err);

    /* ---- KV cache and attention ---------------------------------------------------------- */
    /* Allocates one layer's cache: n_cells rows of n_embd_kv values of type kv (F32/F16/Q8_0). */
    hearth_buffer *(*kv_new)(hearth_backend *be, hearth_type kv, int64_t n_cells,
                             int64_t n_embd_kv, hearth_error *err);
    /* cache[cells[t]] = src[t] (converted to the cache type), t < n_tok */
    void (*kv_store)(hearth_backend *be, hearth_buffer *cache, hearth_type kv, int64_t n_embd_kv,
                     const hearth_buffer *src, const int32_t *cells, int32_t n_tok);
    /* cache rows [dst, dst+n) = rows [src, src+n) (sequence copy) */
    void (*kv_copy)(hearth_backend *be, hearth_buffer *cache, hearth_type kv, int64_t n_embd_kv,
                    int32_t dst, int32_t src, int32_t n);
    /* Scaled dot-product attention of q ([n_tok][n_head * head_dim]) over the cached K and V
     * (head h reads KV head h / (n_head / n_head_kv)); softmax accumulated in float.
     * out: [n_tok][n_head * head_dim]. */
    void (*attention)(hearth_backend *be, const hearth_buffer *q, const hearth_buffer *k_cache,
                      const hearth_buffer *v_cache, hearth_type kv, int32_t n_head,
                      int32_t n_head_kv, int32_t head_dim, float scale,
                      const hearth_attn_batch *batch, hearth_buffer *out);

    /* ---- host threads ---------------------------------------------------------------------- */
    /* The instance's CPU worker pool, or NULL (may be left out of a table). Idle between
     * operations, so the caller may lend it host work then (hearth_context_parallel). */
    hearth_threadpool *(*threadpool)(hearth_backend *be);
} hearth_backend_ops;

/* Every backend instance starts with a pointer to its table. */
struct hearth_backend {
    const hearth_backend_ops *ops;
};

/* The CPU backend: hearth_matmul on the given kernel level, n_threads workers (0 = physical
 * cores). Never fails except for memory. */
hearth_backend *hearth_backend_cpu_new(const hearth_kernels *k, int n_threads, hearth_error *err);

#endif
