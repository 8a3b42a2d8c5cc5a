/*
 * gemm_common.h — what the "rows in lanes" prefill kernels of every level share (included by
 * gemm_avx512.c and gemm_avx2.c, each compiled with its own -m flags, hence static inline):
 *
 * Every quantized type is described the same way: weights become unsigned bytes u per group
 * of G elements, with value = s * (u - off) + o per group (s, o floats per row and group; off
 * an integer constant). A group's contribution for one token is then
 *     da * (s * (sum u*a - off * sum a)) + o * da * sum a
 * where the integer part is exact (off * sum a comes precomputed in aux, once per matmul) and
 * only the last two terms are float. A panel holds `lanes` weight rows repacked so that one
 * register has 4 consecutive weight bytes of each row.
 */
#ifndef HEARTH_KERNELS_GEMM_COMMON_H
#define HEARTH_KERNELS_GEMM_COMMON_H

#include "kernels/simd_x86.h"

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
    bool signed_w;    /* u holds signed bytes (AVX2 Q8_0: multiplied with the sign trick)  */
} gemm_desc;

/* ---- per-type unpacking into (u, s, o) ---------------------------------------------------- */

static inline void unpack_q8_0(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q8_0 *x = (const block_q8_0 *)blk;
    for (int j = 0; j < 32; j++) u[j] = (uint8_t)(x->qs[j] ^ 0x80); /* q + 128 */
    s[0] = hearth_f16c(x->d);
    o[0] = 0.0f;
}

static inline void nibbles(const uint8_t *qs, uint8_t *u)
{
    for (int j = 0; j < 16; j++) {
        u[j] = qs[j] & 0x0f;
        u[j + 16] = qs[j] >> 4;
    }
}

static inline void fifth_bits(const uint8_t *qh_bytes, uint8_t *u)
{
    uint32_t qh;
    memcpy(&qh, qh_bytes, sizeof qh);
    for (int j = 0; j < 32; j++) u[j] |= (uint8_t)(((qh >> j) & 1) << 4);
}

static inline void unpack_q4_0(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q4_0 *x = (const block_q4_0 *)blk;
    nibbles(x->qs, u);
    s[0] = hearth_f16c(x->d);
    o[0] = 0.0f;
}

static inline void unpack_q4_1(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q4_1 *x = (const block_q4_1 *)blk;
    nibbles(x->qs, u);
    s[0] = hearth_f16c(x->d);
    o[0] = hearth_f16c(x->m);
}

static inline void unpack_q5_0(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q5_0 *x = (const block_q5_0 *)blk;
    nibbles(x->qs, u);
    fifth_bits(x->qh, u);
    s[0] = hearth_f16c(x->d);
    o[0] = 0.0f;
}

static inline void unpack_q5_1(const uint8_t *blk, uint8_t *u, float *s, float *o)
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

static inline void unpack_q2_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q2_K, blk, u, s, o, 0, 1); }
static inline void unpack_q3_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q3_K, blk, u, s, o, 4, 1); }
static inline void unpack_q5_K(const uint8_t *blk, uint8_t *u, float *s, float *o) { unpack_k(HEARTH_TYPE_Q5_K, blk, u, s, o, 0, 2); }

/* Q4_K and Q6_K (the types of Q4_K_M files) are unpacked directly rather than through
 * hearth_kblock: with few tokens per tile (batched decode of parallel sequences) packing
 * costs as much as the products, and these loops vectorize. Same u, s, o as unpack_k. */
static inline void unpack_q4_K(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q4_K *x = (const block_q4_K *)blk;
    /* the 8 six-bit scales and 8 mins, four at a time with 32-bit masks (the layout
     * hearth_k4_scale_min reads one by one), then scaled 8 lanes at a time */
    uint32_t p[3], sm[4];
    memcpy(p, x->scales, 12);
    const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, low2 = 0x03030303;
    sm[0] = p[0] & low6;
    sm[1] = (p[2] & low4) | (((p[0] >> 6) & low2) << 4);
    sm[2] = p[1] & low6;
    sm[3] = ((p[2] >> 4) & low4) | (((p[1] >> 6) & low2) << 4);
    __m128i b = _mm_loadu_si128((const __m128i *)sm);
    __m256 d = _mm256_set1_ps(hearth_f16c(x->d)), dmin = _mm256_set1_ps(hearth_f16c(x->dmin));
    _mm256_storeu_ps(s, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b))));
    __m256 m = _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8))));
    _mm256_storeu_ps(o, _mm256_xor_ps(m, _mm256_set1_ps(-0.0f)));
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            u[64 * c + l] = x->qs[32 * c + l] & 0x0f;
            u[64 * c + 32 + l] = x->qs[32 * c + l] >> 4;
        }
}

