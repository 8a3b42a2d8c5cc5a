/*
 * gemm_float_avx512.c — batched-prefill tiles for float weights (F32, F16, BF16) against F32
 * activations: 4 weight rows x 6 tokens of 16-lane accumulators (24 of the 32 registers), so
 * each converted weight vector feeds 6 FMAs and each activation vector 4. The lanes are
 * reduced once per (row, token) at the end.
 */
#include "kernels/simd_x86.h"

#define RM 4
#define TN 6

enum { W_F32, W_F16, W_BF16 };

static inline __m512 load_w(int wt, const uint8_t *row, int64_t i)
{
    if (wt == W_F32) return _mm512_loadu_ps((const float *)row + i);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)row + i));
    if (wt == W_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static inline float w_at(int wt, const uint8_t *row, int64_t i)
{
    if (wt == W_F32) return ((const float *)row)[i];
    uint16_t h = ((const uint16_t *)row)[i];
    return wt == W_F16 ? hearth_f16c(h) : hearth_bf16_to_f32(h);
}

/* rm x tn tile (both compile-time constants where it matters: the full 4 x 6 case). */
static inline __attribute__((always_inline)) void
tile(int wt, int rm, int tn, int64_t n, float *y, int64_t ldy, const uint8_t *w, size_t w_stride,
     const float *a, size_t a_stride)
{
    __m512 acc[RM][TN];
    for (int r = 0; r < rm; r++)
        for (int t = 0; t < tn; t++) acc[r][t] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 wv[RM];
        for (int r = 0; r < rm; r++) wv[r] = load_w(wt, w + (size_t)r * w_stride, i);
        for (int t = 0; t < tn; t++) {
            __m512 av = _mm512_loadu_ps(a + (size_t)t * a_stride + i);
            for (int r = 0; r < rm; r++) acc[r][t] = _mm512_fmadd_ps(wv[r], av, acc[r][t]);
        }
    }
    for (int r = 0; r < rm; r++)
        for (int t = 0; t < tn; t++) {
            float s = _mm512_reduce_add_ps(acc[r][t]);
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

void hearth_avx512_fill_float(hearth_kernels *k, bool has_bf16)
{
    (void)has_bf16; /* F32 activations for BF16 weights (see float.c): no vdpbf16ps */
    k->gemm[HEARTH_TYPE_F32] = f32_gemm;
    k->gemm[HEARTH_TYPE_F16] = f16_gemm;
    k->gemm[HEARTH_TYPE_BF16] = bf16_gemm;
}
