/*
 * simd_x86.h — small inline helpers shared by the *_avx2.c / *_avx512.c kernel files (only
 * those files include it: they are the ones compiled with the -m flags).
 */
#ifndef HEARTH_KERNELS_SIMD_X86_H
#define HEARTH_KERNELS_SIMD_X86_H

#include <immintrin.h>

#include "kernels/kernels_impl.h"

/* Dequantization must round exactly like the scalar reference: never fuse a*b-c into one
 * FMA behind our back (gcc in ISO C mode already does not; clang would). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

/* AVX2 entry points per family (each file fills its own entries). */
void hearth_avx2_fill_float(hearth_kernels *k);
void hearth_avx2_fill_legacy(hearth_kernels *k);
void hearth_avx2_fill_kquant(hearth_kernels *k);
void hearth_avx2_fill_vec(hearth_vec_ops *v);
void hearth_avx2_fill_gemm(hearth_kernels *k);
void hearth_avx2_fill_float_gemm(hearth_kernels *k);
/* float_avx2.c kernels the vector operations reuse */
void hearth_avx2_f16_to_float(const void *src, float *dst, int64_t n);
void hearth_avx2_f16_from_float(const float *src, void *dst, int64_t n);
void hearth_avx2_dot_f32(int64_t n, float *s, const void *w, const void *a);
void hearth_avx2_dot_f16(int64_t n, float *s, const void *w, const void *a);
void hearth_avx512_fill_float(hearth_kernels *k, bool has_bf16);
void hearth_avx512_fill_gemm(hearth_kernels *k);
void hearth_avx512_fill_kquant(hearth_kernels *k);
void hearth_avx512_fill_legacy(hearth_kernels *k);
void hearth_avx512_fill_vec(hearth_vec_ops *v);

/* Decode streams every weight from DRAM once per token. The out-of-order window alone keeps
 * too few cache-line misses in flight: a Q8_0 mat-vec reached ~5.5 GB/s per thread where a
 * plain read loop gets ~11. So the dots ask for their bytes twice ahead of use:
 *   - 4 KB ahead into L2 (T1): enough misses in flight to reach the bandwidth, without taking
 *     the 16 L1 fill buffers (T0 at this distance held them, and the loads queued behind);
 *   - 512 B ahead into L1 (T0): the lines are in L2 by then, and the kernel's loads no longer
 *     wait out L2's latency one after another.
 * Streaming 1 GB of 3072x1024 matrices on 2 threads (bench_matmul BENCH_CYCLE) the T0-4K
 * scheme gave Q8_0/Q4_K/Q6_K 23.4/15.9/21.1 GB/s, T1-4K alone 25.0/18.6/21.0 (with today's
 * kernels 23.4/21.2/25.0), both stages 26.2/23.5/26.5 (memory: ~28).
 * Prefetches never fault, and cost nothing measurable when the data is already cached. */
#ifndef HEARTH_PREFETCH_AHEAD
#define HEARTH_PREFETCH_AHEAD 4096
#endif
#ifndef HEARTH_PREFETCH_NEAR
#define HEARTH_PREFETCH_NEAR 512
#endif
#ifndef HEARTH_PREFETCH_HINT
#define HEARTH_PREFETCH_HINT _MM_HINT_T1
#endif
static inline void hearth_prefetch_ahead(const void *p, size_t bytes)
{
    for (size_t o = 0; o < bytes; o += 64) {
        _mm_prefetch((const char *)p + HEARTH_PREFETCH_AHEAD + o, HEARTH_PREFETCH_HINT);
        _mm_prefetch((const char *)p + HEARTH_PREFETCH_NEAR + o, _MM_HINT_T0);
    }
}

/* One F16 scale to float with F16C (same value as hearth_f16_to_f32, without the branches). */
static inline float hearth_f16c(hearth_f16 h)
{
    return _cvtsh_ss(h);
}

static inline float hearth_avx2_hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline int32_t hearth_avx2_hsum_i32(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

static inline float hearth_avx2_hmax(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __m256 hearth_avx2_load_f16(const hearth_f16 *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

/* bf16 -> f32 is a 16-bit left shift of the bits (exact). */
static inline __m256 hearth_avx2_load_bf16(const hearth_bf16 *p)
{
    __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

/* Sum of the 32 products of signed bytes w and a, as 8 int32 lanes (exact: |w| <= 128,
 * |a| <= 127 keeps maddubs's int16 pair sums below saturation). */
static inline __m256i hearth_avx2_dot_i8(__m256i w, __m256i a)
{
#ifdef __AVX512VNNI__ /* the legacy and k-quant files compiled again for the AVX-512 level */
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
#else
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
    return _mm256_madd_epi16(p, _mm256_set1_epi16(1));
#endif
}

#endif
