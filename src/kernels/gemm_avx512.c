/*
 * gemm_avx512.c — batched-prefill tiles for every quantized weight type with AVX-512 VNNI.
 *
 * Layout ("rows in lanes"): a panel of 16 weight rows is repacked so that one 512-bit
 * register holds 4 consecutive weight bytes of each of the 16 rows. vpdpbusd then multiplies
 * it by 4 activation bytes of one token broadcast to all lanes, accumulating 16 rows' dot
 * products at once: 64 multiply-adds per instruction, with the activations read straight from
 * their Q8_0/Q8_K blocks (the broadcast is a memory operand).
 *
 * Every type is described the same way: weights become unsigned bytes u per group of G
 * elements, with value = s * (u - off) + o per group (s, o floats per row and group; off an
 * integer constant). So a group's contribution for one token is
 *     da * (s * (sum u*a - off * sum a)) + o * da * sum a
 * where the integer part is exact (off * sum a comes precomputed in aux, once per matmul) and
 * only the last two terms are float. The panel covers KC elements at a time so it stays in
 * L1 while every token of the tile streams past it.
 */
#include "kernels/simd_x86.h"

#define PANEL_ROWS 16
#define KC 1024       /* elements of K per panel (a multiple of every block size)        */
#define TT 8          /* tokens computed together (independent dependency chains)        */
#define UNROLL_TT _Pragma("GCC unroll 8")

typedef struct gemm_desc {
    int G, off;
    bool has_min;
    int wblock;       /* weight block elements and bytes                                   */
    size_t wbytes;
    int ablock;       /* activation block: elements, bytes, offset of qs, d is f16?       */
    size_t abytes, aqs;
    bool a_f16;
    /* one weight block -> u[wblock], s[wblock / G], o[wblock / G] */
    void (*unpack)(const uint8_t *blk, uint8_t *u, float *s, float *o);
} gemm_desc;

/* ---- per-type unpacking into (u, s, o) ---------------------------------------------------- */

static void unpack_q8_0(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q8_0 *x = (const block_q8_0 *)blk;
    for (int j = 0; j < 32; j++) u[j] = (uint8_t)(x->qs[j] ^ 0x80); /* q + 128 */
    s[0] = hearth_f16c(x->d);
    o[0] = 0.0f;
}

static void nibbles(const uint8_t *qs, uint8_t *u)
{
    for (int j = 0; j < 16; j++) {
        u[j] = qs[j] & 0x0f;
        u[j + 16] = qs[j] >> 4;
    }
}

static void fifth_bits(const uint8_t *qh_bytes, uint8_t *u)
{
    uint32_t qh;
    memcpy(&qh, qh_bytes, sizeof qh);
    for (int j = 0; j < 32; j++) u[j] |= (uint8_t)(((qh >> j) & 1) << 4);
}

static void unpack_q4_0(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q4_0 *x = (const block_q4_0 *)blk;
    nibbles(x->qs, u);
    s[0] = hearth_f16c(x->d);
    o[0] = 0.0f;
}

static void unpack_q4_1(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q4_1 *x = (const block_q4_1 *)blk;
    nibbles(x->qs, u);
    s[0] = hearth_f16c(x->d);
    o[0] = hearth_f16c(x->m);
}

static void unpack_q5_0(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q5_0 *x = (const block_q5_0 *)blk;
    nibbles(x->qs, u);
    fifth_bits(x->qh, u);
    s[0] = hearth_f16c(x->d);
    o[0] = 0.0f;
}

static void unpack_q5_1(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q5_1 *x = (const block_q5_1 *)blk;
    nibbles(x->qs, u);
    fifth_bits(x->qh, u);
    s[0] = hearth_f16c(x->d);
    o[0] = hearth_f16c(x->m);
}

/* k-quants through the common unpacked form; qoff makes signed q unsigned, step is the
 * group size in 16-element units (2 for the 32-element sub-blocks of Q4_K/Q5_K). */
static inline void unpack_k(hearth_type t, const uint8_t *blk, uint8_t *u, float *s, float *o,
                            int qoff, int step)
{
    hearth_kblock b;
    hearth_kblock_unpack(t, blk, &b);
    for (int j = 0; j < HEARTH_QK_K; j++) u[j] = (uint8_t)(b.q[j] + qoff);
    for (int g = 0; g < 16 / step; g++) {
        s[g] = b.d * (float)b.sc[g * step];
        o[g] = -(b.dmin * (float)b.m[g * step]);
    }
}

static void unpack_q2_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q2_K, blk, u, s, o, 0, 1); }
static void unpack_q3_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q3_K, blk, u, s, o, 4, 1); }
static void unpack_q4_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q4_K, blk, u, s, o, 0, 2); }
static void unpack_q5_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q5_K, blk, u, s, o, 0, 2); }
static void unpack_q6_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q6_K, blk, u, s, o, 32, 1); }

