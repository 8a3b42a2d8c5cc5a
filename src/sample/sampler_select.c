/*
 * sampler_select.c — top-k, top-p, min-p and typical-p without sorting the vocabulary.
 *
 * One pass drops every token into one of SAMPLER_BINS buckets by logit (the top 32 nats split
 * evenly, everything lower in bucket 0) and sums counts and probability mass per bucket.
 * Walking the buckets from the top finds the lowest bucket the truncations can reach (enough
 * tokens for top-k, enough mass for top-p, the min-p floor); only tokens from there up are
 * collected and sorted (radix sort on the float bits: stable, so ties keep id order). The
 * result is exactly what sorting everything would give; the work is one pass plus a sort of
 * typically tens of tokens.
 */
#include <string.h>

#include "sample/sampler_internal.h"

#define SPAN 32.0f
#define SMALL_K 128

/* Float -> unsigned key whose ascending order is the float's descending order. */
static inline uint32_t desc_key(float f)
{
    union { float f; uint32_t u; } v = {.f = f};
    uint32_t asc = (v.u & 0x80000000u) ? ~v.u : v.u ^ 0x80000000u;
    return ~asc;
}

/* Stable sort of cand[0..n) by key[0..n) ascending. */
static void sort_by_key(hearth_sampler *sm, int32_t n)
{
    int32_t *id = sm->cand, *id2 = sm->cand_tmp;
    uint32_t *k = sm->key, *k2 = sm->key_tmp;
    if (n < 48) {
        for (int32_t i = 1; i < n; i++) {
            uint32_t kk = k[i];
            int32_t ii = id[i], j = i;
            while (j > 0 && k[j - 1] > kk) { k[j] = k[j - 1]; id[j] = id[j - 1]; j--; }
            k[j] = kk;
            id[j] = ii;
        }
        return;
    }
    for (int shift = 0; shift < 32; shift += 8) {
        uint32_t count[257] = {0};
        for (int32_t i = 0; i < n; i++) count[((k[i] >> shift) & 0xff) + 1]++;
        if (count[((k[0] >> shift) & 0xff) + 1] == (uint32_t)n) continue; /* all equal here */
        for (int b = 0; b < 256; b++) count[b + 1] += count[b];
        for (int32_t i = 0; i < n; i++) {
            uint32_t d = count[(k[i] >> shift) & 0xff]++;
            k2[d] = k[i];
            id2[d] = id[i];
        }
        uint32_t *tk = k; k = k2; k2 = tk;
        int32_t *ti = id; id = id2; id2 = ti;
    }
    if (id != sm->cand) { /* the data ended in the scratch arrays */
        memcpy(sm->cand, id, (size_t)n * sizeof *id);
        memcpy(sm->key, k, (size_t)n * sizeof *k);
    }
}

/* Small top-k: one pass keeping the k best in a sorted list; nearly every token is turned away
 * by a single compare with the k-th best so far. Ties keep the lower id, as the sort does. */
static int32_t select_top_k(hearth_sampler *sm, float floor)
{
    const float *w = sm->work;
    int32_t k = sm->p.top_k, n = 0;
    float *val = (float *)(void *)sm->key_tmp;
    float thr = -INFINITY;
    for (int32_t i = 0; i < sm->n_vocab; i++) {
        float l = w[i];
        if (!(l > thr) || (n < k && !(l >= floor && l != -INFINITY))) continue;
        if (n == k && !(l >= floor)) continue;
        int32_t j = n < k ? n++ : n - 1;
        while (j > 0 && val[j - 1] < l) { val[j] = val[j - 1]; sm->cand[j] = sm->cand[j - 1]; j--; }
        val[j] = l;
        sm->cand[j] = i;
        if (n == k) thr = val[n - 1];
    }
    for (int32_t j = 0; j < n; j++) sm->key[j] = desc_key(val[j]);
    return n;
}

