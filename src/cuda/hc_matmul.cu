/*
 * hc_matmul.cu — weight reads: mat-vec products straight from the GGUF blocks (generation),
 * F16 tile dequantization + cuBLAS tensor-core GEMM (prompts), and row gathers (embeddings).
 *
 * Mat-vec: one warp per output row; lane i reads chunks i, i+32, ... of the row (adjacent
 * lanes read adjacent bytes, so the weight stream is coalesced), dequantizes each 32-value
 * chunk once into registers and uses it for every token of the batch (up to HC_MMV_MAX_TOK),
 * then the warp sums its partial dots. Generation reads each weight byte exactly once.
 */
#include "cuda/hc.h"
#include "cuda/hc_internal.h"

#define MMV_WARPS 4

template <int T>
__global__ void mmv_kernel(const uint8_t *__restrict__ w, int64_t rows, int64_t cols, int64_t row_bytes,
                           const float *__restrict__ x, int n_tok, float *__restrict__ y)
{
    int lane = threadIdx.x & 31;
    int64_t r = (int64_t)blockIdx.x * MMV_WARPS + (threadIdx.x >> 5);
    if (r >= rows) return;
    const uint8_t *row = w + r * row_bytes;
    float acc[HC_MMV_MAX_TOK];
#pragma unroll
    for (int t = 0; t < HC_MMV_MAX_TOK; t++) acc[t] = 0.0f;
    int64_t n_chunks = cols / 32;
    for (int64_t c = lane; c < n_chunks; c += 32) {
        float v[32];
        chunk_load<T>(row, c, v);
#pragma unroll
        for (int t = 0; t < HC_MMV_MAX_TOK; t++) {
            if (t >= n_tok) break;
            const float4 *xp = (const float4 *)(x + t * cols + c * 32);
            float s = 0.0f;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                float4 xv = xp[j];
                s += v[4 * j] * xv.x + v[4 * j + 1] * xv.y + v[4 * j + 2] * xv.z + v[4 * j + 3] * xv.w;
            }
            acc[t] += s;
        }
    }
#pragma unroll
    for (int t = 0; t < HC_MMV_MAX_TOK; t++) {
        if (t >= n_tok) break;
        float s = acc[t];
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) y[(int64_t)t * rows + r] = s;
    }
}

/* F32 rows of any length (tiny models: stories260K's n_ff is 172): plain strided dots. */
__global__ void mmv_f32_any_kernel(const float *__restrict__ w, int64_t rows, int64_t cols,
                                   const float *__restrict__ x, int n_tok, float *__restrict__ y)
{
    int lane = threadIdx.x & 31;
    int64_t r = (int64_t)blockIdx.x * MMV_WARPS + (threadIdx.x >> 5);
    if (r >= rows) return;
    const float *row = w + r * cols;
    for (int t = 0; t < n_tok; t++) {
        float s = 0.0f;
        for (int64_t i = lane; i < cols; i += 32) s += row[i] * x[t * cols + i];
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) y[(int64_t)t * rows + r] = s;
    }
}

__global__ void get_rows_f32_any_kernel(const float *__restrict__ w, int64_t cols, const int32_t *__restrict__ ids,
                                        float *__restrict__ out)
{
    const float *src = w + (int64_t)ids[blockIdx.x] * cols;
    for (int64_t i = threadIdx.x; i < cols; i += blockDim.x) out[(int64_t)blockIdx.x * cols + i] = src[i];
}

extern "C" int hc_type_native(int type)
{
    switch (type) {
    case HT_F32: case HT_F16: case HT_BF16: case HT_Q8_0: case HT_Q4_0: case HT_Q4_1: case HT_Q5_0:
    case HT_Q5_1: case HT_Q4_K: case HT_Q5_K: case HT_Q6_K:
        return 1;
    default:
        return 0;
    }
}

extern "C" int hc_mmv(hc_stream *s, int type, const void *w, int64_t rows, int64_t cols, const float *x,
                      int32_t n_tok, float *y)
{
    if (n_tok < 1 || n_tok > HC_MMV_MAX_TOK) return (int)cudaErrorInvalidValue;
    dim3 grid((unsigned)((rows + MMV_WARPS - 1) / MMV_WARPS)), block(32 * MMV_WARPS);
    if (cols % 32) {
        if (type != HT_F32) return (int)cudaErrorInvalidValue;
        mmv_f32_any_kernel<<<grid, block, 0, s->stream>>>((const float *)w, rows, cols, x, n_tok, y);
        return hc_launch_status();
    }
    int64_t rb = hc_row_bytes(type, cols);
    HC_DISPATCH(type, (mmv_kernel<T_><<<grid, block, 0, s->stream>>>((const uint8_t *)w, rows, cols, rb, x, n_tok, y)));
    return hc_launch_status();
}

/* ---- dequantization ---------------------------------------------------------------------- */

