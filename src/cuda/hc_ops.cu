/*
 * hc_ops.cu — the element-wise and row operations of the backend table on device floats:
 * norms, RoPE, SwiGLU, GELU, softmax, row copies, adds, and KV-cache stores.
 *
 * Reductions accumulate in double like the CPU helpers in src/kernels/vec.c, so a norm gives
 * the same float as the CPU (not merely a close one) in almost every row.
 */
#include "cuda/hc.h"
#include "cuda/hc_internal.h"

#define ROW_THREADS 256

static unsigned blocks_for(int64_t n, int per) { return (unsigned)((n + per - 1) / per); }

/* Sum of v over the block (every thread gets the result). */
__device__ double block_sum(double v, double *shared)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
    __syncthreads(); /* shared may still be read from a previous call */
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    double t = 0.0;
    for (int i = 0; i < nw; i++) t += shared[i];
    return t;
}

__device__ float block_max(float v, float *shared)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float t = -INFINITY;
    for (int i = 0; i < nw; i++) t = fmaxf(t, shared[i]);
    return t;
}

__global__ void rmsnorm_kernel(const float *x, const float *w, int64_t n, float eps, float *out)
{
    __shared__ double sh[32];
    const float *xr = x + blockIdx.x * n;
    float *orow = out + blockIdx.x * n;
    double ss = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) ss += (double)xr[i] * xr[i];
    ss = block_sum(ss, sh);
    float r = (float)(1.0 / sqrt(ss / (double)(n > 0 ? n : 1) + eps));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) orow[i] = w ? xr[i] * r * w[i] : xr[i] * r;
}

extern "C" int hc_rmsnorm(hc_stream *s, const float *x, const float *w, int64_t rows, int64_t n, float eps,
                          float *out)
{
    if (rows <= 0) return 0;
    rmsnorm_kernel<<<(unsigned)rows, n >= ROW_THREADS ? ROW_THREADS : 32, 0, s->stream>>>(x, w, n, eps, out);
    return hc_launch_status();
}

__global__ void layernorm_kernel(const float *x, const float *w, const float *b, int64_t n, float eps,
                                 float *out)
{
    __shared__ double sh[32];
    const float *xr = x + blockIdx.x * n;
    float *orow = out + blockIdx.x * n;
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) sum += xr[i];
    sum = block_sum(sum, sh);
    float mean = (float)(sum / (double)(n > 0 ? n : 1));
    double var = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) var += (double)(xr[i] - mean) * (xr[i] - mean);
    var = block_sum(var, sh);
    float r = (float)(1.0 / sqrt(var / (double)(n > 0 ? n : 1) + eps));
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        float v = (xr[i] - mean) * r;
        if (w) v *= w[i];
        if (b) v += b[i];
        orow[i] = v;
    }
}

extern "C" int hc_layernorm(hc_stream *s, const float *x, const float *w, const float *b, int64_t rows,
                            int64_t n, float eps, float *out)
{
    if (rows <= 0) return 0;
    layernorm_kernel<<<(unsigned)rows, n >= ROW_THREADS ? ROW_THREADS : 32, 0, s->stream>>>(x, w, b, n, eps, out);
    return hc_launch_status();
}

__global__ void softmax_kernel(float *x, int64_t n)
{
    __shared__ double sh[32];
    __shared__ float shm[32];
    float *xr = x + blockIdx.x * n;
    float m = -INFINITY;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) m = fmaxf(m, xr[i]);
    m = block_max(m, shm);
    if (m == -INFINITY) { /* empty or fully masked row: zeros, as on the CPU */
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) xr[i] = 0.0f;
        return;
    }
    double sum = 0.0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        float e = expf(xr[i] - m);
        xr[i] = e;
        sum += e;
    }
    sum = block_sum(sum, sh);
    float inv = (float)(1.0 / sum);
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) xr[i] *= inv;
}

extern "C" int hc_softmax(hc_stream *s, float *x, int64_t rows, int64_t n)
{
    if (rows <= 0) return 0;
    softmax_kernel<<<(unsigned)rows, ROW_THREADS, 0, s->stream>>>(x, n);
    return hc_launch_status();
}

/* one thread per rotated pair: (token, head, i) */
__global__ void rope_kernel(float *x, int32_t n_tok, int32_t n_head, int32_t head_dim, int32_t n_rot, int neox,
                            const float *tab)
{
    int32_t half = n_rot / 2;
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)n_tok * n_head * half) return;
    int32_t p = (int32_t)(i % half);
    int64_t th = i / half; /* token * n_head + head */
    int64_t t = th / n_head;
    float *h = x + th * head_dim;
    int32_t i0 = neox ? p : 2 * p, i1 = neox ? p + half : 2 * p + 1;
    float c = tab[(t * half + p) * 2], sn = tab[(t * half + p) * 2 + 1];
    float x0 = h[i0], x1 = h[i1];
    h[i0] = x0 * c - x1 * sn;
    h[i1] = x0 * sn + x1 * c;
}

extern "C" int hc_rope(hc_stream *s, float *x, int32_t n_tok, int32_t n_head, int32_t head_dim, int32_t n_rot,
                       int neox, const float *table)
{
    int64_t n = (int64_t)n_tok * n_head * (n_rot / 2);
    if (n <= 0) return 0;
    rope_kernel<<<blocks_for(n, 256), 256, 0, s->stream>>>(x, n_tok, n_head, head_dim, n_rot, neox, table);
    return hc_launch_status();
}

