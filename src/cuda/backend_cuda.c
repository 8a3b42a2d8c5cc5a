/*
 * backend_cuda.c — the CUDA backend table (backend.h) over the kernels of hc.h.
 *
 * Everything an operation launches goes onto the instance's one stream, in order, without
 * waiting: the host runs ahead and only buf_read (logits, pooled embeddings) waits for the
 * device. Small per-batch metadata (token ids, KV cells, positions' cos/sin) is written into
 * a pinned host ring and copied to the same offset of a device ring; the ring is reused
 * after each wait, so a slot is never overwritten while a copy from it may be pending.
 *
 * Weights: native types (hc_type_native) are copied as their GGUF blocks; any other type is
 * dequantized on the host and uploaded as F16. 1-row weights (norms, biases) become floats.
 * A weight made by hearth_cuda_weight_host stays in host memory and is multiplied on the CPU.
 */
#ifdef HEARTH_CUDA

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda.h"
#include "cuda/hc.h"

struct hearth_buffer {
    void *d;
    size_t size;
};

struct hearth_bweight {
    hearth_matrix host; /* the GGUF view (host-resident weights are multiplied from here) */
    int type;           /* the device copy's type (host type, F16, or F32 for 1-row)     */
    void *d;            /* device data; NULL for a host-resident weight                   */
};

#define RING_BYTES ((size_t)8 << 20)
#define GEMM_TILE_ROWS 4096

typedef struct cuda_backend {
    hearth_backend base;
    hc_stream *s;
    const hearth_kernels *k;
    uint8_t *ring_h, *ring_d; /* pinned host / device metadata rings, RING_BYTES each */
    size_t ring_used;
    void *tile, *xh;          /* GEMM scratch: F16 weight tile, F16 activations     */
    size_t tile_cap, xh_cap;
    /* CPU side, for host-resident weights */
    int n_threads;
    hearth_threadpool *tp;
    hearth_matmul_scratch mm;
    float *hx, *hy;
    size_t hx_cap, hy_cap;
    int failed;               /* first CUDA error code (logged once); later ops are skipped */
    bool graphs, capturing;   /* decode steps as CUDA graphs (HEARTH_CUDA_GRAPHS=1)          */
} cuda_backend;

#define CB(be) ((cuda_backend *)(be))

static void check(cuda_backend *cb, int code, const char *what)
{
    if (code && !cb->failed) {
        cb->failed = code;
        hearth_log(HEARTH_LOG_ERROR, "cuda backend: %s failed: %s", what, hc_error_string(code));
    }
}

/* A step being captured ends here: its graph is launched (before anything that waits). */
static void flush(cuda_backend *cb)
{
    if (!cb->capturing) return;
    cb->capturing = false;
    check(cb, hc_capture_end_launch(cb->s), "decode graph");
}

/* Waits for the stream; the metadata ring can then be reused from the start. */
static void wait_idle(cuda_backend *cb)
{
    flush(cb);
    check(cb, hc_sync(cb->s), "stream synchronize");
    cb->ring_used = 0;
}

/* Room for n bytes in the ring: returns the host slot; *off is its offset in both rings. */
static uint8_t *ring_slot(cuda_backend *cb, size_t n, size_t *off)
{
    size_t need = (n + 255) & ~(size_t)255;
    if (cb->ring_used + need > RING_BYTES) wait_idle(cb);
    if (need > RING_BYTES) return NULL;
    *off = cb->ring_used;
    cb->ring_used += need;
    return cb->ring_h + *off;
}

/* Copies n bytes of host data to the device ring; returns the device pointer. */
static const void *stage(cuda_backend *cb, const void *src, size_t n)
{
    size_t off;
    uint8_t *h = ring_slot(cb, n, &off);
    if (!h) {
        check(cb, 1 /* cudaErrorInvalidValue */, "staging batch metadata");
        return NULL;
    }
    memcpy(h, src, n);
    check(cb, hc_upload(cb->s, cb->ring_d + off, h, n), "metadata upload");
    return cb->ring_d + off;
}

#define D(buf) ((float *)(buf)->d)
#define CD(buf) ((const float *)(buf)->d)

/* ---- memory ----------------------------------------------------------------------------- */

