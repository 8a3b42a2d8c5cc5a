/*
 * kquant_avx2.c — AVX2 dot products of the k-quants (Q2_K..Q6_K) against Q8_K activations.
 *
 * Each super-block's integer sums are computed exactly (maddubs pairs stay below int16
 * saturation: weights are unsigned and at most 63, activations at most 127 in magnitude),
 * reduced to one int32, and combined in float with the scalar reference's expression in the
 * same order — so these results are bit-identical to the scalar ones.
 *
 * Signed weights (Q3_K, Q6_K) are fed to maddubs as unsigned (q + offset); the offset is
 * taken back out exactly with the activation group sums (bsums) of Q8_K.
 */
#include "kernels/simd_x86.h"

/* int16 scale s0 for the 8 lanes of the low 128 bits, s1 for the high ones: maddubs of 32
 * bytes leaves elements 0..15 in the low half, 16..31 in the high half. */
static inline __m256i scale_pair(int s0, int s1)
{
    return _mm256_set_m128i(_mm_set1_epi16((short)s1), _mm_set1_epi16((short)s0));
}

/* sum over the 32 bytes of unsigned q times signed a, group g0 scaled by s0, g0+1 by s1 */
static inline __m256i scaled_dot(__m256i q, const int8_t *a, int s0, int s1)
{
    __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)a));
    return _mm256_madd_epi16(p, scale_pair(s0, s1));
}

/* sum_g scales[g] * bsums[g] over the 16 groups (scales as 16 int16) */
static inline int32_t scaled_bsums(const int16_t *bsums, __m256i scales16)
{
    __m256i b = _mm256_loadu_si256((const __m256i *)bsums);
    return hearth_avx2_hsum_i32(_mm256_madd_epi16(b, scales16));
}

static inline __m256i bit_to(__m256i bytes, int bit, int value)
{
    __m256i m = _mm256_set1_epi8((char)(1 << bit));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(bytes, m), m),
                            _mm256_set1_epi8((char)value));
}

static void q2_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q2_K *x = w;
    const block_q8_K *y = a;
    const __m256i m3 = _mm256_set1_epi8(3);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {
        const uint8_t *sc = x[i].scales;
        __m256i mins = _mm256_cvtepu8_epi16(_mm_srli_epi16(
            _mm_and_si128(_mm_loadu_si128((const __m128i *)sc), _mm_set1_epi8((char)0xf0)), 4));
        int32_t summ = scaled_bsums(y[i].bsums, mins);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 2; c++) {
            __m256i qb = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            for (int j = 0; j < 4; j++) {
                __m256i q = _mm256_and_si256(_mm256_srli_epi16(qb, 2 * j), m3);
                int g = 8 * c + 2 * j;
                acc = _mm256_add_epi32(acc, scaled_dot(q, y[i].qs + 16 * g, sc[g] & 0x0f, sc[g + 1] & 0x0f));
            }
        }
        int32_t sumi = hearth_avx2_hsum_i32(acc);
        float d = hearth_f16c(x[i].d), dmin = hearth_f16c(x[i].dmin);
        sum += d * y[i].d * (float)sumi - dmin * y[i].d * (float)summ;
    }
    *s = sum;
}

static void q3_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q3_K *x = w;
    const block_q8_K *y = a;
    const __m256i m3 = _mm256_set1_epi8(3);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {
        int8_t sc[16];
        hearth_q3k_scales(x[i].scales, sc);
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        int32_t offset = 4 * scaled_bsums(y[i].bsums, sc16);
        __m256i hm = _mm256_loadu_si256((const __m256i *)x[i].hmask);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 2; c++) {
            __m256i qb = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            for (int j = 0; j < 4; j++) {
                /* q + 4 = low two bits | high bit * 4, in 0..7 */
                __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 2 * j), m3),
                                            bit_to(hm, 4 * c + j, 4));
                int g = 8 * c + 2 * j;
                acc = _mm256_add_epi32(acc, scaled_dot(q, y[i].qs + 16 * g, sc[g], sc[g + 1]));
            }
        }
        int32_t sumi = hearth_avx2_hsum_i32(acc) - offset;
        sum += hearth_f16c(x[i].d) * y[i].d * (float)sumi - 0.0f * y[i].d * 0.0f;
    }
    *s = sum;
}

