/*
 * generate.c — the generation loop as a library call: prompt in, text + per-token records +
 * confidence out, with grammars, stop strings, a token budget and streaming.
 *
 * N samples of one prompt (hearth_generate_n) decode the prompt once into sequence 0, share it
 * with sequences 1..N-1 through hearth_seq_copy (no N-fold prefill) and then decode one token
 * of every unfinished sequence per hearth_decode call, so N samples cost about one batched
 * pass per step. Each sequence has its own sampler (seed, grammar position); a step's draws
 * run on the context's threads (step_all), its grammar work, records and streaming on the
 * caller's. At the end the texts are voted on (vote.c) and each sample's confidence includes
 * its agreement.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/model.h"
#include "sample/sample.h"

size_t sample_stop_scan(const char *text, size_t len, const char *const *stop, int32_t n_stop, ptrdiff_t *hit)
{
    *hit = -1;
    size_t safe = len;
    for (int32_t s = 0; s < n_stop; s++) {
        size_t m = stop[s] ? strlen(stop[s]) : 0;
        if (!m) continue;
        const char *at = m <= len ? memmem(text, len, stop[s], m) : NULL;
        if (at && (*hit < 0 || at - text < *hit)) *hit = at - text;
        /* a proper prefix of the stop string at the end of the text must wait */
        for (size_t k = m - 1; k > 0; k--)
            if (k <= len && !memcmp(text + len - k, stop[s], k)) {
                if (len - k < safe) safe = len - k;
                break;
            }
    }
    if (*hit >= 0) safe = (size_t)*hit;
    return safe;
}

typedef struct gen_seq {
    hearth_generation *out;
    char *text;
    size_t len, cap, shown;
    int32_t cap_tok;
    bool done;
    hearth_token next; /* the token to decode next */
} gen_seq;

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, nc * elem);
    if (!q) return false;
    *p = q;
    *cap = nc;
    return true;
}

static hearth_status record(gen_seq *q, const hearth_sample *smp, hearth_error *err)
{
    hearth_generation *g = q->out;
    size_t cap = (size_t)q->cap_tok;
    if ((size_t)g->n_tokens + 1 > cap) {
        size_t c1 = cap, c2 = cap;
        if (!grow((void **)&g->tokens, &c1, (size_t)g->n_tokens + 1, sizeof *g->tokens) ||
            !grow((void **)&g->samples, &c2, (size_t)g->n_tokens + 1, sizeof *g->samples))
            return hearth_fail(err, HEARTH_ERR_NOMEM, "generate: out of memory");
        q->cap_tok = (int32_t)(c1 < c2 ? c1 : c2);
    }
    g->tokens[g->n_tokens] = smp->token;
    g->samples[g->n_tokens++] = *smp;
    return HEARTH_OK;
}

/* Adds the token's text, applies stop strings, streams what became visible. */
static hearth_status add_text(gen_seq *q, const hearth_generate_params *p, const hearth_sample *smp, bool stream,
                              hearth_error *err)
{
    char buf[256];
    int32_t n = hearth_token_to_piece(p->model, smp->token, buf, (int32_t)sizeof buf, false);
    char *big = NULL;
    const char *piece = buf;
    if (n < 0) {
        big = malloc((size_t)-n);
        if (!big) return hearth_fail(err, HEARTH_ERR_NOMEM, "generate: out of memory");
        n = hearth_token_to_piece(p->model, smp->token, big, -n, false);
        piece = big;
        if (n < 0) n = 0;
    }
    if (!grow((void **)&q->text, &q->cap, q->len + (size_t)n + 1, 1)) {
        free(big);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "generate: out of memory");
    }
    memcpy(q->text + q->len, piece, (size_t)n);
    q->len += (size_t)n;
    q->text[q->len] = '\0';
    free(big);
    ptrdiff_t hit;
    size_t safe = sample_stop_scan(q->text, q->len, p->stop, p->n_stop, &hit);
    if (hit >= 0) {
        q->len = (size_t)hit;
        q->text[q->len] = '\0';
        q->out->stop = HEARTH_STOP_STRING;
        q->done = true;
    }
    if (safe > q->shown) {
        if (stream && p->on_token && !p->on_token(smp, q->text + q->shown, (int32_t)(safe - q->shown), p->user)) {
            if (!q->done) q->out->stop = HEARTH_STOP_CALLBACK;
            q->done = true;
        }
        q->shown = safe;
    } else if (stream && p->on_token && !p->on_token(smp, "", 0, p->user)) {
        if (!q->done) q->out->stop = HEARTH_STOP_CALLBACK;
        q->done = true;
    }
    return HEARTH_OK;
}