static hearth_buffer *cuda_buf_new(hearth_backend *be, size_t bytes, hearth_error *err)
{
    (void)be;
    hearth_buffer *b = calloc(1, sizeof *b);
    int e = b ? hc_malloc(&b->d, bytes) : 1;
    if (e) {
        free(b);
        hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: cannot allocate %zu bytes of device memory (%s)", bytes,
                    hc_error_string(e));
        return NULL;
    }
    b->size = bytes;
    return b;
}

static void cuda_buf_free(hearth_backend *be, hearth_buffer *b)
{
    if (!b) return;
    if (be) wait_idle(CB(be)); /* a kernel may still use it */
    hc_free(b->d);
    free(b);
}

static void cuda_buf_write(hearth_backend *be, hearth_buffer *dst, size_t off, const void *src, size_t n)
{
    cuda_backend *cb = CB(be);
    flush(cb); /* a pageable copy cannot be captured */
    /* on the stream, so the kernels after it see the data; a pageable source is consumed
     * before cudaMemcpyAsync returns, so src may change right away */
    check(cb, hc_upload(cb->s, (char *)dst->d + off, src, n), "buffer write");
}

static void cuda_buf_read(hearth_backend *be, const hearth_buffer *src, size_t off, void *dst, size_t n)
{
    cuda_backend *cb = CB(be);
    if (cb->failed) { /* the numbers would be garbage: make that visible */
        for (size_t i = 0; i + sizeof(float) <= n; i += sizeof(float)) ((float *)dst)[i / sizeof(float)] = NAN;
        return;
    }
    flush(cb);
    check(cb, hc_download(cb->s, dst, (const char *)src->d + off, n), "buffer read");
    cb->ring_used = 0;
}

/* ---- weights ---------------------------------------------------------------------------- */

/* Dequantizes rows on the host in slices and uploads them as F16 or F32 (types the kernels
 * do not read natively). */
static hearth_status upload_converted(const hearth_kernels *k, const hearth_matrix *h, hearth_type to, void *d,
                                      hearth_error *err)
{
    int64_t slice = HEARTH_MAX(1, (1 << 20) / h->cols);
    size_t rs = hearth_row_size(h->type, h->cols);
    float *f = malloc((size_t)(slice * h->cols) * sizeof(float));
    hearth_f16 *hf = malloc((size_t)(slice * h->cols) * sizeof(hearth_f16));
    hearth_status st = (f && hf) ? HEARTH_OK : hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: out of memory");
    for (int64_t r0 = 0; !st && r0 < h->rows; r0 += slice) {
        int64_t nr = HEARTH_MIN(slice, h->rows - r0);
        for (int64_t r = 0; r < nr; r++)
            k->to_float[h->type]((const char *)h->data + (size_t)(r0 + r) * rs, f + r * h->cols, h->cols);
        int e;
        if (to == HEARTH_TYPE_F32) {
            e = hc_upload_sync((float *)d + r0 * h->cols, f, (size_t)(nr * h->cols) * sizeof(float));
        } else {
            k->vec.f32_to_f16(hf, f, nr * h->cols);
            e = hc_upload_sync((hearth_f16 *)d + r0 * h->cols, hf, (size_t)(nr * h->cols) * sizeof(hearth_f16));
        }
        if (e) st = hearth_fail(err, HEARTH_ERR_IO, "cuda backend: upload failed: %s", hc_error_string(e));
    }
    free(f);
    free(hf);
    return st;
}