static inline void unpack_q6_K(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q6_K *x = (const block_q6_K *)blk;
    __m256 d = _mm256_set1_ps(hearth_f16c(x->d));
    __m128i sc = _mm_loadu_si128((const __m128i *)x->scales);
    _mm256_storeu_ps(s, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc))));
    _mm256_storeu_ps(s + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8)))));
    /* no mins (has_min is false: never read) */
    _mm256_storeu_ps(o, _mm256_set1_ps(-0.0f));
    _mm256_storeu_ps(o + 8, _mm256_set1_ps(-0.0f));
    const __m256i m4 = _mm256_set1_epi8(0x0f), m3 = _mm256_set1_epi8(3), m30 = _mm256_set1_epi8(0x30);
    for (int c = 0; c < 2; c++) { /* q + 32, the stored 6-bit value: low 4 bits ql, high 2 qh */
        __m256i l0 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * c));
        __m256i l1 = _mm256_loadu_si256((const __m256i *)(x->ql + 64 * c + 32));
        __m256i h = _mm256_loadu_si256((const __m256i *)(x->qh + 32 * c));
        __m256i *q = (__m256i *)(u + 128 * c);
        _mm256_storeu_si256(q, _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(h, m3), 4)));
        _mm256_storeu_si256(q + 1, _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)));
        _mm256_storeu_si256(q + 2, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30)));
        _mm256_storeu_si256(q + 3, _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                                   _mm256_and_si256(_mm256_srli_epi16(h, 2), m30)));
    }
}

/* each level file uses only some of the descriptors */
#define DESC static const gemm_desc __attribute__((unused))
#define LEGACY(G_, off_, min_, T, fn, signed_) \
    {G_, off_, min_, 32, sizeof(T), 32, sizeof(block_q8_0), offsetof(block_q8_0, qs), true, fn, signed_}
#define KQ(G_, off_, min_, T, fn) \
    {G_, off_, min_, 256, sizeof(T), 256, sizeof(block_q8_K), offsetof(block_q8_K, qs), false, fn, false}

DESC d_q8_0 = LEGACY(32, 128, false, block_q8_0, unpack_q8_0, false);
/* Q8_0 with the weights kept signed (for maddubs, where q + 128 would saturate) */
static inline void unpack_q8_0_signed(const uint8_t *blk, uint8_t *u, float *s, float *o)
{
    const block_q8_0 *x = (const block_q8_0 *)blk;
    memcpy(u, x->qs, 32);
    s[0] = hearth_f16c(x->d);
    o[0] = 0.0f;
}
DESC d_q8_0s = LEGACY(32, 0, false, block_q8_0, unpack_q8_0_signed, true);
DESC d_q4_0 = LEGACY(32, 8, false, block_q4_0, unpack_q4_0, false);
DESC d_q4_1 = LEGACY(32, 0, true, block_q4_1, unpack_q4_1, false);
DESC d_q5_0 = LEGACY(32, 16, false, block_q5_0, unpack_q5_0, false);
DESC d_q5_1 = LEGACY(32, 0, true, block_q5_1, unpack_q5_1, false);
DESC d_q2_K = KQ(16, 0, true, block_q2_K, unpack_q2_K);
DESC d_q3_K = KQ(16, 4, false, block_q3_K, unpack_q3_K);
DESC d_q4_K = KQ(32, 0, true, block_q4_K, unpack_q4_K);
DESC d_q5_K = KQ(32, 0, true, block_q5_K, unpack_q5_K);
DESC d_q6_K = KQ(16, 32, false, block_q6_K, unpack_q6_K);

/* ---- aux: per activation row and group, [ng] int32 off*sum(a), [ng] float da,
 *      [ng] float da*sum(a) ------------------------------------------------------------------ */

static inline size_t aux_size(const gemm_desc *D, int64_t n)
{
    return (size_t)(n / D->G) * 12;
}

