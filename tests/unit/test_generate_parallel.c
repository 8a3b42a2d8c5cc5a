/* test_generate_parallel.c — hearth_generate_n draws the tokens of its samples on the
 * context's threads: the result must be bit for bit what drawing them one after another gives.
 * Eight samples on the fixture model with Qwen3's real 151,936-token vocabulary, with and
 * without one grammar shared by every sampler, at 1 and 2 threads, against a reference loop
 * written here with the public API (hearth_decode + hearth_sampler_sample per sequence, in
 * order). Also: on_token runs on the caller's thread only, and a sampler that fails mid-step
 * reports the same error at any thread count. */
#include <math.h>
#include <pthread.h>

#include "testutil.h"

#include "hearth.h"

#define MODEL "models/qwen3-real-vocab-q8_0.gguf"
#define N 8
#define MAX_TOK 24
#define N_CTX 256

static hearth_model *g_model;
static const hearth_token PROMPT[] = {9707, 11, 1879, 0, 220, 16, 17, 18};
#define N_PROMPT ((int32_t)(sizeof PROMPT / sizeof *PROMPT))
static const char SCHEMA[] = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":6},"
                             "\"n\":{\"type\":\"integer\"}},\"required\":[\"name\",\"n\"]}";

static int setup(void **state)
{
    (void)state;
    hearth_log_set(NULL, NULL);
    if (!fixture_exists(MODEL)) return 0;
    hearth_error err = {0};
    g_model = hearth_model_load(fixture_path(MODEL), NULL, &err);
    return g_model ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hearth_model_free(g_model);
    return 0;
}

static hearth_context *ctx_new(int threads)
{
    hearth_error err = {0};
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = N_CTX;
    cp.n_threads = threads;
    cp.n_seq_max = N;
    hearth_context *c = hearth_context_new(g_model, &cp, &err);
    if (!c) fail_msg("%s", err.message);
    return c;
}

/* Sample i: its own seed and settings (some with penalties, one greedy), logprobs on. */
static void samplers_new(hearth_sampler **s, hearth_grammar *g)
{
    hearth_error err = {0};
    for (int i = 0; i < N; i++) {
        hearth_sampler_params p = hearth_sampler_default_params();
        p.temperature = i == 3 ? 0.0f : 1.2f;
        p.seed = 1000 + (uint64_t)i;
        p.n_logprobs = 2;
        p.top_k = i % 2 ? 0 : 40;
        p.repeat_penalty = i == 5 ? 1.3f : 1.0f;
        if (!(s[i] = hearth_sampler_new(g_model, &p, &err))) fail_msg("%s", err.message);
        if (hearth_sampler_set_grammar(s[i], g, &err) != HEARTH_OK) fail_msg("%s", err.message);
    }
}

static void samplers_free(hearth_sampler **s)
{
    for (int i = 0; i < N; i++) hearth_sampler_free(s[i]);
}

typedef struct ref_seq {
    hearth_token tok[MAX_TOK];
    hearth_sample smp[MAX_TOK];
    int32_t n;
    bool done;
} ref_seq;

/* One token for sequence i the way generate.c's loop does it, one sequence after another. */
static void ref_step(hearth_sampler *sm, ref_seq *r, const float *logits, int32_t room)
{
    int32_t left = MAX_TOK - r->n < room ? MAX_TOK - r->n : room;
    hearth_sampler_set_budget(sm, left);
    memset(&r->smp[r->n], 0, sizeof r->smp[r->n]);
    hearth_token t = hearth_sampler_sample(sm, logits, &r->smp[r->n]);
    if (t == HEARTH_TOKEN_NULL) fail_msg("reference: %s", hearth_sampler_error(sm));
    r->tok[r->n++] = t;
    r->done = hearth_token_is_eog(g_model, t) || hearth_sampler_grammar_done(sm) || r->n >= MAX_TOK;
}

static void reference(hearth_grammar *g, ref_seq *ref)
{
    hearth_context *c = ctx_new(1);
    hearth_sampler *s[N];
    samplers_new(s, g);
    hearth_error err = {0};
    hearth_batch b = {N_PROMPT, PROMPT, NULL, NULL, NULL};
    if (hearth_decode(c, &b, &err) != HEARTH_OK) fail_msg("%s", err.message);
    for (int i = 1; i < N; i++) assert_int_equal(hearth_seq_copy(c, 0, i, N_PROMPT, &err), HEARTH_OK);
    memset(ref, 0, N * sizeof *ref);
    for (int i = 0; i < N; i++) ref_step(s[i], &ref[i], hearth_get_logits(c, -1), N_CTX - N_PROMPT);
    for (int32_t k = 1;; k++) {
        hearth_token toks[N];
        int32_t pos[N], seq[N], m = 0;
        int8_t want[N];
        for (int i = 0; i < N; i++)
            if (!ref[i].done) { toks[m] = ref[i].tok[ref[i].n - 1]; pos[m] = N_PROMPT + k - 1; seq[m] = i; want[m++] = 1; }
        if (!m) break;
        hearth_batch bb = {m, toks, pos, seq, want};
        if (hearth_decode(c, &bb, &err) != HEARTH_OK) fail_msg("%s", err.message);
        for (int32_t j = 0; j < m; j++) ref_step(s[seq[j]], &ref[seq[j]], hearth_get_logits(c, j), N_CTX - N_PROMPT - k);
    }
    samplers_free(s);
    hearth_context_free(c);
}