static hearth_status cuda_weight_new(hearth_backend *be, const hearth_matrix *host, hearth_bweight **out,
                                     hearth_error *err)
{
    const hearth_kernels *k = CB(be)->k;
    if (!k->to_float[host->type])
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "cuda backend: tensor type %s is not supported",
                           hearth_type_name(host->type));
    hearth_bweight *w = calloc(1, sizeof *w);
    if (!w) return hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: out of memory");
    w->host = *host;
    hearth_status st = HEARTH_OK;
    int e = 0;
    if (host->rows == 1) { /* norms and biases: floats */
        float *f = malloc((size_t)host->cols * sizeof(float));
        if (!f) st = hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: out of memory");
        else {
            k->to_float[host->type](host->data, f, host->cols);
            w->type = HEARTH_TYPE_F32;
            if (!(e = hc_malloc(&w->d, (size_t)host->cols * sizeof(float))))
                e = hc_upload_sync(w->d, f, (size_t)host->cols * sizeof(float));
            free(f);
        }
    } else if (host->type == HEARTH_TYPE_F32 || (hc_type_native(host->type) && host->cols % 32 == 0)) {
        size_t bytes = hearth_row_size(host->type, host->cols) * (size_t)host->rows;
        w->type = host->type;
        if (!(e = hc_malloc(&w->d, bytes))) e = hc_upload_sync(w->d, host->data, bytes);
    } else {
        /* other types as F16; rows whose length is no multiple of 32 (tiny models) as F32,
         * which every kernel reads at any length */
        w->type = host->cols % 32 ? HEARTH_TYPE_F32 : HEARTH_TYPE_F16;
        if (!(e = hc_malloc(&w->d, (size_t)(host->rows * host->cols) * (w->type == HEARTH_TYPE_F32 ? 4 : 2))))
            st = upload_converted(k, host, w->type, w->d, err);
    }
    if (e && !st)
        st = hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: cannot upload a %lld x %lld %s tensor: %s",
                         (long long)host->rows, (long long)host->cols, hearth_type_name(host->type), hc_error_string(e));
    if (st) {
        hc_free(w->d);
        free(w);
        return st;
    }
    *out = w;
    return HEARTH_OK;
}

hearth_status hearth_cuda_weight_host(hearth_backend *be, const hearth_matrix *host, hearth_bweight **out,
                                      hearth_error *err)
{
    const hearth_kernels *k = CB(be)->k;
    if (!k->to_float[host->type] || !k->vec_dot[host->type])
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "cpu: tensor type %s is not supported by this build",
                           hearth_type_name(host->type));
    hearth_bweight *w = calloc(1, sizeof *w);
    if (!w) return hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: out of memory");
    w->host = *host;
    w->type = host->type;
    *out = w;
    return HEARTH_OK;
}

static void cuda_weight_free(hearth_backend *be, hearth_bweight *w)
{
    (void)be;
    if (!w) return;
    hc_free(w->d);
    free(w);
}

/* ---- matrix products ---------------------------------------------------------------------- */

static bool grow(void **p, size_t *cap, size_t need, cuda_backend *cb)
{
    if (*cap >= need) return true;
    wait_idle(cb);
    hc_free(*p);
    *p = NULL;
    *cap = 0;
    if (hc_malloc(p, need)) {
        check(cb, 2 /* cudaErrorMemoryAllocation */, "GEMM scratch allocation");
        return false;
    }
    *cap = need;
    return true;
}

static bool grow_host(float **p, size_t *cap, size_t floats)
{
    if (*cap >= floats) return true;
    float *n = realloc(*p, floats * sizeof(float));
    if (!n) return false;
    *p = n;
    *cap = floats;
    return true;
}

/* A layer left on the CPU: y = W x through hearth_matmul on the host threads. */
static void host_matmul(cuda_backend *cb, const hearth_bweight *W, const hearth_buffer *x, int32_t n_tok,
                        hearth_buffer *y)
{
    size_t nx = (size_t)n_tok * (size_t)W->host.cols, ny = (size_t)n_tok * (size_t)W->host.rows;
    if (!cb->tp || !grow_host(&cb->hx, &cb->hx_cap, nx) || !grow_host(&cb->hy, &cb->hy_cap, ny)) {
        check(cb, 2, "host matmul buffers");
        return;
    }
    flush(cb);
    check(cb, hc_download(cb->s, cb->hx, x->d, nx * sizeof(float)), "activation download");
    cb->ring_used = 0;
    hearth_matmul(cb->tp, cb->k, &W->host, cb->hx, n_tok, cb->hy, &cb->mm);
    check(cb, hc_upload(cb->s, y->d, cb->hy, ny * sizeof(float)), "activation upload");
}

