/* vdot.c — the portable dot products, 8-bit quantization, run-time selection of the SIMD ones. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rag/vdot.h"

/* Sixteen independent partial sums: the compiler turns the inner loop into vector adds at
 * any SIMD width, and the summation order (hence the result) does not depend on it. */
float rag_dot_scalar(const float *a, const float *b, size_t n)
{
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++) acc[j] += a[i + j] * b[i + j];
    float s = 0;
    for (; i < n; i++) s += a[i] * b[i];
    for (size_t j = 0; j < 16; j++) s += acc[j];
    return s;
}

rag_dot_fn rag_dot_get(void)
{
    const char *force = getenv("HEARTH_CPU");
    __builtin_cpu_init();
    bool avx512 = __builtin_cpu_supports("avx512f");
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (force && !strcmp(force, "scalar")) return rag_dot_scalar;
    if (force && !strcmp(force, "avx2") && avx2) return rag_dot_avx2;
    if (avx512) return rag_dot_avx512;
    if (avx2) return rag_dot_avx2;
    return rag_dot_scalar;
}

/* Largest finite magnitude; NaN and infinities (a corrupt blob) are coded as 0 below. */
static float absmax(const float *x, size_t dim)
{
    float m = 0;
    for (size_t d = 0; d < dim; d++)
        if (isfinite(x[d])) m = fmaxf(m, fabsf(x[d]));
    return m;
}

static inline int code(float v, float inv)
{
    if (!isfinite(v)) return 0;
    long r = lrintf(v * inv); /* |v * inv| <= 127 for finite v, up to rounding of inv */
    return r > 127 ? 127 : r < -127 ? -127 : (int)r;
}

float rag_quant_u8(const float *x, size_t dim, size_t padded, uint8_t *u)
{
    float m = absmax(x, dim), inv = m > 0 ? 127.0f / m : 0;
    for (size_t d = 0; d < dim; d++) u[d] = (uint8_t)(128 + code(x[d], inv));
    memset(u + dim, 128, padded - dim);
    return m / 127.0f;
}

float rag_quant_s8(const float *q, size_t dim, size_t padded, int8_t *s, int32_t *sum)
{
    float m = absmax(q, dim), inv = m > 0 ? 127.0f / m : 0;
    int32_t t = 0;
    for (size_t d = 0; d < dim; d++) t += s[d] = (int8_t)code(q[d], inv);
    memset(s + dim, 0, padded - dim);
    *sum = t;
    return m / 127.0f;
}

int32_t rag_idot_scalar(const uint8_t *u, const int8_t *s, int32_t s_sum, size_t n)
{
    (void)s_sum;
    int32_t acc = 0;
    for (size_t i = 0; i < n; i++) acc += ((int32_t)u[i] - 128) * s[i];
    return acc;
}

rag_idot_fn rag_idot_get(void)
{
    const char *force = getenv("HEARTH_CPU");
    __builtin_cpu_init();
    bool avx512 = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
    bool avx2 = __builtin_cpu_supports("avx2");
    if (force && !strcmp(force, "scalar")) return rag_idot_scalar;
    if (force && !strcmp(force, "avx2") && avx2) return rag_idot_avx2;
    if (avx512) return rag_idot_avx512;
    if (avx2) return rag_idot_avx2;
    return rag_idot_scalar;
}
