/*
 * gemm_float_avx2.c — batched-prefill tiles for float weights (F32, F16, BF16) against F32
 * activations on AVX2: 3 weight rows x 4 tokens of 8-lane accumulators (12 of the 16
 * registers), so each converted weight vector feeds 4 FMAs and each activation vector 3. The
 * lanes are reduced once per (row, token) at the end.
 */
#include "kernels/simd_x86.h"

#define RM 3
#define TN 4

enum { W_F32, W_F16, W_BF16 };

static inline __m256 load_w(int wt, const uint8_t *row, int64_t i)
{
    if (wt == W_F32) return _mm256_loadu_ps((const float *)row + i);
    if (wt == W_F16) return hearth_avx2_load_f16((const hearth_f16 *)row + i);
    return hearth_avx2_load_bf16((const hearth_bf16 *)row + i);
}

static inline float w_at(int wt, const uint8_t *row, int64_t i)
{
    if (wt == W_F32) return ((const float *)row)[i];
    uint16_t h = ((const uint16_t *)row)[i];
    return wt == W_F16 ? hearth_f16c(h) : hearth_bf16_to_f32(h);
}

/* rm x tn tile (both compile-time constants where it matters: the full 3 x 4 case). */
static inline __attribute__((always_inline)) void
tile(int wt, int rm, int tn, int64_t n, float *y, int64_t ldy, const uint8_t *w, size_t w_stride,
     const float *a, size_t a_stride)
{
    __m256 acc[RM][TN];
    for (int r = 0; r < rm; r++)
        for (int t = 0; t < tn; t++) acc[r][t] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wv[RM];
        for (int r = 0; r < rm; r++) wv[r] = load_w(wt, w + (size_t)r * w_stride, i);
        for (int t = 0; t < tn; t++) {
            __m256 av = _mm256_loadu_ps(a + (size_t)t * a_stride + i);
            for (int r = 0; r < rm; r++) acc[r][t] = _mm256_fmadd_ps(wv[r], av, acc[r][t]);
        }
    }
    for (int r = 0; r < rm; r++)
        for (int t = 0; t < tn; t++) {
            float s = hearth_avx2_hsum(acc[r][t]);
            for (int64_t j = i; j < n; j++)
                s += w_at(wt, w + (size_t)r * w_stride, j) * a[(size_t)t * a_stride + j];
            y[t * ldy + r] = s;
        }
}

static inline __attribute__((always_inline)) void
gemm_float(int wt, int64_t n, float *y, int64_t ldy, const void *w, size_t w_stride, int nr,
           const void *a, size_t a_stride, int nt)
{
    const uint8_t *wb = w;
    const float *af = a;
    size_t as = a_stride / sizeof(float);
    for (int r0 = 0; r0 < nr; r0 += RM) {
        int rm = nr - r0 < RM ? nr - r0 : RM;
        const uint8_t *wr = wb + (size_t)r0 * w_stride;
        int t0 = 0;
        if (rm == RM)
            for (; t0 + TN <= nt; t0 += TN)
                tile(wt, RM, TN, n, y + t0 * ldy + r0, ldy, wr, w_stride, af + (size_t)t0 * as, as);
        for (; t0 < nt; t0++) /* edges: one token at a time */
            tile(wt, rm, 1, n, y + t0 * ldy + r0, ldy, wr, w_stride, af + (size_t)t0 * as, as);
    }
}

#define FLOAT_GEMM(name, wt)                                                                   \
    static void name(int64_t n, float *y, int64_t ldy, const void *w, size_t w_stride, int nr, \
                     const void *a, size_t a_stride, const void *aux, size_t aux_stride, int nt) \
    {                                                                                          \
        (void)aux;                                                                             \
        (void)aux_stride;                                                                      \
        gemm_float(wt, n, y, ldy, w, w_stride, nr, a, a_stride, nt);                           \
    }

FLOAT_GEMM(f32_gemm, W_F32)
FLOAT_GEMM(f16_gemm, W_F16)
FLOAT_GEMM(bf16_gemm, W_BF16)

void hearth_avx2_fill_float_gemm(hearth_kernels *k)
{
    k->gemm[HEARTH_TYPE_F32] = f32_gemm;
    k->gemm[HEARTH_TYPE_F16] = f16_gemm;
    k->gemm[HEARTH_TYPE_BF16] = bf16_gemm;
}
