/*
 * quant_k.c — scalar reference for the k-quants Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element
 * super-blocks) and their activation type Q8_K.
 *
 * Every k-quant block is first unpacked into one common form: 256 small integers q, and for
 * each group of 16 elements an integer scale sc and an integer min m, with
 *     value[e] = (d * sc[e/16]) * q[e] - (dmin * m[e/16])
 * (types without mins have m = 0 and dmin = 0; types with 32-element sub-blocks repeat the
 * scale for both halves). This evaluates exactly ggml's dequantization formulas (same float
 * operations in the same order), and the dot product against Q8_K becomes
 *     d * dy * sum_g sc[g] * dot16(q, qa)  -  dmin * dy * sum_g m[g] * bsums[g]
 * with both sums exact in integers.
 */
#include "kernels/kernels_impl.h"


/* ---- unpacking, one function per layout -------------------------------------------------- */

static void unpack_q2_K(const block_q2_K *x, hearth_kblock *b)
{
    for (int g = 0; g < 16; g++) {
        b->sc[g] = x->scales[g] & 0x0f;
        b->m[g] = x->scales[g] >> 4;
    }
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++)
                b->q[128 * c + 32 * j + l] = (int8_t)((x->qs[32 * c + l] >> (2 * j)) & 3);
    b->d = hearth_f16_to_f32(x->d);
    b->dmin = hearth_f16_to_f32(x->dmin);
}

static void unpack_q3_K(const block_q3_K *x, hearth_kblock *b)
{
    int8_t sc[16];
    hearth_q3k_scales(x->scales, sc);
    for (int g = 0; g < 16; g++) {
        b->sc[g] = sc[g];
        b->m[g] = 0;
    }
    for (int c = 0; c < 2; c++)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 32; l++) {
                int lo = (x->qs[32 * c + l] >> (2 * j)) & 3;
                int high = (x->hmask[l] >> (4 * c + j)) & 1;
                b->q[128 * c + 32 * j + l] = (int8_t)(lo - (high ? 0 : 4));
            }
    b->d = hearth_f16_to_f32(x->d);
    b->dmin = 0.0f;
}

static void unpack_k4_scales(const uint8_t *packed, hearth_kblock *b)
{
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        hearth_k4_scale_min(j, packed, &sc, &m);
        b->sc[2 * j] = b->sc[2 * j + 1] = sc;
        b->m[2 * j] = b->m[2 * j + 1] = m;
    }
}

static void unpack_q4_K(const block_q4_K *x, hearth_kblock *b)
{
    unpack_k4_scales(x->scales, b);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            b->q[64 * c + l] = (int8_t)(x->qs[32 * c + l] & 0x0f);
            b->q[64 * c + 32 + l] = (int8_t)(x->qs[32 * c + l] >> 4);
        }
    b->d = hearth_f16_to_f32(x->d);
    b->dmin = hearth_f16_to_f32(x->dmin);
}

static void unpack_q5_K(const block_q5_K *x, hearth_kblock *b)
{
    unpack_k4_scales(x->scales, b);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            int h0 = (x->qh[l] >> (2 * c)) & 1, h1 = (x->qh[l] >> (2 * c + 1)) & 1;
            b->q[64 * c + l] = (int8_t)((x->qs[32 * c + l] & 0x0f) | (h0 << 4));
            b->q[64 * c + 32 + l] = (int8_t)((x->qs[32 * c + l] >> 4) | (h1 << 4));
        }
    b->d = hearth_f16_to_f32(x->d);
    b->dmin = hearth_f16_to_f32(x->dmin);
}

