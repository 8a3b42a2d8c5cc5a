/*
 * legacy_avx2.c — AVX2 kernels for the 32-element block types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0)
 * and the Q8_0 activation quantizer.
 *
 * Dot products compute each block's integer dot exactly (as the scalar reference does) and
 * accumulate d_w * d_a * isum in 8 float lanes, so they differ from the reference only in
 * the order of the float additions. Conversions are bit-exact.
 */
#include "kernels/simd_x86.h"

/* 32 signed bytes -> the block's 4-bit weights as bytes 0..15 (low nibbles first). */
static inline __m256i unpack_nibbles(const uint8_t *qs)
{
    __m128i b = _mm_loadu_si128((const __m128i *)qs);
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

/* The 32 fifth bits of a Q5 block spread to 0x10 in each byte (bit j -> byte j). */
static inline __m256i spread_bits(const uint8_t qh_bytes[4])
{
    uint32_t qh;
    memcpy(&qh, qh_bytes, sizeof qh);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202,
                                           0x0101010101010101, 0x0000000000000000);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)qh), shuf);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

static inline __m256 block_scale(hearth_f16 dw, hearth_f16 da)
{
    return _mm256_set1_ps(hearth_f16c(dw) * hearth_f16c(da));
}

/* ---- Q8_0 activations ------------------------------------------------------------------ */

static void q8_0_from_float(const float *x, void *dst, int64_t n)
{
    block_q8_0 *y = dst;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        __m256 v0 = _mm256_loadu_ps(x), v1 = _mm256_loadu_ps(x + 8);
        __m256 v2 = _mm256_loadu_ps(x + 16), v3 = _mm256_loadu_ps(x + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, v0), _mm256_andnot_ps(sign, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(sign, v2), _mm256_andnot_ps(sign, v3)));
        float amax = hearth_avx2_hmax(m);
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = hearth_f32_to_f16(d);
        __m256 vid = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(v0, vid));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(v1, vid));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(v2, vid));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(v3, vid));
        /* packs work within 128-bit lanes: fix the order with one dword permute */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[i].qs, p);
    }
}

static void q8_0_to_float(const void *src, float *y, int64_t n)
{
    const block_q8_0 *x = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        __m256 d = _mm256_set1_ps(hearth_f16c(x[i].d));
        for (int j = 0; j < 32; j += 8) {
            __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(x[i].qs + j)));
            _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_cvtepi32_ps(q), d));
        }
    }
}

/* ---- dot products against Q8_0 ---------------------------------------------------------- */

/* The F16 scales of 8 consecutive Q8_0 blocks of w and of a, multiplied: d_w * d_a per block.
 * Two gathers read each block's first 4 bytes (its scale and two quants); the low halves
 * are packed into 8 + 8 F16s and converted together. */
static inline __m256 q8_0_scales8(const block_q8_0 *x, const block_q8_0 *y)
{
    const __m256i at = _mm256_setr_epi32(0, 34, 68, 102, 136, 170, 204, 238);
    const __m256i low16 = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,
                                           0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i wd = _mm256_shuffle_epi8(_mm256_i32gather_epi32((const int *)x, at, 1), low16);
    __m256i ad = _mm256_shuffle_epi8(_mm256_i32gather_epi32((const int *)y, at, 1), low16);
    /* lanes: [w0..3 a0..3 | w4..7 a4..7] -> [w0..7 | a0..7] */
    __m256i both = _mm256_permute4x64_epi64(_mm256_unpacklo_epi64(wd, ad), _MM_SHUFFLE(3, 1, 2, 0));
    return _mm256_mul_ps(_mm256_cvtph_ps(_mm256_castsi256_si128(both)),
                         _mm256_cvtph_ps(_mm256_extracti128_si256(both, 1)));
}

static inline __m256i q8_0_block_dot(const block_q8_0 *x, const block_q8_0 *y)
{
    return hearth_avx2_dot_i8(_mm256_loadu_si256((const __m256i *)x->qs), _mm256_loadu_si256((const __m256i *)y->qs));
}

static void q8_0_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q8_0 *x = w, *y = a;
    /* two accumulators: the FMA chain, not the loads, would otherwise set the pace */
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t nb = n / 32, i = 0;
    for (; i + 8 <= nb; i += 8) {
        hearth_prefetch_ahead(&x[i], 8 * sizeof x[i]);
        __m256 sc = q8_0_scales8(&x[i], &y[i]);
        for (int b = 0; b < 8; b += 2) {
            __m256 s0 = _mm256_permutevar8x32_ps(sc, _mm256_set1_epi32(b));
            __m256 s1 = _mm256_permutevar8x32_ps(sc, _mm256_set1_epi32(b + 1));
            acc0 = _mm256_fmadd_ps(s0, _mm256_cvtepi32_ps(q8_0_block_dot(&x[i + b], &y[i + b])), acc0);
            acc1 = _mm256_fmadd_ps(s1, _mm256_cvtepi32_ps(q8_0_block_dot(&x[i + b + 1], &y[i + b + 1])), acc1);
        }
    }
    for (; i < nb; i++)
        acc0 = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), _mm256_cvtepi32_ps(q8_0_block_dot(&x[i], &y[i])), acc0);
    *s = hearth_avx2_hsum(_mm256_add_ps(acc0, acc1));
}

