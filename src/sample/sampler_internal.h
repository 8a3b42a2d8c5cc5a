/* sampler_internal.h — the sampler's struct and the selection helpers it shares with
 * sampler_select.c. Not part of the module's interface. */
#ifndef HEARTH_SAMPLER_INTERNAL_H
#define HEARTH_SAMPLER_INTERNAL_H

#include <math.h>
#include <stdint.h>

#include "hearth.h"
#include "sample/sample.h"

#define SAMPLER_BINS 1024

struct hearth_sampler {
    hearth_sampler_params p;
    hearth_logit_bias *bias;
    int32_t n_vocab;
    uint64_t rng[4];
    hearth_token *hist;          /* ring of the last penalty_last_n tokens */
    int32_t hist_cap, hist_n, hist_pos;
    hearth_token *win;           /* scratch: a sorted copy of the window */
    float *work;                 /* logits after penalties, bias and grammar */
    int32_t *cand, *cand_tmp;    /* candidate ids (and radix scratch) */
    uint32_t *key, *key_tmp;     /* sort keys */
    uint32_t bin_count[SAMPLER_BINS + 1]; /* + a spare bucket for tokens below min-p */
    double bin_mass[SAMPLER_BINS];
    hearth_grammar *grammar;
    int32_t gstate;
    uint64_t *mask;              /* this step's allowed tokens, copied from the grammar (which
                                  * other samplers may share) by sample_begin */
    int32_t budget;              /* tokens left, -1 = unlimited */
    char error[1024];
};

/* e^x in float, about 1 ulp, for x <= 0 mostly; written so compilers vectorize loops over it
 * and so the result is the same on every x86-64 (no libm differences). */
static inline float sample_exp(float x)
{
    x = x > -87.0f ? x : -87.0f; /* sampler.c's exp_shifted has the SSE2 twin of this */
    x = x < 88.0f ? x : 88.0f;
    float t = x * 1.44269504088896341f + 12582912.0f; /* round(x / ln 2) via the magic constant */
    float k = t - 12582912.0f;
    float r = x - k * 0.693145751953125f - k * 1.428606765330187045e-06f;
    float p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    union { uint32_t u; float f; } s = {.u = (uint32_t)((int32_t)k + 127) << 23};
    return p * s.f;
}

/* e[i] = sample_exp(d[i]) with d[i] = max(x[i] - shift, -87), four at a time where SSE2 exists:
 * bit-for-bit the same as the scalar function (test_sampler checks). */
void sample_exp_shifted(const float *x, float shift, float *e, float *d, int32_t n);

/* Picks the candidates of sm->work that survive top-k, top-p, min-p and typical-p, sorted by
 * logit (highest first, ties by id) into sm->cand. z = sum of exp(work - max) over all tokens
 * (< 0: not known yet). Returns how many. */
int32_t sample_truncate(hearth_sampler *sm, float max_logit, double z);

#endif
