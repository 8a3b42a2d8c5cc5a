/* vdot_simd.c — AVX2+FMA and AVX-512F float dot products, AVX2 and AVX-512 VNNI 8-bit ones. Compiled for baseline x86-64 with per-function
 * target attributes (so no special build flags), called only after CPUID says they run here. */
#include <immintrin.h>

#include "rag/vdot.h"

__attribute__((target("avx2,fma"))) float rag_dot_avx2(const float *a, const float *b, size_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s0 = _mm256_add_ps(s0, s1);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    float s = _mm_cvtss_f32(h);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx512f,avx2,fma"))) float rag_dot_avx512(const float *a, const float *b, size_t n)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i + 16 <= n) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        i += 16;
    }
    if (i < n) { /* masked tail: no scalar loop */
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

/* u8 x s8 without VNNI, 32 bytes a step: a = u - 128 as s8, then |a| x (s with a's sign) through
 * maddubs. Its 16-bit pair sums cannot saturate: |a| <= 128 and |s| <= 127 (see vdot.h). */
__attribute__((target("avx2"))) int32_t rag_idot_avx2(const uint8_t *u, const int8_t *s, int32_t s_sum, size_t n)
{
    const __m256i bias = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi16(1);
    __m256i acc = _mm256_setzero_si256();
    for (size_t i = 0; i < n; i += 32) {
        __m256i a = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)(u + i)), bias);
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
    }
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

/* VNNI: vpdpbusd multiplies 64 u8 x s8 pairs and adds groups of four into 16 int32 lanes; the
 * 128 offset comes off at the end, once, through the caller's sum of s */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int32_t rag_idot_avx512(const uint8_t *u, const int8_t *s, int32_t s_sum,
                                                                                size_t n)
{
    __m512i a0 = _mm512_setzero_si512(), a1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + i), _mm512_loadu_si512(s + i));
        a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(u + i + 64), _mm512_loadu_si512(s + i + 64));
    }
    if (i < n) a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(u + i), _mm512_loadu_si512(s + i));
    return _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1)) - 128 * s_sum;
}
