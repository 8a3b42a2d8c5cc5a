/*
 * kquant_avx2.c — AVX2 dot products of the k-quants (Q2_K..Q6_K) against Q8_K activations.
 *
 * Each super-block's integer sums are computed exactly (maddubs pairs stay below int16
 * saturation: weights are unsigned and at most 63, activations at most 127 in magnitude).
 * Q2_K and Q3_K reduce them to one int32 and combine in float with the scalar reference's
 * expression in the same order, so they are bit-identical to it. Q4_K, Q5_K and Q6_K, which
 * carry almost every weight of a Q4_K_M model, keep the 8 lanes and scale them into a float
 * vector accumulator instead: one horizontal sum per row, not two per super-block. Decode
 * streams these rows from memory and the kernel must keep up with it (docs/performance.md);
 * only the order of float additions differs from the reference.
 *
 * Signed weights (Q3_K, Q6_K) are fed to maddubs as unsigned (q + offset); the offset is
 * taken back out exactly with the activation group sums (bsums) of Q8_K.
 */
#include "kernels/simd_x86.h"

/* Scales are applied in int16 by vpmaddwd. A group of 8 int16 scales is held in both 128-bit
 * lanes (bcast8) and the scale a 32-byte dot needs is picked out with one byte shuffle:
 * maddubs of 32 bytes leaves elements 0..15 in the low lane and 16..31 in the high lane, so
 * a pair of 16-element groups (2k, 2k+1) takes scale 2k low and 2k+1 high (sel_pair), and a
 * 32-element group j takes scale j in both (sel_one). */
static inline __m256i bcast8(__m128i scales16)
{
    return _mm256_broadcastsi128_si256(scales16);
}

static inline __m256i sel_pair(__m256i b, int k)
{
    short lo = (short)(((4 * k + 1) << 8) | (4 * k)), hi = (short)(((4 * k + 3) << 8) | (4 * k + 2));
    return _mm256_shuffle_epi8(b, _mm256_set_m128i(_mm_set1_epi16(hi), _mm_set1_epi16(lo)));
}

static inline __m256i sel_one(__m256i b, int j)
{
    return _mm256_shuffle_epi8(b, _mm256_set1_epi16((short)(((2 * j + 1) << 8) | (2 * j))));
}

/* acc + the sum over the 32 bytes of unsigned q times signed a, each int16 pair times its
 * scale (with AVX-512 VNNI the multiply-add of the pairs and the accumulation are one
 * vpdpwssd) */
static inline __m256i scaled_dot(__m256i acc, __m256i q, const int8_t *a, __m256i scale)
{
    __m256i p = _mm256_maddubs_epi16(q, _mm256_loadu_si256((const __m256i *)a));
#ifdef __AVX512VNNI__
    return _mm256_dpwssd_epi32(acc, p, scale);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, scale));
#endif
}

/* scales[2k] * bsums[2k] + scales[2k+1] * bsums[2k+1] in lane k (scales as 16 int16) */
static inline __m256i scaled_bsums8(const int16_t *bsums, __m256i scales16)
{
    return _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)bsums), scales16);
}

