/* test_sampler.c — the sampler chain: determinism, each truncation's semantics on hand-made
 * distributions, exact logprobs / entropy / top-n on a 151,936-token vocabulary, the bucket
 * selection against a full sort, penalties, logit bias and parameter validation. */
#include <math.h>

#include "testutil.h"

#include "base/base.h"
#include "sample/sample.h"
#include "sample/sampler_internal.h"

#define BIG_VOCAB 151936

static hearth_sampler_params plain(float temp)
{
    hearth_sampler_params p = hearth_sampler_default_params();
    p.temperature = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

static hearth_sampler *make(int32_t n, const hearth_sampler_params *p)
{
    hearth_error err = {0};
    hearth_sampler *s = sample_sampler_new_n(n, p, &err);
    if (!s) fail_msg("%s", err.message);
    return s;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

static void random_logits(float *l, int32_t n, uint64_t seed, float scale)
{
    for (int32_t i = 0; i < n; i++) l[i] = (float)((double)lcg(&seed) / 2147483648.0 * scale - scale / 2);
}

/* Draw counts per token over many samples from fixed logits. */
static void histogram(const hearth_sampler_params *p, const float *logits, int32_t n, int draws, int *count)
{
    hearth_sampler *s = make(n, p);
    memset(count, 0, (size_t)n * sizeof *count);
    for (int i = 0; i < draws; i++) {
        hearth_token t = hearth_sampler_sample(s, logits, NULL);
        assert_true(t >= 0 && t < n);
        count[t]++;
    }
    hearth_sampler_free(s);
}

static void logits_from_probs(const double *pr, int32_t n, float *l)
{
    for (int32_t i = 0; i < n; i++) l[i] = (float)log(pr[i]);
}

static void test_determinism(void **state)
{
    (void)state;
    float *l = malloc(BIG_VOCAB * sizeof *l);
    hearth_sampler_params p = hearth_sampler_default_params();
    p.temperature = 1.2f;
    p.seed = 42;
    hearth_token a[64], b[64];
    for (int run = 0; run < 2; run++) {
        hearth_sampler *s = make(BIG_VOCAB, &p);
        for (int i = 0; i < 64; i++) {
            random_logits(l, BIG_VOCAB, (uint64_t)i + 1, 8.0f);
            (run ? b : a)[i] = hearth_sampler_sample(s, l, NULL);
        }
        hearth_sampler_free(s);
    }
    assert_memory_equal(a, b, sizeof a);
    /* reset re-seeds: the same again; another seed differs */
    hearth_sampler *s = make(BIG_VOCAB, &p);
    p.seed = 43;
    hearth_sampler *s2 = make(BIG_VOCAB, &p);
    int same = 0;
    for (int i = 0; i < 64; i++) {
        random_logits(l, BIG_VOCAB, (uint64_t)i + 1, 8.0f);
        assert_int_equal(hearth_sampler_sample(s, l, NULL), a[i]);
        same += hearth_sampler_sample(s2, l, NULL) == a[i];
    }
    assert_true(same < 60);
    hearth_sampler_reset(s);
    random_logits(l, BIG_VOCAB, 1, 8.0f);
    assert_int_equal(hearth_sampler_sample(s, l, NULL), a[0]);
    hearth_sampler_free(s);
    hearth_sampler_free(s2);
    free(l);
}

static void test_greedy(void **state)
{
    (void)state;
    hearth_sampler_params p = plain(0.0f);
    hearth_sampler *s = make(5, &p);
    float l[5] = {1, 3, 3, -2, 0};
    for (int i = 0; i < 5; i++) assert_int_equal(hearth_sampler_sample(s, l, NULL), 1); /* ties: lowest id */
    float nan_l[5] = {NAN, 1, 2, NAN, 0};
    assert_int_equal(hearth_sampler_sample(s, nan_l, NULL), 2);
    hearth_sampler_free(s);
}

static void test_top_k_and_temperature(void **state)
{
    (void)state;
    float l[4] = {3, 2, 1, 0};
    int c[4];
    hearth_sampler_params p = plain(1.0f);
    p.top_k = 2;
    histogram(&p, l, 4, 20000, c);
    assert_int_equal(c[2] + c[3], 0);
    double ratio = (double)c[0] / c[1]; /* e^(3-2) */
    assert_true(fabs(ratio - M_E) < 0.25);
    /* temperature 2 flattens: ratio e^(1/2) */
    p.temperature = 2.0f;
    histogram(&p, l, 4, 20000, c);
    ratio = (double)c[0] / c[1];
    assert_true(fabs(ratio - sqrt(M_E)) < 0.12);
}

static void test_top_p_min_p(void **state)
{
    (void)state;
    double pr[4] = {0.4, 0.3, 0.2, 0.1};
    float l[4];
    logits_from_probs(pr, 4, l);
    int c[4];
    hearth_sampler_params p = plain(1.0f);
    p.top_p = 0.5f; /* 0.4 < 0.5, 0.7 >= 0.5: keep two */
    histogram(&p, l, 4, 20000, c);
    assert_int_equal(c[2] + c[3], 0);
    assert_true(fabs((double)c[0] / 20000 - 0.4 / 0.7) < 0.02);
    p.top_p = 0.75f; /* 0.9 >= 0.75 at the third */
    histogram(&p, l, 4, 20000, c);
    assert_int_equal(c[3], 0);
    assert_true(c[2] > 0);
    p.top_p = 1.0f;
    p.min_p = 0.6f; /* keep p >= 0.24: the first two */
    histogram(&p, l, 4, 20000, c);
    assert_int_equal(c[2] + c[3], 0);
    assert_true(c[1] > 0);
    /* order: top-k (3) renormalizes before top-p: masses 4/9, 3/9, 2/9 -> 0.77 needs two */
    p.min_p = 0;
    p.top_k = 3;
    p.top_p = 0.77f;
    histogram(&p, l, 4, 20000, c);
    assert_int_equal(c[2] + c[3], 0);
}

static void test_typical_p(void **state)
{
    (void)state;
    /* H = 1.2799; |surprise - H|: t1 0.076, t2 0.330, t0 0.364, t3 1.023 */
    double pr[4] = {0.4, 0.3, 0.2, 0.1};
    float l[4];
    logits_from_probs(pr, 4, l);
    int c[4];
    hearth_sampler_params p = plain(1.0f);
    p.typical_p = 0.45f; /* t1 + t2 = 0.5 */
    histogram(&p, l, 4, 20000, c);
    assert_int_equal(c[0] + c[3], 0); /* the most likely token is not typical here */
    assert_true(fabs((double)c[1] / 20000 - 0.6) < 0.02);
    p.typical_p = 0.2f;
    histogram(&p, l, 4, 5000, c);
    assert_int_equal(c[1], 5000);
}

/* The bucketed selection must keep exactly the set a full sort would. */
static int cmp_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

static void test_selection_matches_full_sort(void **state)
{
    (void)state;
    float *l = malloc(BIG_VOCAB * sizeof *l), *sorted = malloc(BIG_VOCAB * sizeof *sorted);
    for (int trial = 0; trial < 12; trial++) {
        hearth_sampler_params p = plain(1.0f);
        p.top_k = trial % 3 == 0 ? 0 : trial == 10 ? 1000 : 5 + trial * 7; /* 1000: the bucket path */
        p.top_p = trial % 2 ? 0.9f : 0.5f + 0.04f * (float)trial;
        p.min_p = trial % 4 == 1 || trial == 3 ? 0.01f : 0.0f; /* trial 3: min-p without top-k */
        hearth_sampler *s = make(BIG_VOCAB, &p);
        random_logits(l, BIG_VOCAB, (uint64_t)trial * 31 + 5, trial < 6 ? 30.0f : 4.0f);
        memcpy(s->work, l, BIG_VOCAB * sizeof *l);
        float mx = -INFINITY;
        for (int32_t i = 0; i < BIG_VOCAB; i++) mx = l[i] > mx ? l[i] : mx;
        int32_t n = sample_truncate(s, mx, -1.0);
        /* reference: sort all, apply the same rules in double precision */
        memcpy(sorted, l, BIG_VOCAB * sizeof *l);
        qsort(sorted, BIG_VOCAB, sizeof *sorted, cmp_desc);
        int32_t m = BIG_VOCAB;
        if (p.top_k > 0) m = p.top_k;
        double z = 0, cum = 0;
        for (int32_t i = 0; i < m; i++) z += exp((double)sorted[i] - mx);
        for (int32_t i = 0; i < m; i++) {
            cum += exp((double)sorted[i] - mx);
            if (cum >= p.top_p * z) { m = i + 1; break; }
        }
        if (p.min_p > 0)
            for (int32_t i = 0; i < m; i++)
                if (sorted[i] < mx + logf(p.min_p)) { m = i; break; }
        assert_int_equal(n, m);
        for (int32_t i = 0; i < n; i++) assert_true(l[s->cand[i]] == sorted[i]);
        hearth_sampler_free(s);
    }
    free(l);
    free(sorted);
}

static void test_logprobs_exact(void **state)
{
    (void)state;
    float *l = malloc(BIG_VOCAB * sizeof *l);
    random_logits(l, BIG_VOCAB, 99, 20.0f);
    l[777] = 25.0f;
    l[778] = 24.0f;
    hearth_sampler_params p = plain(0.0f);
    p.n_logprobs = 20;
    hearth_sampler *s = make(BIG_VOCAB, &p);
    hearth_sample out;
    assert_int_equal(hearth_sampler_sample(s, l, &out), 777);
    double mx = 25.0, z = 0, t = 0;
    for (int32_t i = 0; i < BIG_VOCAB; i++) z += exp(l[i] - mx);
    double lse = mx + log(z);
    for (int32_t i = 0; i < BIG_VOCAB; i++) t += exp(l[i] - lse) * (l[i] - lse);
    assert_true(fabs(out.logprob - (25.0 - lse)) < 2e-5);
    assert_true(fabs(out.entropy - (-t)) < 1e-3 * fabs(t) + 1e-5);
    assert_int_equal(out.n_top, 20);
    assert_int_equal(out.top[0].token, 777);
    assert_int_equal(out.top[1].token, 778);
    for (int k = 0; k < 20; k++) {
        assert_true(fabs(out.top[k].logprob - (l[out.top[k].token] - lse)) < 2e-5);
        if (k) assert_true(out.top[k].logprob <= out.top[k - 1].logprob);
    }
    int32_t bigger = 0; /* the 20th is really the 20th */
    for (int32_t i = 0; i < BIG_VOCAB; i++) bigger += l[i] > l[out.top[19].token];
    assert_int_equal(bigger, 19);
    /* the full-distribution logprob is reported even when sampling is truncated or biased */
    hearth_sampler_free(s);
    hearth_logit_bias ban = {777, -INFINITY};
    p.logit_bias = &ban;
    p.n_logit_bias = 1;
    s = make(BIG_VOCAB, &p);
    assert_int_equal(hearth_sampler_sample(s, l, &out), 778);
    assert_true(fabs(out.logprob - (24.0 - lse)) < 2e-5);
    assert_int_equal(out.top[0].token, 777);
    hearth_sampler_free(s);
    free(l);
}

static void test_penalties_and_bias(void **state)
{
    (void)state;
    float l[4] = {2.0f, 1.9f, -1.0f, 0.0f};
    hearth_sampler_params p = plain(0.0f);
    p.repeat_penalty = 1.5f; /* 2.0 -> 1.33 once token 0 was seen */
    hearth_sampler *s = make(4, &p);
    assert_int_equal(hearth_sampler_sample(s, l, NULL), 0);
    assert_int_equal(hearth_sampler_sample(s, l, NULL), 1);
    hearth_sampler_free(s);
    p = plain(0.0f);
    p.frequency_penalty = 0.5f; /* each occurrence costs 0.5 */
    p.penalty_last_n = 3;
    s = make(4, &p);
    hearth_sampler_accept(s, 3);
    hearth_sampler_accept(s, 3);
    hearth_sampler_accept(s, 0);
    float l2[4] = {1.0f, 0.8f, -5.0f, 1.5f}; /* 0: 0.5, 1: 0.8, 3: 0.5 */
    assert_int_equal(hearth_sampler_sample(s, l2, NULL), 1);
    hearth_sampler_accept(s, 2);
    hearth_sampler_accept(s, 2); /* window now {1, 2, 2}: token 3 fell out */
    assert_int_equal(hearth_sampler_sample(s, l2, NULL), 3);
    hearth_sampler_free(s);
    p = plain(0.0f);
    p.presence_penalty = 2.0f;
    s = make(4, &p);
    hearth_sampler_accept(s, 0);
    assert_int_equal(hearth_sampler_sample(s, l, NULL), 1);
    hearth_sampler_free(s);
    /* bias: everything banned is a clean error, not a token */
    hearth_logit_bias all[4] = {{0, -INFINITY}, {1, -INFINITY}, {2, -INFINITY}, {3, -INFINITY}};
    p = plain(1.0f);
    p.logit_bias = all;
    p.n_logit_bias = 4;
    s = make(4, &p);
    assert_int_equal(hearth_sampler_sample(s, l, NULL), HEARTH_TOKEN_NULL);
    assert_non_null(strstr(hearth_sampler_error(s), "every token is excluded"));
    hearth_sampler_free(s);
    hearth_logit_bias up = {2, 10.0f};
    p = plain(0.0f);
    p.logit_bias = &up;
    p.n_logit_bias = 1;
    s = make(4, &p);
    assert_int_equal(hearth_sampler_sample(s, l, NULL), 2);
    hearth_sampler_free(s);
}

/* The vector exp and the scalar one agree bit for bit (determinism across machines). */
static void test_exp_paths_agree(void **state)
{
    (void)state;
    enum { N = 1003 };
    float x[N], e[N], d[N];
    uint64_t s = 3;
    for (int i = 0; i < N; i++) x[i] = (float)((double)lcg(&s) / 2147483648.0 * 200.0 - 190.0);
    x[5] = -INFINITY;
    x[6] = 10.0f;
    sample_exp_shifted(x, 10.0f, e, d, N);
    for (int i = 0; i < N; i++) {
        float want = sample_exp(d[i]);
        assert_memory_equal(&e[i], &want, sizeof want);
        assert_true(fabs(e[i] - exp((double)d[i])) <= 1e-6 * exp((double)d[i]) + 1e-38);
    }
    assert_true(e[6] == 1.0f && d[5] == -87.0f);
}

static void test_bad_params(void **state)
{
    (void)state;
    struct { const char *field; hearth_sampler_params p; } bad[8];
    for (int i = 0; i < 8; i++) bad[i].p = hearth_sampler_default_params();
    bad[0].p.temperature = -1; bad[0].field = "temperature";
    bad[1].p.top_p = 0; bad[1].field = "top_p";
    bad[2].p.min_p = 2; bad[2].field = "min_p";
    bad[3].p.typical_p = 1.5f; bad[3].field = "typical_p";
    bad[4].p.n_logprobs = 21; bad[4].field = "n_logprobs";
    bad[5].p.top_k = -3; bad[5].field = "top_k";
    bad[6].p.repeat_penalty = 0; bad[6].field = "repeat_penalty";
    bad[7].p.temperature = NAN; bad[7].field = "temperature";
    for (int i = 0; i < 8; i++) {
        hearth_error err = {0};
        assert_null(sample_sampler_new_n(10, &bad[i].p, &err));
        assert_int_equal(err.status, HEARTH_ERR_INVALID_ARG);
        assert_non_null(strstr(err.message, bad[i].field));
    }
    hearth_error err = {0};
    hearth_logit_bias b = {10, 1.0f};
    hearth_sampler_params p = hearth_sampler_default_params();
    p.logit_bias = &b;
    p.n_logit_bias = 1;
    assert_null(sample_sampler_new_n(10, &p, &err));
    assert_null(sample_sampler_new_n(0, NULL, &err));
    assert_null(hearth_sampler_new(NULL, NULL, &err));
}

int main(void)
{
    hearth_log_set(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_greedy),
        cmocka_unit_test(test_top_k_and_temperature),
        cmocka_unit_test(test_top_p_min_p),
        cmocka_unit_test(test_typical_p),
        cmocka_unit_test(test_selection_matches_full_sort),
        cmocka_unit_test(test_logprobs_exact),
        cmocka_unit_test(test_penalties_and_bias),
        cmocka_unit_test(test_exp_paths_agree),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
