/* test_confidence.c — confidence parts and score, answer normalization, voting, best-of-N and
 * the stop-string scanner of the generation loop. */
#include <math.h>

#include "testutil.h"

#include "sample/sample.h"

static void fill(hearth_sample *s, int n, const float *lp, const float *h)
{
    memset(s, 0, (size_t)n * sizeof *s);
    for (int i = 0; i < n; i++) {
        s[i].token = i;
        s[i].logprob = lp[i];
        s[i].entropy = h[i];
    }
}

static void test_parts(void **state)
{
    (void)state;
    hearth_sample s[4];
    float lp[4] = {-0.1f, -0.5f, -2.0f, -0.2f}, h[4] = {0.2f, 1.0f, 3.0f, 0.4f};
    fill(s, 4, lp, h);
    hearth_confidence c;
    hearth_confidence_compute(s, 4, -1, &c);
    assert_int_equal(c.n_tokens, 4);
    assert_true(fabsf(c.mean_logprob - (-2.8f / 4)) < 1e-6f);
    assert_true(fabsf(c.min_prob - expf(-2.0f)) < 1e-6f);
    assert_true(fabsf(c.mean_entropy - 1.15f) < 1e-6f);
    assert_true(fabsf(c.seq_logprob - (-2.8f)) < 1e-6f);
    assert_true(c.agreement < 0);
    /* the documented formula */
    double z = 3.0 + 3.0 * c.mean_logprob + 0.25 * log(c.min_prob) - 0.5 * c.mean_entropy;
    assert_true(fabs(c.score - 1.0 / (1.0 + exp(-z))) < 1e-6);
    /* with agreement: an even blend */
    hearth_confidence c2;
    hearth_confidence_compute(s, 4, 0.8f, &c2);
    assert_true(fabs(c2.score - (0.5 * c.score + 0.4)) < 1e-6);
}

static void test_score_orders_and_bounds(void **state)
{
    (void)state;
    hearth_sample s[8];
    float sure[8], h_low[8], unsure[8], h_high[8];
    for (int i = 0; i < 8; i++) { sure[i] = -0.01f; h_low[i] = 0.05f; unsure[i] = -2.5f; h_high[i] = 3.5f; }
    hearth_confidence a, b;
    fill(s, 8, sure, h_low);
    hearth_confidence_compute(s, 8, -1, &a);
    fill(s, 8, unsure, h_high);
    hearth_confidence_compute(s, 8, -1, &b);
    assert_true(a.score > HEARTH_CONFIDENCE_THRESHOLD);
    assert_true(b.score < 0.05f);
    /* one surprising token among sure ones lowers the score */
    fill(s, 8, sure, h_low);
    s[3].logprob = -6.0f;
    hearth_confidence c;
    hearth_confidence_compute(s, 8, -1, &c);
    assert_true(c.score < a.score);
    assert_true(fabsf(c.min_prob - expf(-6.0f)) < 1e-7f);
    /* bounds and odd inputs */
    hearth_confidence_compute(NULL, 0, -1, &c);
    assert_int_equal(c.n_tokens, 0);
    assert_true(c.score >= 0 && c.score <= 1);
    s[0].logprob = NAN;
    s[1].logprob = -INFINITY;
    hearth_confidence_compute(s, 8, 2.0f, &c);
    assert_int_equal(c.n_tokens, 7);
    assert_true(c.score >= 0 && c.score <= 1);
    assert_true(c.agreement == 1.0f);
}

static void expect_norm(const char *in, const char *want)
{
    char *n = hearth_answer_normalize(in, strlen(in));
    assert_non_null(n);
    if (strcmp(n, want)) fail_msg("normalize('%s') = '%s', want '%s'", in, n, want);
    free(n);
}

