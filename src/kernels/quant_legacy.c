/*
 * quant_legacy.c — scalar reference for the 32-element block types Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0: dequantization, dot products, and ggml's reference weight quantizers.
 *
 * All five dot against Q8_0 activations. ggml pairs Q4_1/Q5_1 with Q8_1 (whose block carries
 * d * sum(q) rounded to F16); we use Q8_0 and sum the activation quants in the dot instead:
 * one activation format for every legacy type, and the offset term is not rounded to F16.
 *
 * Formulas and layouts follow ggml bit for bit (the element order within a block is: the low
 * nibbles of qs[0..15] are elements 0..15, the high nibbles elements 16..31; for 5-bit types
 * bit j of qh is the fifth bit of element j).
 */
#include "kernels/kernels_impl.h"

/* ---- dequantization ------------------------------------------------------------------- */

static void q4_0_to_float(const void *src, float *y, int64_t n)
{
    const block_q4_0 *x = src;
    for (int64_t i = 0; i < n / HEARTH_QK4_0; i++, y += HEARTH_QK4_0) {
        float d = hearth_f16_to_f32(x[i].d);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)((x[i].qs[j] & 0x0f) - 8) * d;
            y[j + 16] = (float)((x[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void q4_1_to_float(const void *src, float *y, int64_t n)
{
    const block_q4_1 *x = src;
    for (int64_t i = 0; i < n / HEARTH_QK4_1; i++, y += HEARTH_QK4_1) {
        float d = hearth_f16_to_f32(x[i].d), m = hearth_f16_to_f32(x[i].m);
        for (int j = 0; j < 16; j++) {
            y[j] = (float)(x[i].qs[j] & 0x0f) * d + m;
            y[j + 16] = (float)(x[i].qs[j] >> 4) * d + m;
        }
    }
}

/* The 32 unsigned 5-bit values of a Q5 block (0..31). */
static void q5_unpack(const uint8_t qs[16], const uint8_t qh_bytes[4], int out[32])
{
    uint32_t qh;
    memcpy(&qh, qh_bytes, sizeof qh);
    for (int j = 0; j < 16; j++) {
        out[j] = (qs[j] & 0x0f) | (int)(((qh >> j) & 1) << 4);
        out[j + 16] = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
    }
}

static void q5_0_to_float(const void *src, float *y, int64_t n)
{
    const block_q5_0 *x = src;
    int q[32];
    for (int64_t i = 0; i < n / HEARTH_QK5_0; i++, y += HEARTH_QK5_0) {
        float d = hearth_f16_to_f32(x[i].d);
        q5_unpack(x[i].qs, x[i].qh, q);
        for (int j = 0; j < 32; j++) y[j] = (float)(q[j] - 16) * d;
    }
}

static void q5_1_to_float(const void *src, float *y, int64_t n)
{
    const block_q5_1 *x = src;
    int q[32];
    for (int64_t i = 0; i < n / HEARTH_QK5_1; i++, y += HEARTH_QK5_1) {
        float d = hearth_f16_to_f32(x[i].d), m = hearth_f16_to_f32(x[i].m);
        q5_unpack(x[i].qs, x[i].qh, q);
        for (int j = 0; j < 32; j++) y[j] = (float)q[j] * d + m;
    }
}

static void q8_0_to_float(const void *src, float *y, int64_t n)
{
    const block_q8_0 *x = src;
    for (int64_t i = 0; i < n / HEARTH_QK8_0; i++, y += HEARTH_QK8_0) {
        float d = hearth_f16_to_f32(x[i].d);
        for (int j = 0; j < 32; j++) y[j] = (float)x[i].qs[j] * d;
    }
}

/* ---- activation quantization (Q8_0) ------------------------------------------------------
 * d = amax / 127 and q = round(x / d) with ties to even (not ggml's roundf: ties to even is
 * what SIMD conversion does, so every level produces the same bytes). */
static void q8_0_from_float(const float *x, void *dst, int64_t n)
{
    block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / HEARTH_QK8_0; i++, x += HEARTH_QK8_0) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = hearth_f32_to_f16(d);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)hearth_round_even(x[j] * id);
    }
}

/* ---- dot products against Q8_0 activations ---------------------------------------------- */

/* One block's contribution: d_w d_a sum((q - off) a) + m_w d_a sum(a), with q the block's
 * unsigned quants and m_w its offset (0 for the symmetric types). */
static float block_dot(const int q[32], int off, hearth_f16 dw, hearth_f16 mw, const block_q8_0 *y)
{
    int isum = 0, asum = 0;
    for (int j = 0; j < 32; j++) {
        isum += (q[j] - off) * y->qs[j];
        asum += y->qs[j];
    }
    float dy = hearth_f16_to_f32(y->d);
    float r = hearth_f16_to_f32(dw) * dy * (float)isum;
    return mw ? r + hearth_f16_to_f32(mw) * dy * (float)asum : r;
}

static void q4_unpack(const uint8_t qs[16], int out[32])
{
    for (int j = 0; j < 16; j++) {
        out[j] = qs[j] & 0x0f;
        out[j + 16] = qs[j] >> 4;
    }
}

static void q4_0_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q4_0 *x = w;
    const block_q8_0 *y = a;
    int q[32];
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK4_0; i++) {
        q4_unpack(x[i].qs, q);
        sum += block_dot(q, 8, x[i].d, 0, &y[i]);
    }
    *s = sum;
}

