/*
 * gemm_avx2.c — batched-prefill tiles for the quantized weight types on AVX2 (no VNNI): the
 * same "rows in lanes" scheme as gemm_avx512.c with 8 rows per panel, vpmaddubsw for the
 * byte products and vpmaddwd to widen.
 *
 * vpmaddubsw saturates int16 pair sums: unsigned weights below 64 (Q4_0, Q4_1, Q5_0, Q5_1
 * and the k-quants) keep 63 * 127 * 2 per pair, and two pairs summed, below 32767. Q8_0
 * (255 once made unsigned) keeps its weights signed and multiplies |w| by a with w's sign
 * (128 * 127 * 2 fits), one pair sum at a time.
 */
#include "kernels/gemm_common.h"

#define PANEL_ROWS 8
#define PANEL_ALIGN 32
#define KC 1024
#define TT 4
#define UNROLL_TT _Pragma("GCC unroll 4")

static inline __attribute__((always_inline)) void
panel_tokens(const gemm_desc *D, const uint8_t *panel, int64_t g0, int64_t ng, const uint8_t *a,
             size_t a_stride, const uint8_t *aux, size_t aux_stride, int64_t ng_total, int tt,
             float *y, int64_t ldy, int nr, bool add)
{
    const int ns = D->G / 4;
    const size_t pstride = panel_group_bytes(D, PANEL_ROWS);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[TT];
    UNROLL_TT
    for (int t = 0; t < tt; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t gl = 0; gl < ng; gl++) {
        const uint8_t *pg = panel + (size_t)gl * pstride;
        int64_t g = g0 + gl, e = g * D->G;
        size_t aoff = (size_t)(e / D->ablock) * D->abytes + D->aqs + (size_t)(e % D->ablock);
        __m256 s = _mm256_load_ps((const float *)(pg + ns * 32));
        UNROLL_TT
        for (int t = 0; t < tt; t++) {
            const uint8_t *at = a + (size_t)t * a_stride + aoff;
            const uint8_t *xt = aux + (size_t)t * aux_stride;
            __m256i isum = _mm256_set1_epi32(-load_i32(xt + 4 * g));
            if (D->signed_w) { /* |w| * (a with w's sign): one pair sum fits int16, two not */
                for (int k = 0; k < ns; k++) {
                    __m256i wv = _mm256_load_si256((const __m256i *)(pg + k * 32));
                    __m256i av = _mm256_sign_epi8(_mm256_set1_epi32(load_i32(at + 4 * k)), wv);
                    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(wv), av), ones));
                }
            } else {
                for (int k = 0; k < ns; k += 2) {
                    __m256i p0 = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(pg + k * 32)),
                                                      _mm256_set1_epi32(load_i32(at + 4 * k)));
                    __m256i p1 = _mm256_maddubs_epi16(_mm256_load_si256((const __m256i *)(pg + k * 32 + 32)),
                                                      _mm256_set1_epi32(load_i32(at + 4 * k + 4)));
                    isum = _mm256_add_epi32(isum, _mm256_madd_epi16(_mm256_add_epi16(p0, p1), ones));
                }
            }
            __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(aux_da(xt, ng_total, g)));
            acc[t] = _mm256_fmadd_ps(s, f, acc[t]);
            if (D->has_min)
                acc[t] = _mm256_fmadd_ps(_mm256_load_ps((const float *)(pg + ns * 32 + 32)),
                                         _mm256_set1_ps(aux_da_sum(xt, ng_total, g)), acc[t]);
        }
    }
    UNROLL_TT
    for (int t = 0; t < tt; t++) {
        float lanes[PANEL_ROWS];
        _mm256_storeu_ps(lanes, acc[t]);
        float *yt = y + t * ldy;
        for (int r = 0; r < nr; r++) yt[r] = add ? yt[r] + lanes[r] : lanes[r];
    }
}

GEMM_DRIVER()

GEMM_TYPE(q8_0s)
GEMM_TYPE(q4_0)
GEMM_TYPE(q4_1)
GEMM_TYPE(q5_0)
GEMM_TYPE(q5_1)
GEMM_TYPE(q2_K)
GEMM_TYPE(q3_K)
GEMM_TYPE(q4_K)
GEMM_TYPE(q5_K)
GEMM_TYPE(q6_K)

void hearth_avx2_fill_gemm(hearth_kernels *k)
{
    GEMM_SET(HEARTH_TYPE_Q8_0, q8_0s);
    GEMM_SET(HEARTH_TYPE_Q4_0, q4_0);
    GEMM_SET(HEARTH_TYPE_Q4_1, q4_1);
    GEMM_SET(HEARTH_TYPE_Q5_0, q5_0);
    GEMM_SET(HEARTH_TYPE_Q5_1, q5_1);
    GEMM_SET(HEARTH_TYPE_Q2_K, q2_K);
    GEMM_SET(HEARTH_TYPE_Q3_K, q3_K);
    GEMM_SET(HEARTH_TYPE_Q4_K, q4_K);
    GEMM_SET(HEARTH_TYPE_Q5_K, q5_K);
    GEMM_SET(HEARTH_TYPE_Q6_K, q6_K);
}