static void unpack_q6_K(const block_q6_K *x, hearth_kblock *b)
{
    for (int g = 0; g < 16; g++) {
        b->sc[g] = x->scales[g];
        b->m[g] = 0;
    }
    for (int c = 0; c < 2; c++) {
        const uint8_t *ql = x->ql + 64 * c, *qh = x->qh + 32 * c;
        int8_t *q = b->q + 128 * c;
        for (int l = 0; l < 32; l++) {
            q[l] = (int8_t)(((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32);
            q[l + 32] = (int8_t)(((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32);
            q[l + 64] = (int8_t)(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
            q[l + 96] = (int8_t)(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
    }
    b->d = hearth_f16_to_f32(x->d);
    b->dmin = 0.0f;
}

/* ---- the shared dequantization and dot product over unpacked blocks --------------------- */

static void kblock_to_float(const hearth_kblock *b, float *y)
{
    for (int g = 0; g < 16; g++) {
        float ds = b->d * (float)b->sc[g], dm = b->dmin * (float)b->m[g];
        for (int l = 0; l < 16; l++) y[16 * g + l] = ds * (float)b->q[16 * g + l] - dm;
    }
}

static float kblock_dot(const hearth_kblock *b, const block_q8_K *y)
{
    int32_t sumi = 0, summ = 0;
    for (int g = 0; g < 16; g++) {
        int32_t dot = 0;
        for (int l = 0; l < 16; l++) dot += b->q[16 * g + l] * y->qs[16 * g + l];
        sumi += b->sc[g] * dot;
        summ += b->m[g] * y->bsums[g];
    }
    return b->d * y->d * (float)sumi - b->dmin * y->d * (float)summ;
}

/* One to_float and one vec_dot per type, generated from its unpack function. */
#define KQUANT_KERNELS(name, block_t)                                                     \
    static void name##_to_float(const void *src, float *y, int64_t n)                   \
    {                                                                                     \
        const block_t *x = src;                                                           \
        hearth_kblock b;                                                                  \
        for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {                                   \
            unpack_##name(&x[i], &b);                                                     \
            kblock_to_float(&b, y + i * HEARTH_QK_K);                                     \
        }                                                                                 \
    }                                                                                     \
    static void name##_vec_dot(int64_t n, float *s, const void *w, const void *a)        \
    {                                                                                     \
        const block_t *x = w;                                                             \
        const block_q8_K *yq = a;                                                         \
        hearth_kblock b;                                                                  \
        float sum = 0.0f;                                                                 \
        for (int64_t i = 0; i < n / HEARTH_QK_K; i++) {                                   \
            unpack_##name(&x[i], &b);                                                     \
            sum += kblock_dot(&b, &yq[i]);                                                \
        }                                                                                 \
        *s = sum;                                                                         \
    }

KQUANT_KERNELS(q2_K, block_q2_K)
KQUANT_KERNELS(q3_K, block_q3_K)
KQUANT_KERNELS(q4_K, block_q4_K)
KQUANT_KERNELS(q5_K, block_q5_K)
KQUANT_KERNELS(q6_K, block_q6_K)

void hearth_kblock_unpack(hearth_type t, const void *block, hearth_kblock *out)
{
    switch (t) {
    case HEARTH_TYPE_Q2_K: unpack_q2_K(block, out); break;
    case HEARTH_TYPE_Q3_K: unpack_q3_K(block, out); break;
    case HEARTH_TYPE_Q4_K: unpack_q4_K(block, out); break;
    case HEARTH_TYPE_Q5_K: unpack_q5_K(block, out); break;
    case HEARTH_TYPE_Q6_K: unpack_q6_K(block, out); break;
    default: memset(out, 0, sizeof *out); break;
    }
}

/* ---- Q8_K: the activation format of the k-quants --------------------------------------
 * ggml's reference: the element of largest magnitude maps to -127 exactly, the rest round to
 * nearest (ties to even); bsums hold the 16 group sums the min terms need. */
static void q8_K_from_float(const float *x, void *dst, int64_t n)
{
    block_q8_K *y = dst;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, x += HEARTH_QK_K) {
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < HEARTH_QK_K; j++)
            if (fabsf(x[j]) > amax) {
                amax = fabsf(x[j]);
                max = x[j];
            }
        if (amax == 0.0f) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < HEARTH_QK_K; j++) {
            int v = hearth_round_even(iscale * x[j]);
            y[i].qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int l = 0; l < 16; l++) s += y[i].qs[16 * g + l];
            y[i].bsums[g] = (int16_t)s;
        }
        y[i].d = 1.0f / iscale;
    }
}

static void q8_K_to_float(const void *src, float *y, int64_t n)
{
    const block_q8_K *x = src;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, y += HEARTH_QK_K)
        for (int j = 0; j < HEARTH_QK_K; j++) y[j] = x[i].d * (float)x[i].qs[j];
}

void hearth_kernels_fill_kquant(hearth_kernels *k)
{
    k->to_float[HEARTH_TYPE_Q2_K] = q2_K_to_float;
    k->to_float[HEARTH_TYPE_Q3_K] = q3_K_to_float;
    k->to_float[HEARTH_TYPE_Q4_K] = q4_K_to_float;
    k->to_float[HEARTH_TYPE_Q5_K] = q5_K_to_float;
    k->to_float[HEARTH_TYPE_Q6_K] = q6_K_to_float;
    k->to_float[HEARTH_TYPE_Q8_K] = q8_K_to_float;
    k->from_float[HEARTH_TYPE_Q8_K] = q8_K_from_float;
    k->vec_dot[HEARTH_TYPE_Q2_K] = q2_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q3_K] = q3_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q4_K] = q4_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q5_K] = q5_K_vec_dot;
    k->vec_dot[HEARTH_TYPE_Q6_K] = q6_K_vec_dot;
    const hearth_type kq[] = {HEARTH_TYPE_Q2_K, HEARTH_TYPE_Q3_K, HEARTH_TYPE_Q4_K,
                              HEARTH_TYPE_Q5_K, HEARTH_TYPE_Q6_K};
    for (size_t i = 0; i < sizeof kq / sizeof kq[0]; i++) k->vec_dot_type[kq[i]] = HEARTH_TYPE_Q8_K;
}
