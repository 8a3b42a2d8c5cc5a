/*
 * matmul.c — Y = X W^T for one weight matrix, on the thread pool.
 *
 * The activations are converted once into the weight type's vec_dot_type (Q8_0, Q8_K, or
 * kept F32), then the output is cut into work items that threads claim from an atomic
 * counter (a preempted thread on a busy machine costs one item, not a fixed share):
 *   n_tok == 1 (decode):  runs of consecutive rows, a mat-vec, claimed in shrinking runs;
 *   n_tok  > 1 (prefill): items are (row block x token block) tiles handed to the level's
 *                         gemm kernel, so each weight block is loaded once per token block.
 * Items are numbered token block fastest, so consecutive items reuse the same weight rows.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "base/base.h"
#include "kernels/kernels_impl.h"

#define TILE_ROWS 16   /* prefill: rows per work item                                      */
#define TILE_TOKS 64   /* prefill without a gemm kernel: tokens per work item             */
#define GEMM_TOKS 256  /* prefill with one: tokens per item (their activations stay in L2) */
#define GEMM_MIN_TOKS 3 /* fewer tokens than this: per-(row, token) dots are as fast       */
#define QUANT_ROWS 4   /* activation rows converted per claimed item                      */

typedef struct matmul_job {
    const hearth_kernels *k;
    const hearth_matrix *W;
    const float *X;
    void *a;           /* activations in vec_dot_type (may be X itself)  */
    size_t a_stride;   /* bytes between activation rows                   */
    void *aux;         /* per-token gemm data (gemm_aux), or NULL         */
    size_t aux_stride;
    void *tiled;       /* activations regrouped for gemm (gemm_tile_a), or NULL */
    size_t w_stride;   /* bytes between weight rows                       */
    float *Y;
    int64_t n_tok;
    int64_t row_chunk, tok_chunk, n_tok_blocks, n_items;
    _Atomic int64_t next;
    /* decode of several matrices on the same input (hearth_matmul_many): their rows numbered
     * one after the other, rows_total in all; a single matmul is one part */
    struct matmul_part {
        const hearth_matrix *W;
        float *Y;
        size_t w_stride;
        int64_t row0;
    } part[HEARTH_MATMUL_MAX_PARTS];
    int n_parts;
    int64_t rows_total;
} matmul_job;

static void quantize_rows(void *p, int ith, int nth)
{
    (void)ith;
    (void)nth;
    matmul_job *j = p;
    hearth_type vt = j->k->vec_dot_type[j->W->type];
    for (;;) {
        int64_t t0 = atomic_fetch_add_explicit(&j->next, QUANT_ROWS, memory_order_relaxed);
        if (t0 >= j->n_tok) return;
        int64_t t1 = HEARTH_MIN(t0 + QUANT_ROWS, j->n_tok);
        for (int64_t t = t0; t < t1; t++) {
            void *at = (uint8_t *)j->a + (size_t)t * j->a_stride;
            j->k->from_float[vt](j->X + t * j->W->cols, at, j->W->cols);
            if (j->aux)
                j->k->gemm_aux[j->W->type](at, j->W->cols, (uint8_t *)j->aux + (size_t)t * j->aux_stride);
            if (j->tiled)
                j->k->gemm_tile_a[j->W->type](at, j->W->cols, (int)(t % 16),
                                              (uint8_t *)j->tiled + (size_t)(t / 16) * 16 * (size_t)j->W->cols);
        }
    }
}

/* The generic tile: one vec_dot per (row, token). */
static void tile_by_vec_dot(const hearth_kernels *k, const matmul_job *j, int64_t r0, int nr,
                            int64_t t0, int nt)
{
    void (*dot)(int64_t, float *, const void *, const void *) = k->vec_dot[j->W->type];
    const uint8_t *w = (const uint8_t *)j->W->data + (size_t)r0 * j->w_stride;
    const uint8_t *a = (const uint8_t *)j->a + (size_t)t0 * j->a_stride;
    for (int t = 0; t < nt; t++)
        for (int r = 0; r < nr; r++)
            dot(j->W->cols, &j->Y[(t0 + t) * j->W->rows + r0 + r], w + (size_t)r * j->w_stride,
                a + (size_t)t * j->a_stride);
}

/* Decode: the next run of rows for a thread, guided self-scheduling. A run is a 1/(2 nth)
 * share of the rows left, never under row_chunk: long runs while much is left (few claims of
 * the shared counter), short ones at the end, so the threads finish within a few rows of
 * each other instead of one waiting out the other's last fixed-size item (a few % of every
 * decode mat-vec). */