/* sum_g scales[g] * bsums[g] over the 16 groups */
static inline int32_t scaled_bsums(const int16_t *bsums, __m256i scales16)
{
    return hearth_avx2_hsum_i32(scaled_bsums8(bsums, scales16));
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
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        const uint8_t *sc = x[i].scales;
        __m256i mins = _mm256_cvtepu8_epi16(_mm_srli_epi16(
            _mm_and_si128(_mm_loadu_si128((const __m128i *)sc), _mm_set1_epi8((char)0xf0)), 4));
        int32_t summ = scaled_bsums(y[i].bsums, mins);
        __m128i sc4 = _mm_and_si128(_mm_loadu_si128((const __m128i *)sc), _mm_set1_epi8(0x0f));
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 2; c++) {
            __m256i qb = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            __m256i b = bcast8(_mm_cvtepu8_epi16(c ? _mm_unpackhi_epi64(sc4, sc4) : sc4));
            for (int j = 0; j < 4; j++) {
                __m256i q = _mm256_and_si256(_mm256_srli_epi16(qb, 2 * j), m3);
                acc = scaled_dot(acc, q, y[i].qs + 128 * c + 32 * j, sel_pair(b, j));
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
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        int8_t sc[16];
        hearth_q3k_scales(x[i].scales, sc);
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        int32_t offset = 4 * scaled_bsums(y[i].bsums, sc16);
        __m256i hm = _mm256_loadu_si256((const __m256i *)x[i].hmask);
        __m256i acc = _mm256_setzero_si256();
        for (int c = 0; c < 2; c++) {
            __m256i qb = _mm256_loadu_si256((const __m256i *)(x[i].qs + 32 * c));
            __m256i b = bcast8(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(sc + 8 * c))));
            for (int j = 0; j < 4; j++) {
                /* q + 4 = low two bits | high bit * 4, in 0..7 */
                __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(qb, 2 * j), m3),
                                            bit_to(hm, 4 * c + j, 4));
                acc = scaled_dot(acc, q, y[i].qs + 128 * c + 32 * j, sel_pair(b, j));
            }
        }
        int32_t sumi = hearth_avx2_hsum_i32(acc) - offset;
        sum += hearth_f16c(x[i].d) * y[i].d * (float)sumi - 0.0f * y[i].d * 0.0f;
    }
    *s = sum;
}

/* The 8 six-bit scales (bytes 0..7) and mins (bytes 8..15) of a Q4_K/Q5_K block (the layout
 * hearth_k4_scale_min reads one by one), from the 12 packed bytes as dwords p0 p1 p2:
 *   scales 0..3 = p0 & 0x3f..   scales 4..7 = (p2 & 0x0f..) | ((p0 >> 6) & 0x03..) << 4
 *   mins   0..3 = p1 & 0x3f..   mins   4..7 = (p2 >> 4 & 0x0f..) | ((p1 >> 6) & 0x03..) << 4
 * The load reads 16 bytes: the block's quants follow its scales. */
static inline __m128i k4_scales(const uint8_t *packed)
{
    __m128i v = _mm_loadu_si128((const __m128i *)packed);
    __m128i lo = _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 1, 2, 0));        /* p0 p2 p1 p2 */
    __m128i hi = _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 1, 0, 0));        /* p0 p0 p1 p1 */
    lo = _mm_and_si128(_mm_srlv_epi32(lo, _mm_setr_epi32(0, 0, 0, 4)),
                       _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f));
    hi = _mm_and_si128(_mm_srli_epi32(hi, 6), _mm_setr_epi32(0, 0x03030303, 0, 0x03030303));
    return _mm_or_si128(lo, _mm_slli_epi32(hi, 4));
}

/* m[j] * (bsums[2j] + bsums[2j+1]) in 8 int32 lanes */
static inline __m256i k4_mins(__m128i sm, const int16_t *bsums)
{
    __m128i m8 = _mm_unpackhi_epi64(sm, sm);
    __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8)); /* each min twice */
    return scaled_bsums8(bsums, m16);
}

/* acc += d * d_a * isum - dmin * d_a * imin, lane by lane; d and dmin are adjacent F16s */
static inline __m256 k_scale_acc(const hearth_f16 *d_dmin, float da, __m256i isum, __m256i imin, __m256 acc)
{
    uint32_t both;
    memcpy(&both, d_dmin, sizeof both);
    __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128((int)both)), _mm_set1_ps(da));
    acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(dd), _mm256_cvtepi32_ps(isum), acc);
    return _mm256_fnmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dd)), _mm256_cvtepi32_ps(imin), acc);
}

/* Q4_K and Q5_K: nibbles (plus, for Q5_K, a fifth bit from qh) with 8 scales and mins */
static inline __attribute__((always_inline)) __m256 q45_K_block(const uint8_t *scales, const uint8_t *qs,
                                                                const uint8_t *qh, const hearth_f16 *d_dmin,
                                                                const block_q8_K *y, __m256 accf)
{
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m128i sm = k4_scales(scales);
    __m256i b = bcast8(_mm_cvtepu8_epi16(sm));
    __m256i hb = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    __m256i acc = _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i qb = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(qb, m4), hi = _mm256_and_si256(_mm256_srli_epi16(qb, 4), m4);
        if (qh) {
            lo = _mm256_or_si256(lo, bit_to(hb, 2 * c, 16));
            hi = _mm256_or_si256(hi, bit_to(hb, 2 * c + 1, 16));
        }
        acc = scaled_dot(acc, lo, y->qs + 64 * c, sel_one(b, 2 * c));
        acc = scaled_dot(acc, hi, y->qs + 64 * c + 32, sel_one(b, 2 * c + 1));
    }
    return k_scale_acc(d_dmin, y->d, acc, k4_mins(sm, y->bsums), accf);
}

