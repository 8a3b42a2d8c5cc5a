/*
 * gemm_amx.c — batched-prefill tiles on Intel AMX (AMX-TILE + AMX-INT8: Sapphire Rapids and
 * later), the "amx" kernel level: the AVX-512 table with these gemm entries.
 *
 * The weight panel is the one gemm_avx512.c packs ("rows in lanes": per group, G/4 runs of
 * 16 rows x 4 bytes), which is exactly the layout an AMX B tile wants (K/4 rows of 16 columns
 * x 4 bytes). The A tile is up to 16 tokens' activation bytes of one group: hearth_matmul
 * regroups the activations once per matmul (tile_a) so those 16 x G bytes are contiguous — a
 * tile load of 16 rows from 16 places costs four times one of contiguous bytes. One tile multiply then does the integer part
 * of 16 rows x 16 tokens x G elements (16 x 16 x 32 = 8192 multiply-adds for G = 32, what
 * 128 vpdpbusd would do); what is left on the vector units is applying the scales, per token:
 *     acc[t] += s * (da * (C[t] - off * sum a)) (+ o * da * sum a)
 * the same arithmetic as the AVX-512 kernel, so results equal it exactly.
 *
 * Scales change every group (32 or 16 elements), so a tile product covers one group and its
 * int32 result goes through memory to the vector units; products are issued two groups
 * ahead so the multiply unit and the vector units work at the same time.
 *
 * Tile configuration is per thread: each call loads the one it needs (rows = tokens, columns
 * = group bytes) unless that thread already has it loaded.
 */
#include <sys/syscall.h>
#include <unistd.h>

/* the last nt % 16 tokens: one tile with fewer rows, all at once (before gemm_common.h) */
#define TAIL_TT(left) (left)
#include "kernels/gemm_common.h"

#define PANEL_ROWS 16
#define PANEL_ALIGN 64
#define KC 1024
#define TT 16
#define UNROLL_TT _Pragma("GCC unroll 16")

/* tiles 0, 1, 6, 7: results; 2, 3: activations; 4, 5: weights */
typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static _Thread_local int loaded_key = -1;

static inline void configure(int tt, int G)
{
    int key = tt * 64 + G;
    if (key == loaded_key) return;
    tile_config c;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (int i = 0; i < 2; i++) {
        c.rows[i] = c.rows[6 + i] = (uint8_t)tt; /* C: tokens x 16 rows of int32 */
        c.colsb[i] = c.colsb[6 + i] = 64;
        c.rows[2 + i] = (uint8_t)tt; /* A: tokens x G activation bytes */
        c.colsb[2 + i] = (uint16_t)G;
        c.rows[4 + i] = (uint8_t)(G / 4); /* B: G/4 x (16 rows x 4 weight bytes) */
        c.colsb[4 + i] = 64;
    }
    _tile_loadconfig(&c);
    loaded_key = key;
}

/* Scales one group's integer products (cbuf: tt rows of 16 int32) into the accumulators. */
static inline __attribute__((always_inline)) void
scale_group(const gemm_desc *D, const int32_t *cbuf, const uint8_t *pg, int64_t g, const uint8_t *aux,
            size_t aux_stride, int64_t ng_total, int tt, __m512 acc[TT])
{
    const int ns = D->G / 4;
    __m512 s = _mm512_load_ps((const float *)(pg + ns * 64));
    __m512 o = D->has_min ? _mm512_load_ps((const float *)(pg + ns * 64 + 64)) : s;
    UNROLL_TT
    for (int t = 0; t < TT; t++) {
        if (t >= tt) break;
        const uint8_t *xt = aux + (size_t)t * aux_stride;
        __m512i isum = _mm512_load_si512((const void *)(cbuf + 16 * t));
        if (D->off) isum = _mm512_sub_epi32(isum, _mm512_set1_epi32(load_i32(xt + 4 * g)));
        acc[t] = scale_group16(D, acc[t], isum, s, o, xt, ng_total, g);
    }
}

