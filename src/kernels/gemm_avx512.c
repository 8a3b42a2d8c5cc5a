/*
 * gemm_avx512.c — batched-prefill tiles for every quantized weight type with AVX-512 VNNI.
 *
 * Layout ("rows in lanes"): a panel of 16 weight rows is repacked so that one 512-bit
 * register holds 4 consecutive weight bytes of each of the 16 rows. vpdpbusd then multiplies
 * it by 4 activation bytes of one token broadcast to all lanes, accumulating 16 rows' dot
 * products at once: 64 multiply-adds per instruction, with the activations read straight from
 * their Q8_0/Q8_K blocks (the broadcast is a memory operand).
 *
 * The per-type description (u, s, o, off) and the panel packing are in gemm_common.h. A
 * panel covers KC elements at a time so it stays in L1 while every token of the tile streams
 * past it.
 */
#include "kernels/gemm_common.h"

#define PANEL_ROWS 16
#define PANEL_ALIGN 64
#define KC 1024       /* elements of K per panel (a multiple of every block size)        */
#define TT 8          /* tokens computed together (independent dependency chains)        */
#define UNROLL_TT _Pragma("GCC unroll 8")

/* tt (a compile-time constant after inlining) tokens against the packed panel; accumulates
 * into y when `add`, else stores. */
static inline __attribute__((always_inline)) void
panel_tokens(const gemm_desc *D, const uint8_t *panel, int64_t g0, int64_t ng, const uint8_t *a,
             size_t a_stride, const uint8_t *aux, size_t aux_stride, int64_t ng_total, int tt,
             float *y, int64_t ldy, int nr, bool add)
{
    const __mmask16 mask = (__mmask16)((1u << nr) - 1);
    const int ns = D->G / 4;
    const size_t pstride = panel_group_bytes(D, PANEL_ROWS);
    __m512 acc[TT];
    /* the token loops must unroll completely, or acc[] lives in memory */
    UNROLL_TT
    for (int t = 0; t < tt; t++) acc[t] = _mm512_setzero_ps();
    for (int64_t gl = 0; gl < ng; gl++) {
        const uint8_t *pg = panel + (size_t)gl * pstride;
        int64_t g = g0 + gl, e = g * D->G;
        size_t aoff = (size_t)(e / D->ablock) * D->abytes + D->aqs + (size_t)(e % D->ablock);
        __m512i wv[8];
        for (int k = 0; k < ns; k++) wv[k] = _mm512_load_si512((const void *)(pg + k * 64));
        __m512 s = _mm512_load_ps((const float *)(pg + ns * 64));
        __m512 o = D->has_min ? _mm512_load_ps((const float *)(pg + ns * 64 + 64)) : s;
        UNROLL_TT
        for (int t = 0; t < tt; t++) {
            const uint8_t *at = a + (size_t)t * a_stride + aoff;
            const uint8_t *xt = aux + (size_t)t * aux_stride;
            __m512i isum = _mm512_set1_epi32(-load_i32(xt + 4 * g));
            for (int k = 0; k < ns; k++)
                isum = _mm512_dpbusd_epi32(isum, wv[k], _mm512_set1_epi32(load_i32(at + 4 * k)));
            acc[t] = scale_group16(D, acc[t], isum, s, o, xt, ng_total, g);
        }
    }
    UNROLL_TT
    for (int t = 0; t < tt; t++) {
        float *yt = y + t * ldy;
        __m512 v = acc[t];
        if (add) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, yt));
        _mm512_mask_storeu_ps(yt, mask, v);
    }
}

GEMM_DRIVER()

GEMM_TYPE(q8_0)
GEMM_TYPE(q4_0)
GEMM_TYPE(q4_1)
GEMM_TYPE(q5_0)
GEMM_TYPE(q5_1)
GEMM_TYPE(q2_K)
GEMM_TYPE(q3_K)
GEMM_TYPE(q4_K)
GEMM_TYPE(q5_K)
GEMM_TYPE(q6_K)

void hearth_avx512_fill_gemm(hearth_kernels *k)
{
    GEMM_SET(HEARTH_TYPE_Q8_0, q8_0);
    GEMM_SET(HEARTH_TYPE_Q4_0, q4_0);
    GEMM_SET(HEARTH_TYPE_Q4_1, q4_1);
    GEMM_SET(HEARTH_TYPE_Q5_0, q5_0);
    GEMM_SET(HEARTH_TYPE_Q5_1, q5_1);
    GEMM_SET(HEARTH_TYPE_Q2_K, q2_K);
    GEMM_SET(HEARTH_TYPE_Q3_K, q3_K);
    GEMM_SET(HEARTH_TYPE_Q4_K, q4_K);
    GEMM_SET(HEARTH_TYPE_Q5_K, q5_K);
    GEMM_SET(HEARTH_TYPE_Q6_K, q6_K);
}
