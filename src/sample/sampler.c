/*
 * sampler.c — the sampler chain, in this fixed order (docs/sampling.md):
 *
 *   1. penalties over the last penalty_last_n tokens: repetition (positive logits divided by
 *      repeat_penalty, negative ones multiplied), then frequency (count x) and presence (once);
 *   2. logit bias (-INFINITY bans);
 *   3. grammar mask (tokens that cannot continue a valid output are removed);
 *   4. top-k, 5. top-p, 6. min-p, 7. typical-p (sampler_select.c);
 *   8. temperature (0 = argmax of the logits after 1-3);
 *   9. one draw from hearth's own xoshiro256** generator, seeded by params.seed.
 *
 * Every step runs sequentially in a fixed order on one thread, with our own exp(), so the same
 * logits, seed and settings give the same token on any machine and any thread count. The
 * reported logprobs (chosen token, top-n alternatives, entropy) come from the model's full
 * distribution before any of these steps, as OpenAI's API reports them. Scratch memory is
 * allocated once, in hearth_sampler_new: sampling allocates nothing.
 *
 * One draw is three calls (sample.h): sample_begin and sample_end touch the grammar, which
 * several samplers may share, and run on the caller's thread; sample_draw touches only its own
 * sampler, so the generation loop draws the tokens of parallel samples on the context's
 * threads. hearth_sampler_sample is the three in a row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/base.h"
#include "sample/grammar.h"
#include "sample/sampler_internal.h"

hearth_sampler_params hearth_sampler_default_params(void)
{
    return (hearth_sampler_params){
        .temperature = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .typical_p = 1.0f,
        .repeat_penalty = 1.0f,
        .presence_penalty = 0.0f,
        .frequency_penalty = 0.0f,
        .penalty_last_n = 64,
        .seed = 0x5eed,
        .n_logprobs = 0,
    };
}

/* ---- xoshiro256** (Blackman & Vigna), seeded through splitmix64 ---- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(uint64_t s[4])
{
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static double rng_uniform(uint64_t s[4]) { return (double)(rng_next(s) >> 11) * 0x1.0p-53; }

static void rng_seed(uint64_t s[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++) s[i] = splitmix64(&seed);
}

/* ---- construction ---- */

static hearth_status check_params(const hearth_sampler_params *p, hearth_error *err)
{
#define BAD(cond, ...) if (cond) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, __VA_ARGS__)
    BAD(!(p->temperature >= 0.0f) || isinf(p->temperature), "sampler: temperature %g: expected a finite value >= 0", (double)p->temperature);
    BAD(p->top_k < 0, "sampler: top_k %d: expected >= 0", p->top_k);
    BAD(!(p->top_p > 0.0f && p->top_p <= 1.0f), "sampler: top_p %g: expected 0 < top_p <= 1", (double)p->top_p);
    BAD(!(p->min_p >= 0.0f && p->min_p <= 1.0f), "sampler: min_p %g: expected 0 <= min_p <= 1", (double)p->min_p);
    BAD(!(p->typical_p > 0.0f && p->typical_p <= 1.0f), "sampler: typical_p %g: expected 0 < typical_p <= 1", (double)p->typical_p);
    BAD(!(p->repeat_penalty > 0.0f) || isinf(p->repeat_penalty), "sampler: repeat_penalty %g: expected > 0", (double)p->repeat_penalty);
    BAD(!isfinite(p->presence_penalty) || !isfinite(p->frequency_penalty), "sampler: penalties must be finite");
    BAD(p->penalty_last_n < 0 || p->penalty_last_n > 1 << 20, "sampler: penalty_last_n %d: expected 0..1048576", p->penalty_last_n);
    BAD(p->n_logprobs < 0 || p->n_logprobs > HEARTH_MAX_TOP_LOGPROBS, "sampler: n_logprobs %d: expected 0..%d", p->n_logprobs, HEARTH_MAX_TOP_LOGPROBS);
    BAD(p->n_logit_bias < 0 || (p->n_logit_bias > 0 && !p->logit_bias), "sampler: %d logit biases but no list", p->n_logit_bias);
#undef BAD
    return HEARTH_OK;
}

