/*
 * hc_attn.cu — scaled dot-product attention of a batch of queries over the device KV cache
 * (F32, F16 or Q8_0 rows), one pass with an online softmax (flash-attention style, without
 * tiling through shared memory: simple, and correct for any head size up to 256).
 *
 * One block per (query head, token); its warps take keys j = warp, warp + n_warps, ...; each
 * lane owns dims lane, lane + 32, ... of the head. A warp keeps a running max m, sum l and
 * accumulator acc over its keys; the block then merges the warps' (m, l, acc) triples.
 */
#include "cuda/hc.h"
#include "cuda/hc_internal.h"

#define ATT_WARPS 8
#define ATT_MAX_DIM 256
#define ATT_PER_LANE (ATT_MAX_DIM / 32)

template <int KV> __device__ __forceinline__ float kv_at(const uint8_t *cache, int64_t row_bytes, int64_t cell, int64_t e)
{
    const uint8_t *row = cache + cell * row_bytes;
    if (KV == HT_F32) return ((const float *)row)[e];
    if (KV == HT_F16) return __half2float(((const __half *)row)[e]);
    const uint8_t *blk = row + (e >> 5) * HB_Q8_0; /* Q8_0 */
    return (float)((const int8_t *)(blk + 2))[e & 31] * h2f(blk);
}

template <int KV>
__global__ void attention_kernel(const float *__restrict__ q, const uint8_t *__restrict__ kc,
                                 const uint8_t *__restrict__ vc, int64_t row_bytes, int32_t n_head,
                                 int32_t n_head_kv, int32_t head_dim, float scale, const int32_t *cell0,
                                 const int32_t *n_kv, float *__restrict__ out)
{
    __shared__ float sh_m[ATT_WARPS], sh_l[ATT_WARPS];
    __shared__ float sh_acc[ATT_WARPS][ATT_MAX_DIM];
    int h = blockIdx.x, t = blockIdx.y;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    int kh = h / (n_head / n_head_kv);
    int64_t off = (int64_t)kh * head_dim;
    const float *qh = q + ((int64_t)t * n_head + h) * head_dim;
    float qr[ATT_PER_LANE], acc[ATT_PER_LANE];
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) {
        int d = lane + 32 * i;
        qr[i] = d < head_dim ? qh[d] : 0.0f;
        acc[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    int32_t c0 = cell0[t], n = n_kv[t];
    for (int32_t j = warp; j < n; j += ATT_WARPS) {
        int64_t cell = c0 + j;
        float s = 0.0f;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < head_dim) s += qr[i] * kv_at<KV>(kc, row_bytes, cell, off + d);
        }
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        s *= scale;
        float mn = fmaxf(m, s), corr = expf(m - mn), p = expf(s - mn);
        l = l * corr + p;
#pragma unroll
        for (int i = 0; i < ATT_PER_LANE; i++) {
            int d = lane + 32 * i;
            if (d < head_dim) acc[i] = acc[i] * corr + p * kv_at<KV>(vc, row_bytes, cell, off + d);
        }
        m = mn;
    }
    if (lane == 0) {
        sh_m[warp] = m;
        sh_l[warp] = l;
    }
#pragma unroll
    for (int i = 0; i < ATT_PER_LANE; i++) {
        int d = lane + 32 * i;
        if (d < head_dim) sh_acc[warp][d] = acc[i];
    }
    __syncthreads();
    float M = -INFINITY;
    for (int w = 0; w < ATT_WARPS; w++) M = fmaxf(M, sh_m[w]);
    float L = 0.0f;
    for (int w = 0; w < ATT_WARPS; w++)
        if (sh_m[w] != -INFINITY) L += sh_l[w] * expf(sh_m[w] - M);
    float *o = out + ((int64_t)t * n_head + h) * head_dim;
    for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
        float v = 0.0f;
        for (int w = 0; w < ATT_WARPS; w++)
            if (sh_m[w] != -INFINITY) v += sh_acc[w][d] * expf(sh_m[w] - M);
        o[d] = L > 0.0f ? v / L : 0.0f;
    }
}

extern "C" int hc_attention(hc_stream *s, const float *q, const void *k_cache, const void *v_cache, int kv_type,
                            int32_t n_head, int32_t n_head_kv, int32_t head_dim, float scale, int32_t n_tok,
                            const int32_t *cell0, const int32_t *n_kv, float *out)
{
    if (head_dim > ATT_MAX_DIM || n_head_kv <= 0 || n_head % n_head_kv) return (int)cudaErrorInvalidValue;
    if (n_tok <= 0) return 0;
    int64_t n_embd_kv = (int64_t)n_head_kv * head_dim;
    dim3 grid((unsigned)n_head, (unsigned)n_tok), block(32 * ATT_WARPS);
    const uint8_t *kc = (const uint8_t *)k_cache, *vc = (const uint8_t *)v_cache;
    switch (kv_type) {
    case HT_F32:
        attention_kernel<HT_F32><<<grid, block, 0, s->stream>>>(q, kc, vc, n_embd_kv * 4, n_head, n_head_kv,
                                                                head_dim, scale, cell0, n_kv, out);
        break;
    case HT_F16:
        attention_kernel<HT_F16><<<grid, block, 0, s->stream>>>(q, kc, vc, n_embd_kv * 2, n_head, n_head_kv,
                                                                head_dim, scale, cell0, n_kv, out);
        break;
    case HT_Q8_0:
        if (head_dim % 32) return (int)cudaErrorInvalidValue;
        attention_kernel<HT_Q8_0><<<grid, block, 0, s->stream>>>(q, kc, vc, n_embd_kv / 32 * HB_Q8_0, n_head,
                                                                 n_head_kv, head_dim, scale, cell0, n_kv, out);
        break;
    default:
        return (int)cudaErrorInvalidValue;
    }
    return hc_launch_status();
}