static inline __attribute__((always_inline)) void
panel_tokens(const gemm_desc *D, const uint8_t *panel, int64_t g0, int64_t ng, const uint8_t *a,
             size_t a_stride, const uint8_t *aux, size_t aux_stride, int64_t ng_total, int tt,
             float *y, int64_t ldy, int nr, bool add)
{
    const __mmask16 mask = (__mmask16)((1u << nr) - 1);
    const size_t pstride = panel_group_bytes(D, PANEL_ROWS);
    _Alignas(64) int32_t cbuf[2][TT * 16];
    __m512 acc[TT];
    UNROLL_TT
    for (int t = 0; t < TT; t++) acc[t] = _mm512_setzero_ps();
    configure(tt, D->G);
    /* Tiles are not renamed (reusing one waits for every earlier instruction on it), and the
     * vector loads of a tile's stored result wait for that store to leave the core. So group
     * gl's product goes to result tile gl % 4 (activations and weights gl % 2), is issued two
     * groups ahead of its scaling and stored one group ahead: the multiply unit, the stores
     * and the vector units all work at the same time. */
#define PRODUCT(gl, c, ta, tb)                                                                  \
    do {                                                                                        \
        if ((gl) < ng) {                                                                        \
            int64_t e_ = (g0 + (gl)) * D->G;                                                    \
            _tile_zero(c);                                                                      \
            _tile_loadd(ta, a + (size_t)e_ * 16, D->G); /* regrouped: see tile_a */              \
            _tile_loadd(tb, panel + (size_t)(gl) * pstride, 64);                                \
            if (D->signed_w) _tile_dpbssd(c, ta, tb);                                           \
            else _tile_dpbsud(c, ta, tb);                                                       \
        }                                                                                       \
    } while (0)
#define STORE(gl, c)                                                                            \
    do {                                                                                        \
        if ((gl) < ng) _tile_stored(c, cbuf[(gl) & 1], 64);                                     \
    } while (0)
#define SCALE(gl)                                                                               \
    do {                                                                                        \
        if ((gl) < ng)                                                                          \
            scale_group(D, cbuf[(gl) & 1], panel + (size_t)(gl) * pstride, g0 + (gl), aux, aux_stride, \
                        ng_total, tt, acc);                                                     \
    } while (0)
    PRODUCT(0, 0, 2, 4);
    PRODUCT(1, 1, 3, 5);
    STORE(0, 0);
    for (int64_t gl = 0; gl < ng; gl += 4) {
        PRODUCT(gl + 2, 6, 2, 4);
        STORE(gl + 1, 1);
        SCALE(gl);
        PRODUCT(gl + 3, 7, 3, 5);
        STORE(gl + 2, 6);
        SCALE(gl + 1);
        PRODUCT(gl + 4, 0, 2, 4);
        STORE(gl + 3, 7);
        SCALE(gl + 2);
        PRODUCT(gl + 5, 1, 3, 5);
        STORE(gl + 4, 0);
        SCALE(gl + 3);
    }
#undef STORE
#undef SCALE
#undef PRODUCT
    UNROLL_TT
    for (int t = 0; t < TT; t++) {
        if (t >= tt) break;
        float *yt = y + t * ldy;
        __m512 v = acc[t];
        if (add) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, yt));
        _mm512_mask_storeu_ps(yt, mask, v);
    }
}

GEMM_DRIVER()

/* Token i of a 16-token block: group g's G bytes go to block + (g * 16 + i) * G, so a group's
 * A tile is 16 * G contiguous bytes (the layout kernels.h's gemm_tile_a describes). */
static inline void tile_a(const gemm_desc *D, const void *arow, int64_t n, int i, void *block)
{
    for (int64_t e = 0; e < n; e += D->G) {
        const uint8_t *src = (const uint8_t *)arow + (size_t)(e / D->ablock) * D->abytes + D->aqs +
                             (size_t)(e % D->ablock);
        memcpy((uint8_t *)block + (size_t)(e / D->G * 16 + i) * (size_t)D->G, src, (size_t)D->G);
    }
}

#define AMX_TYPE(name)                                                                          \
    GEMM_TYPE(name)                                                                             \
    static void name##_tile_a(const void *a, int64_t n, int i, void *block) { tile_a(&d_##name, a, n, i, block); }

/* Q8_0 keeps its weights signed (tdpbssd): no offset term to subtract. */
#define d_q8_0 d_q8_0s
AMX_TYPE(q8_0)
#undef d_q8_0
AMX_TYPE(q4_0)
AMX_TYPE(q4_1)
AMX_TYPE(q5_0)
AMX_TYPE(q5_1)
AMX_TYPE(q4_K)
AMX_TYPE(q5_K)
AMX_TYPE(q6_K)

/* Linux hands out AMX tile state only to processes that ask for it (once, for all threads). */
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

bool hearth_amx_enable(void)
{
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

/* GEMM_SET plus the activation regrouping every AMX gemm reads its A tiles from */
#define AMX_SET(T, name)                              \
    do {                                              \
        GEMM_SET(T, name);                            \
        k->gemm_tile_a[T] = name##_tile_a;            \
    } while (0)

/* A tile multiply costs the same for 16 elements as for 32, so the 16-element-group types
 * gain least: Q6_K (the other half of Q4_K_M files) still gains ~20% over AVX-512 with
 * regrouped activations; Q2_K and Q3_K keep the AVX-512 kernel. */
void hearth_amx_fill_gemm(hearth_kernels *k)
{
    AMX_SET(HEARTH_TYPE_Q8_0, q8_0);
    AMX_SET(HEARTH_TYPE_Q4_0, q4_0);
    AMX_SET(HEARTH_TYPE_Q4_1, q4_1);
    AMX_SET(HEARTH_TYPE_Q5_0, q5_0);
    AMX_SET(HEARTH_TYPE_Q5_1, q5_1);
    AMX_SET(HEARTH_TYPE_Q4_K, q4_K);
    AMX_SET(HEARTH_TYPE_Q5_K, q5_K);
    AMX_SET(HEARTH_TYPE_Q6_K, q6_K);
}