#define LEGACY(G_, off_, min_, T, fn) \
    {G_, off_, min_, 32, sizeof(T), 32, sizeof(block_q8_0), offsetof(block_q8_0, qs), true, fn}
#define KQ(G_, off_, min_, T, fn) \
    {G_, off_, min_, 256, sizeof(T), 256, sizeof(block_q8_K), offsetof(block_q8_K, qs), false, fn}

static const gemm_desc d_q8_0 = LEGACY(32, 128, false, block_q8_0, unpack_q8_0);
static const gemm_desc d_q4_0 = LEGACY(32, 8, false, block_q4_0, unpack_q4_0);
static const gemm_desc d_q4_1 = LEGACY(32, 0, true, block_q4_1, unpack_q4_1);
static const gemm_desc d_q5_0 = LEGACY(32, 16, false, block_q5_0, unpack_q5_0);
static const gemm_desc d_q5_1 = LEGACY(32, 0, true, block_q5_1, unpack_q5_1);
static const gemm_desc d_q2_K = KQ(16, 0, true, block_q2_K, unpack_q2_K);
static const gemm_desc d_q3_K = KQ(16, 4, false, block_q3_K, unpack_q3_K);
static const gemm_desc d_q4_K = KQ(32, 0, true, block_q4_K, unpack_q4_K);
static const gemm_desc d_q5_K = KQ(32, 0, true, block_q5_K, unpack_q5_K);
static const gemm_desc d_q6_K = KQ(16, 32, false, block_q6_K, unpack_q6_K);

/* ---- aux: per activation row and group, [ng] int32 off*sum(a), [ng] float da,
 *      [ng] float da*sum(a) ------------------------------------------------------------------ */

static size_t aux_size(const gemm_desc *D, int64_t n)
{
    return (size_t)(n / D->G) * 12;
}

static void aux_fill(const gemm_desc *D, const void *arow, int64_t n, void *aux)
{
    int64_t ng = n / D->G;
    int32_t *ioff = aux;
    float *da = (float *)aux + ng, *b = (float *)aux + 2 * ng;
    const uint8_t *a = arow;
    for (int64_t g = 0; g < ng; g++) {
        int64_t e = g * D->G;
        const uint8_t *blk = a + (size_t)(e / D->ablock) * D->abytes;
        const int8_t *q = (const int8_t *)(blk + D->aqs) + e % D->ablock;
        int32_t sum = 0;
        for (int j = 0; j < D->G; j++) sum += q[j];
        float d;
        if (D->a_f16) d = hearth_f16c(*(const hearth_f16 *)blk);
        else memcpy(&d, blk, sizeof d);
        ioff[g] = D->off * sum;
        da[g] = d;
        b[g] = d * (float)sum;
    }
}

/* ---- the kernel -------------------------------------------------------------------------- */

/* Repacks rows [0, nr) of elements [k0, k0 + kc) into the panel: per group, G/4 registers of
 * (16 rows x 4 bytes), then 16 floats s, then 16 floats o. Missing rows are zero. */
static void pack_panel(const gemm_desc *D, const uint8_t *w, size_t w_stride, int nr, int64_t k0,
                       int64_t kc, uint8_t *panel)
{
    const int ns = D->G / 4;
    const size_t pstride = (size_t)ns * 64 + 128;
    const int64_t ng = kc / D->G;
    if (nr < PANEL_ROWS) memset(panel, 0, (size_t)ng * pstride);
    uint8_t u[HEARTH_QK_K];
    float s[16], o[16];
    for (int r = 0; r < nr; r++) {
        const uint8_t *row = w + (size_t)r * w_stride;
        for (int64_t e = 0; e < kc; e += D->wblock) {
            D->unpack(row + (size_t)((k0 + e) / D->wblock) * D->wbytes, u, s, o);
            for (int gl = 0; gl < D->wblock / D->G; gl++) {
                uint8_t *pg = panel + (size_t)((e / D->G) + gl) * pstride;
                for (int k = 0; k < ns; k++) memcpy(pg + k * 64 + r * 4, u + gl * D->G + 4 * k, 4);
                memcpy(pg + ns * 64 + r * 4, &s[gl], 4);
                memcpy(pg + ns * 64 + 64 + r * 4, &o[gl], 4);
            }
        }
    }
}

static inline int32_t load_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* tt (a compile-time constant after inlining) tokens against the packed panel; accumulates
 * into y when `add`, else stores. */