/* After sample_draw gave smp->token: advances the sampler, records and streams the token and
 * marks the sequence done when it ends. */
static hearth_status finish(gen_seq *q, hearth_sampler *sm, const hearth_sample *smp, const hearth_generate_params *p,
                            bool stream, hearth_error *err)
{
    hearth_generation *g = q->out;
    hearth_token t = smp->token == HEARTH_TOKEN_NULL ? HEARTH_TOKEN_NULL : sample_end(sm, smp->token);
    if (t == HEARTH_TOKEN_NULL) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "generate: %s", hearth_sampler_error(sm));
    hearth_status st = record(q, smp, err);
    if (st != HEARTH_OK) return st;
    if (hearth_token_is_eog(p->model, t)) {
        g->stop = HEARTH_STOP_EOG;
        q->done = true;
        return HEARTH_OK;
    }
    if ((st = add_text(q, p, smp, stream, err)) != HEARTH_OK) return st;
    if (!q->done && hearth_sampler_grammar_done(sm)) {
        g->stop = HEARTH_STOP_GRAMMAR;
        q->done = true;
    }
    if (!q->done && p->max_tokens > 0 && g->n_tokens >= p->max_tokens) {
        g->stop = HEARTH_STOP_MAX_TOKENS;
        q->done = true;
    }
    q->next = t;
    return HEARTH_OK;
}

/* One step's work for the sequences who[0..m), each from its logits lg[j]. */
typedef struct gen_step {
    hearth_sampler *const *samplers;
    int32_t *who;
    const float **lg;
    hearth_sample *smp;
    int8_t *draw; /* sample_begin succeeded: draw a token */
} gen_step;

static void draw_one(void *arg, int32_t j)
{
    gen_step *w = arg;
    if (!w->draw[j]) return;
    memset(&w->smp[j], 0, sizeof w->smp[j]);
    w->smp[j].token = sample_draw(w->samplers[w->who[j]], w->lg[j], &w->smp[j]);
}

/* One token for each of m sequences. The draws (logprobs, penalties, truncation: most of a
 * step's sampling time on a large vocabulary) share nothing, so they run on the context's
 * threads; everything that touches a grammar (which samplers may share) or the caller (on_token)
 * runs here, in sequence order. Each sequence gets the token drawing them one by one gives. */
static hearth_status step_all(hearth_context *ctx, gen_seq *q, gen_step *w, int32_t m, const hearth_generate_params *p,
                              int32_t room, hearth_error *err)
{
    int32_t n_begun = m, bad = -1;
    for (int32_t j = 0; j < m; j++) {
        gen_seq *s = &q[w->who[j]];
        hearth_sampler *sm = w->samplers[w->who[j]];
        int32_t left = p->max_tokens > 0 ? p->max_tokens - s->out->n_tokens : room;
        if (left > room) left = room;
        w->draw[j] = left > 0;
        if (left <= 0) {
            s->out->stop = HEARTH_STOP_MAX_TOKENS;
            s->done = true;
            continue;
        }
        hearth_sampler_set_budget(sm, left);
        if (!sample_begin(sm)) { /* the sequences before it still get their tokens first */
            bad = j;
            n_begun = j;
            break;
        }
    }
    hearth_context_parallel(ctx, n_begun, draw_one, w);
    for (int32_t j = 0; j < m; j++) {
        if (j == bad)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "generate: %s", hearth_sampler_error(w->samplers[w->who[j]]));
        if (!w->draw[j]) continue;
        hearth_status st = finish(&q[w->who[j]], w->samplers[w->who[j]], &w->smp[j], p, w->who[j] == 0, err);
        if (st != HEARTH_OK) return st;
    }
    return HEARTH_OK;
}