static void q4_1_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q4_1 *x = w;
    const block_q8_0 *y = a;
    int q[32];
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK4_1; i++) {
        q4_unpack(x[i].qs, q);
        sum += block_dot(q, 0, x[i].d, x[i].m, &y[i]);
    }
    *s = sum;
}

static void q5_0_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q5_0 *x = w;
    const block_q8_0 *y = a;
    int q[32];
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK5_0; i++) {
        q5_unpack(x[i].qs, x[i].qh, q);
        sum += block_dot(q, 16, x[i].d, 0, &y[i]);
    }
    *s = sum;
}

static void q5_1_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q5_1 *x = w;
    const block_q8_0 *y = a;
    int q[32];
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK5_1; i++) {
        q5_unpack(x[i].qs, x[i].qh, q);
        sum += block_dot(q, 0, x[i].d, x[i].m, &y[i]);
    }
    *s = sum;
}

static void q8_0_vec_dot(int64_t n, float *s, const void *w, const void *a)
{
    const block_q8_0 *x = w, *y = a;
    float sum = 0.0f;
    for (int64_t i = 0; i < n / HEARTH_QK8_0; i++) {
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += x[i].qs[j] * y[i].qs[j];
        sum += hearth_f16_to_f32(x[i].d) * hearth_f16_to_f32(y[i].d) * (float)isum;
    }
    *s = sum;
}

/* ---- reference weight quantizers (ggml's rounding, for bit-identical synthesized files) --
 * Float-to-int conversions clamp first, so no input value makes the conversion undefined. */

static int clamp_trunc(float v, int hi)
{
    v = fmaxf(v, 0.0f); /* also maps NaN to 0 */
    return v >= (float)hi ? hi : (int)v;
}

/* The block element with the largest magnitude, sign kept. */
static float signed_absmax(const float *x, int n)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++)
        if (amax < fabsf(x[j])) {
            amax = fabsf(x[j]);
            max = x[j];
        }
    return max;
}

static void min_max(const float *x, int n, float *mn, float *mx)
{
    *mn = x[0];
    *mx = x[0];
    for (int j = 1; j < n; j++) {
        *mn = fminf(*mn, x[j]);
        *mx = fmaxf(*mx, x[j]);
    }
}