__global__ void swiglu_kernel(const float *g, const float *u, int64_t n, float *o)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = g[i];
        o[i] = v / (1.0f + expf(-v)) * u[i];
    }
}

extern "C" int hc_swiglu(hc_stream *s, const float *gate, const float *up, int64_t n, float *out)
{
    if (n <= 0) return 0;
    swiglu_kernel<<<blocks_for(n, 256), 256, 0, s->stream>>>(gate, up, n, out);
    return hc_launch_status();
}

__global__ void gelu_kernel(float *x, int64_t n)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        const float c = 0.7978845608028654f, a = 0.044715f; /* sqrt(2/pi) */
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * v * (1.0f + a * v * v)));
    }
}

extern "C" int hc_gelu(hc_stream *s, float *x, int64_t n)
{
    if (n <= 0) return 0;
    gelu_kernel<<<blocks_for(n, 256), 256, 0, s->stream>>>(x, n);
    return hc_launch_status();
}

__global__ void add_kernel(float *x, const float *y, int64_t n, int64_t period)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += y[period ? i % period : i];
}

extern "C" int hc_add(hc_stream *s, float *x, const float *y, int64_t n)
{
    if (n <= 0) return 0;
    add_kernel<<<blocks_for(n, 256), 256, 0, s->stream>>>(x, y, n, 0);
    return hc_launch_status();
}

extern "C" int hc_add_bias(hc_stream *s, float *x, const float *b, int64_t n_rows, int64_t n)
{
    int64_t total = n_rows * n;
    if (total <= 0) return 0;
    add_kernel<<<blocks_for(total, 256), 256, 0, s->stream>>>(x, b, total, n);
    return hc_launch_status();
}

/* out[i] = x[rows[i]]: one block per output row. Rows are gathered front to back and
 * rows[i] >= i when out == x (the forward pass only compacts), like the CPU's memmove. */
__global__ void copy_rows_kernel(const float *x, const int32_t *rows, int64_t cols, float *out)
{
    const float *src = x + (int64_t)rows[blockIdx.x] * cols;
    float *dst = out + (int64_t)blockIdx.x * cols;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) dst[i] = src[i];
}

extern "C" int hc_copy_rows(hc_stream *s, const float *x, const int32_t *rows, int32_t n, int64_t cols,
                            float *out)
{
    if (n <= 0) return 0;
    if (x == out) { /* in place: rows one after another keep the CPU's memmove order */
        for (int32_t i = 0; i < n; i++) {
            copy_rows_kernel<<<1, ROW_THREADS, 0, s->stream>>>(x, rows + i, cols, out + (int64_t)i * cols);
            int e = hc_launch_status();
            if (e) return e;
        }
        return 0;
    }
    copy_rows_kernel<<<(unsigned)n, ROW_THREADS, 0, s->stream>>>(x, rows, cols, out);
    return hc_launch_status();
}

/* ---- KV cache ----------------------------------------------------------------------------- */

__global__ void kv_store_float_kernel(void *cache, int f16, int64_t n_embd, const float *src,
                                      const int32_t *cells, int32_t n_tok)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)n_tok * n_embd) return;
    int64_t t = i / n_embd, e = i % n_embd;
    int64_t dst = (int64_t)cells[t] * n_embd + e;
    if (f16) ((__half *)cache)[dst] = __float2half_rn(src[i]);
    else ((float *)cache)[dst] = src[i];
}

/* Q8_0 as quant_legacy.c's q8_0_from_float: d = amax / 127, q = round-half-even(x / d) */
__global__ void kv_store_q8_kernel(uint8_t *cache, int64_t n_embd, const float *src, const int32_t *cells,
                                   int32_t n_tok)
{
    int64_t nb = n_embd / 32;
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (int64_t)n_tok * nb) return;
    int64_t t = i / nb, b = i % nb;
    const float *x = src + t * n_embd + b * 32;
    uint8_t *blk = cache + (int64_t)cells[t] * nb * HB_Q8_0 + b * HB_Q8_0;
    float amax = 0.0f;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
    __half hd = __float2half_rn(d);
    memcpy(blk, &hd, 2);
    for (int j = 0; j < 32; j++) blk[2 + j] = (uint8_t)(int8_t)rintf(x[j] * id);
}

extern "C" int hc_kv_store(hc_stream *s, void *cache, int kv_type, int64_t n_embd_kv, const float *src,
                           const int32_t *cells, int32_t n_tok)
{
    if (n_tok <= 0) return 0;
    if (kv_type == HT_Q8_0) {
        int64_t n = (int64_t)n_tok * (n_embd_kv / 32);
        kv_store_q8_kernel<<<blocks_for(n, 128), 128, 0, s->stream>>>((uint8_t *)cache, n_embd_kv, src, cells, n_tok);
    } else {
        int64_t n = (int64_t)n_tok * n_embd_kv;
        kv_store_float_kernel<<<blocks_for(n, 256), 256, 0, s->stream>>>(cache, kv_type == HT_F16, n_embd_kv, src,
                                                                         cells, n_tok);
    }
    return hc_launch_status();
}
