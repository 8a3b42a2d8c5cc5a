/*
 * vec.c — scalar reference for the small vector operations (norms, activations, softmax,
 * F16 K/V rows), and the hearth_vec_* entry points that dispatch to the selected level.
 *
 * Reductions that set a scale for a whole row (norms, softmax sum) accumulate in double here:
 * this is the reference the SIMD versions are tested against.
 */
#include <stdatomic.h>

#include "kernels/kernels_impl.h"

static float dot_f32(const float *a, const float *b, int64_t n)
{
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static float dot_f16(const hearth_f16 *a, const float *b, int64_t n)
{
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += hearth_f16_to_f32(a[i]) * b[i];
    return s;
}

static void axpy(float *y, float a, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

static void axpy_f16(float *y, float a, const hearth_f16 *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * hearth_f16_to_f32(x[i]);
}

static void scale(float *y, float s, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] *= s;
}

static void add(float *y, const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static void mul(float *y, const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

static void f32_to_f16(hearth_f16 *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = hearth_f32_to_f16(src[i]);
}

static void f16_to_f32(float *dst, const hearth_f16 *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] = hearth_f16_to_f32(src[i]);
}

static void rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float r = (float)(1.0 / sqrt(ss / (double)(n > 0 ? n : 1) + eps));
    for (int64_t i = 0; i < n; i++) y[i] = w ? x[i] * r * w[i] : x[i] * r;
}

static void layernorm(float *y, const float *x, const float *w, const float *b, int64_t n,
                      float eps)
{
    double sum = 0.0, var = 0.0;
    for (int64_t i = 0; i < n; i++) sum += x[i];
    float mean = (float)(sum / (double)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++) var += (double)(x[i] - mean) * (x[i] - mean);
    float r = (float)(1.0 / sqrt(var / (double)(n > 0 ? n : 1) + eps));
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - mean) * r;
        if (w) v *= w[i];
        if (b) v += b[i];
        y[i] = v;
    }
}

static float vmax(const float *x, int64_t n)
{
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    return m;
}

static float softmax(float *x, int64_t n)
{
    float m = vmax(x, n);
    if (m == -INFINITY) { /* empty or fully masked row: all zeros */
        for (int64_t i = 0; i < n; i++) x[i] = 0.0f;
        return 0.0f;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - m);
        sum += x[i];
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
    return (float)sum;
}

static void silu(float *y, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

static void swiglu(float *y, const float *gate, const float *up, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = gate[i] / (1.0f + expf(-gate[i])) * up[i];
}

/* tanh approximation, the form GGUF BERT models are trained and converted with */
static void gelu(float *y, const float *x, int64_t n)
{
    const float c = 0.7978845608028654f, a = 0.044715f; /* sqrt(2/pi) */
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf(c * v * (1.0f + a * v * v)));
    }
}

static void attn_scores_f16(float *scores, const hearth_f16 *k, int64_t stride, int64_t n,
                            const float *q, int64_t nq, int64_t d, float scale)
{
    for (int64_t j = 0; j < n; j++)
        for (int64_t h = 0; h < nq; h++) scores[h * n + j] = scale * dot_f16(k + j * stride, q + h * d, d);
}

static void attn_values_f16(float *o, const float *p, const hearth_f16 *v, int64_t stride,
                            int64_t n, int64_t nq, int64_t d)
{
    for (int64_t j = 0; j < n; j++)
        for (int64_t h = 0; h < nq; h++) axpy_f16(o + h * d, p[h * n + j], v + j * stride, d);
}

void hearth_kernels_fill_vec(hearth_vec_ops *v)
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
    v->layernorm = layernorm;
    v->softmax = softmax;
    v->silu = silu;
    v->swiglu = swiglu;
    v->gelu = gelu;
    v->max = vmax;
}

/* ---- dispatching entry points --------------------------------------------------------- */

static _Atomic(const hearth_vec_ops *) ops_cache;

static const hearth_vec_ops *ops(void)
{
    const hearth_vec_ops *v = atomic_load_explicit(&ops_cache, memory_order_acquire);
    if (!v) {
        v = &hearth_kernels_get()->vec;
        atomic_store_explicit(&ops_cache, v, memory_order_release);
    }
    return v;
}

float hearth_vec_dot_f32(const float *a, const float *b, int64_t n) { return ops()->dot_f32(a, b, n); }
float hearth_vec_dot_f16(const hearth_f16 *a, const float *b, int64_t n) { return ops()->dot_f16(a, b, n); }
void hearth_vec_axpy(float *y, float a, const float *x, int64_t n) { ops()->axpy(y, a, x, n); }
void hearth_vec_axpy_f16(float *y, float a, const hearth_f16 *x, int64_t n) { ops()->axpy_f16(y, a, x, n); }
void hearth_vec_scale(float *y, float s, int64_t n) { ops()->scale(y, s, n); }
void hearth_vec_add(float *y, const float *a, const float *b, int64_t n) { ops()->add(y, a, b, n); }
void hearth_vec_mul(float *y, const float *a, const float *b, int64_t n) { ops()->mul(y, a, b, n); }
void hearth_vec_f32_to_f16(hearth_f16 *dst, const float *src, int64_t n) { ops()->f32_to_f16(dst, src, n); }
void hearth_vec_f16_to_f32(float *dst, const hearth_f16 *src, int64_t n) { ops()->f16_to_f32(dst, src, n); }
void hearth_vec_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) { ops()->rmsnorm(y, x, w, n, eps); }
void hearth_vec_layernorm(float *y, const float *x, const float *w, const float *b, int64_t n, float eps)
{
    ops()->layernorm(y, x, w, b, n, eps);
}
float hearth_vec_softmax(float *x, int64_t n) { return ops()->softmax(x, n); }
void hearth_vec_silu(float *y, const float *x, int64_t n) { ops()->silu(y, x, n); }
void hearth_vec_swiglu(float *y, const float *gate, const float *up, int64_t n) { ops()->swiglu(y, gate, up, n); }
void hearth_vec_gelu(float *y, const float *x, int64_t n) { ops()->gelu(y, x, n); }
float hearth_vec_max(const float *x, int64_t n) { return ops()->max(x, n); }
void hearth_vec_attn_scores_f16(float *scores, const hearth_f16 *k, int64_t stride, int64_t n,
                                const float *q, int64_t nq, int64_t d, float scale)
{
    ops()->attn_scores_f16(scores, k, stride, n, q, nq, d, scale);
}
void hearth_vec_attn_values_f16(float *o, const float *p, const hearth_f16 *v, int64_t stride,
                                int64_t n, int64_t nq, int64_t d)
{
    ops()->attn_values_f16(o, p, v, stride, n, nq, d);
}
