/* vdot.c — the portable dot product and run-time selection of the SIMD ones. */
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