static inline __attribute__((always_inline)) void
panel_tokens(const gemm_desc *D, const uint8_t *panel, int64_t g0, int64_t ng, const uint8_t *a,
             size_t a_stride, const uint8_t *aux, size_t aux_stride, int64_t ng_total, int tt,
             float *y, int64_t ldy, __mmask16 mask, bool add)
{
    const int ns = D->G / 4;
    const size_t pstride = (size_t)ns * 64 + 128;
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
        UNROLL_TT
        for (int t = 0; t < tt; t++) {
            const uint8_t *at = a + (size_t)t * a_stride + aoff;
            const uint8_t *xt = aux + (size_t)t * aux_stride;
            __m512i isum = _mm512_set1_epi32(-load_i32(xt + 4 * g));
            for (int k = 0; k < ns; k++)
                isum = _mm512_dpbusd_epi32(isum, wv[k], _mm512_set1_epi32(load_i32(at + 4 * k)));
            float da;
            memcpy(&da, xt + 4 * (ng_total + g), sizeof da);
            __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(da));
            acc[t] = _mm512_fmadd_ps(s, f, acc[t]);
            if (D->has_min) {
                float b;
                memcpy(&b, xt + 4 * (2 * ng_total + g), sizeof b);
                acc[t] = _mm512_fmadd_ps(_mm512_load_ps((const float *)(pg + ns * 64 + 64)),
                                         _mm512_set1_ps(b), acc[t]);
            }
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

static inline __attribute__((always_inline)) void
gemm_generic(const gemm_desc *D, int64_t n, float *y, int64_t ldy, const void *w, size_t w_stride,
             int nr, const void *a, size_t a_stride, const void *aux, size_t aux_stride, int nt)
{
    _Alignas(64) uint8_t panel[KC * PANEL_ROWS + (KC / 16) * 128];
    const int64_t ng_total = n / D->G;
    for (int r0 = 0; r0 < nr; r0 += PANEL_ROWS) {
        int rr = nr - r0 < PANEL_ROWS ? nr - r0 : PANEL_ROWS;
        __mmask16 mask = (__mmask16)((1u << rr) - 1);
        for (int64_t k0 = 0; k0 < n; k0 += KC) {
            int64_t kc = n - k0 < KC ? n - k0 : KC;
            pack_panel(D, (const uint8_t *)w + (size_t)r0 * w_stride, w_stride, rr, k0, kc, panel);
            bool add = k0 > 0;
            int t0 = 0;
            for (; t0 + TT <= nt; t0 += TT)
                panel_tokens(D, panel, k0 / D->G, kc / D->G, (const uint8_t *)a + (size_t)t0 * a_stride,
                             a_stride, (const uint8_t *)aux + (size_t)t0 * aux_stride, aux_stride,
                             ng_total, TT, y + t0 * ldy + r0, ldy, mask, add);
            for (; t0 < nt; t0++)
                panel_tokens(D, panel, k0 / D->G, kc / D->G, (const uint8_t *)a + (size_t)t0 * a_stride,
                             a_stride, (const uint8_t *)aux + (size_t)t0 * aux_stride, aux_stride,
                             ng_total, 1, y + t0 * ldy + r0, ldy, mask, add);
        }
    }
}

/* One gemm, aux_size and aux_fill per type, each specialized on its constant descriptor. */
#define GEMM_TYPE(name)                                                                          \
    static void name##_gemm(int64_t n, float *y, int64_t ldy, const void *w, size_t w_stride,    \
                            int nr, const void *a, size_t a_stride, const void *aux,            \
                            size_t aux_stride, int nt)                                          \
    {                                                                                            \
        gemm_generic(&d_##name, n, y, ldy, w, w_stride, nr, a, a_stride, aux, aux_stride, nt);  \
    }                                                                                            \
    static size_t name##_aux_size(int64_t n) { return aux_size(&d_##name, n); }                 \
    static void name##_aux(const void *a, int64_t n, void *aux) { aux_fill(&d_##name, a, n, aux); }

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

#define SET(T, name)                               \
    do {                                           \
        k->gemm[T] = name##_gemm;                  \
        k->gemm_aux_size[T] = name##_aux_size;     \
        k->gemm_aux[T] = name##_aux;               \
    } while (0)

void hearth_avx512_fill_gemm(hearth_kernels *k)
{
    SET(HEARTH_TYPE_Q8_0, q8_0);
    SET(HEARTH_TYPE_Q4_0, q4_0);
    SET(HEARTH_TYPE_Q4_1, q4_1);
    SET(HEARTH_TYPE_Q5_0, q5_0);
    SET(HEARTH_TYPE_Q5_1, q5_1);
    SET(HEARTH_TYPE_Q2_K, q2_K);
    SET(HEARTH_TYPE_Q3_K, q3_K);
    SET(HEARTH_TYPE_Q4_K, q4_K);
    SET(HEARTH_TYPE_Q5_K, q5_K);
    SET(HEARTH_TYPE_Q6_K, q6_K);
}
