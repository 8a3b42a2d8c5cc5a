/*
 * float_avx2.c — AVX2+FMA+F16C kernels for the float weight types (F32, F16, BF16 weights
 * against F32 activations): conversions (bit-exact with the scalar reference) and dots.
 */
#include "kernels/simd_x86.h"

void hearth_avx2_f16_to_float(const void *src, float *dst, int64_t n)
{
    const hearth_f16 *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + i))));
    for (; i < n; i++) dst[i] = hearth_f16_to_f32(s[i]);
}

void hearth_avx2_f16_from_float(const float *src, void *dst, int64_t n)
{
    hearth_f16 *d = dst;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(d + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) d[i] = hearth_f32_to_f16(src[i]);
}

static void bf16_to_float(const void *src, float *dst, int64_t n)
{
    const hearth_bf16 *s = src;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, hearth_avx2_load_bf16(s + i));
    for (; i < n; i++) dst[i] = hearth_bf16_to_f32(s[i]);
}

enum { W_F32, W_F16, W_BF16 };

static inline __m256 load8(int wt, const void *w, int64_t i)
{
    if (wt == W_F32) return _mm256_loadu_ps((const float *)w + i);
    if (wt == W_F16) return hearth_avx2_load_f16((const hearth_f16 *)w + i);
    return hearth_avx2_load_bf16((const hearth_bf16 *)w + i);
}

static inline float load1(int wt, const void *w, int64_t i)
{
    if (wt == W_F32) return ((const float *)w)[i];
    if (wt == W_F16) return hearth_f16c(((const hearth_f16 *)w)[i]);
    return hearth_bf16_to_f32(((const hearth_bf16 *)w)[i]);
}

/* dot of float weights (kind wt, a constant after inlining) with F32 activations, 4 chains */
static inline __attribute__((always_inline)) float dot(int wt, int64_t n, const void *w, const float *y)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    int64_t i = 0;
    const size_t esize = wt == W_F32 ? 4 : 2;
    for (; i + 32 <= n; i += 32) {
        hearth_prefetch_ahead((const char *)w + (size_t)i * esize, 32 * esize);
        acc0 = _mm256_fmadd_ps(load8(wt, w, i), _mm256_loadu_ps(y + i), acc0);
        acc1 = _mm256_fmadd_ps(load8(wt, w, i + 8), _mm256_loadu_ps(y + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(load8(wt, w, i + 16), _mm256_loadu_ps(y + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(load8(wt, w, i + 24), _mm256_loadu_ps(y + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(load8(wt, w, i), _mm256_loadu_ps(y + i), acc0);
    float sum = hearth_avx2_hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) sum += load1(wt, w, i) * y[i];
    return sum;
}

void hearth_avx2_dot_f32(int64_t n, float *s, const void *w, const void *a) { *s = dot(W_F32, n, w, a); }
void hearth_avx2_dot_f16(int64_t n, float *s, const void *w, const void *a) { *s = dot(W_F16, n, w, a); }
static void bf16_vec_dot(int64_t n, float *s, const void *w, const void *a) { *s = dot(W_BF16, n, w, a); }

void hearth_avx2_fill_float(hearth_kernels *k)
{
    k->to_float[HEARTH_TYPE_F16] = hearth_avx2_f16_to_float;
    k->to_float[HEARTH_TYPE_BF16] = bf16_to_float;
    k->from_float[HEARTH_TYPE_F16] = hearth_avx2_f16_from_float;
    k->vec_dot[HEARTH_TYPE_F32] = hearth_avx2_dot_f32;
    k->vec_dot[HEARTH_TYPE_F16] = hearth_avx2_dot_f16;
    k->vec_dot[HEARTH_TYPE_BF16] = bf16_vec_dot;
}
