/*
 * quantize_k.c — reference weight quantizers for the k-quants (used by `hearth synth` and the
 * tests to make realistic blocks; real models arrive already quantized).
 *
 * Not ggml's importance-weighted search, but a sane one: per group, a handful of candidate
 * scales refined by least squares, keeping the one with the lowest squared error; then the
 * group scales are themselves quantized against the super-block scale and the quants are
 * recomputed with the scales the decoder will actually see. Deterministic.
 */
#include "kernels/kernels_impl.h"

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* round() that is defined for every float (NaN and huge values clamp to the range) */
static int round_clamp(float v, int lo, int hi)
{
    if (!(v > (float)lo)) return lo;
    if (v >= (float)hi) return hi;
    return clampi((int)lrintf(v), lo, hi);
}

/* Symmetric group: x ~= s * L with L in [lo, hi]. Returns s (may be negative). */
static float fit_symmetric(const float *x, int n, int lo, int hi)
{
    float amax = 0.0f, max = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > amax) {
            amax = fabsf(x[i]);
            max = x[i];
        }
    if (amax == 0.0f) return 0.0f;
    float best_s = max / (float)lo, best_err = INFINITY;
    for (int step = -8; step <= 8; step++) {
        float iscale = ((float)lo + 0.1f * (float)step) / max;
        float sxl = 0.0f, sll = 0.0f;
        for (int i = 0; i < n; i++) {
            int l = round_clamp(iscale * x[i], lo, hi);
            sxl += x[i] * (float)l;
            sll += (float)(l * l);
        }
        if (sll == 0.0f || sxl == 0.0f) continue;
        float s = sxl / sll, err = 0.0f; /* least-squares scale for these levels */
        for (int i = 0; i < n; i++) {
            float e = x[i] - s * (float)round_clamp(x[i] / s, lo, hi);
            err += e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_s = s;
        }
    }
    return best_s;
}

/* Asymmetric group: x ~= s * L - m with L in [0, nmax], s >= 0, m >= 0. */
static void fit_asymmetric(const float *x, int n, int nmax, float *s_out, float *m_out)
{
    float mn = x[0], mx = x[0];
    for (int i = 1; i < n; i++) {
        mn = fminf(mn, x[i]);
        mx = fmaxf(mx, x[i]);
    }
    mn = fminf(mn, 0.0f);
    if (mx <= mn) {
        *s_out = 0.0f;
        *m_out = -mn;
        return;
    }
    float best_s = (mx - mn) / (float)nmax, best_m = -mn, best_err = INFINITY;
    for (int step = 0; step <= 8; step++) {
        float s = (mx - mn) / ((float)nmax - 0.05f * (float)step * (float)nmax / 8.0f);
        float m = -mn;
        for (int iter = 0; iter < 3; iter++) {
            /* levels for (s, m), then least squares for (s, m) given the levels */
            float sl = 0, sll = 0, sx = 0, sxl = 0;
            for (int i = 0; i < n; i++) {
                int l = round_clamp((x[i] + m) / s, 0, nmax);
                sl += (float)l;
                sll += (float)(l * l);
                sx += x[i];
                sxl += x[i] * (float)l;
            }
            float det = (float)n * sll - sl * sl;
            if (det <= 0.0f) break;
            float ns = ((float)n * sxl - sl * sx) / det, nm = (sl * sxl - sll * sx) / det;
            if (nm < 0.0f) { /* m must stay >= 0: refit s alone with m = 0 */
                nm = 0.0f;
                ns = sxl / sll;
            }
            if (!(ns > 0.0f)) break;
            s = ns;
            m = nm;
        }
        float err = 0.0f;
        for (int i = 0; i < n; i++) {
            float e = x[i] - (s * (float)round_clamp((x[i] + m) / s, 0, nmax) - m);
            err += e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_s = s;
            best_m = m;
        }
    }
    *s_out = best_s;
    *m_out = best_m;
}