void hearth_quantize_row_q4_0(const float *x, void *dst, int64_t n)
{
    block_q4_0 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float d = signed_absmax(x, 32) / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = hearth_f32_to_f16(d);
        for (int j = 0; j < 16; j++) {
            int lo = clamp_trunc(x[j] * id + 8.5f, 15), hi = clamp_trunc(x[j + 16] * id + 8.5f, 15);
            y[i].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

void hearth_quantize_row_q4_1(const float *x, void *dst, int64_t n)
{
    block_q4_1 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float mn, mx;
        min_max(x, 32, &mn, &mx);
        float d = (mx - mn) / 15.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = hearth_f32_to_f16(d);
        y[i].m = hearth_f32_to_f16(mn);
        for (int j = 0; j < 16; j++) {
            int lo = clamp_trunc((x[j] - mn) * id + 0.5f, 15);
            int hi = clamp_trunc((x[j + 16] - mn) * id + 0.5f, 15);
            y[i].qs[j] = (uint8_t)(lo | (hi << 4));
        }
    }
}

/* Packs 32 five-bit values into qs (low nibbles) and qh (fifth bits). */
static void q5_pack(const int q[32], uint8_t qs[16], uint8_t qh_bytes[4])
{
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((q[j] & 0x0f) | ((q[j + 16] & 0x0f) << 4));
        qh |= (uint32_t)((q[j] >> 4) & 1) << j;
        qh |= (uint32_t)((q[j + 16] >> 4) & 1) << (j + 16);
    }
    memcpy(qh_bytes, &qh, sizeof qh);
}

void hearth_quantize_row_q5_0(const float *x, void *dst, int64_t n)
{
    block_q5_0 *y = dst;
    int q[32];
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float d = signed_absmax(x, 32) / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = hearth_f32_to_f16(d);
        for (int j = 0; j < 32; j++) q[j] = clamp_trunc(x[j] * id + 16.5f, 31);
        q5_pack(q, y[i].qs, y[i].qh);
    }
}

void hearth_quantize_row_q5_1(const float *x, void *dst, int64_t n)
{
    block_q5_1 *y = dst;
    int q[32];
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float mn, mx;
        min_max(x, 32, &mn, &mx);
        float d = (mx - mn) / 31.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = hearth_f32_to_f16(d);
        y[i].m = hearth_f32_to_f16(mn);
        for (int j = 0; j < 32; j++) q[j] = clamp_trunc((x[j] - mn) * id + 0.5f, 31);
        q5_pack(q, y[i].qs, y[i].qh);
    }
}

void hearth_quantize_row_q8_0(const float *x, void *dst, int64_t n)
{
    block_q8_0 *y = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        y[i].d = hearth_f32_to_f16(d);
        for (int j = 0; j < 32; j++) {
            float v = roundf(x[j] * id); /* ggml rounds half away from zero here */
            y[i].qs[j] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : v == v ? (int)v : 0);
        }
    }
}

void hearth_kernels_fill_legacy(hearth_kernels *k)
{
    k->to_float[HEARTH_TYPE_Q4_0] = q4_0_to_float;
    k->to_float[HEARTH_TYPE_Q4_1] = q4_1_to_float;
    k->to_float[HEARTH_TYPE_Q5_0] = q5_0_to_float;
    k->to_float[HEARTH_TYPE_Q5_1] = q5_1_to_float;
    k->to_float[HEARTH_TYPE_Q8_0] = q8_0_to_float;
    k->from_float[HEARTH_TYPE_Q8_0] = q8_0_from_float;
    k->vec_dot[HEARTH_TYPE_Q4_0] = q4_0_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q4_1] = q4_1_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q5_0] = q5_0_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q5_1] = q5_1_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q8_0] = q8_0_vec_dot;
    const hearth_type legacy[] = {HEARTH_TYPE_Q4_0, HEARTH_TYPE_Q4_1, HEARTH_TYPE_Q5_0,
                                  HEARTH_TYPE_Q5_1, HEARTH_TYPE_Q8_0};
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++)
        k->vec_dot_type[legacy[i]] = HEARTH_TYPE_Q8_0;
}