static hearth_status decode_prompt(hearth_context *ctx, const hearth_token *prompt, int32_t n, hearth_error *err)
{
    const int32_t chunk = 256;
    int32_t pos0 = hearth_seq_len(ctx, 0);
    int32_t pos[256], seq[256];
    int8_t want[256];
    for (int32_t at = 0; at < n; at += chunk) {
        int32_t m = n - at < chunk ? n - at : chunk;
        for (int32_t i = 0; i < m; i++) {
            pos[i] = pos0 + at + i;
            seq[i] = 0;
            want[i] = at + i == n - 1;
        }
        hearth_batch b = {m, prompt + at, pos, seq, want};
        hearth_status st = hearth_decode(ctx, &b, err);
        if (st != HEARTH_OK) return st;
    }
    return HEARTH_OK;
}

static void set_agreement(hearth_generation *outs, int32_t n, int32_t *winner)
{
    const char **texts = malloc((size_t)n * sizeof *texts);
    char **norm = calloc((size_t)n, sizeof *norm);
    float *scores = malloc((size_t)n * sizeof *scores);
    if (!texts || !norm || !scores) goto out;
    for (int32_t i = 0; i < n; i++) {
        texts[i] = outs[i].text ? outs[i].text : "";
        norm[i] = hearth_answer_normalize(texts[i], strlen(texts[i]));
        hearth_confidence c;
        hearth_confidence_compute(outs[i].samples, outs[i].n_tokens, -1, &c);
        scores[i] = c.score;
    }
    float agree;
    int32_t w = hearth_vote(texts, scores, n, &agree);
    if (winner) *winner = w;
    for (int32_t i = 0; i < n; i++) {
        int32_t same = 0;
        for (int32_t j = 0; j < n; j++) same += norm[i] && norm[j] && !strcmp(norm[i], norm[j]);
        hearth_confidence_compute(outs[i].samples, outs[i].n_tokens, n > 1 ? (float)same / (float)n : -1.0f,
                                  &outs[i].confidence);
    }
out:
    for (int32_t i = 0; norm && i < n; i++) free(norm[i]);
    free(norm);
    free(texts);
    free(scores);
}