static void cuda_matmul(hearth_backend *be, const hearth_bweight *W, const hearth_buffer *x, int32_t n_tok,
                        hearth_buffer *y)
{
    cuda_backend *cb = CB(be);
    if (cb->failed || n_tok <= 0) return;
    if (!W->d) {
        host_matmul(cb, W, x, n_tok, y);
        return;
    }
    int64_t rows = W->host.rows, cols = W->host.cols;
    if (n_tok <= HC_MMV_MAX_TOK) {
        check(cb, hc_mmv(cb->s, W->type, W->d, rows, cols, CD(x), n_tok, D(y)), "mat-vec");
        return;
    }
    flush(cb); /* cuBLAS may need workspace: keep GEMMs out of captured graphs */
    int64_t tile_rows = HEARTH_MIN(rows, GEMM_TILE_ROWS);
    if (W->type != HEARTH_TYPE_F32 &&
        (!grow(&cb->xh, &cb->xh_cap, (size_t)(n_tok * cols) * 2, cb) ||
         (W->type != HEARTH_TYPE_F16 && !grow(&cb->tile, &cb->tile_cap, (size_t)(tile_rows * cols) * 2, cb))))
        return;
    check(cb, hc_gemm(cb->s, W->type, W->d, rows, cols, CD(x), n_tok, D(y), cb->tile, tile_rows, cb->xh), "GEMM");
}

/* ---- element-wise and row operations ---------------------------------------------------- */

static void cuda_get_rows(hearth_backend *be, const hearth_bweight *W, const int32_t *ids, int32_t n,
                          hearth_buffer *out)
{
    cuda_backend *cb = CB(be);
    if (cb->failed || n <= 0) return;
    /* the embedding lookup starts a step: a decode step (few tokens, every weight on the
     * device) is recorded as a graph and launched by the next wait (buf_read of the logits) */
    if (cb->graphs && !cb->capturing && !cb->tp && n <= HC_MMV_MAX_TOK) {
        flush(cb);
        int e = hc_capture_begin(cb->s);
        if (e) {
            cb->graphs = false; /* say it once, then run without graphs */
            hearth_warn("cuda backend: cannot capture a CUDA graph (%s); running without", hc_error_string(e));
        } else {
            cb->capturing = true;
        }
    }
    const void *d_ids = stage(cb, ids, (size_t)n * sizeof(int32_t));
    if (d_ids) check(cb, hc_get_rows(cb->s, W->type, W->d, W->host.cols, d_ids, n, D(out)), "get_rows");
}

static void cuda_copy_rows(hearth_backend *be, const hearth_buffer *x, const int32_t *rows, int32_t n, int64_t cols,
                           hearth_buffer *out)
{
    cuda_backend *cb = CB(be);
    if (cb->failed || n <= 0) return;
    const void *d_rows = stage(cb, rows, (size_t)n * sizeof(int32_t));
    if (d_rows) check(cb, hc_copy_rows(cb->s, CD(x), d_rows, n, cols, D(out)), "copy_rows");
}

static void cuda_add_bias(hearth_backend *be, hearth_buffer *x, const hearth_bweight *b, int64_t n_rows, int64_t n)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed) check(cb, hc_add_bias(cb->s, D(x), b->d, n_rows, n), "add_bias");
}

static void cuda_add(hearth_backend *be, hearth_buffer *x, const hearth_buffer *y, int64_t n)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed) check(cb, hc_add(cb->s, D(x), CD(y), n), "add");
}

static void cuda_rmsnorm(hearth_backend *be, const hearth_buffer *x, const hearth_bweight *w, int64_t rows, int64_t n,
                         float eps, hearth_buffer *out)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed) check(cb, hc_rmsnorm(cb->s, CD(x), w ? w->d : NULL, rows, n, eps, D(out)), "rmsnorm");
}

static void cuda_layernorm(hearth_backend *be, const hearth_buffer *x, const hearth_bweight *w,
                           const hearth_bweight *b, int64_t rows, int64_t n, float eps, hearth_buffer *out)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed)
        check(cb, hc_layernorm(cb->s, CD(x), w ? w->d : NULL, b ? b->d : NULL, rows, n, eps, D(out)), "layernorm");
}

/* The cos/sin table is computed on the host by the CPU's own code (hearth_rope_fill),
 * straight into the pinned ring, and copied up: the GPU rotates with the CPU's numbers. */