static void q4_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q4_K *x = w;
    const block_q8_K *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        acc = q45_K_block(x[i].scales, x[i].qs, NULL, &x[i].d, &y[i], acc);
    }
    *s = hearth_avx2_hsum(acc);
}

static void q5_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q5_K *x = w;
    const block_q8_K *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        acc = q45_K_block(x[i].scales, x[i].qs, x[i].qh, &x[i].d, &y[i], acc);
    }
    *s = hearth_avx2_hsum(acc);
}

static void q6_K_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q6_K *x = w;
    const block_q8_K *y = a;
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3);
    const __m256i m30 = _mm256_set1_epi8(0x30);
    __m256 accf = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        const int8_t *sc = x[i].scales;
        __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)sc));
        /* the +32 offset of every weight, taken back out: 32 * sum_g scale_g * bsum_g */
        __m256i offset = _mm256_slli_epi32(scaled_bsums8(y[i].bsums, sc16), 5);
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
            __m256i b = bcast8(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(sc + 8 * c))));
            for (int k = 0; k < 4; k++)
                acc = scaled_dot(acc, q[k], y[i].qs + 128 * c + 32 * k, sel_pair(b, k));
        }
        __m256 dd = _mm256_set1_ps(hearth_f16c(x[i].d) * y[i].d);
        accf = _mm256_fmadd_ps(dd, _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, offset)), accf);
    }
    *s = hearth_avx2_hsum(accf);
}

/* ---- Q8_K activations: the scalar reference's bytes, 8 lanes at a time ------------------ */

/* The first element of largest magnitude, sign kept (ties go to the lowest index, as in the
 * scalar scan), given that magnitude. */
static inline float first_at_amax(const float *x, __m256 vamax)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int j = 0; j < HEARTH_QK_K; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_andnot_ps(sign, v), vamax, _CMP_EQ_OQ));
        if (m) return x[j + __builtin_ctz((unsigned)m)];
    }
    return 0.0f;
}

static void q8_K_from_float(const float *x, void *dst, int64_t n)
{
    block_q8_K *y = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256i one8 = _mm256_set1_epi8(1), one16 = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, x += HEARTH_QK_K) {
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < HEARTH_QK_K; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
        float amax = hearth_avx2_hmax(m);
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -127.0f / first_at_amax(x, _mm256_set1_ps(amax));
        __m256 vs = _mm256_set1_ps(iscale);
        const __m256i cap = _mm256_set1_epi32(127);
        for (int j = 0; j < HEARTH_QK_K; j += 32) {
            __m256i q[4];
            for (int k = 0; k < 4; k++)
                q[k] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + j + 8 * k), vs)), cap);
            __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(y[i].qs + j), p);
            /* the two 16-byte group sums: 4-byte sums, then two horizontal adds per half */
            __m256i s4 = _mm256_madd_epi16(_mm256_maddubs_epi16(one8, p), one16);
            s4 = _mm256_hadd_epi32(s4, s4);
            s4 = _mm256_hadd_epi32(s4, s4);
            y[i].bsums[j / 16] = (int16_t)_mm256_extract_epi32(s4, 0);
            y[i].bsums[j / 16 + 1] = (int16_t)_mm256_extract_epi32(s4, 4);
        }
        y[i].d = 1.0f / iscale;
    }
}

#ifndef KQUANT_FILL /* kquant_avx512.c compiles this file again under another name */
#define KQUANT_FILL hearth_avx2_fill_kquant
#endif
void KQUANT_FILL(hearth_kernels *k)
{
    k->from_float[HEARTH_TYPE_Q8_K] = q8_K_from_float;
    k->vec_dot[HEARTH_TYPE_Q2_K] = q2_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q3_K] = q3_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q4_K] = q4_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q5_K] = q5_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q6_K] = q6_K_vec_dot;
}
