/*
 * backend_cpu.c — the CPU backend: buffers are malloc'd host memory, weights stay in the
 * mmap, matrix products go through hearth_matmul and the vector helpers of one kernel level.
 *
 * Work is split over the threadpool by rows (tokens, or (token, head) pairs for attention)
 * when there are enough rows to pay for the hand-off; single-token element-wise work runs on
 * the calling thread.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/attn_cpu.h"
#include "model/backend.h"

struct hearth_buffer {
    void *data;
    size_t size;
};

/* A CPU weight is the host view; 1-row vectors of non-F32 type (norms, biases) get a float
 * copy so the element-wise code reads floats directly. */
struct hearth_bweight {
    hearth_matrix m;
    float *f32;   /* rows == 1: the row as floats (owned if converted, else into the map) */
    bool owned;
};

typedef struct cpu_backend {
    hearth_backend base;
    const hearth_kernels *k;
    hearth_threadpool *tp;
    int n_threads;
    hearth_matmul_scratch mm;
    cpu_attn attn;       /* attention scratch (attn_cpu.c)                              */
} cpu_backend;

#define CPU(be) ((cpu_backend *)(be))
#define F(buf) ((float *)(buf)->data)
#define CF(buf) ((const float *)(buf)->data)

/* Below this many rows, or this many elements in all, threading costs more than it saves:
 * the per-head norms and RoPE of one decoded token (a few thousand elements) run inline, so
 * a decode step hands out only its matmuls and attention (a worker preempted on a busy
 * machine then stalls fewer hand-offs). */
#define CPU_PAR_MIN_ROWS 4
#define CPU_PAR_MIN_ELEMS 16384

typedef void (*row_fn)(void *arg, int64_t r0, int64_t r1);
typedef struct par_job {
    row_fn fn;
    void *arg;
    int64_t rows;
} par_job;

static void par_worker(void *arg, int ith, int nth)
{
    par_job *j = arg;
    int64_t per = (j->rows + nth - 1) / nth;
    int64_t r0 = per * ith, r1 = HEARTH_MIN(j->rows, r0 + per);
    if (r0 < r1) j->fn(j->arg, r0, r1);
}

static void par_rows(cpu_backend *cb, row_fn fn, void *arg, int64_t rows, int64_t cols)
{
    if (rows < CPU_PAR_MIN_ROWS || rows * cols < CPU_PAR_MIN_ELEMS || cb->n_threads <= 1) {
        fn(arg, 0, rows);
        return;
    }
    par_job j = {fn, arg, rows};
    hearth_threadpool_run(cb->tp, par_worker, &j);
}

/* ---- memory ----------------------------------------------------------------------------- */

static hearth_buffer *cpu_buf_new(hearth_backend *be, size_t bytes, hearth_error *err)
{
    (void)be;
    hearth_buffer *b = calloc(1, sizeof *b);
    /* 64-byte alignment for SIMD loads; round the size up as aligned_alloc requires */
    size_t sz = (HEARTH_MAX(bytes, 1) + 63) & ~(size_t)63;
    if (b) b->data = aligned_alloc(64, sz);
    if (!b || !b->data) {
        free(b);
        hearth_fail(err, HEARTH_ERR_NOMEM, "cpu backend: cannot allocate %zu bytes", bytes);
        return NULL;
    }
    /* not cleared: every op writes before it reads, and a big KV cache stays untouched (no
     * resident memory) until positions are actually stored */
    b->size = bytes;
    return b;
}

static void cpu_buf_free(hearth_backend *be, hearth_buffer *b)
{
    (void)be;
    if (!b) return;
    free(b->data);
    free(b);
}

static void cpu_buf_write(hearth_backend *be, hearth_buffer *dst, size_t off, const void *src, size_t n)
{
    (void)be;
    memcpy((char *)dst->data + off, src, n);
}

static void cpu_buf_read(hearth_backend *be, const hearth_buffer *src, size_t off, void *dst, size_t n)
{
    (void)be;
    memcpy(dst, (const char *)src->data + off, n);
}

/* ---- weights ---------------------------------------------------------------------------- */