static void cuda_rope_table(hearth_backend *be, const hearth_rope_params *rope, const int32_t *pos, int32_t n_tok,
                            hearth_buffer *table)
{
    cuda_backend *cb = CB(be);
    int32_t half = rope->n_rot / 2;
    size_t bytes = (size_t)n_tok * (size_t)half * 2 * sizeof(float), off;
    if (cb->failed || !bytes) return;
    float *tab = (float *)ring_slot(cb, bytes, &off);
    if (!tab) {
        check(cb, 1, "rope table staging");
        return;
    }
    hearth_rope_fill(rope, pos, n_tok, tab);
    check(cb, hc_upload(cb->s, table->d, tab, bytes), "rope table upload");
}

static void cuda_rope(hearth_backend *be, hearth_buffer *x, int32_t n_tok, int32_t n_head, int32_t head_dim,
                      const hearth_rope_params *rope, const hearth_buffer *table)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed && rope->mode != HEARTH_ROPE_NONE)
        check(cb, hc_rope(cb->s, D(x), n_tok, n_head, head_dim, rope->n_rot, rope->mode == HEARTH_ROPE_NEOX, CD(table)),
              "rope");
}

static void cuda_swiglu(hearth_backend *be, const hearth_buffer *gate, const hearth_buffer *up, int64_t n,
                        hearth_buffer *out)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed) check(cb, hc_swiglu(cb->s, CD(gate), CD(up), n, D(out)), "swiglu");
}

static void cuda_gelu(hearth_backend *be, hearth_buffer *x, int64_t n)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed) check(cb, hc_gelu(cb->s, D(x), n), "gelu");
}

static void cuda_softmax(hearth_backend *be, hearth_buffer *x, int64_t rows, int64_t n)
{
    cuda_backend *cb = CB(be);
    if (!cb->failed) check(cb, hc_softmax(cb->s, D(x), rows, n), "softmax");
}

/* ---- KV cache and attention ----------------------------------------------------------------- */

static hearth_status cuda_reserve(hearth_backend *be, int32_t n_tok, int32_t max_kv, int32_t n_head,
                                  int32_t n_head_kv, int32_t head_dim, hearth_error *err)
{
    (void)be;
    (void)n_tok;
    (void)max_kv;
    if (head_dim > 256 || n_head_kv <= 0 || n_head % n_head_kv)
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED,
                           "cuda backend: attention with %d heads over %d KV heads of size %d is not supported "
                           "(head size at most 256)", n_head, n_head_kv, head_dim);
    return HEARTH_OK;
}

static hearth_buffer *cuda_kv_new(hearth_backend *be, hearth_type kv, int64_t n_cells, int64_t n_embd_kv,
                                  hearth_error *err)
{
    size_t row = hearth_row_size(kv, n_embd_kv), bytes;
    if (!row || !hearth_size_mul(row, (size_t)n_cells, &bytes) ||
        (kv != HEARTH_TYPE_F32 && kv != HEARTH_TYPE_F16 && kv != HEARTH_TYPE_Q8_0)) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "KV cache: %lld cells of %lld %s values is not possible",
                    (long long)n_cells, (long long)n_embd_kv, hearth_type_name(kv));
        return NULL;
    }
    return cuda_buf_new(be, bytes, err);
}

static void cuda_kv_store(hearth_backend *be, hearth_buffer *cache, hearth_type kv, int64_t n_embd_kv,
                          const hearth_buffer *src, const int32_t *cells, int32_t n_tok)
{
    cuda_backend *cb = CB(be);
    if (cb->failed || n_tok <= 0) return;
    const void *d_cells = stage(cb, cells, (size_t)n_tok * sizeof(int32_t));
    if (d_cells) check(cb, hc_kv_store(cb->s, cache->d, (int)kv, n_embd_kv, CD(src), d_cells, n_tok), "kv_store");
}

static void cuda_kv_copy(hearth_backend *be, hearth_buffer *cache, hearth_type kv, int64_t n_embd_kv, int32_t dst,
                         int32_t src, int32_t n)
{
    cuda_backend *cb = CB(be);
    size_t row = hearth_row_size(kv, n_embd_kv);
    if (cb->failed || n <= 0 || dst == src) return;
    /* sequences own disjoint cell ranges, so source and destination never overlap */
    check(cb, hc_copy_d2d(cb->s, (char *)cache->d + (size_t)dst * row, (const char *)cache->d + (size_t)src * row,
                          (size_t)n * row), "kv_copy");
}