static void q4_0_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q4_0 *x = w;
    const block_q8_0 *y = a;
    __m256 acc = _mm256_setzero_ps();
    const __m256i off = _mm256_set1_epi8(8);
    for (int64_t i = 0; i < n / 32; i++) {
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        __m256i q = _mm256_sub_epi8(unpack_nibbles(x[i].qs), off);
        __m256i d = hearth_avx2_dot_i8(q, _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), _mm256_cvtepi32_ps(d), acc);
    }
    *s = hearth_avx2_hsum(acc);
}

static void q5_0_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q5_0 *x = w;
    const block_q8_0 *y = a;
    __m256 acc = _mm256_setzero_ps();
    const __m256i off = _mm256_set1_epi8(16);
    for (int64_t i = 0; i < n / 32; i++) {
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        __m256i q = _mm256_or_si256(unpack_nibbles(x[i].qs), spread_bits(x[i].qh));
        q = _mm256_sub_epi8(q, off);
        __m256i d = hearth_avx2_dot_i8(q, _mm256_loadu_si256((const __m256i *)y[i].qs));
        acc = _mm256_fmadd_ps(block_scale(x[i].d, y[i].d), _mm256_cvtepi32_ps(d), acc);
    }
    *s = hearth_avx2_hsum(acc);
}

/* Unsigned weights q (0..31) with an offset m: d_w d_a sum(q a) + m d_a sum(a). */
static inline __m256 offset_block(__m256i q, const block_q8_0 *yb, float dw, float mw, __m256 acc)
{
    __m256i av = _mm256_loadu_si256((const __m256i *)yb->qs);
    __m256i ones16 = _mm256_set1_epi16(1);
    __m256i dq = _mm256_madd_epi16(_mm256_maddubs_epi16(q, av), ones16);
    __m256i sa = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), av), ones16);
    float da = hearth_f16c(yb->d);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(dw * da), _mm256_cvtepi32_ps(dq), acc);
    return _mm256_fmadd_ps(_mm256_set1_ps(mw * da), _mm256_cvtepi32_ps(sa), acc);
}

static void q4_1_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q4_1 *x = w;
    const block_q8_0 *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; i++) {
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        acc = offset_block(unpack_nibbles(x[i].qs), &y[i], hearth_f16c(x[i].d),
                           hearth_f16c(x[i].m), acc);
    }
    *s = hearth_avx2_hsum(acc);
}

static void q5_1_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q5_1 *x = w;
    const block_q8_0 *y = a;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; i++) {
        hearth_prefetch_ahead(&x[i], sizeof x[i]);
        __m256i q = _mm256_or_si256(unpack_nibbles(x[i].qs), spread_bits(x[i].qh));
        acc = offset_block(q, &y[i], hearth_f16c(x[i].d), hearth_f16c(x[i].m), acc);
    }
    *s = hearth_avx2_hsum(acc);
}

/* ---- dequantization ------------------------------------------------------------------------ */

/* y[0..32) = (float)(q - off) * d  or  (float)q * d + m, matching the scalar expressions. */
static inline void store_block(float *y, __m256i q, int off, float d, const float *m)
{
    __m256 vd = _mm256_set1_ps(d);
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
    for (int j = 0; j < 4; j++) {
        __m256i v = _mm256_sub_epi32(_mm256_cvtepu8_epi32(parts[j]), _mm256_set1_epi32(off));
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), vd);
        if (m) f = _mm256_add_ps(f, _mm256_set1_ps(*m));
        _mm256_storeu_ps(y + 8 * j, f);
    }
}

static void q4_0_to_float(const void *src, float *y, int64_t n)
{
    const block_q4_0 *x = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32)
        store_block(y, unpack_nibbles(x[i].qs), 8, hearth_f16c(x[i].d), NULL);
}

static void q4_1_to_float(const void *src, float *y, int64_t n)
{
    const block_q4_1 *x = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float m = hearth_f16c(x[i].m);
        store_block(y, unpack_nibbles(x[i].qs), 0, hearth_f16c(x[i].d), &m);
    }
}

static void q5_0_to_float(const void *src, float *y, int64_t n)
{
    const block_q5_0 *x = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32)
        store_block(y, _mm256_or_si256(unpack_nibbles(x[i].qs), spread_bits(x[i].qh)), 16,
                    hearth_f16c(x[i].d), NULL);
}

static void q5_1_to_float(const void *src, float *y, int64_t n)
{
    const block_q5_1 *x = src;
    for (int64_t i = 0; i < n / 32; i++, y += 32) {
        float m = hearth_f16c(x[i].m);
        store_block(y, _mm256_or_si256(unpack_nibbles(x[i].qs), spread_bits(x[i].qh)), 0,
                    hearth_f16c(x[i].d), &m);
    }
}

#ifndef LEGACY_FILL /* legacy_avx512.c compiles this file again under another name */
#define LEGACY_FILL hearth_avx2_fill_legacy
#endif
void LEGACY_FILL(hearth_kernels *k)
{
    k->from_float[HEARTH_TYPE_Q8_0] = q8_0_from_float;
    k->to_float[HEARTH_TYPE_Q4_0] = q4_0_to_float;
    k->to_float[HEARTH_TYPE_Q4_1] = q4_1_to_float;
    k->to_float[HEARTH_TYPE_Q5_0] = q5_0_to_float;
    k->to_float[HEARTH_TYPE_Q5_1] = q5_1_to_float;
    k->to_float[HEARTH_TYPE_Q8_0] = q8_0_to_float;
    k->vec_dot[HEARTH_TYPE_Q4_0] = q4_0_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q4_1] = q4_1_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q5_0] = q5_0_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q5_1] = q5_1_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q8_0] = q8_0_vec_dot;
}