static hearth_status cpu_weight_new(hearth_backend *be, const hearth_matrix *host,
                                    hearth_bweight **out, hearth_error *err)
{
    const hearth_kernels *k = CPU(be)->k;
    if (!k->to_float[host->type] || (host->rows > 1 && !k->vec_dot[host->type]))
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED,
                           "cpu backend: tensor type %s is not supported by this build",
                           hearth_type_name(host->type));
    hearth_bweight *w = calloc(1, sizeof *w);
    if (!w) return hearth_fail(err, HEARTH_ERR_NOMEM, "cpu backend: out of memory");
    w->m = *host;
    if (host->rows == 1) {
        if (host->type == HEARTH_TYPE_F32) {
            w->f32 = (float *)host->data; /* read-only use only */
        } else {
            w->f32 = malloc((size_t)host->cols * sizeof(float));
            if (!w->f32) {
                free(w);
                return hearth_fail(err, HEARTH_ERR_NOMEM, "cpu backend: out of memory");
            }
            k->to_float[host->type](host->data, w->f32, host->cols);
            w->owned = true;
        }
    }
    *out = w;
    return HEARTH_OK;
}

static void cpu_weight_free(hearth_backend *be, hearth_bweight *w)
{
    (void)be;
    if (!w) return;
    if (w->owned) free(w->f32);
    free(w);
}

/* ---- element-wise and row operations ---------------------------------------------------- */

static void cpu_get_rows(hearth_backend *be, const hearth_bweight *W, const int32_t *ids,
                         int32_t n, hearth_buffer *out)
{
    const hearth_kernels *k = CPU(be)->k;
    size_t rs = hearth_row_size(W->m.type, W->m.cols);
    for (int32_t t = 0; t < n; t++)
        k->to_float[W->m.type]((const char *)W->m.data + (size_t)ids[t] * rs,
                               F(out) + (size_t)t * (size_t)W->m.cols, W->m.cols);
}

static void cpu_copy_rows(hearth_backend *be, const hearth_buffer *x, const int32_t *rows,
                          int32_t n, int64_t cols, hearth_buffer *out)
{
    (void)be;
    for (int32_t i = 0; i < n; i++)
        memmove(F(out) + (size_t)i * (size_t)cols, CF(x) + (size_t)rows[i] * (size_t)cols,
                (size_t)cols * sizeof(float));
}

static void cpu_matmul(hearth_backend *be, const hearth_bweight *W, const hearth_buffer *x,
                       int32_t n_tok, hearth_buffer *y)
{
    cpu_backend *cb = CPU(be);
    hearth_matmul(cb->tp, cb->k, &W->m, CF(x), n_tok, F(y), &cb->mm);
}

static void cpu_matmul_many(hearth_backend *be, int n, const hearth_bweight *const *W, const hearth_buffer *x,
                            int32_t n_tok, hearth_buffer *const *y)
{
    cpu_backend *cb = CPU(be);
    const hearth_matrix *m[HEARTH_MATMUL_MAX_PARTS];
    float *out[HEARTH_MATMUL_MAX_PARTS];
    if (n > HEARTH_MATMUL_MAX_PARTS) {
        for (int i = 0; i < n; i++) cpu_matmul(be, W[i], x, n_tok, y[i]);
        return;
    }
    for (int i = 0; i < n; i++) {
        m[i] = &W[i]->m;
        out[i] = F(y[i]);
    }
    hearth_matmul_many(cb->tp, cb->k, n, m, CF(x), n_tok, out, &cb->mm);
}

static void cpu_add_bias(hearth_backend *be, hearth_buffer *x, const hearth_bweight *b,
                         int64_t n_rows, int64_t n)
{
    const hearth_kernels *k = CPU(be)->k;
    for (int64_t r = 0; r < n_rows; r++) k->vec.add(F(x) + r * n, F(x) + r * n, b->f32, n);
}

static void cpu_add(hearth_backend *be, hearth_buffer *x, const hearth_buffer *y, int64_t n)
{
    CPU(be)->k->vec.add(F(x), F(x), CF(y), n);
}

typedef struct norm_args {
    const hearth_kernels *k;
    const float *x;
    float *out;
    const float *w, *b;
    int64_t n;
    float eps;
} norm_args;

static void rmsnorm_rows(void *arg, int64_t r0, int64_t r1)
{
    norm_args *a = arg;
    for (int64_t r = r0; r < r1; r++) a->k->vec.rmsnorm(a->out + r * a->n, a->x + r * a->n, a->w, a->n, a->eps);
}

static void layernorm_rows(void *arg, int64_t r0, int64_t r1)
{
    norm_args *a = arg;
    for (int64_t r = r0; r < r1; r++)
        a->k->vec.layernorm(a->out + r * a->n, a->x + r * a->n, a->w, a->b, a->n, a->eps);
}