/* Levels of one group given its final dequantization parameters. */
static void levels(const float *x, int n, float ds, float dm, int lo, int hi, int *L)
{
    for (int i = 0; i < n; i++) L[i] = ds != 0.0f ? round_clamp((x[i] + dm) / ds, lo, hi) : clampi(0, lo, hi);
}

/* Asymmetric super-block: ngroups groups of gsize, nmax levels, scales and mins quantized
 * to sbits bits. Fills d, dmin, sc[], m[] and L[256]. */
static void quantize_asym(const float *x, int ngroups, int gsize, int nmax, int sbits,
                          float *d, float *dmin, int *sc, int *m, int *L)
{
    float s[16], mm[16], smax = 0.0f, mmax = 0.0f;
    int qmax = (1 << sbits) - 1;
    for (int g = 0; g < ngroups; g++) {
        fit_asymmetric(x + g * gsize, gsize, nmax, &s[g], &mm[g]);
        smax = fmaxf(smax, s[g]);
        mmax = fmaxf(mmax, mm[g]);
    }
    *d = hearth_f16_to_f32(hearth_f32_to_f16(smax / (float)qmax));
    *dmin = hearth_f16_to_f32(hearth_f32_to_f16(mmax / (float)qmax));
    for (int g = 0; g < ngroups; g++) {
        sc[g] = *d > 0.0f ? round_clamp(s[g] / *d, 0, qmax) : 0;
        m[g] = *dmin > 0.0f ? round_clamp(mm[g] / *dmin, 0, qmax) : 0;
        levels(x + g * gsize, gsize, *d * (float)sc[g], *dmin * (float)m[g], 0, nmax,
               L + g * gsize);
    }
}

/* Symmetric super-block of 16 groups of 16: levels in [lo, hi], scales in [slo, shi]. */
static void quantize_sym(const float *x, int lo, int hi, int slo, int shi, float *d, int *sc,
                         int *L)
{
    float s[16], amax = 0.0f, max = 0.0f;
    for (int g = 0; g < 16; g++) {
        s[g] = fit_symmetric(x + 16 * g, 16, lo, hi);
        if (fabsf(s[g]) > amax) {
            amax = fabsf(s[g]);
            max = s[g];
        }
    }
    *d = amax > 0.0f ? hearth_f16_to_f32(hearth_f32_to_f16(max / (float)slo)) : 0.0f;
    for (int g = 0; g < 16; g++) {
        sc[g] = *d != 0.0f ? round_clamp(s[g] / *d, slo, shi) : 0;
        levels(x + 16 * g, 16, *d * (float)sc[g], 0.0f, lo, hi, L + 16 * g);
    }
}

void hearth_quantize_row_q2_K(const float *x, void *dst, int64_t n)
{
    block_q2_K *y = dst;
    int sc[16], m[16], L[256];
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, x += HEARTH_QK_K) {
        float d, dmin;
        quantize_asym(x, 16, 16, 3, 4, &d, &dmin, sc, m, L);
        y[i].d = hearth_f32_to_f16(d);
        y[i].dmin = hearth_f32_to_f16(dmin);
        for (int g = 0; g < 16; g++) y[i].scales[g] = (uint8_t)(sc[g] | (m[g] << 4));
        memset(y[i].qs, 0, sizeof y[i].qs);
        for (int c = 0; c < 2; c++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++)
                    y[i].qs[32 * c + l] |= (uint8_t)(L[128 * c + 32 * j + l] << (2 * j));
    }
}

void hearth_quantize_row_q3_K(const float *x, void *dst, int64_t n)
{
    block_q3_K *y = dst;
    int sc[16], L[256];
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, x += HEARTH_QK_K) {
        float d;
        quantize_sym(x, -4, 3, -32, 31, &d, sc, L);
        y[i].d = hearth_f32_to_f16(d);
        memset(y[i].scales, 0, sizeof y[i].scales);
        for (int g = 0; g < 16; g++) {
            int v = sc[g] + 32;
            if (g < 8) y[i].scales[g] |= (uint8_t)(v & 0x0f);
            else y[i].scales[g - 8] |= (uint8_t)((v & 0x0f) << 4);
            y[i].scales[8 + (g & 3)] |= (uint8_t)((v >> 4) << (2 * (g >> 2)));
        }
        memset(y[i].qs, 0, sizeof y[i].qs);
        memset(y[i].hmask, 0, sizeof y[i].hmask);
        for (int c = 0; c < 2; c++)
            for (int j = 0; j < 4; j++)
                for (int l = 0; l < 32; l++) {
                    int u = L[128 * c + 32 * j + l] + 4; /* 0..7 */
                    y[i].qs[32 * c + l] |= (uint8_t)((u & 3) << (2 * j));
                    y[i].hmask[l] |= (uint8_t)((u >> 2) << (4 * c + j));
                }
    }
}

