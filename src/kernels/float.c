/*
 * float.c — scalar reference kernels for the float weight types F32, F16 and BF16.
 *
 * Activations stay F32 for all three (vec_dot_type = F32): converting them to F16/BF16 would
 * round every activation for no gain on a memory-bound mat-vec.
 */
#include "kernels/kernels_impl.h"

static void f32_to_float(const void *src, float *dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void f16_to_float(const void *src, float *dst, int64_t n)
{
    const hearth_f16 *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = hearth_f16_to_f32(s[i]);
}

static void bf16_to_float(const void *src, float *dst, int64_t n)
{
    const hearth_bf16 *s = src;
    for (int64_t i = 0; i < n; i++) dst[i] = hearth_bf16_to_f32(s[i]);
}

static void f32_from_float(const float *src, void *dst, int64_t n)
{
    memcpy(dst, src, (size_t)n * sizeof(float));
}

static void f16_from_float(const float *src, void *dst, int64_t n)
{
    hearth_f16 *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = hearth_f32_to_f16(src[i]);
}

static void bf16_from_float(const float *src, void *dst, int64_t n)
{
    hearth_bf16 *d = dst;
    for (int64_t i = 0; i < n; i++) d[i] = hearth_f32_to_bf16(src[i]);
}

static void f32_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const float *x = w, *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * y[i];
    *s = sum;
}

static void f16_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const hearth_f16 *x = w;
    const float *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += hearth_f16_to_f32(x[i]) * y[i];
    *s = sum;
}

static void bf16_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const hearth_bf16 *x = w;
    const float *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += hearth_bf16_to_f32(x[i]) * y[i];
    *s = sum;
}

void hearth_kernels_fill_float(hearth_kernels *k)
{
    k->to_float[HEARTH_TYPE_F32] = f32_to_float;
    k->to_float[HEARTH_TYPE_F16] = f16_to_float;
    k->to_float[HEARTH_TYPE_BF16] = bf16_to_float;
    k->from_float[HEARTH_TYPE_F32] = f32_from_float;
    k->from_float[HEARTH_TYPE_F16] = f16_from_float;
    k->from_float[HEARTH_TYPE_BF16] = bf16_from_float;
    k->vec_dot[HEARTH_TYPE_F32] = f32_vec_dot;
    k->vec_dot[HEARTH_TYPE_F16] = f16_vec_dot;
    k->vec_dot[HEARTH_TYPE_BF16] = bf16_vec_dot;
    k->vec_dot_type[HEARTH_TYPE_F32] = HEARTH_TYPE_F32;
    k->vec_dot_type[HEARTH_TYPE_F16] = HEARTH_TYPE_F32;
    k->vec_dot_type[HEARTH_TYPE_BF16] = HEARTH_TYPE_F32;
}