static void cpu_rmsnorm(hearth_backend *be, const hearth_buffer *x, const hearth_bweight *w,
                        int64_t rows, int64_t n, float eps, hearth_buffer *out)
{
    norm_args a = {CPU(be)->k, CF(x), F(out), w ? w->f32 : NULL, NULL, n, eps};
    par_rows(CPU(be), rmsnorm_rows, &a, rows, n);
}

static void cpu_layernorm(hearth_backend *be, const hearth_buffer *x, const hearth_bweight *w,
                          const hearth_bweight *b, int64_t rows, int64_t n, float eps,
                          hearth_buffer *out)
{
    norm_args a = {CPU(be)->k, CF(x), F(out), w ? w->f32 : NULL, b ? b->f32 : NULL, n, eps};
    par_rows(CPU(be), layernorm_rows, &a, rows, n);
}

static void cpu_rope_table(hearth_backend *be, const hearth_rope_params *rope, const int32_t *pos,
                           int32_t n_tok, hearth_buffer *table)
{
    (void)be;
    hearth_rope_fill(rope, pos, n_tok, F(table));
}

typedef struct rope_args {
    float *x;
    const float *tab;
    int32_t n_head, head_dim, n_rot;
    hearth_rope_mode mode;
} rope_args;

static void rope_rows(void *arg, int64_t r0, int64_t r1)
{
    rope_args *a = arg;
    int32_t half = a->n_rot / 2;
    for (int64_t r = r0; r < r1; r++) { /* r = token * n_head + head */
        float *h = a->x + r * a->head_dim;
        const float *cs = a->tab + (r / a->n_head) * half * 2;
        for (int32_t i = 0; i < half; i++) {
            /* NORM pairs adjacent values; NEOX pairs value i with value i + n_rot/2 */
            int32_t i0 = a->mode == HEARTH_ROPE_NEOX ? i : 2 * i;
            int32_t i1 = a->mode == HEARTH_ROPE_NEOX ? i + half : 2 * i + 1;
            float c = cs[2 * i], s = cs[2 * i + 1];
            float x0 = h[i0], x1 = h[i1];
            h[i0] = x0 * c - x1 * s;
            h[i1] = x0 * s + x1 * c;
        }
    }
}

static void cpu_rope(hearth_backend *be, hearth_buffer *x, int32_t n_tok, int32_t n_head,
                     int32_t head_dim, const hearth_rope_params *rope, const hearth_buffer *table)
{
    rope_args a = {F(x), CF(table), n_head, head_dim, rope->n_rot, rope->mode};
    par_rows(CPU(be), rope_rows, &a, (int64_t)n_tok * n_head, head_dim);
}

static void cpu_swiglu(hearth_backend *be, const hearth_buffer *gate, const hearth_buffer *up,
                       int64_t n, hearth_buffer *out)
{
    CPU(be)->k->vec.swiglu(F(out), CF(gate), CF(up), n);
}

static void cpu_gelu(hearth_backend *be, hearth_buffer *x, int64_t n)
{
    CPU(be)->k->vec.gelu(F(x), F(x), n);
}

static void cpu_softmax(hearth_backend *be, hearth_buffer *x, int64_t rows, int64_t n)
{
    for (int64_t r = 0; r < rows; r++) CPU(be)->k->vec.softmax(F(x) + r * n, n);
}

/* ---- KV cache ----------------------------------------------------------------------------- */

static hearth_buffer *cpu_kv_new(hearth_backend *be, hearth_type kv, int64_t n_cells,
                                 int64_t n_embd_kv, hearth_error *err)
{
    size_t row = hearth_row_size(kv, n_embd_kv), bytes;
    if (!row || !hearth_size_mul(row, (size_t)n_cells, &bytes)) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "KV cache: %lld cells of %lld %s values is not possible",
                    (long long)n_cells, (long long)n_embd_kv, hearth_type_name(kv));
        return NULL;
    }
    return cpu_buf_new(be, bytes, err);
}