typedef struct stream_state {
    pthread_t caller;
    int wrong_thread, calls;
    char text[8192];
    size_t len;
} stream_state;

static bool on_token(const hearth_sample *smp, const char *piece, int32_t len, void *user)
{
    (void)smp;
    stream_state *st = user;
    st->wrong_thread += !pthread_equal(pthread_self(), st->caller);
    st->calls++;
    if (st->len + (size_t)len < sizeof st->text) {
        memcpy(st->text + st->len, piece, (size_t)len);
        st->len += (size_t)len;
        st->text[st->len] = '\0';
    }
    return true;
}

static void run_n(int threads, hearth_grammar *g, hearth_generation *outs, stream_state *st)
{
    hearth_context *c = ctx_new(threads);
    hearth_sampler *s[N];
    samplers_new(s, g);
    memset(st, 0, sizeof *st);
    st->caller = pthread_self();
    hearth_generate_params gp = {.model = g_model, .max_tokens = MAX_TOK, .n_samples = N, .on_token = on_token, .user = st};
    hearth_error err = {0};
    int32_t winner = -1;
    if (hearth_generate_n(c, s, PROMPT, N_PROMPT, &gp, outs, &winner, &err) != HEARTH_OK) fail_msg("%s", err.message);
    assert_true(winner >= 0 && winner < N);
    samplers_free(s);
    hearth_context_free(c);
}

static void check_same(hearth_grammar *g)
{
    ref_seq ref[N];
    hearth_generation one[N], two[N];
    stream_state st1, st2;
    reference(g, ref);
    run_n(1, g, one, &st1);
    run_n(2, g, two, &st2);
    int differ = 0;
    for (int i = 0; i < N; i++) {
        /* tokens and logprobs: the reference's, at both thread counts */
        assert_int_equal(one[i].n_tokens, ref[i].n);
        assert_int_equal(two[i].n_tokens, ref[i].n);
        assert_memory_equal(one[i].tokens, ref[i].tok, (size_t)ref[i].n * sizeof *ref[i].tok);
        assert_memory_equal(two[i].tokens, ref[i].tok, (size_t)ref[i].n * sizeof *ref[i].tok);
        assert_memory_equal(one[i].samples, ref[i].smp, (size_t)ref[i].n * sizeof *ref[i].smp);
        assert_memory_equal(two[i].samples, ref[i].smp, (size_t)ref[i].n * sizeof *ref[i].smp);
        assert_int_equal(one[i].len, two[i].len);
        assert_string_equal(one[i].text, two[i].text);
        assert_int_equal(one[i].stop, two[i].stop);
        assert_true(one[i].confidence.score == two[i].confidence.score);
        differ += i > 0 && (one[i].n_tokens != one[0].n_tokens ||
                            memcmp(one[i].tokens, one[0].tokens, (size_t)one[0].n_tokens * sizeof *one[0].tokens));
        if (g) assert_int_equal(one[i].stop, HEARTH_STOP_GRAMMAR);
    }
    assert_true(differ >= 3); /* the samples really differ from each other */
    /* the stream is sample 0's text, delivered on the caller's thread only */
    assert_int_equal(st1.wrong_thread, 0);
    assert_int_equal(st2.wrong_thread, 0);
    assert_true(st2.calls >= 1);
    assert_string_equal(st1.text, one[0].text);
    assert_string_equal(st2.text, two[0].text);
    for (int i = 0; i < N; i++) {
        hearth_generation_free(&one[i]);
        hearth_generation_free(&two[i]);
    }
}

static void test_parallel_draws_match_sequential(void **state)
{
    (void)state;
    if (!g_model) skip();
    check_same(NULL);
}

static void test_parallel_draws_shared_grammar(void **state)
{
    (void)state;
    if (!g_model) skip();
    hearth_error err = {0};
    hearth_grammar *g = hearth_grammar_new_json_schema(g_model, SCHEMA, &err);
    if (!g) fail_msg("%s", err.message);
    check_same(g);
    hearth_grammar_free(g);
}

/* A budget too small for the value: every sample fails at the same step, and the error is the
 * first failing sample's, whatever the thread count. */
static void test_parallel_failure_same_error(void **state)
{
    (void)state;
    if (!g_model) skip();
    hearth_error err = {0};
    hearth_grammar *g = hearth_grammar_new_json_schema(g_model, SCHEMA, &err);
    if (!g) fail_msg("%s", err.message);
    char msg[2][sizeof err.message];
    for (int threads = 1; threads <= 2; threads++) {
        hearth_context *c = ctx_new(threads);
        hearth_sampler *s[N];
        samplers_new(s, g);
        hearth_generate_params gp = {.model = g_model, .max_tokens = 3, .n_samples = N};
        hearth_generation outs[N];
        hearth_error e = {0};
        assert_int_equal(hearth_generate_n(c, s, PROMPT, N_PROMPT, &gp, outs, NULL, &e), HEARTH_ERR_INVALID_ARG);
        snprintf(msg[threads - 1], sizeof msg[0], "%s", e.message);
        for (int i = 0; i < N; i++) assert_null(outs[i].text); /* nothing half-made is returned */
        samplers_free(s);
        hearth_context_free(c);
    }
    assert_non_null(strstr(msg[0], "cannot finish the value"));
    assert_string_equal(msg[0], msg[1]);
    hearth_grammar_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_draws_match_sequential),
        cmocka_unit_test(test_parallel_draws_shared_grammar),
        cmocka_unit_test(test_parallel_failure_same_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