static void test_normalize(void **state)
{
    (void)state;
    expect_norm("  Paris.  ", "paris");
    expect_norm("THE   Answer\n is\t42", "the answer is 42");
    expect_norm("3.0", "3");
    expect_norm(" 1e3 ", "1000");
    expect_norm("\"Paris\"", "paris");
    expect_norm("{\"b\": 1.0, \"a\": [true, null]}", "{\"a\":[true,null],\"b\":1}");
    expect_norm("{\"a\":{\"y\":2.5,\"x\":\"Q\"}}", "{\"a\":{\"x\":\"Q\",\"y\":2.5}}");
    expect_norm("\xc3\x89" "COLE", "\xc3\xa9" "cole");
    expect_norm("", "");
    expect_norm("\xff\xfe ABC", "\xff\xfe abc"); /* invalid UTF-8 still normalizes (ASCII folding) */
}

static void test_vote(void **state)
{
    (void)state;
    const char *ans[] = {"42", "forty-two", " 42.0 ", "41", "42."};
    float agree;
    assert_int_equal(hearth_vote(ans, NULL, 5, &agree), 0);
    assert_true(fabsf(agree - 0.6f) < 1e-6f);
    /* a tie goes to the group with the higher total score */
    const char *tie[] = {"a", "b", "A", "B"};
    float scores[] = {0.1f, 0.9f, 0.2f, 0.3f};
    assert_int_equal(hearth_vote(tie, scores, 4, &agree), 1);
    assert_true(fabsf(agree - 0.5f) < 1e-6f);
    assert_int_equal(hearth_vote(tie, NULL, 4, &agree), 0); /* no scores: the earliest */
    const char *json[] = {"{\"x\":1,\"y\":2}", "{\"y\":2, \"x\":1.0}", "{\"x\":2}"};
    assert_int_equal(hearth_vote(json, NULL, 3, &agree), 0);
    assert_true(fabsf(agree - 2.0f / 3) < 1e-6f);
    assert_int_equal(hearth_vote(NULL, NULL, 3, &agree), -1);
    assert_int_equal(hearth_vote(ans, NULL, 0, &agree), -1);
    const char *with_null[] = {NULL, "x", "x"};
    assert_int_equal(hearth_vote(with_null, NULL, 3, &agree), 1);
}

static void test_best_of_n(void **state)
{
    (void)state;
    hearth_confidence c[3] = {{.n_tokens = 5, .mean_logprob = -1.0f},
                              {.n_tokens = 0, .mean_logprob = 0.0f},
                              {.n_tokens = 3, .mean_logprob = -0.2f}};
    assert_int_equal(hearth_best_of_n(c, 3), 2);
    assert_int_equal(hearth_best_of_n(c, 0), -1);
}

static void test_stop_scan(void **state)
{
    (void)state;
    const char *stops[] = {"\n\nUser:", "###"};
    ptrdiff_t hit;
    const char *t1 = "hello world";
    assert_int_equal(sample_stop_scan(t1, strlen(t1), stops, 2, &hit), strlen(t1));
    assert_int_equal(hit, -1);
    const char *t2 = "answer\n\nUs"; /* might become a stop string: hold back "\n\nUs" */
    assert_int_equal(sample_stop_scan(t2, strlen(t2), stops, 2, &hit), 6);
    assert_int_equal(hit, -1);
    const char *t3 = "answer ## x ### more";
    assert_int_equal(sample_stop_scan(t3, strlen(t3), stops, 2, &hit), 12);
    assert_int_equal(hit, 12);
    const char *t4 = "a#";
    assert_int_equal(sample_stop_scan(t4, strlen(t4), stops, 2, &hit), 1);
    const char *empty[] = {"", NULL};
    assert_int_equal(sample_stop_scan(t4, 2, empty, 2, &hit), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parts),
        cmocka_unit_test(test_score_orders_and_bounds),
        cmocka_unit_test(test_normalize),
        cmocka_unit_test(test_vote),
        cmocka_unit_test(test_best_of_n),
        cmocka_unit_test(test_stop_scan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
