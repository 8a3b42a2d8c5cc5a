/*
 * hc_internal.h — what the .cu files share: the stream struct, launch checking, and the
 * device-side readers of the GGUF block layouts (one 32-value chunk at a time).
 *
 * A "chunk" is 32 consecutive values of a row: one block of the 32-value types, one
 * sub-block of the 256-value k-quants. Every kernel that reads weights (mat-vec, F16 tile
 * dequantization, get_rows) goes through chunk_load, so the formulas live in one place and
 * follow src/kernels/quant_legacy.c and quant_k.c exactly (same float operations).
 */
#ifndef HEARTH_CUDA_HC_INTERNAL_H
#define HEARTH_CUDA_HC_INTERNAL_H

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <new>
#include <stdint.h>

struct hc_stream {
    cudaStream_t stream;
    cublasHandle_t blas;
    cudaGraphExec_t exec; /* the last decode step's graph (hc_capture_end_launch) */
};

#define HC_CUBLAS_BASE 100000 /* error codes at or above: cuBLAS status + base */

/* hearth_type ids (src/kernels/types.h) */
enum {
    HT_F32 = 0, HT_F16 = 1, HT_Q4_0 = 2, HT_Q4_1 = 3, HT_Q5_0 = 6, HT_Q5_1 = 7, HT_Q8_0 = 8,
    HT_Q4_K = 12, HT_Q5_K = 13, HT_Q6_K = 14, HT_BF16 = 30
};

/* Block sizes in bytes (ggml layouts). */
#define HB_Q4_0 18
#define HB_Q4_1 20
#define HB_Q5_0 22
#define HB_Q5_1 24
#define HB_Q8_0 34
#define HB_Q4_K 144
#define HB_Q5_K 176
#define HB_Q6_K 210

/* unroll hint for device code only (chunk_load is also compiled for the host check) */
#ifdef __CUDA_ARCH__
#define HC_UNROLL _Pragma("unroll")
#else
#define HC_UNROLL
#endif

static inline int hc_launch_status(void) { return (int)cudaGetLastError(); }

__host__ __device__ __forceinline__ float h2f(const uint8_t *p)
{
    __half h;
    memcpy(&h, p, 2);
    return __half2float(h);
}