static bool claim_rows(matmul_job *j, int nth, int64_t *r0, int *nr)
{
    int64_t cur = atomic_load_explicit(&j->next, memory_order_relaxed);
    for (;;) {
        int64_t left = j->rows_total - cur;
        if (left <= 0) return false;
        int64_t take = HEARTH_MIN(left, HEARTH_MAX(j->row_chunk, left / (2 * nth)));
        if (atomic_compare_exchange_weak_explicit(&j->next, &cur, cur + take, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            *r0 = cur;
            *nr = (int)take;
            return true;
        }
    }
}

static void multiply(void *p, int ith, int nth)
{
    (void)ith;
    matmul_job *j = p;
    const hearth_kernels *k = j->k;
    hearth_type wt = j->W->type;
    if (j->n_tok == 1) {
        int64_t r0;
        int nr;
        while (claim_rows(j, nth, &r0, &nr))
            for (int pi = 0; pi < j->n_parts && nr > 0; pi++) { /* a run may span two parts */
                const struct matmul_part *pt = &j->part[pi];
                int64_t end = pt->row0 + pt->W->rows;
                if (r0 >= end) continue;
                int n = (int)HEARTH_MIN(nr, end - r0);
                void (*dot)(int64_t, float *, const void *, const void *) = k->vec_dot[pt->W->type];
                const uint8_t *w = (const uint8_t *)pt->W->data + (size_t)(r0 - pt->row0) * pt->w_stride;
                for (int r = 0; r < n; r++) dot(pt->W->cols, &pt->Y[r0 - pt->row0 + r], w + (size_t)r * pt->w_stride, j->a);
                r0 += n;
                nr -= n;
            }
        return;
    }
    for (;;) {
        int64_t item = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (item >= j->n_items) return;
        int64_t r0 = item / j->n_tok_blocks * j->row_chunk;
        int64_t t0 = item % j->n_tok_blocks * j->tok_chunk;
        int nr = (int)HEARTH_MIN(j->row_chunk, j->W->rows - r0);
        int nt = (int)HEARTH_MIN(j->tok_chunk, j->n_tok - t0);
        if (k->gemm[wt] && nt >= GEMM_MIN_TOKS) {
            /* regrouped activations: n bytes per token, t0 is a multiple of 16 */
            const uint8_t *a = j->tiled ? j->tiled : j->a;
            size_t as = j->tiled ? (size_t)j->W->cols : j->a_stride;
            k->gemm[wt](j->W->cols, &j->Y[t0 * j->W->rows + r0], j->W->rows,
                        (const uint8_t *)j->W->data + (size_t)r0 * j->w_stride, j->w_stride, nr,
                        a + (size_t)t0 * as, as,
                        j->aux ? (const uint8_t *)j->aux + (size_t)t0 * j->aux_stride : NULL,
                        j->aux_stride, nt);
        } else {
            tile_by_vec_dot(k, j, r0, nr, t0, nt);
        }
    }
}

void hearth_matmul_scratch_free(hearth_matmul_scratch *s)
{
    if (!s) return;
    free(s->buf);
    s->buf = NULL;
    s->cap = 0;
}

/* Grows the scratch to at least need bytes; false (and a warning) if memory is out. */
static bool scratch_reserve(hearth_matmul_scratch *scratch, size_t need)
{
    if (scratch->cap >= need) return true;
    void *nb = realloc(scratch->buf, need);
    if (!nb) {
        hearth_warn("matmul: cannot allocate %zu bytes of activation scratch", need);
        return false;
    }
    scratch->buf = nb;
    scratch->cap = need;
    return true;
}

/* The shortest run of rows a decode thread claims (claiming costs an atomic on a shared cache
 * line; 8 rows of a 1024-column Q8_0 matrix are 8.7 KB). */
#define DECODE_MIN_ROWS 8

void hearth_matmul(hearth_threadpool *tp, const hearth_kernels *k, const hearth_matrix *W,
                   const float *X, int64_t n_tok, float *Y, hearth_matmul_scratch *scratch)
{
    if (n_tok <= 0 || W->rows <= 0) return;
    int nth = hearth_threadpool_size(tp);
    bool ok = (int)W->type >= 0 && W->type < HEARTH_TYPE_COUNT && k->vec_dot[W->type];
    hearth_type vt = ok ? k->vec_dot_type[W->type] : HEARTH_TYPE_F32;
    matmul_job j = {.k = k, .W = W, .X = X, .Y = Y, .n_tok = n_tok};
    j.w_stride = ok ? hearth_row_size(W->type, W->cols) : 0;
    j.a_stride = hearth_row_size(vt, W->cols);
    if (j.w_stride == 0 || j.a_stride == 0) {
        /* the loader validates shapes and types first; this only keeps a caller's mistake
         * from reading out of bounds */
        hearth_warn("matmul: cannot multiply a %s matrix of %lld columns", hearth_type_name(W->type),
                    (long long)W->cols);
        for (int64_t i = 0; i < n_tok * W->rows; i++) Y[i] = 0.0f;
        return;
    }

    bool use_gemm = k->gemm[W->type] && n_tok >= GEMM_MIN_TOKS;
    if (use_gemm && k->gemm_aux[W->type]) j.aux_stride = k->gemm_aux_size[W->type](W->cols);
    /* the aux rows (int32 and float) start 64-byte aligned after the activations, whose rows
     * may be any number of bytes (33 Q8_0 blocks: 1122) */
    size_t a_bytes = vt == HEARTH_TYPE_F32 ? 0 : (j.a_stride * (size_t)n_tok + 63) & ~(size_t)63;
    size_t aux_bytes = (j.aux_stride * (size_t)n_tok + 63) & ~(size_t)63;
    /* 16-token blocks of regrouped activations (rounded up: a last partial block is whole) */
    size_t tiled_bytes = use_gemm && k->gemm_tile_a[W->type] ? (size_t)((n_tok + 15) / 16) * 16 * (size_t)W->cols : 0;
    size_t need = a_bytes + aux_bytes + tiled_bytes;
    if (!scratch_reserve(scratch, need)) { /* out of memory: leave Y zeroed */
        for (int64_t i = 0; i < n_tok * W->rows; i++) Y[i] = 0.0f;
        return;
    }
    j.a = vt == HEARTH_TYPE_F32 ? (void *)X : scratch->buf;
    j.aux = j.aux_stride ? (uint8_t *)scratch->buf + a_bytes : NULL;
    j.tiled = tiled_bytes ? (uint8_t *)scratch->buf + a_bytes + aux_bytes : NULL;
    if (vt != HEARTH_TYPE_F32) {
        atomic_store_explicit(&j.next, 0, memory_order_relaxed);
        if (n_tok >= 2 * QUANT_ROWS && nth > 1) hearth_threadpool_run(tp, quantize_rows, &j);
        else quantize_rows(&j, 0, 1);
    }

    if (n_tok == 1) {
        j.part[0] = (struct matmul_part){W, Y, j.w_stride, 0};
        j.n_parts = 1;
        j.rows_total = W->rows;
        j.row_chunk = DECODE_MIN_ROWS;
        j.tok_chunk = 1;
    } else {
        j.row_chunk = TILE_ROWS;
        j.tok_chunk = use_gemm ? GEMM_TOKS : TILE_TOKS;
    }
    j.n_tok_blocks = (n_tok + j.tok_chunk - 1) / j.tok_chunk;
    j.n_items = (W->rows + j.row_chunk - 1) / j.row_chunk * j.n_tok_blocks;
    atomic_store_explicit(&j.next, 0, memory_order_relaxed);
    if (j.n_items == 1 || nth == 1) multiply(&j, 0, 1);
    else hearth_threadpool_run(tp, multiply, &j);
}

void hearth_matmul_many(hearth_threadpool *tp, const hearth_kernels *k, int n, const hearth_matrix *const *W,
                        const float *X, int64_t n_tok, float *const *Y, hearth_matmul_scratch *scratch)
{
    /* one job only where it is a plain decode mat-vec of each: one input row, the same
     * activation type, every matrix valid */
    bool fuse = n_tok == 1 && n > 1 && n <= HEARTH_MATMUL_MAX_PARTS;
    hearth_type vt = HEARTH_TYPE_F32;
    for (int i = 0; fuse && i < n; i++) {
        hearth_type t = W[i]->type;
        fuse = (int)t >= 0 && t < HEARTH_TYPE_COUNT && k->vec_dot[t] && W[i]->cols == W[0]->cols &&
               W[i]->rows > 0 && hearth_row_size(t, W[i]->cols) > 0 &&
               (i == 0 ? (vt = k->vec_dot_type[t], true) : k->vec_dot_type[t] == vt);
    }
    size_t a_stride = fuse ? hearth_row_size(vt, W[0]->cols) : 0;
    if (!fuse || (vt != HEARTH_TYPE_F32 && !scratch_reserve(scratch, a_stride))) {
        for (int i = 0; i < n; i++) hearth_matmul(tp, k, W[i], X, n_tok, Y[i], scratch);
        return;
    }
    matmul_job j = {.k = k, .W = W[0], .X = X, .Y = Y[0], .n_tok = 1, .n_parts = n, .a_stride = a_stride};
    for (int i = 0; i < n; i++) {
        j.part[i] = (struct matmul_part){W[i], Y[i], hearth_row_size(W[i]->type, W[i]->cols), j.rows_total};
        j.rows_total += W[i]->rows;
    }
    j.a = vt == HEARTH_TYPE_F32 ? (void *)X : scratch->buf;
    if (vt != HEARTH_TYPE_F32) k->from_float[vt](X, j.a, W[0]->cols);
    j.row_chunk = DECODE_MIN_ROWS;
    atomic_store_explicit(&j.next, 0, memory_order_relaxed);
    if (hearth_threadpool_size(tp) == 1) multiply(&j, 0, 1);
    else hearth_threadpool_run(tp, multiply, &j);
}
