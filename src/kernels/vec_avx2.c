/*
 * vec_avx2.c — AVX2+FMA+F16C versions of the small vector operations: the attention inner
 * loops (F16 K rows dotted with a query, F16 V rows accumulated), norms, softmax and
 * activations. exp() is a polynomial accurate to ~2 ulp over the range the callers use;
 * sums are accumulated in float lanes, so results differ from the scalar reference in the
 * last bits (tests bound the difference).
 */
#include "kernels/simd_x86.h"

/* e^x for 8 lanes: x = n ln2 + r, |r| <= ln2/2, e^r by a degree-6 polynomial, 2^n by
 * building the exponent. Inputs below -87.3 give 0, above 88.7 give +inf. */
static inline __m256 exp_ps(__m256 x)
{
    const __m256 hi = _mm256_set1_ps(88.72283935546875f), lo = _mm256_set1_ps(-87.33654022216797f);
    __m256 under = _mm256_cmp_ps(x, lo, _CMP_LT_OQ), over = _mm256_cmp_ps(x, hi, _CMP_GT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    /* n is in [-126, 128]: scale in two steps so 2^n never has to be a denormal or inf */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    e = _mm256_andnot_ps(under, e);
    return _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), over);
}

static float dot_f32(const float *a, const float *b, int64_t n)
{
    float s;
    hearth_avx2_dot_f32(n, &s, a, b);
    return s;
}

static float dot_f16(const hearth_f16 *a, const float *b, int64_t n)
{
    float s;
    hearth_avx2_dot_f16(n, &s, a, b);
    return s;
}

static void axpy(float *y, float a, const float *x, int64_t n)
{
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16(float *y, float a, const hearth_f16 *x, int64_t n)
{
    __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, hearth_avx2_load_f16(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * hearth_f16c(x[i]);
}

static void scale(float *y, float s, int64_t n)
{
    __m256 vs = _mm256_set1_ps(s);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), vs));
    for (; i < n; i++) y[i] *= s;
}

static void add(float *y, const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) y[i] = a[i] + b[i];
}

static void mul(float *y, const float *a, const float *b, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) y[i] = a[i] * b[i];
}

static void f32_to_f16(hearth_f16 *dst, const float *src, int64_t n)
{
    hearth_avx2_f16_from_float(src, dst, n);
}

static void f16_to_f32(float *dst, const hearth_f16 *src, int64_t n)
{
    hearth_avx2_f16_to_float(src, dst, n);
}

static float sum_sq(const float *x, int64_t n)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        acc0 = _mm256_fmadd_ps(a, a, acc0);
        acc1 = _mm256_fmadd_ps(b, b, acc1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a = _mm256_loadu_ps(x + i);
        acc0 = _mm256_fmadd_ps(a, a, acc0);
    }
    float s = hearth_avx2_hsum(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) s += x[i] * x[i];
    return s;
}

static void rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    float r = 1.0f / sqrtf(sum_sq(x, n) / (float)(n > 0 ? n : 1) + eps);
    __m256 vr = _mm256_set1_ps(r);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vr);
        if (w) v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
        _mm256_storeu_ps(y + i, v);
    }
    for (; i < n; i++) y[i] = w ? x[i] * r * w[i] : x[i] * r;
}

static float vmax(const float *x, int64_t n)
{
    __m256 m = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
    float r = hearth_avx2_hmax(m);
    for (; i < n; i++) r = x[i] > r ? x[i] : r;
    return r;
}

static float softmax(float *x, int64_t n)
{
    float m = vmax(x, n);
    if (m == -INFINITY) {
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return 0.0f;
    }
    __m256 vm = _mm256_set1_ps(m), acc = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    float sum = hearth_avx2_hsum(acc);
    for (; i < n; i++) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    scale(x, 1.0f / sum, n);
    return sum;
}

static inline __m256 silu_ps(__m256 x)
{
    __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x));
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

static void silu(float *y, const float *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, silu_ps(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

static void swiglu(float *y, const float *gate, const float *up, int64_t n)
{
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_mul_ps(silu_ps(_mm256_loadu_ps(gate + i)), _mm256_loadu_ps(up + i)));
    for (; i < n; i++) y[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* 0.5 x (1 + tanh(u)) = x * sigmoid(2u) = x / (1 + e^(-2u)) */
static void gelu(float *y, const float *x, int64_t n)
{
    const __m256 c = _mm256_set1_ps(-2.0f * 0.7978845608028654f), a = _mm256_set1_ps(0.044715f);
    const __m256 one = _mm256_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 u = _mm256_mul_ps(_mm256_mul_ps(c, v), _mm256_fmadd_ps(_mm256_mul_ps(a, v), v, one));
        _mm256_storeu_ps(y + i, _mm256_div_ps(v, _mm256_add_ps(one, exp_ps(u))));
    }
    for (; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * v * (1.0f + 0.044715f * v * v)));
    }
}