/* One thread per 32-value chunk: chunks of rows [r0, r0 + nr) into F16 (half_out) or of the
 * rows ids[] into floats (float_out). */
template <int T>
__global__ void dequant_kernel(const uint8_t *__restrict__ w, int64_t cols, int64_t row_bytes, int64_t r0,
                               const int32_t *__restrict__ ids, int64_t n_rows, __half *half_out,
                               float *float_out)
{
    int64_t per_row = cols / 32;
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_rows * per_row) return;
    int64_t r = i / per_row, c = i % per_row;
    int64_t src_row = ids ? ids[r] : r0 + r;
    float v[32];
    chunk_load<T>(w + src_row * row_bytes, c, v);
    if (half_out) {
        __half2 *o = (__half2 *)(half_out + r * cols + c * 32);
#pragma unroll
        for (int j = 0; j < 16; j++) o[j] = __floats2half2_rn(v[2 * j], v[2 * j + 1]);
    } else {
        float4 *o = (float4 *)(float_out + r * cols + c * 32);
#pragma unroll
        for (int j = 0; j < 8; j++) o[j] = make_float4(v[4 * j], v[4 * j + 1], v[4 * j + 2], v[4 * j + 3]);
    }
}

static int dequant(hc_stream *s, int type, const void *w, int64_t cols, int64_t r0, const int32_t *ids,
                   int64_t n_rows, __half *ho, float *fo)
{
    if (cols % 32) return (int)cudaErrorInvalidValue;
    int64_t total = n_rows * (cols / 32);
    if (total == 0) return 0;
    unsigned blocks = (unsigned)((total + 127) / 128);
    int64_t rb = hc_row_bytes(type, cols);
    HC_DISPATCH(type, (dequant_kernel<T_><<<blocks, 128, 0, s->stream>>>((const uint8_t *)w, cols, rb, r0, ids, n_rows, ho, fo)));
    return hc_launch_status();
}

extern "C" int hc_dequant_f16(hc_stream *s, int type, const void *w, int64_t cols, int64_t r0, int64_t nr,
                              void *out_f16)
{
    return dequant(s, type, w, cols, r0, NULL, nr, (__half *)out_f16, NULL);
}

extern "C" int hc_row_to_f32(hc_stream *s, int type, const void *w, int64_t cols, float *out)
{
    return dequant(s, type, w, cols, 0, NULL, 1, NULL, out);
}

extern "C" int hc_get_rows(hc_stream *s, int type, const void *w, int64_t cols, const int32_t *ids, int32_t n,
                           float *out)
{
    if (cols % 32 && type == HT_F32 && n > 0) {
        get_rows_f32_any_kernel<<<(unsigned)n, 128, 0, s->stream>>>((const float *)w, cols, ids, out);
        return hc_launch_status();
    }
    return dequant(s, type, w, cols, 0, ids, n, NULL, out);
}

/* ---- batched products --------------------------------------------------------------------- */

__global__ void to_half_kernel(const float *__restrict__ x, __half *__restrict__ o, int64_t n)
{
    int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) o[i] = __float2half_rn(x[i]);
}

/* Row-major Y[n_tok][rows] = X[n_tok][cols] W^T is, column-major, Y^T = W X^T: W's rows are
 * cuBLAS's columns (ld = cols), so A is used transposed. */
extern "C" int hc_gemm(hc_stream *s, int type, const void *w, int64_t rows, int64_t cols, const float *x,
                       int32_t n_tok, float *y, void *tile, int64_t tile_rows, void *xh)
{
    const float one = 1.0f, zero = 0.0f;
    if (type == HT_F32) {
        cublasStatus_t st = cublasSgemm(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)rows, n_tok, (int)cols, &one,
                                        (const float *)w, (int)cols, x, (int)cols, &zero, y, (int)rows);
        return st == CUBLAS_STATUS_SUCCESS ? 0 : HC_CUBLAS_BASE + (int)st;
    }
    int64_t nx = (int64_t)n_tok * cols;
    to_half_kernel<<<(unsigned)((nx + 255) / 256), 256, 0, s->stream>>>(x, (__half *)xh, nx);
    int e = hc_launch_status();
    if (e) return e;
    for (int64_t r0 = 0; r0 < rows; r0 += tile_rows) {
        int64_t nr = rows - r0 < tile_rows ? rows - r0 : tile_rows;
        const void *a;
        if (type == HT_F16) {
            a = (const __half *)w + r0 * cols;
        } else {
            if ((e = hc_dequant_f16(s, type, w, cols, r0, nr, tile))) return e;
            a = tile;
        }
        cublasStatus_t st = cublasGemmEx(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)nr, n_tok, (int)cols, &one, a,
                                         CUDA_R_16F, (int)cols, xh, CUDA_R_16F, (int)cols, &zero, y + r0,
                                         CUDA_R_32F, (int)rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
        if (st != CUBLAS_STATUS_SUCCESS) return HC_CUBLAS_BASE + (int)st;
    }
    return 0;
}