static void cuda_attention(hearth_backend *be, const hearth_buffer *q, const hearth_buffer *k_cache,
                           const hearth_buffer *v_cache, hearth_type kv, int32_t n_head, int32_t n_head_kv,
                           int32_t head_dim, float scale, const hearth_attn_batch *batch, hearth_buffer *out)
{
    cuda_backend *cb = CB(be);
    if (cb->failed || batch->n_tok <= 0) return;
    size_t n = (size_t)batch->n_tok * sizeof(int32_t);
    const int32_t *d_c0 = stage(cb, batch->cell0, n), *d_nkv = d_c0 ? stage(cb, batch->n_kv, n) : NULL;
    if (d_nkv)
        check(cb, hc_attention(cb->s, CD(q), k_cache->d, v_cache->d, (int)kv, n_head, n_head_kv, head_dim, scale,
                               batch->n_tok, d_c0, d_nkv, D(out)), "attention");
}

/* ---- the table -------------------------------------------------------------------------------- */

static void cuda_free(hearth_backend *be)
{
    cuda_backend *cb = CB(be);
    if (!cb) return;
    if (cb->s) wait_idle(cb);
    hc_free(cb->tile);
    hc_free(cb->xh);
    hc_free(cb->ring_d);
    hc_host_free(cb->ring_h);
    hc_stream_free(cb->s);
    hearth_threadpool_free(cb->tp);
    hearth_matmul_scratch_free(&cb->mm);
    free(cb->hx);
    free(cb->hy);
    free(cb);
}

static const hearth_backend_ops cuda_ops = {
    .name = "cuda",
    .free = cuda_free,
    .buf_new = cuda_buf_new,
    .buf_free = cuda_buf_free,
    .buf_write = cuda_buf_write,
    .buf_read = cuda_buf_read,
    .weight_new = cuda_weight_new,
    .weight_free = cuda_weight_free,
    .get_rows = cuda_get_rows,
    .copy_rows = cuda_copy_rows,
    .matmul = cuda_matmul,
    .add_bias = cuda_add_bias,
    .add = cuda_add,
    .rmsnorm = cuda_rmsnorm,
    .layernorm = cuda_layernorm,
    .rope_table = cuda_rope_table,
    .rope = cuda_rope,
    .swiglu = cuda_swiglu,
    .gelu = cuda_gelu,
    .softmax = cuda_softmax,
    .reserve = cuda_reserve,
    .kv_new = cuda_kv_new,
    .kv_store = cuda_kv_store,
    .kv_copy = cuda_kv_copy,
    .attention = cuda_attention,
};

/* n_threads > 0: start that many CPU workers for host-resident weights; 0: none (weights only). */
hearth_backend *hearth_backend_cuda_new(const hearth_kernels *k, int n_threads, hearth_error *err)
{
    cuda_backend *cb = calloc(1, sizeof *cb);
    if (!cb) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: out of memory");
        return NULL;
    }
    cb->base.ops = &cuda_ops;
    cb->k = k ? k : hearth_kernels_get();
    int e = hc_set_device(0);
    if (!e) e = hc_stream_new(&cb->s);
    if (!e) e = hc_host_alloc((void **)&cb->ring_h, RING_BYTES);
    if (!e) e = hc_malloc((void **)&cb->ring_d, RING_BYTES);
    if (!e && n_threads > 0 && !(cb->tp = hearth_threadpool_new(n_threads))) e = 2;
    if (e) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "cuda backend: cannot start: %s", hc_error_string(e));
        cuda_free(&cb->base);
        return NULL;
    }
    cb->n_threads = cb->tp ? hearth_threadpool_size(cb->tp) : 0;
    const char *g = getenv("HEARTH_CUDA_GRAPHS");
    cb->graphs = g && !strcmp(g, "1"); /* off until verified on a GPU (docs/cuda.md) */
    return &cb->base;
}

#else
typedef int hearth_cuda_backend_not_built; /* ISO C wants a declaration in every file */
#endif