/* scores of rows j..j+3 for one query: each query vector load feeds four FMAs */
static inline void scores4(float *out, const hearth_f16 *k0, int64_t stride,
                           const float *q, int64_t d, float scale)
{
    const hearth_f16 *k1 = k0 + stride, *k2 = k1 + stride, *k3 = k2 + stride;
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= d; i += 8) {
        __m256 qv = _mm256_loadu_ps(q + i);
        a0 = _mm256_fmadd_ps(hearth_avx2_load_f16(k0 + i), qv, a0);
        a1 = _mm256_fmadd_ps(hearth_avx2_load_f16(k1 + i), qv, a1);
        a2 = _mm256_fmadd_ps(hearth_avx2_load_f16(k2 + i), qv, a2);
        a3 = _mm256_fmadd_ps(hearth_avx2_load_f16(k3 + i), qv, a3);
    }
    float s[4] = {hearth_avx2_hsum(a0), hearth_avx2_hsum(a1), hearth_avx2_hsum(a2), hearth_avx2_hsum(a3)};
    for (; i < d; i++) {
        s[0] += hearth_f16c(k0[i]) * q[i];
        s[1] += hearth_f16c(k1[i]) * q[i];
        s[2] += hearth_f16c(k2[i]) * q[i];
        s[3] += hearth_f16c(k3[i]) * q[i];
    }
    for (int r = 0; r < 4; r++) out[r] = scale * s[r];
}

/* Four K rows at a time (1 KB at d = 128: it stays in L1 while every head of the group reads
 * it), so each row comes from memory once. */
static void attn_scores_f16(float *scores, const hearth_f16 *k, int64_t stride, int64_t n,
                            const float *q, int64_t nq, int64_t d, float scale)
{
    int64_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (int64_t h = 0; h < nq; h++) scores4(scores + h * n + j, k + j * stride, stride, q + h * d, d, scale);
    for (; j < n; j++)
        for (int64_t h = 0; h < nq; h++) scores[h * n + j] = scale * dot_f16(k + j * stride, q + h * d, d);
}

#define VROWS 16 /* V rows per block: 4 KB at d = 128, reused from L1 by every head */

/* Per head and block of rows, 64 outputs at a time stay in registers while the rows stream. */
static void attn_values_f16(float *o, const float *p, const hearth_f16 *v, int64_t stride,
                            int64_t n, int64_t nq, int64_t d)
{
    for (int64_t j0 = 0; j0 < n; j0 += VROWS) {
        int64_t nj = n - j0 < VROWS ? n - j0 : VROWS;
        const hearth_f16 *vb = v + j0 * stride;
        for (int64_t h = 0; h < nq; h++) {
            float *oh = o + h * d;
            const float *ph = p + h * n + j0;
            int64_t i = 0;
            for (; i + 64 <= d; i += 64) {
                __m256 acc[8];
                for (int c = 0; c < 8; c++) acc[c] = _mm256_loadu_ps(oh + i + 8 * c);
                for (int64_t j = 0; j < nj; j++) {
                    __m256 pj = _mm256_set1_ps(ph[j]);
                    const hearth_f16 *vr = vb + j * stride + i;
                    for (int c = 0; c < 8; c++) acc[c] = _mm256_fmadd_ps(pj, hearth_avx2_load_f16(vr + 8 * c), acc[c]);
                }
                for (int c = 0; c < 8; c++) _mm256_storeu_ps(oh + i + 8 * c, acc[c]);
            }
            for (; i + 8 <= d; i += 8) {
                __m256 acc = _mm256_loadu_ps(oh + i);
                for (int64_t j = 0; j < nj; j++)
                    acc = _mm256_fmadd_ps(_mm256_set1_ps(ph[j]), hearth_avx2_load_f16(vb + j * stride + i), acc);
                _mm256_storeu_ps(oh + i, acc);
            }
            for (; i < d; i++) {
                float s = oh[i];
                for (int64_t j = 0; j < nj; j++) s += ph[j] * hearth_f16c(vb[j * stride + i]);
                oh[i] = s;
            }
        }
    }
}

void hearth_avx2_fill_vec(hearth_vec_ops *v)
{
    v->attn_scores_f16 = attn_scores_f16;
    v->attn_values_f16 = attn_values_f16;
    v->dot_f32 = dot_f32;
    v->dot_f16 = dot_f16;
    v->axpy = axpy;
    v->axpy_f16 = axpy_f16;
    v->scale = scale;
    v->add = add;
    v->mul = mul;
    v->f32_to_f16 = f32_to_f16;
    v->f16_to_f32 = f16_to_f32;
    v->rmsnorm = rmsnorm;
    v->softmax = softmax;
    v->silu = silu;
    v->swiglu = swiglu;
    v->gelu = gelu;
    v->max = vmax;
}