/* The 8 six-bit scales and mins of a Q4_K/Q5_K block. */
static inline void k4_scales(const uint8_t *packed, uint8_t sc[8], uint8_t m[8])
{
    for (int j = 0; j < 8; j++) hearth_k4_scale_min(j, packed, &sc[j], &m[j]);
}

/* sum_j m[j] * (bsums[2j] + bsums[2j+1]) */
static inline int32_t k4_min_sum(const uint8_t m[8], const int16_t *bsums)
{
    __m128i m8 = _mm_loadl_epi64((const __m128i *)m);
    __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8)); /* each min twice */
    return scaled_bsums(bsums, m16);
}

/* Q4_K and Q5_K: nibbles (plus, for Q5_K, a fifth bit from qh) with 8 scales and mins */
static inline __attribute__((always_inline)) float q45_K_block(const uint8_t *scales, const uint8_t *qs,
                                                               const uint8_t *qh, hearth_f16 hd,
                                                               hearth_f16 hdmin, const block_q8_K *y)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    uint8_t sc[8], m[8];
    k4_scales(scales, sc, m);
    int32_t summ = k4_min_sum(m, y->bsums);
    __m256i hb = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i qb = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(qb, m4), hi = _mm256_and_si256(_mm256_srli_epi16(qb, 4), m4);
        if (qh) {
            lo = _mm256_or_si256(lo, bit_to(hb, 2 * c, 16));
            hi = _mm256_or_si256(hi, bit_to(hb, 2 * c + 1, 16));
        }
        acc = _mm256_add_epi32(acc, scaled_dot(lo, y->qs + 64 * c, sc[2 * c], sc[2 * c]));
        acc = _mm256_add_epi32(acc, scaled_dot(hi, y->qs + 64 * c + 32, sc[2 * c + 1], sc[2 * c + 1]));
    }
    int32_t sumi = hearth_avx2_hsum_i32(acc);
    float d = hearth_f16c(hd), dmin = hearth_f16c(hdmin);
    return d * y->d * (float)sumi - dmin * y->d * (float)summ;
}

static void q4_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q4_K *x = w;
    const block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++)
        sum += q45_K_block(x[i].scales, x[i].qs, NULL, x[i].d, x[i].dmin, &y[i]);
    *s = sum;
}

static void q5_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q5_K *x = w;
    const block_q8_K *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++)
        sum += q45_K_block(x[i].scales, x[i].qs, x[i].qh, x[i].d, x[i].dmin, &y[i]);
    *s = sum;
}

static void q6_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q6_K *x = w;
    const block_q8_K *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {
        const int8_t *sc = x[i].scales;
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        int32_t offset = 32 * scaled_bsums(y[i].bsums, sc16);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 2; c++) {
            __m256i l0 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * c));
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(x[i].ql + 64 * c + 32));
            __m256i h = _mm256_loadu_si256((const __m256i *)(x[i].qh + 32 * c));
            /* q + 32, in 0..63: low four bits from ql, high two from qh */
            __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m3), 4)),
                _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30)),
                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                _mm256_and_si256(_mm256_srli_epi16(h, 2), m30)),
            };
            for (int k = 0; k < 4; k++) {
                int g = 8 * c + 2 * k;
                acc = _mm256_add_epi32(acc, scaled_dot(q[k], y[i].qs + 16 * g, sc[g], sc[g + 1]));
            }
        }
        int32_t sumi = hearth_avx2_hsum_i32(acc) - offset;
        sum += hearth_f16c(x[i].d) * y[i].d * (float)sumi - 0.0f * y[i].d * 0.0f;
    }
    *s = sum;
}

void hearth_avx2_fill_kquant(hearth_kernels *k)
{
    k->vec_dot[HEARTH_TYPE_Q2_K] = q2_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q3_K] = q3_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q4_K] = q4_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q5_K] = q5_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q6_K] = q6_K_vec_dot;
}