/* Q4_K/Q5_K scale bytes: six bits per scale and min, the top two bits of 4..7 tucked away. */
static void pack_k4_scales(const int sc[8], const int m[8], uint8_t out[12])
{
    for (int j = 0; j < 4; j++) {
        out[j] = (uint8_t)((sc[j] & 63) | ((sc[j + 4] >> 4) << 6));
        out[j + 4] = (uint8_t)((m[j] & 63) | ((m[j + 4] >> 4) << 6));
        out[j + 8] = (uint8_t)((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
    }
}

/* Q4_K (bits 4) and Q5_K (bits 5, the fifth bit of each level in qh) share their layout:
 * d, dmin, the packed 6-bit scales and mins, then the low nibbles. */
static void quantize_q45_K(const float *x, int bits, hearth_f16 *d_out, hearth_f16 *dmin_out,
                           uint8_t scales[12], uint8_t qs[128], uint8_t *qh)
{
    int sc[8], m[8], L[256];
    float d, dmin;
    quantize_asym(x, 8, 32, (1 << bits) - 1, 6, &d, &dmin, sc, m, L);
    *d_out = hearth_f32_to_f16(d);
    *dmin_out = hearth_f32_to_f16(dmin);
    pack_k4_scales(sc, m, scales);
    if (qh) memset(qh, 0, 32);
    for (int c = 0; c < 4; c++)
        for (int l = 0; l < 32; l++) {
            int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
            qs[32 * c + l] = (uint8_t)((lo & 0x0f) | ((hi & 0x0f) << 4));
            if (qh) qh[l] |= (uint8_t)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
        }
}

void hearth_quantize_row_q4_K(const float *x, void *dst, int64_t n)
{
    block_q4_K *y = dst;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, x += HEARTH_QK_K)
        quantize_q45_K(x, 4, &y[i].d, &y[i].dmin, y[i].scales, y[i].qs, NULL);
}

void hearth_quantize_row_q5_K(const float *x, void *dst, int64_t n)
{
    block_q5_K *y = dst;
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, x += HEARTH_QK_K)
        quantize_q45_K(x, 5, &y[i].d, &y[i].dmin, y[i].scales, y[i].qs, y[i].qh);
}

void hearth_quantize_row_q6_K(const float *x, void *dst, int64_t n)
{
    block_q6_K *y = dst;
    int sc[16], L[256];
    for (int64_t i = 0; i < n / HEARTH_QK_K; i++, x += HEARTH_QK_K) {
        float d;
        quantize_sym(x, -32, 31, -128, 127, &d, sc, L);
        y[i].d = hearth_f32_to_f16(d);
        for (int g = 0; g < 16; g++) y[i].scales[g] = (int8_t)sc[g];
        for (int c = 0; c < 2; c++) {
            const int *u = L + 128 * c;
            for (int l = 0; l < 32; l++) {
                int a = u[l] + 32, b = u[l + 32] + 32, e = u[l + 64] + 32, f = u[l + 96] + 32;
                y[i].ql[64 * c + l] = (uint8_t)((a & 0x0f) | ((e & 0x0f) << 4));
                y[i].ql[64 * c + 32 + l] = (uint8_t)((b & 0x0f) | ((f & 0x0f) << 4));
                y[i].qh[32 * c + l] =
                    (uint8_t)((a >> 4) | ((b >> 4) << 2) | ((e >> 4) << 4) | ((f >> 4) << 6));
            }
        }
    }
}
