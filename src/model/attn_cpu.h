/*
 * attn_cpu.h — attention over the KV cache on the CPU (private to src/model/).
 *
 * Work is split into items of (KV head, block of consecutive batch tokens that share their
 * cache range): every query head that reads that KV head, for every token of the block, is
 * handled together, so each K and V row is converted to float once per item instead of once
 * per query. In prompt processing that turns the O(n^2) part into long runs of float dot
 * products and axpys over rows already in cache.
 */
#ifndef HEARTH_MODEL_ATTN_CPU_H
#define HEARTH_MODEL_ATTN_CPU_H

#include "model/backend.h"

typedef struct cpu_attn {
    float *buf;          /* per thread: scores [nq_cap][max_kv] + one converted chunk */
    size_t per_thread;   /* floats                                                   */
    size_t cap;          /* floats allocated                                         */
    int32_t nq_cap;      /* queries per item the scores hold                         */
    int32_t *blocks;     /* token block starts (n_tok + 1)                           */
    int32_t blocks_cap;
} cpu_attn;

/* Sizes the scratch for n_threads threads, batches of n_tok tokens, up to max_kv cells. */
hearth_status cpu_attn_reserve(cpu_attn *a, int n_threads, int32_t n_tok, int32_t max_kv,
                               int32_t n_head, int32_t n_head_kv, int32_t head_dim,
                               hearth_error *err);
void cpu_attn_free(cpu_attn *a);

void cpu_attn_run(cpu_attn *a, hearth_threadpool *tp, int n_threads, const hearth_kernels *k,
                  const float *q, const void *k_cache, const void *v_cache, hearth_type kv,
                  int32_t n_head, int32_t n_head_kv, int32_t head_dim, float scale,
                  const hearth_attn_batch *batch, float *out);

#endif