int32_t sample_truncate(hearth_sampler *sm, float max_logit, double z)
{
    const hearth_sampler_params *p = &sm->p;
    const float *w = sm->work;
    int32_t V = sm->n_vocab;
    bool want_k = p->top_k > 0 && p->top_k < V, want_p = p->top_p < 1.0f, want_typ = p->typical_p < 1.0f;
    float floor = -INFINITY;
    if (p->min_p > 0.0f) floor = max_logit + logf(p->min_p > 1.0f ? 1.0f : p->min_p);
    int32_t n = 0;
    if (want_k && p->top_k <= SMALL_K) {
        n = select_top_k(sm, floor);
        goto truncate;
    }
    /* bucket pass */
    const float lo = max_logit - SPAN, scale = (float)SAMPLER_BINS / SPAN;
    memset(sm->bin_count, 0, sizeof sm->bin_count);
    memset(sm->bin_mass, 0, sizeof sm->bin_mass);
    bool need_mass = want_p && !want_k;
    double total = 0;
    if (need_mass) {
        /* top-p's total is over every token (min-p comes after it), the buckets only over
         * tokens that min-p keeps */
        for (int32_t i = 0; i < V; i++) {
            float l = w[i];
            if (l == -INFINITY) continue;
            double e = sample_exp(l - max_logit);
            total += e;
            if (!(l >= floor)) continue;
            float f = (l - lo) * scale;
            int b = f <= 0.0f ? 0 : f >= (float)(SAMPLER_BINS - 1) ? SAMPLER_BINS - 1 : (int)f;
            sm->bin_count[b]++;
            sm->bin_mass[b] += e;
        }
    } else if (want_k) {
        /* counts only, without branches: tokens below the floor land in a spare bucket */
        for (int32_t i = 0; i < V; i++) {
            float l = w[i];
            float f = (l - lo) * scale;
            int b = f <= 0.0f ? 0 : f >= (float)(SAMPLER_BINS - 1) ? SAMPLER_BINS - 1 : (int)f;
            b = l >= floor && l != -INFINITY ? b : SAMPLER_BINS;
            sm->bin_count[b]++;
        }
    }
    if (need_mass && z < 0) z = total;
    /* the lowest bucket any truncation can reach */
    int cut = 0;
    if (want_k || want_p) {
        uint32_t count = 0;
        double mass = 0;
        for (cut = SAMPLER_BINS - 1; cut > 0; cut--) {
            count += sm->bin_count[cut];
            mass += sm->bin_mass[cut];
            if (want_k ? count >= (uint32_t)p->top_k : mass >= (double)p->top_p * z * (1.0 + 1e-6)) break;
        }
        if (!want_k && cut > 0) cut--; /* one bucket of slack against rounding in the sums */
    }
    if (want_typ) cut = 0;           /* typical-p can keep tokens from anywhere */
    /* collect everything at or above the cut bucket (a lower threshold by one bucket, so float
     * rounding cannot lose a member: extra tokens are harmless, the exact rules come next) */
    float thr = cut > 1 ? lo + (float)(cut - 1) / scale : -INFINITY;
    if (floor > thr) thr = floor;
    for (int32_t i = 0; i < V; i++) {
        float l = w[i];
        if (l >= thr && l != -INFINITY) {
            sm->cand[n] = i;
            sm->key[n++] = desc_key(l);
        }
    }
    sort_by_key(sm, n);
truncate:
    /* the truncations, in order, on the sorted candidates */
    if (want_k && n > p->top_k) n = p->top_k;
    if (want_p || want_typ) {
        /* probabilities relative to the max, kept in the radix scratch (free until the next sort) */
        float *pr = (float *)(void *)sm->key_tmp;
        double sum = 0;
        for (int32_t i = 0; i < n; i++) { pr[i] = sample_exp(w[sm->cand[i]] - max_logit); sum += pr[i]; }
        if (want_p) {
            double zz = want_k || z < 0 ? sum : z; /* top-k first renormalizes to its set */
            double target = (double)p->top_p * zz, cum = 0;
            int32_t keep = n;
            for (int32_t i = 0; i < n; i++) {
                cum += pr[i];
                if (cum >= target) { keep = i + 1; break; }
            }
            n = keep;
        }
        if (want_typ && n > 1) {
            /* entropy of the remaining candidates, then sort by |surprise - entropy| */
            double s = 0, h = 0;
            for (int32_t i = 0; i < n; i++) s += pr[i];
            for (int32_t i = 0; i < n; i++) {
                double q = pr[i] / s;
                if (q > 0) h -= q * log(q);
            }
            for (int32_t i = 0; i < n; i++) {
                double q = pr[i] / s;
                double dev = q > 0 ? fabs(-log(q) - h) : 1e30;
                sm->key[i] = desc_key(-(float)dev); /* ascending deviation */
            }
            sort_by_key(sm, n);
            double target = (double)p->typical_p, cum = 0;
            int32_t keep = n;
            for (int32_t i = 0; i < n; i++) {
                cum += sample_exp(w[sm->cand[i]] - max_logit) / s;
                if (cum >= target) { keep = i + 1; break; }
            }
            n = keep;
        }
    }
    return n;
}
