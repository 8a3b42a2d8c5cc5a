/*
 * kernels_impl.h — how the kernel tables are assembled (private to src/kernels/).
 *
 * Each file fills the entries of one type family at one level. The scalar level fills every
 * entry; a SIMD level starts from a copy of the scalar table and overrides what it speeds up,
 * so a type without a SIMD version still works there (at scalar speed).
 */
#ifndef HEARTH_KERNELS_IMPL_H
#define HEARTH_KERNELS_IMPL_H

#include <math.h>
#include <string.h>

#include "kernels/kernels.h"

/* scalar reference: float.c, quant_legacy.c, quant_k.c, vec.c */
void hearth_kernels_fill_float(hearth_kernels *k);
void hearth_kernels_fill_legacy(hearth_kernels *k);
void hearth_kernels_fill_kquant(hearth_kernels *k);
void hearth_kernels_fill_vec(hearth_vec_ops *v);
/* SIMD levels (kernels_avx2.c, kernels_avx512.c, ...): override entries of a scalar copy */
void hearth_kernels_fill_avx2(hearth_kernels *k);
void hearth_kernels_fill_avx512(hearth_kernels *k, bool has_bf16);
/* AMX (gemm_amx.c): asks Linux for tile state (false: refused); then the gemm entries */
bool hearth_amx_enable(void);
void hearth_amx_fill_gemm(hearth_kernels *k);

/* Reference weight quantizers (hearth_quantize): one row of n floats into type T's blocks. */
void hearth_quantize_row_q4_0(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q4_1(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q5_0(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q5_1(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q8_0(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q2_K(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q3_K(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q4_K(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q5_K(const float *x, void *dst, int64_t n);
void hearth_quantize_row_q6_K(const float *x, void *dst, int64_t n);

/* A k-quant super-block unpacked (quant_k.c): value[e] = (d * sc[e/16]) * q[e] - dmin * m[e/16].
 * q is unsigned for Q2_K/Q4_K/Q5_K, signed for Q3_K (-4..3) and Q6_K (-32..31); types with
 * 32-element sub-blocks repeat their scale and min for both 16-element halves. */
typedef struct hearth_kblock {
    int8_t q[HEARTH_QK_K];
    int16_t sc[16], m[16];
    float d, dmin;
} hearth_kblock;
void hearth_kblock_unpack(hearth_type t, const void *block, hearth_kblock *out);

/* Round to nearest, ties to even, for |x| < 2^22 — the same result as SIMD cvtps with the
 * default rounding mode, so scalar and SIMD activation quantizers agree bit for bit. */
static inline int hearth_round_even(float x)
{
    float v = x + 12582912.0f; /* 1.5 * 2^23: the sum's low mantissa bits hold round(x) */
    int32_t i;
    memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

/* Q4_K / Q5_K: the 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes. */
static inline void hearth_k4_scale_min(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Q3_K: the 16 signed 6-bit scales (already minus 32) from the 12 packed bytes. */
static inline void hearth_q3k_scales(const uint8_t *packed, int8_t out[16])
{
    for (int i = 0; i < 16; i++) {
        int lo = i < 8 ? packed[i] & 0x0f : packed[i - 8] >> 4;
        int hi = (packed[8 + (i & 3)] >> (2 * (i >> 2))) & 3;
        out[i] = (int8_t)((lo | (hi << 4)) - 32);
    }
}

#endif