static inline void aux_fill(const gemm_desc *D, const void *arow, int64_t n, void *aux)
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

/* The aux entries of one token row for group g (laid out by aux_fill). */
static inline float aux_da(const uint8_t *xt, int64_t ng_total, int64_t g)
{
    float v;
    memcpy(&v, xt + 4 * (ng_total + g), sizeof v);
    return v;
}

static inline float aux_da_sum(const uint8_t *xt, int64_t ng_total, int64_t g)
{
    float v;
    memcpy(&v, xt + 4 * (2 * ng_total + g), sizeof v);
    return v;
}

#ifdef __AVX512F__
/* One group of one token into 16 rows' accumulator, given isum = sum u*a - off * sum a:
 * acc + s * (da * isum) (+ o * da * sum a). The AVX-512 and AMX kernels share it. */
static inline __attribute__((always_inline)) __m512
scale_group16(const gemm_desc *D, __m512 acc, __m512i isum, __m512 s, __m512 o, const uint8_t *xt,
              int64_t ng_total, int64_t g)
{
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(isum), _mm512_set1_ps(aux_da(xt, ng_total, g)));
    acc = _mm512_fmadd_ps(s, f, acc);
    if (D->has_min) acc = _mm512_fmadd_ps(o, _mm512_set1_ps(aux_da_sum(xt, ng_total, g)), acc);
    return acc;
}
#endif

/* ---- the kernel -------------------------------------------------------------------------- */

/* Bytes of one group in a panel of `lanes` rows: G/4 registers of (lanes rows x 4 bytes), then
 * `lanes` floats s, then `lanes` floats o. */
static inline size_t panel_group_bytes(const gemm_desc *D, int lanes)
{
    return (size_t)(D->G / 4) * (size_t)lanes * 4 + (size_t)lanes * 8;
}