hearth_sampler *sample_sampler_new_n(int32_t n_vocab, const hearth_sampler_params *params, hearth_error *err)
{
    hearth_sampler_params p = params ? *params : hearth_sampler_default_params();
    if (n_vocab <= 0) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "sampler: vocabulary of %d tokens", n_vocab);
        return NULL;
    }
    if (check_params(&p, err) != HEARTH_OK) return NULL;
    for (int32_t i = 0; i < p.n_logit_bias; i++)
        if (p.logit_bias[i].token < 0 || p.logit_bias[i].token >= n_vocab || isnan(p.logit_bias[i].bias)) {
            hearth_fail(err, HEARTH_ERR_INVALID_ARG, "sampler: logit bias %d: token %d outside 0..%d or bias NaN", i,
                        p.logit_bias[i].token, n_vocab - 1);
            return NULL;
        }
    hearth_sampler *sm = calloc(1, sizeof *sm);
    if (!sm) goto oom;
    sm->n_vocab = n_vocab;
    sm->hist_cap = p.penalty_last_n > 0 ? p.penalty_last_n : 1;
    sm->hist = malloc((size_t)sm->hist_cap * sizeof *sm->hist);
    sm->win = malloc((size_t)sm->hist_cap * sizeof *sm->win);
    sm->work = malloc((size_t)n_vocab * sizeof *sm->work);
    sm->cand = malloc((size_t)n_vocab * sizeof *sm->cand);
    sm->cand_tmp = malloc((size_t)n_vocab * sizeof *sm->cand_tmp);
    sm->key = malloc((size_t)n_vocab * sizeof *sm->key);
    sm->key_tmp = malloc((size_t)n_vocab * sizeof *sm->key_tmp);
    sm->mask = malloc(((size_t)n_vocab + 63) / 64 * sizeof *sm->mask);
    if (!sm->hist || !sm->win || !sm->work || !sm->cand || !sm->cand_tmp || !sm->key || !sm->key_tmp || !sm->mask)
        goto oom;
    if (p.n_logit_bias) {
        sm->bias = malloc((size_t)p.n_logit_bias * sizeof *sm->bias);
        if (!sm->bias) goto oom;
        memcpy(sm->bias, p.logit_bias, (size_t)p.n_logit_bias * sizeof *sm->bias);
    }
    p.logit_bias = sm->bias;
    sm->p = p;
    hearth_sampler_reset(sm);
    return sm;
oom:
    hearth_sampler_free(sm);
    hearth_fail(err, HEARTH_ERR_NOMEM, "sampler: out of memory for %d tokens", n_vocab);
    return NULL;
}

hearth_sampler *hearth_sampler_new(const hearth_model *model, const hearth_sampler_params *params, hearth_error *err)
{
    if (!model) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "sampler: no model");
        return NULL;
    }
    return sample_sampler_new_n(hearth_vocab_size(model), params, err);
}

void hearth_sampler_free(hearth_sampler *sm)
{
    if (!sm) return;
    free(sm->bias);
    free(sm->hist);
    free(sm->win);
    free(sm->work);
    free(sm->cand);
    free(sm->cand_tmp);
    free(sm->key);
    free(sm->key_tmp);
    free(sm->mask);
    free(sm);
}

void hearth_sampler_reset(hearth_sampler *sm)
{
    if (!sm) return;
    rng_seed(sm->rng, sm->p.seed);
    sm->hist_n = sm->hist_pos = 0;
    sm->budget = -1;
    sm->gstate = sm->grammar ? sm->grammar->start : GSTATE_DEAD;
    sm->error[0] = '\0';
}

void hearth_sampler_accept(hearth_sampler *sm, hearth_token token)
{
    if (!sm || token < 0 || token >= sm->n_vocab) return;
    sm->hist[sm->hist_pos] = token;
    sm->hist_pos = (sm->hist_pos + 1) % sm->hist_cap;
    if (sm->hist_n < sm->hist_cap) sm->hist_n++;
}

const char *hearth_sampler_error(const hearth_sampler *sm) { return sm ? sm->error : "no sampler"; }

hearth_status hearth_sampler_set_grammar(hearth_sampler *sm, hearth_grammar *grammar, hearth_error *err)
{
    if (!sm) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "sampler: none");
    if (grammar && grammar->vocab->n_vocab != sm->n_vocab)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "sampler: grammar made for %d tokens, sampler has %d",
                           grammar->vocab->n_vocab, sm->n_vocab);
    sm->grammar = grammar;
    sm->gstate = grammar ? grammar->start : GSTATE_DEAD;
    return HEARTH_OK;
}

void hearth_sampler_set_budget(hearth_sampler *sm, int32_t tokens_left)
{
    if (sm) sm->budget = tokens_left > 0 ? tokens_left : -1;
}

bool hearth_sampler_grammar_done(const hearth_sampler *sm)
{
    return sm && sm->grammar && gmatch_done(sm->grammar->m, sm->gstate);
}

/* ---- one step ---- */

static int cmp_tok(const void *a, const void *b)
{
    hearth_token x = *(const hearth_token *)a, y = *(const hearth_token *)b;
    return (x > y) - (x < y);
}

/* Returns whether any logit changed. */
static bool apply_penalties(hearth_sampler *sm)
{
    const hearth_sampler_params *p = &sm->p;
    if (!sm->hist_n || p->penalty_last_n == 0 ||
        (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f))
        return false;
    memcpy(sm->win, sm->hist, (size_t)sm->hist_n * sizeof *sm->win);
    qsort(sm->win, (size_t)sm->hist_n, sizeof *sm->win, cmp_tok);
    for (int32_t i = 0; i < sm->hist_n;) {
        int32_t j = i;
        while (j < sm->hist_n && sm->win[j] == sm->win[i]) j++;
        float *l = &sm->work[sm->win[i]];
        if (*l > 0) *l /= p->repeat_penalty;
        else *l *= p->repeat_penalty;
        *l -= (float)(j - i) * p->frequency_penalty + p->presence_penalty;
        i = j;
    }
    return true;
}

#ifdef __SSE2__
/* sample_exp of four values at once: the same IEEE operations in the same order. */
static inline __m128 exp4(__m128 dv)
{
    __m128 xv = _mm_min_ps(dv, _mm_set1_ps(88.0f));
    __m128 magic = _mm_set1_ps(12582912.0f);
    __m128 k = _mm_sub_ps(_mm_add_ps(_mm_mul_ps(xv, _mm_set1_ps(1.44269504088896341f)), magic), magic);
    __m128 r = _mm_sub_ps(_mm_sub_ps(xv, _mm_mul_ps(k, _mm_set1_ps(0.693145751953125f))),
                          _mm_mul_ps(k, _mm_set1_ps(1.428606765330187045e-06f)));
    __m128 p = _mm_set1_ps(1.0f / 720);
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.0f / 120));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.0f / 24));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.0f / 6));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(0.5f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.0f));
    p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(1.0f));
    __m128i bits = _mm_slli_epi32(_mm_add_epi32(_mm_cvttps_epi32(k), _mm_set1_epi32(127)), 23);
    return _mm_mul_ps(p, _mm_castsi128_ps(bits));
}
#endif

/* e[i] = exp(d[i]) with d[i] = max(x[i] - shift, -87), both stored: the SSE2 path and the scalar
 * tail do the same IEEE operations in the same order as sample_exp, so results are identical. */
void sample_exp_shifted(const float *x, float shift, float *e, float *d, int32_t n)
{
    int32_t i = 0;
#ifdef __SSE2__
    const __m128 lo = _mm_set1_ps(-87.0f), sh = _mm_set1_ps(shift);
    for (; i + 4 <= n; i += 4) {
        __m128 dv = _mm_max_ps(_mm_sub_ps(_mm_loadu_ps(x + i), sh), lo);
        _mm_storeu_ps(e + i, exp4(dv));
        _mm_storeu_ps(d + i, dv);
    }
#endif
    for (; i < n; i++) {
        float dd = x[i] - shift;
        dd = dd > -87.0f ? dd : -87.0f;
        d[i] = dd;
        e[i] = sample_exp(dd);
    }
}

/* dst = src with NaN as -inf (dst may be NULL: only the max); returns the maximum. Max is exact
 * in any order, so four lanes change nothing. */
static float copy_max(const float *src, float *dst, int32_t n)
{
    float mx = -INFINITY;
    int32_t i = 0;
#ifdef __SSE2__
    const __m128 ninf = _mm_set1_ps(-INFINITY);
    __m128 m4 = ninf;
    for (; i + 4 <= n; i += 4) {
        __m128 v = _mm_loadu_ps(src + i);
        __m128 nan = _mm_cmpunord_ps(v, v);
        v = _mm_or_ps(_mm_andnot_ps(nan, v), _mm_and_ps(nan, ninf));
        if (dst) _mm_storeu_ps(dst + i, v);
        m4 = _mm_max_ps(m4, v);
    }
    float lanes[4];
    _mm_storeu_ps(lanes, m4);
    for (int k = 0; k < 4; k++) mx = lanes[k] > mx ? lanes[k] : mx;
#endif
    for (; i < n; i++) {
        float l = src[i] == src[i] ? src[i] : -INFINITY;
        if (dst) dst[i] = l;
        mx = l > mx ? l : mx;
    }
    return mx;
}

/* With d[i] = max(x[i] - shift, -87) and e[i] = sample_exp(d[i]): *s_out = sum of e[i] and
 * *t_out = sum of e[i] * d[i], in 4 double lanes (lane k takes i = k mod 4, the lanes added
 * pairwise, then the tail in order). One pass that stores nothing: the softmax denominator
 * and entropy of 151,936 logits without writing and re-reading 1.2 MB. */
static void exp_sums(const float *x, float shift, int32_t n, double *s_out, double *t_out)
{
    double s4[4] = {0}, t4[4] = {0};
    int32_t i = 0;
#ifdef __SSE2__
    const __m128 lo = _mm_set1_ps(-87.0f), sh = _mm_set1_ps(shift);
    __m128d s01 = _mm_setzero_pd(), s23 = s01, t01 = s01, t23 = s01;
    for (; i + 4 <= n; i += 4) {
        __m128 dv = _mm_max_ps(_mm_sub_ps(_mm_loadu_ps(x + i), sh), lo), ev = exp4(dv);
        __m128d e01 = _mm_cvtps_pd(ev), e23 = _mm_cvtps_pd(_mm_movehl_ps(ev, ev));
        s01 = _mm_add_pd(s01, e01);
        s23 = _mm_add_pd(s23, e23);
        t01 = _mm_add_pd(t01, _mm_mul_pd(e01, _mm_cvtps_pd(dv)));
        t23 = _mm_add_pd(t23, _mm_mul_pd(e23, _mm_cvtps_pd(_mm_movehl_ps(dv, dv))));
    }
    _mm_storeu_pd(s4, s01);
    _mm_storeu_pd(s4 + 2, s23);
    _mm_storeu_pd(t4, t01);
    _mm_storeu_pd(t4 + 2, t23);
#else
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) {
            float dd = x[i + k] - shift;
            dd = dd > -87.0f ? dd : -87.0f;
            float e = sample_exp(dd);
            s4[k] += e;
            t4[k] += (double)e * dd;
        }
#endif
    double s = (s4[0] + s4[1]) + (s4[2] + s4[3]), t = (t4[0] + t4[1]) + (t4[2] + t4[3]);
    for (; i < n; i++) {
        float dd = x[i] - shift;
        dd = dd > -87.0f ? dd : -87.0f;
        float e = sample_exp(dd);
        s += e;
        t += (double)e * dd;
    }
    *s_out = s;
    *t_out = t;
}

/* Logprob summary of the raw logits (x: NaN-free copy, mx = their max): log-sum-exp, entropy,
 * the n best. */
static void raw_stats(hearth_sampler *sm, const float *x, float mx, float *lse_out, hearth_sample *out)
{
    int32_t V = sm->n_vocab, n_top = out ? sm->p.n_logprobs : 0, i;
    if (mx == -INFINITY) { *lse_out = -INFINITY; if (out) { out->entropy = 0; out->n_top = 0; } return; }
    double s, t;
    exp_sums(x, mx, V, &s, &t);
    *lse_out = mx + (float)log(s);
    if (!out) return;
    double h = log(s) - t / s;
    out->entropy = h > 0 ? (float)h : 0.0f;
    /* top n: a small sorted list, most tokens rejected by one compare */
    int32_t n = 0;
    float thr = -INFINITY;
    for (i = 0; i < V && n_top > 0; i++) {
        float l = x[i];
        if (n == n_top && !(l > thr)) continue;
        int32_t j = n < n_top ? n++ : n - 1;
        while (j > 0 && out->top[j - 1].logprob < l) { out->top[j] = out->top[j - 1]; j--; }
        out->top[j] = (hearth_token_logprob){i, l};
        thr = out->top[n - 1].logprob;
    }
    for (int32_t k = 0; k < n; k++) out->top[k].logprob -= *lse_out;
    out->n_top = n;
}

static bool fail(hearth_sampler *sm, const char *msg)
{
    snprintf(sm->error, sizeof sm->error, "%s", msg);
    return false;
}

static hearth_token fail_tok(hearth_sampler *sm, const char *msg)
{
    fail(sm, msg);
    return HEARTH_TOKEN_NULL;
}

/* The budget check and step 3's mask, on the caller's thread: the grammar (which the samplers
 * of parallel samples share, and which every mask and accept extends lazily) is touched only
 * here and in sample_end, never by sample_draw, which may run on a worker thread. */
bool sample_begin(hearth_sampler *sm)
{
    sm->error[0] = '\0';
    if (sm->budget == 0) return fail(sm, "sampler: the token budget is used up");
    if (!sm->grammar) return true;
    if (gmatch_done(sm->grammar->m, sm->gstate))
        return fail(sm, "grammar: the value is already complete");
    hearth_error e = {0};
    const uint64_t *mask = grammar_mask(sm->grammar, sm->gstate, sm->budget, &e);
    if (!mask) return fail(sm, e.message);
    /* a copy: the grammar's cached masks may be dropped, and its budgeted mask overwritten, by
     * the next sampler's sample_begin */
    memcpy(sm->mask, mask, ((size_t)sm->n_vocab + 63) / 64 * sizeof *mask);
    return true;
}

/* Removes the tokens sm->mask forbids from sm->work. */
static void apply_mask(hearth_sampler *sm)
{
    int32_t V = sm->n_vocab;
    for (int32_t w = 0; w < (V + 63) / 64; w++) {
        uint64_t bits = sm->mask[w];
        float *row = sm->work + (size_t)w * 64;
        int32_t n = V - w * 64 < 64 ? V - w * 64 : 64;
        if (bits == ~0ull) continue;
        if (bits == 0) { /* most words outside strings: a plain fill */
            for (int32_t b = 0; b < n; b++) row[b] = -INFINITY;
            continue;
        }
        for (int32_t b = 0; b < n; b++)
            if (!(bits >> b & 1)) row[b] = -INFINITY;
    }
}