hearth_status hearth_generate_n(hearth_context *ctx, hearth_sampler *const *samplers, const hearth_token *prompt,
                                int32_t n_prompt, const hearth_generate_params *params, hearth_generation *outs,
                                int32_t *winner, hearth_error *err)
{
    if (!ctx || !samplers || !params || !params->model || !outs || (n_prompt > 0 && !prompt) || n_prompt < 0)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "generate: missing context, samplers, model, prompt or output");
    int32_t n = params->n_samples > 0 ? params->n_samples : 1;
    if (n > 256) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "generate: %d samples (at most 256)", n);
    if (winner) *winner = 0;
    memset(outs, 0, (size_t)n * sizeof *outs);
    gen_seq *q = calloc((size_t)n, sizeof *q);
    hearth_token *toks = malloc((size_t)n * sizeof *toks);
    int32_t *pos = malloc((size_t)n * sizeof *pos), *seq = malloc((size_t)n * sizeof *seq), *who = malloc((size_t)n * sizeof *who);
    int8_t *want = malloc((size_t)n);
    gen_step w = {samplers, who, malloc((size_t)n * sizeof *w.lg), malloc((size_t)n * sizeof *w.smp), malloc((size_t)n)};
    hearth_status st = HEARTH_OK;
    if (!q || !toks || !pos || !seq || !who || !want || !w.lg || !w.smp || !w.draw) {
        st = hearth_fail(err, HEARTH_ERR_NOMEM, "generate: out of memory");
        goto out;
    }
    for (int32_t i = 0; i < n; i++) q[i].out = &outs[i];
    if (n_prompt > 0 && (st = decode_prompt(ctx, prompt, n_prompt, err)) != HEARTH_OK) goto out;
    const float *first = hearth_get_logits(ctx, -1);
    if (!first) { st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "generate: an empty prompt and no earlier logits"); goto out; }
    int32_t len0 = hearth_seq_len(ctx, 0);
    for (int32_t i = 1; i < n; i++) {
        hearth_seq_truncate(ctx, i, 0);
        if ((st = hearth_seq_copy(ctx, 0, i, len0, err)) != HEARTH_OK) goto out;
    }
    int32_t room = hearth_context_n_ctx(ctx) - len0;
    /* every sequence's first token comes from the prompt's last logits */
    for (int32_t i = 0; i < n; i++) {
        who[i] = i;
        w.lg[i] = first;
    }
    st = step_all(ctx, q, &w, n, params, room, err);
    for (int32_t k = 1; st == HEARTH_OK; k++) {
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++)
            if (!q[i].done) { toks[m] = q[i].next; pos[m] = len0 + k - 1; seq[m] = i; want[m] = 1; who[m++] = i; }
        if (!m) break;
        hearth_batch b = {m, toks, pos, seq, want};
        if ((st = hearth_decode(ctx, &b, err)) != HEARTH_OK) break;
        for (int32_t j = 0; j < m && st == HEARTH_OK; j++)
            if (!(w.lg[j] = hearth_get_logits(ctx, j)))
                st = hearth_fail(err, HEARTH_ERR_INTERNAL, "generate: no logits for sequence %d", who[j]);
        if (st == HEARTH_OK) st = step_all(ctx, q, &w, m, params, room - k, err);
    }
    for (int32_t i = 0; i < n; i++) { /* text held back for a stop string that never came */
        if (i == 0 && st == HEARTH_OK && params->on_token && q[i].len > q[i].shown && outs[i].n_tokens)
            params->on_token(&outs[i].samples[outs[i].n_tokens - 1], q[i].text + q[i].shown,
                             (int32_t)(q[i].len - q[i].shown), params->user);
        outs[i].text = q[i].text ? q[i].text : strdup("");
        outs[i].len = q[i].len;
        q[i].text = NULL;
        if (!outs[i].text) st = hearth_fail(err, HEARTH_ERR_NOMEM, "generate: out of memory");
    }
    if (st == HEARTH_OK) set_agreement(outs, n, winner);
    for (int32_t i = 1; i < n; i++) hearth_seq_truncate(ctx, i, 0);
out:
    if (st != HEARTH_OK && q)
        for (int32_t i = 0; i < n; i++) { free(q[i].text); hearth_generation_free(&outs[i]); }
    free(q);
    free(toks);
    free(pos);
    free(seq);
    free(who);
    free(want);
    free(w.lg);
    free(w.smp);
    free(w.draw);
    return st;
}

hearth_status hearth_generate(hearth_context *ctx, hearth_sampler *sampler, const hearth_token *prompt,
                              int32_t n_prompt, const hearth_generate_params *params, hearth_generation *out,
                              hearth_error *err)
{
    if (!params) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "generate: no parameters");
    hearth_generate_params one = *params;
    one.n_samples = 1;
    return hearth_generate_n(ctx, &sampler, prompt, n_prompt, &one, out, NULL, err);
}

void hearth_generation_free(hearth_generation *gen)
{
    if (!gen) return;
    free(gen->text);
    free(gen->tokens);
    free(gen->samples);
    memset(gen, 0, sizeof *gen);
}