/* dst[i] = column i of the 8 x 8 matrix of 32-bit words whose rows are r[0..7] */
static inline void transpose8x8_epi32(const __m256i r[8], __m256i dst[8])
{
    __m256i t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) { /* rows 0..3, rows 4..7 */
        __m256i *tt = t + 4 * h, *uu = u + 4 * h;
        uu[0] = _mm256_unpacklo_epi64(tt[0], tt[2]);
        uu[1] = _mm256_unpackhi_epi64(tt[0], tt[2]);
        uu[2] = _mm256_unpacklo_epi64(tt[1], tt[3]);
        uu[3] = _mm256_unpackhi_epi64(tt[1], tt[3]);
    }
    for (int i = 0; i < 4; i++) {
        dst[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
        dst[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
    }
}

#define PACK_PREFETCH 512 /* bytes ahead in each weight row */

/* Repacks rows [0, nr) of elements [k0, k0 + kc) into the panel (missing rows are zero).
 * Eight rows at a time: each weight block of the eight is unpacked, then every 32 bytes of
 * them (8 rows x 8 four-byte slices) go to the panel with one register transpose — with few
 * tokens per tile (batched decode) a byte-wise scatter cost as much as the products. */
static inline void pack_panel(const gemm_desc *D, int lanes, const uint8_t *w, size_t w_stride, int nr,
                       int64_t k0, int64_t kc, uint8_t *panel)
{
    const int ns = D->G / 4, vb = lanes * 4; /* slices per group, bytes per register */
    const size_t pstride = panel_group_bytes(D, lanes);
    const int64_t ng = kc / D->G;
    if (nr < lanes) memset(panel, 0, (size_t)ng * pstride);
    _Alignas(32) uint8_t u[8][HEARTH_QK_K];
    float s[16], o[16];
    for (int64_t e = 0; e < kc; e += D->wblock) {
        for (int r0 = 0; r0 < lanes; r0 += 8) {
            for (int r = 0; r < 8; r++) {
                int row = r0 + r;
                if (row >= nr) {
                    memset(u[r], 0, (size_t)D->wblock);
                    continue;
                }
                const uint8_t *blk = w + (size_t)row * w_stride + (size_t)((k0 + e) / D->wblock) * D->wbytes;
                /* each row is its own stream from memory when few tokens share the panel
                 * (batched decode): ask for its bytes a little ahead */
                _mm_prefetch((const char *)blk + PACK_PREFETCH, _MM_HINT_T0);
                D->unpack(blk, u[r], s, o);
                for (int gl = 0; gl < D->wblock / D->G; gl++) {
                    uint8_t *pg = panel + (size_t)((e / D->G) + gl) * pstride;
                    memcpy(pg + ns * vb + row * 4, &s[gl], 4);
                    if (D->has_min) memcpy(pg + ns * vb + vb + row * 4, &o[gl], 4); /* else unread */
                }
            }
            for (int c = 0; c < D->wblock; c += 32) {
                __m256i rows[8], cols[8];
                for (int r = 0; r < 8; r++) rows[r] = _mm256_load_si256((const __m256i *)(u[r] + c));
                transpose8x8_epi32(rows, cols);
                for (int i = 0; i < 8; i++) { /* slice i: elements e + c + 4i .. +3 */
                    int64_t el = e + c + 4 * i;
                    uint8_t *dst = panel + (size_t)(el / D->G) * pstride + (size_t)((el % D->G) / 4) * (size_t)vb +
                                   (size_t)r0 * 4;
                    _mm256_storeu_si256((__m256i *)dst, cols[i]);
                }
            }
        }
    }
}


/* ---- the driver every level shares ---------------------------------------------------------
 * A level file defines PANEL_ROWS, PANEL_ALIGN, KC (elements of K per panel: a multiple of
 * every block size, small enough that the panel stays in L1), TT (tokens computed together)
 * and panel_tokens(D, panel, g0, ng, a, a_stride, aux, aux_stride, ng_total, tt, y, ldy, nr,
 * add), then expands GEMM_DRIVER() once and GEMM_TYPE(name) per type. The last nt % TT
 * tokens go to panel_tokens TAIL_TT(left) at a time: one by one (tt a constant the register
 * kernels unroll for) unless the level defines TAIL_TT to take them all at once. */
#ifndef TAIL_TT
#define TAIL_TT(left) 1
#endif
#define GEMM_DRIVER()                                                                            \
    static inline __attribute__((always_inline)) void                                           \
    gemm_generic(const gemm_desc *D, int64_t n, float *y, int64_t ldy, const void *w,            \
                 size_t w_stride, int nr, const void *a, size_t a_stride, const void *aux,      \
                 size_t aux_stride, int nt)                                                     \
    {                                                                                            \
        _Alignas(PANEL_ALIGN) uint8_t panel[KC * PANEL_ROWS + (KC / 16) * PANEL_ROWS * 8];      \
        const int64_t ng_total = n / D->G;                                                       \
        for (int r0 = 0; r0 < nr; r0 += PANEL_ROWS) {                                            \
            int rr = nr - r0 < PANEL_ROWS ? nr - r0 : PANEL_ROWS;                                \
            for (int64_t k0 = 0; k0 < n; k0 += KC) {                                             \
                int64_t kc = n - k0 < KC ? n - k0 : KC;                                          \
                pack_panel(D, PANEL_ROWS, (const uint8_t *)w + (size_t)r0 * w_stride, w_stride,  \
                           rr, k0, kc, panel);                                                   \
                bool add = k0 > 0; /* later chunks of K accumulate into y */                     \
                int t0 = 0;                                                                      \
                for (; t0 + TT <= nt; t0 += TT)                                                  \
                    panel_tokens(D, panel, k0 / D->G, kc / D->G,                                 \
                                 (const uint8_t *)a + (size_t)t0 * a_stride, a_stride,          \
                                 (const uint8_t *)aux + (size_t)t0 * aux_stride, aux_stride,    \
                                 ng_total, TT, y + t0 * ldy + r0, ldy, rr, add);                 \
                for (; t0 < nt; t0 += TAIL_TT(nt - t0))                                         \
                    panel_tokens(D, panel, k0 / D->G, kc / D->G,                                 \
                                 (const uint8_t *)a + (size_t)t0 * a_stride, a_stride,          \
                                 (const uint8_t *)aux + (size_t)t0 * aux_stride, aux_stride,    \
                                 ng_total, TAIL_TT(nt - t0), y + t0 * ldy + r0, ldy, rr, add);   \
            }                                                                                    \
        }                                                                                        \
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

#define GEMM_SET(T, name)                      \
    do {                                       \
        k->gemm[T] = name##_gemm;              \
        k->gemm_aux_size[T] = name##_aux_size; \
        k->gemm_aux[T] = name##_aux;           \
    } while (0)

static inline int32_t load_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif
