/*
 * attn_avx512.c — attention of a block of queries over F16 K/V cache rows with AVX-512, the
 * prompt-processing case (many queries per KV head).
 *
 * The general path (a float gemm per chunk of rows) spends much of its time on what a dot
 * product layout costs at head sizes of 64-128: a horizontal sum per (query, row) and a
 * transposed copy of every V chunk. Here the 16 lanes of a register are 16 queries instead:
 *   scores^T[c][q] = sum_i K[c][i] * Q^T[i][q]      one broadcast K element feeds 2 FMAs
 *   softmax over c, lane by lane                     no reductions across lanes
 *   O[q][i] = sum_c P^T[c][q] * V[c][i]              lanes over i, P^T broadcast from memory
 * so no lane is ever summed across and nothing but Q (once) is transposed. Queries go 32 at
 * a time (two registers); K and V rows are converted to float one chunk at a time.
 */
#include "kernels/simd_x86.h"

#define QB 32     /* queries per block: two registers of lanes */
#define CHUNK 64  /* cache rows converted to float at a time   */

/* e^x for 16 lanes, the same polynomial and range handling as vec_avx2.c's exp_ps. */
static inline __m512 exp512(__m512 x)
{
    const __m512 hi = _mm512_set1_ps(88.72283935546875f), lo = _mm512_set1_ps(-87.33654022216797f);
    __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), over = _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    __m512i ni = _mm512_cvtps_epi32(n);
    __m512i n1 = _mm512_srai_epi32(ni, 1), n2 = _mm512_sub_epi32(ni, n1);
    __m512 s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, _mm512_set1_epi32(127)), 23));
    __m512 s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, _mm512_set1_epi32(127)), 23));
    __m512 e = _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
    e = _mm512_maskz_mov_ps((__mmask16)~under, e);
    return _mm512_mask_mov_ps(e, over, _mm512_set1_ps(INFINITY));
}

/* rows [c0, c0 + nc) of an F16 cache as floats, d per row */
static void rows_to_f32(float *dst, const hearth_f16 *src, int64_t stride, int64_t c0, int nc, int64_t d)
{
    for (int c = 0; c < nc; c++) {
        const hearth_f16 *s = src + (c0 + c) * stride;
        for (int64_t i = 0; i < d; i += 16)
            _mm512_storeu_ps(dst + c * d + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + i))));
    }
}

/* One block of nq <= QB queries. st: scores^T [n][QB]; qt: Q^T [d][QB]; kf: [CHUNK][d]. */
static void attn_block(float *o, const float *q, int nq, int64_t d, const hearth_f16 *k, const hearth_f16 *v,
                       int64_t stride, const int32_t *n_kv, float scale, float *qt, float *st, float *kf)
{
    int32_t lim[QB];
    int64_t n = 0;
    for (int j = 0; j < QB; j++) {
        lim[j] = j < nq ? n_kv[j] : 0; /* padding lanes see nothing */
        if (lim[j] > n) n = lim[j];
    }
    for (int64_t i = 0; i < d; i++)
        for (int j = 0; j < QB; j++) qt[i * QB + j] = j < nq ? q[j * d + i] : 0.0f;
    const __m512i lim0 = _mm512_loadu_si512(lim), lim1 = _mm512_loadu_si512(lim + 16);
    const __m512 vscale = _mm512_set1_ps(scale), ninf = _mm512_set1_ps(-INFINITY);

    /* scores, masked: row c counts for query j only while c < lim[j] */
    __m512 m0 = ninf, m1 = ninf;
    for (int64_t c0 = 0; c0 < n; c0 += CHUNK) {
        int nc = (int)(n - c0 < CHUNK ? n - c0 : CHUNK);
        rows_to_f32(kf, k, stride, c0, nc, d);
        for (int c = 0; c < nc; c += 4) {
            int rows = nc - c < 4 ? nc - c : 4;
            __m512 a[4][2];
            for (int r = 0; r < 4; r++) a[r][0] = a[r][1] = _mm512_setzero_ps();
            const float *kr = kf + (int64_t)c * d;
            for (int64_t i = 0; i < d; i++) {
                __m512 qa = _mm512_loadu_ps(qt + i * QB), qb = _mm512_loadu_ps(qt + i * QB + 16);
                for (int r = 0; r < 4; r++) { /* rows past nc read zeros' neighbours: unused */
                    __m512 kb = _mm512_set1_ps(kr[(r < rows ? r : 0) * d + i]);
                    a[r][0] = _mm512_fmadd_ps(qa, kb, a[r][0]);
                    a[r][1] = _mm512_fmadd_ps(qb, kb, a[r][1]);
                }
            }
            for (int r = 0; r < rows; r++) {
                __m512i cc = _mm512_set1_epi32((int32_t)(c0 + c + r));
                __m512 s0 = _mm512_mask_mov_ps(ninf, _mm512_cmpgt_epi32_mask(lim0, cc), _mm512_mul_ps(a[r][0], vscale));
                __m512 s1 = _mm512_mask_mov_ps(ninf, _mm512_cmpgt_epi32_mask(lim1, cc), _mm512_mul_ps(a[r][1], vscale));
                _mm512_storeu_ps(st + (c0 + c + r) * QB, s0);
                _mm512_storeu_ps(st + (c0 + c + r) * QB + 16, s1);
                m0 = _mm512_max_ps(m0, s0);
                m1 = _mm512_max_ps(m1, s1);
            }
        }
    }
    /* softmax down each lane; a lane that saw nothing (padding) gets max 0 and sum 0 */
    m0 = _mm512_mask_mov_ps(m0, _mm512_cmp_ps_mask(m0, ninf, _CMP_EQ_OQ), _mm512_setzero_ps());
    m1 = _mm512_mask_mov_ps(m1, _mm512_cmp_ps_mask(m1, ninf, _CMP_EQ_OQ), _mm512_setzero_ps());
    __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
    for (int64_t c = 0; c < n; c++) {
        __m512 e0 = exp512(_mm512_sub_ps(_mm512_loadu_ps(st + c * QB), m0));
        __m512 e1 = exp512(_mm512_sub_ps(_mm512_loadu_ps(st + c * QB + 16), m1));
        _mm512_storeu_ps(st + c * QB, e0);
        _mm512_storeu_ps(st + c * QB + 16, e1);
        sum0 = _mm512_add_ps(sum0, e0);
        sum1 = _mm512_add_ps(sum1, e1);
    }
    _Alignas(64) float inv[QB];
    __m512 one = _mm512_set1_ps(1.0f);
    _mm512_store_ps(inv, _mm512_maskz_div_ps(_mm512_cmp_ps_mask(sum0, _mm512_setzero_ps(), _CMP_GT_OQ), one, sum0));
    _mm512_store_ps(inv + 16, _mm512_maskz_div_ps(_mm512_cmp_ps_mask(sum1, _mm512_setzero_ps(), _CMP_GT_OQ), one, sum1));

    /* O = P V: lanes over the head dimension, 128 of it (8 registers) x 2 queries at a time */
    for (int j = 0; j < nq; j++) memset(o + j * d, 0, (size_t)d * sizeof(float));
    for (int64_t c0 = 0; c0 < n; c0 += CHUNK) {
        int nc = (int)(n - c0 < CHUNK ? n - c0 : CHUNK);
        rows_to_f32(kf, v, stride, c0, nc, d);
        for (int64_t i0 = 0; i0 < d; i0 += 128) {
            int nv = (int)((d - i0 < 128 ? d - i0 : 128) / 16);
            for (int j = 0; j < nq; j += 2) {
                int j2 = j + 1 < nq ? j + 1 : j; /* an odd last query pairs with itself */
                __m512 a0[8], a1[8];
                for (int u = 0; u < 8; u++) a0[u] = a1[u] = _mm512_setzero_ps();
                for (int c = 0; c < nc; c++) {
                    const float *vr = kf + (int64_t)c * d + i0;
                    __m512 p0 = _mm512_set1_ps(st[(c0 + c) * QB + j]), p1 = _mm512_set1_ps(st[(c0 + c) * QB + j2]);
                    for (int u = 0; u < 8; u++) {
                        if (u >= nv) break;
                        __m512 vv = _mm512_loadu_ps(vr + 16 * u);
                        a0[u] = _mm512_fmadd_ps(p0, vv, a0[u]);
                        a1[u] = _mm512_fmadd_ps(p1, vv, a1[u]);
                    }
                }
                for (int u = 0; u < 8; u++) {
                    if (u >= nv) break;
                    float *oj = o + j * d + i0 + 16 * u;
                    _mm512_storeu_ps(oj, _mm512_add_ps(_mm512_loadu_ps(oj), a0[u]));
                    if (j2 != j) {
                        float *oj2 = o + j2 * d + i0 + 16 * u;
                        _mm512_storeu_ps(oj2, _mm512_add_ps(_mm512_loadu_ps(oj2), a1[u]));
                    }
                }
            }
        }
    }
    for (int j = 0; j < nq; j++) {
        __m512 s = _mm512_set1_ps(inv[j]);
        for (int64_t i = 0; i < d; i += 16) _mm512_storeu_ps(o + j * d + i, _mm512_mul_ps(_mm512_loadu_ps(o + j * d + i), s));
    }
}

static void attn_f16(float *o, const float *q, int64_t nq, int64_t d, const hearth_f16 *k, const hearth_f16 *v,
                     int64_t stride, const int32_t *n_kv, float scale, float *scratch)
{
    int64_t n = 0;
    for (int64_t j = 0; j < nq; j++) n = n_kv[j] > n ? n_kv[j] : n;
    /* scratch: Q^T, then scores^T, then a chunk of rows */
    float *qt = scratch, *st = qt + d * QB, *kf = st + n * QB;
    for (int64_t j0 = 0; j0 < nq; j0 += QB) {
        int nb = (int)(nq - j0 < QB ? nq - j0 : QB);
        attn_block(o + j0 * d, q + j0 * d, nb, d, k, v, stride, n_kv + j0, scale, qt, st, kf);
    }
}

void hearth_avx512_fill_vec(hearth_vec_ops *v)
{
    v->attn_f16 = attn_f16;
}