__host__ __device__ __forceinline__ uint32_t rd_u32(const uint8_t *p) /* unaligned-safe */
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* Q4_K / Q5_K: 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes. */
__host__ __device__ __forceinline__ void k4_scale_min(int j, const uint8_t *q, int *sc, int *m)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* The 32 values of chunk c of a row of type T into w[32]. */
template <int T> __host__ __device__ __forceinline__ void chunk_load(const uint8_t *row, int64_t c, float w[32])
{
    if (T == HT_F32) {
        const float *p = (const float *)row + c * 32;
HC_UNROLL
        for (int j = 0; j < 32; j++) w[j] = p[j];
    } else if (T == HT_F16) {
        const __half *p = (const __half *)row + c * 32;
HC_UNROLL
        for (int j = 0; j < 32; j++) w[j] = __half2float(p[j]);
    } else if (T == HT_BF16) {
        const __nv_bfloat16 *p = (const __nv_bfloat16 *)row + c * 32;
HC_UNROLL
        for (int j = 0; j < 32; j++) w[j] = __bfloat162float(p[j]);
    } else if (T == HT_Q8_0) {
        const uint8_t *b = row + c * HB_Q8_0;
        float d = h2f(b);
        const int8_t *qs = (const int8_t *)(b + 2);
HC_UNROLL
        for (int j = 0; j < 32; j++) w[j] = (float)qs[j] * d;
    } else if (T == HT_Q4_0) {
        const uint8_t *b = row + c * HB_Q4_0;
        float d = h2f(b);
        const uint8_t *qs = b + 2;
HC_UNROLL
        for (int j = 0; j < 16; j++) {
            w[j] = (float)((qs[j] & 0x0f) - 8) * d;
            w[j + 16] = (float)((qs[j] >> 4) - 8) * d;
        }
    } else if (T == HT_Q4_1) {
        const uint8_t *b = row + c * HB_Q4_1;
        float d = h2f(b), m = h2f(b + 2);
        const uint8_t *qs = b + 4;
HC_UNROLL
        for (int j = 0; j < 16; j++) {
            w[j] = (float)(qs[j] & 0x0f) * d + m;
            w[j + 16] = (float)(qs[j] >> 4) * d + m;
        }
    } else if (T == HT_Q5_0 || T == HT_Q5_1) {
        const uint8_t *b = row + c * (T == HT_Q5_0 ? HB_Q5_0 : HB_Q5_1);
        float d = h2f(b), m = T == HT_Q5_1 ? h2f(b + 2) : 0.0f;
        const uint8_t *qhp = b + (T == HT_Q5_0 ? 2 : 4);
        uint32_t qh = rd_u32(qhp);
        const uint8_t *qs = qhp + 4;
HC_UNROLL
        for (int j = 0; j < 16; j++) {
            int lo = (qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
            int hi = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
            if (T == HT_Q5_0) {
                w[j] = (float)(lo - 16) * d;
                w[j + 16] = (float)(hi - 16) * d;
            } else {
                w[j] = (float)lo * d + m;
                w[j + 16] = (float)hi * d + m;
            }
        }
    } else if (T == HT_Q4_K || T == HT_Q5_K) {
        /* super-block c/8, sub-block s: 32 values sharing one 6-bit scale and min; values
         * come from the low (s even) or high (s odd) nibbles of qs[32 * (s/2) ...] */
        const uint8_t *b = row + (c >> 3) * (T == HT_Q4_K ? HB_Q4_K : HB_Q5_K);
        int s = (int)(c & 7), sc, mn;
        float d = h2f(b), dmin = h2f(b + 2);
        k4_scale_min(s, b + 4, &sc, &mn);
        float ds = d * (float)sc, dm = dmin * (float)mn;
        const uint8_t *qh = b + 16;                         /* Q5_K only: 32 bytes */
        const uint8_t *qs = b + (T == HT_Q4_K ? 16 : 48) + 32 * (s >> 1);
        int shift = 4 * (s & 1);
HC_UNROLL
        for (int l = 0; l < 32; l++) {
            int q = (qs[l] >> shift) & 0x0f;
            if (T == HT_Q5_K) q |= ((qh[l] >> s) & 1) << 4; /* bit 2*(s/2) + (s&1) == s */
            w[l] = ds * (float)q - dm;
        }
    } else if (T == HT_Q6_K) {
        /* ql[128] qh[64] scales[16] d: half c2 = s/4 uses ql + 64*c2, qh + 32*c2; quarter
         * k = s%4 reads ql[l + 32*(k&1)] nibble k>>1 and qh bits 2k..2k+1 */
        const uint8_t *b = row + (c >> 3) * HB_Q6_K;
        int s = (int)(c & 7), c2 = s >> 2, k = s & 3;
        const uint8_t *ql = b + 64 * c2 + 32 * (k & 1), *qh = b + 128 + 32 * c2;
        const int8_t *scales = (const int8_t *)(b + 192);
        float d = h2f(b + 208);
        float ds0 = d * (float)scales[2 * s], ds1 = d * (float)scales[2 * s + 1];
        int nshift = 4 * (k >> 1), hshift = 2 * k;
HC_UNROLL
        for (int l = 0; l < 32; l++) {
            int q = (((ql[l] >> nshift) & 0x0f) | (((qh[l] >> hshift) & 3) << 4)) - 32;
            w[l] = (l < 16 ? ds0 : ds1) * (float)q;
        }
    }
}

/* Calls f.template operator()<T>() for a runtime type id; returns false if not native. */
#define HC_DISPATCH(type, CALL)                                                               \
    switch (type) {                                                                           \
    case HT_F32: { constexpr int T_ = HT_F32; CALL; } break;                                  \
    case HT_F16: { constexpr int T_ = HT_F16; CALL; } break;                                  \
    case HT_BF16: { constexpr int T_ = HT_BF16; CALL; } break;                                \
    case HT_Q8_0: { constexpr int T_ = HT_Q8_0; CALL; } break;                                \
    case HT_Q4_0: { constexpr int T_ = HT_Q4_0; CALL; } break;                                \
    case HT_Q4_1: { constexpr int T_ = HT_Q4_1; CALL; } break;                                \
    case HT_Q5_0: { constexpr int T_ = HT_Q5_0; CALL; } break;                                \
    case HT_Q5_1: { constexpr int T_ = HT_Q5_1; CALL; } break;                                \
    case HT_Q4_K: { constexpr int T_ = HT_Q4_K; CALL; } break;                                \
    case HT_Q5_K: { constexpr int T_ = HT_Q5_K; CALL; } break;                                \
    case HT_Q6_K: { constexpr int T_ = HT_Q6_K; CALL; } break;                                \
    default: return (int)cudaErrorInvalidValue;                                               \
    }

/* Bytes of one row of `cols` values of a native type. */
__host__ __device__ static inline int64_t hc_row_bytes(int type, int64_t cols)
{
    switch (type) {
    case HT_F32: return cols * 4;
    case HT_F16: case HT_BF16: return cols * 2;
    case HT_Q8_0: return cols / 32 * HB_Q8_0;
    case HT_Q4_0: return cols / 32 * HB_Q4_0;
    case HT_Q4_1: return cols / 32 * HB_Q4_1;
    case HT_Q5_0: return cols / 32 * HB_Q5_0;
    case HT_Q5_1: return cols / 32 * HB_Q5_1;
    case HT_Q4_K: return cols / 256 * HB_Q4_K;
    case HT_Q5_K: return cols / 256 * HB_Q5_K;
    case HT_Q6_K: return cols / 256 * HB_Q6_K;
    default: return 0;
    }
}

#endif