/* Everything but the grammar's bookkeeping; touches only sm (after sample_begin succeeded). */
hearth_token sample_draw(hearth_sampler *sm, const float *logits, hearth_sample *out)
{
    int32_t V = sm->n_vocab;
    /* one pass: the working copy (NaN -> -inf) and the raw maximum */
    float raw_max = copy_max(logits, sm->work, V);
    float lse;
    raw_stats(sm, sm->work, raw_max, &lse, out);
    /* 1-3: penalties, bias, grammar on the copy */
    bool changed = apply_penalties(sm) || sm->p.n_logit_bias > 0 || sm->grammar;
    for (int32_t i = 0; i < sm->p.n_logit_bias; i++) sm->work[sm->bias[i].token] += sm->bias[i].bias;
    if (sm->grammar) apply_mask(sm);
    float mx = raw_max;
    if (changed) mx = copy_max(sm->work, NULL, V);
    /* a finite or +inf maximum is some token's value: only -inf means nothing is left */
    if (mx == -INFINITY) return fail_tok(sm, "sampler: every token is excluded (logit bias or penalties left nothing)");
    const hearth_sampler_params *sp = &sm->p;
    hearth_token tok = 0;
    if (sp->temperature == 0.0f) /* greedy: the first token at the maximum (ties to the lowest id) */
        while (sm->work[tok] != mx) tok++;
    bool truncates = (sp->top_k > 0 && sp->top_k < V) || sp->top_p < 1.0f || sp->min_p > 0.0f || sp->typical_p < 1.0f;
    if (sp->temperature > 0.0f && !truncates) {
        /* nothing to truncate: draw over the whole vocabulary in id order, no sorting */
        float inv_t = 1.0f / sp->temperature;
        double total = 0;
        for (int32_t i = 0; i < V; i++) total += sample_exp((sm->work[i] - mx) * inv_t);
        double u = rng_uniform(sm->rng) * total, cum = 0;
        for (int32_t i = 0; i < V; i++) {
            if (sm->work[i] == -INFINITY) continue;
            cum += sample_exp((sm->work[i] - mx) * inv_t);
            tok = i;
            if (u < cum) break;
        }
    } else if (sp->temperature > 0.0f) {
        /* 4-7 truncation, 8 temperature, 9 draw */
        int32_t n = sample_truncate(sm, mx, -1.0);
        if (n <= 0) return fail_tok(sm, "sampler: truncation left no token");
        float inv_t = 1.0f / sm->p.temperature;
        double total = 0;
        for (int32_t i = 0; i < n; i++) total += sample_exp((sm->work[sm->cand[i]] - mx) * inv_t);
        double u = rng_uniform(sm->rng) * total, cum = 0;
        tok = sm->cand[n - 1];
        for (int32_t i = 0; i < n; i++) {
            cum += sample_exp((sm->work[sm->cand[i]] - mx) * inv_t);
            if (u < cum) { tok = sm->cand[i]; break; }
        }
    }
    if (out) {
        out->token = tok;
        float l = logits[tok];
        out->logprob = l == l ? l - lse : -INFINITY;
    }
    return tok;
}

/* The drawn token advances the grammar (caller's thread), the penalty window and the budget. */
hearth_token sample_end(hearth_sampler *sm, hearth_token tok)
{
    if (sm->grammar) {
        sm->gstate = grammar_accept(sm->grammar, sm->gstate, tok);
        if (sm->gstate < 0) return fail_tok(sm, "grammar: internal error: an allowed token broke the grammar");
    }
    hearth_sampler_accept(sm, tok);
    if (sm->budget > 0) sm->budget--;
    return tok;
}

hearth_token hearth_sampler_sample(hearth_sampler *sm, const float *logits, hearth_sample *out)
{
    if (!sm || !logits || !sample_begin(sm)) return HEARTH_TOKEN_NULL;
    hearth_token tok = sample_draw(sm, logits, out);
    return tok == HEARTH_TOKEN_NULL ? tok : sample_end(sm, tok);
}