static void cpu_kv_store(hearth_backend *be, hearth_buffer *cache, hearth_type kv, int64_t n_embd_kv,
                         const hearth_buffer *src, const int32_t *cells, int32_t n_tok)
{
    const hearth_kernels *k = CPU(be)->k;
    size_t row = hearth_row_size(kv, n_embd_kv);
    for (int32_t t = 0; t < n_tok; t++) {
        const float *s = CF(src) + (size_t)t * (size_t)n_embd_kv;
        void *d = (char *)cache->data + (size_t)cells[t] * row;
        if (kv == HEARTH_TYPE_F32) memcpy(d, s, row);
        else if (kv == HEARTH_TYPE_F16) k->vec.f32_to_f16(d, s, n_embd_kv);
        else k->from_float[kv](s, d, n_embd_kv);
    }
}

static void cpu_kv_copy(hearth_backend *be, hearth_buffer *cache, hearth_type kv, int64_t n_embd_kv,
                        int32_t dst, int32_t src, int32_t n)
{
    (void)be;
    size_t row = hearth_row_size(kv, n_embd_kv);
    memmove((char *)cache->data + (size_t)dst * row, (const char *)cache->data + (size_t)src * row,
            (size_t)n * row);
}

static hearth_status cpu_reserve(hearth_backend *be, int32_t n_tok, int32_t max_kv, int32_t n_head,
                               int32_t n_head_kv, int32_t head_dim, hearth_error *err)
{
    cpu_backend *cb = CPU(be);
    return cpu_attn_reserve(&cb->attn, cb->n_threads, n_tok, max_kv, n_head, n_head_kv, head_dim, err);
}

static void cpu_attention(hearth_backend *be, const hearth_buffer *q, const hearth_buffer *k_cache,
                          const hearth_buffer *v_cache, hearth_type kv, int32_t n_head,
                          int32_t n_head_kv, int32_t head_dim, float scale,
                          const hearth_attn_batch *batch, hearth_buffer *out)
{
    cpu_backend *cb = CPU(be);
    cpu_attn_run(&cb->attn, cb->tp, cb->n_threads, cb->k, CF(q), k_cache->data, v_cache->data, kv, n_head,
                 n_head_kv, head_dim, scale, batch, F(out));
}

static hearth_threadpool *cpu_threadpool(hearth_backend *be) { return CPU(be)->tp; }

/* ---- the table ---------------------------------------------------------------------------- */

static void cpu_free(hearth_backend *be)
{
    cpu_backend *cb = CPU(be);
    if (!cb) return;
    hearth_threadpool_free(cb->tp);
    hearth_matmul_scratch_free(&cb->mm);
    cpu_attn_free(&cb->attn);
    free(cb);
}

static const hearth_backend_ops cpu_ops = {
    .name = "cpu",
    .free = cpu_free,
    .buf_new = cpu_buf_new,
    .buf_free = cpu_buf_free,
    .buf_write = cpu_buf_write,
    .buf_read = cpu_buf_read,
    .weight_new = cpu_weight_new,
    .weight_free = cpu_weight_free,
    .get_rows = cpu_get_rows,
    .copy_rows = cpu_copy_rows,
    .matmul = cpu_matmul,
    .matmul_many = cpu_matmul_many,
    .add_bias = cpu_add_bias,
    .add = cpu_add,
    .rmsnorm = cpu_rmsnorm,
    .layernorm = cpu_layernorm,
    .rope_table = cpu_rope_table,
    .rope = cpu_rope,
    .swiglu = cpu_swiglu,
    .gelu = cpu_gelu,
    .softmax = cpu_softmax,
    .reserve = cpu_reserve,
    .kv_new = cpu_kv_new,
    .kv_store = cpu_kv_store,
    .kv_copy = cpu_kv_copy,
    .attention = cpu_attention,
    .threadpool = cpu_threadpool,
};

hearth_backend *hearth_backend_cpu_new(const hearth_kernels *k, int n_threads, hearth_error *err)
{
    cpu_backend *cb = calloc(1, sizeof *cb);
    if (!cb) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "cpu backend: out of memory");
        return NULL;
    }
    cb->base.ops = &cpu_ops;
    cb->k = k ? k : hearth_kernels_get();
    cb->n_threads = n_threads > 0 ? n_threads : hearth_physical_cores();
    if (cb->n_threads < 1) cb->n_threads = 1;
    cb->tp = hearth_threadpool_new(cb->n_threads);
    if (!cb->tp) {
        free(cb);
        hearth_fail(err, HEARTH_ERR_NOMEM, "cpu backend: cannot start %d threads", n_threads);
        return NULL;
    }
    cb->n_threads = hearth_threadpool_size(cb->tp);
    return &cb->base;
}
