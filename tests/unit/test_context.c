/*
 * test_context.c — contexts and the KV cache through the public API: batch validation,
 * CONTEXT_FULL changing nothing, batches split over n_batch, parallel sequences sharing a
 * prompt (hearth_seq_copy), truncation and clearing, which tokens keep logits, and the
 * three KV cache types. Logits are compared with a straightforward reference run.
 */
#include <math.h>

#include "hearth.h"
#include "testutil.h"

#define N_VOCAB 700 /* qwen3-f32 */

static hearth_model *model;

static int setup(void **state)
{
    (void)state;
    hearth_error err = {0};
    model = hearth_model_load(fixture_path("models/qwen3-f32.gguf"), NULL, &err);
    if (!model) fprintf(stderr, "%s\n", err.message);
    return model ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    hearth_model_free(model);
    return 0;
}

static hearth_context *new_ctx(int32_t n_ctx, int32_t n_batch, int32_t n_seq, hearth_kv_type kv)
{
    hearth_error err = {0};
    hearth_context_params p = hearth_context_default_params();
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.n_seq_max = n_seq;
    p.n_threads = 2;
    p.kv_type = kv;
    hearth_context *ctx = hearth_context_new(model, &p, &err);
    if (!ctx) fail_msg("%s", err.message);
    return ctx;
}

static const hearth_token prompt[] = {1, 292, 500, 422, 562, 309, 287, 331, 415, 607, 470, 691};
#define N_PROMPT ((int32_t)(sizeof prompt / sizeof prompt[0]))

static double max_diff(const float *a, const float *b)
{
    double d = 0;
    for (int i = 0; i < N_VOCAB; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return d;
}

/* Logits after the whole prompt, in one batch, in a fresh context: the reference. */
static void reference_logits(int32_t n, float *out, hearth_kv_type kv)
{
    hearth_context *ctx = new_ctx(64, 0, 1, kv);
    hearth_error err = {0};
    hearth_batch b = {.n_tokens = n, .tokens = prompt};
    assert_int_equal(hearth_decode(ctx, &b, &err), HEARTH_OK);
    memcpy(out, hearth_get_logits(ctx, -1), N_VOCAB * sizeof(float));
    hearth_context_free(ctx);
}

static void test_defaults_and_params(void **state)
{
    (void)state;
    hearth_error err = {0};
    hearth_context *ctx = hearth_context_new(model, NULL, &err);
    assert_non_null(ctx);
    assert_int_equal(hearth_context_n_ctx(ctx), 4096); /* min(trained 4096, 4096) */
    assert_int_equal(hearth_seq_len(ctx, 0), 0);
    assert_null(hearth_get_logits(ctx, -1)); /* nothing decoded yet */
    hearth_context_free(ctx);
    hearth_context_params p = hearth_context_default_params();
    p.n_ctx = -1;
    assert_null(hearth_context_new(model, &p, &err));
    assert_int_equal(err.status, HEARTH_ERR_INVALID_ARG);
    p = hearth_context_default_params();
    p.kv_type = (hearth_kv_type)42;
    assert_null(hearth_context_new(model, &p, &err));
    p = hearth_context_default_params();
    p.n_seq_max = 100000;
    assert_null(hearth_context_new(model, &p, &err));
    assert_null(hearth_context_new(NULL, NULL, &err));
    hearth_context_free(NULL);
}

static void test_bad_batches_change_nothing(void **state)
{
    (void)state;
    hearth_context *ctx = new_ctx(16, 0, 2, HEARTH_KV_F16);
    hearth_error err = {0};
    hearth_batch ok = {.n_tokens = 4, .tokens = prompt};
    assert_int_equal(hearth_decode(ctx, &ok, &err), HEARTH_OK);
    float before[N_VOCAB];
    memcpy(before, hearth_get_logits(ctx, -1), sizeof before);

    hearth_token bad_tok[] = {5, N_VOCAB};
    hearth_batch b1 = {.n_tokens = 2, .tokens = bad_tok};
    assert_int_equal(hearth_decode(ctx, &b1, &err), HEARTH_ERR_INVALID_ARG);
    assert_non_null(strstr(err.message, "outside the vocabulary"));
    int32_t bad_seq[] = {2};
    hearth_batch b2 = {.n_tokens = 1, .tokens = prompt, .seq_id = bad_seq};
    assert_int_equal(hearth_decode(ctx, &b2, &err), HEARTH_ERR_INVALID_ARG);
    int32_t gap[] = {6}; /* sequence 0 has 4 positions: 6 would leave a hole */
    hearth_batch b3 = {.n_tokens = 1, .tokens = prompt, .pos = gap};
    assert_int_equal(hearth_decode(ctx, &b3, &err), HEARTH_ERR_INVALID_ARG);
    int32_t twice[] = {4, 4};
    hearth_batch b4 = {.n_tokens = 2, .tokens = prompt, .pos = twice};
    assert_int_equal(hearth_decode(ctx, &b4, &err), HEARTH_ERR_INVALID_ARG);
    hearth_batch b5 = {.n_tokens = 0, .tokens = prompt};
    assert_int_equal(hearth_decode(ctx, &b5, &err), HEARTH_ERR_INVALID_ARG);
    /* 4 cached + 13 new > 16: CONTEXT_FULL, and the cache still holds 4 positions */
    hearth_token many[13] = {0};
    hearth_batch full = {.n_tokens = 13, .tokens = many};
    assert_int_equal(hearth_decode(ctx, &full, &err), HEARTH_ERR_CONTEXT_FULL);
    assert_non_null(strstr(err.message, "context"));
    assert_int_equal(hearth_seq_len(ctx, 0), 4);
    assert_int_equal(max_diff(before, hearth_get_logits(ctx, -1)), 0);
    /* and decoding continues correctly after all that */
    hearth_batch rest = {.n_tokens = N_PROMPT - 4, .tokens = prompt + 4};
    assert_int_equal(hearth_decode(ctx, &rest, &err), HEARTH_OK);
    float ref[N_VOCAB];
    reference_logits(N_PROMPT, ref, HEARTH_KV_F16);
    assert_true(max_diff(ref, hearth_get_logits(ctx, -1)) < 1e-3);
    hearth_context_free(ctx);
}

static void test_split_batches_and_outputs(void **state)
{
    (void)state;
    float ref[N_VOCAB];
    reference_logits(N_PROMPT, ref, HEARTH_KV_F32);
    /* n_batch 5: the 12 tokens run as 5 + 5 + 2, with logits kept for tokens 3 and 11 */
    hearth_context *ctx = new_ctx(32, 5, 1, HEARTH_KV_F32);
    hearth_error err = {0};
    int8_t want[N_PROMPT] = {0};
    want[3] = want[11] = 1;
    hearth_batch b = {.n_tokens = N_PROMPT, .tokens = prompt, .logits = want};
    assert_int_equal(hearth_decode(ctx, &b, &err), HEARTH_OK);
    assert_null(hearth_get_logits(ctx, 0));
    assert_null(hearth_get_logits(ctx, 12));
    assert_null(hearth_get_logits(ctx, -2));
    assert_non_null(hearth_get_logits(ctx, 3));
    assert_true(max_diff(ref, hearth_get_logits(ctx, 11)) < 1e-4);
    assert_ptr_equal(hearth_get_logits(ctx, 11), hearth_get_logits(ctx, -1));
    float ref4[N_VOCAB];
    reference_logits(4, ref4, HEARTH_KV_F32);
    assert_true(max_diff(ref4, hearth_get_logits(ctx, 3)) < 1e-4);
    hearth_context_free(ctx);
}

static void test_parallel_sequences(void **state)
{
    (void)state;
    hearth_context *ctx = new_ctx(32, 0, 3, HEARTH_KV_F32);
    hearth_error err = {0};
    /* the first 8 prompt tokens once in sequence 0, shared with 1 and 2 */
    hearth_batch b = {.n_tokens = 8, .tokens = prompt};
    assert_int_equal(hearth_decode(ctx, &b, &err), HEARTH_OK);
    assert_int_equal(hearth_seq_copy(ctx, 0, 1, 8, &err), HEARTH_OK);
    assert_int_equal(hearth_seq_copy(ctx, 0, 2, 5, &err), HEARTH_OK);
    assert_int_equal(hearth_seq_len(ctx, 1), 8);
    assert_int_equal(hearth_seq_len(ctx, 2), 5);
    assert_int_equal(hearth_seq_copy(ctx, 0, 1, 9, &err), HEARTH_ERR_INVALID_ARG);
    assert_int_equal(hearth_seq_copy(ctx, 0, 3, 1, &err), HEARTH_ERR_INVALID_ARG);
    /* one batch continuing all three: seq 0 and 1 with the real next token, seq 2 from
     * position 5 with prompt[5..7] (it must see only its own 5 cells) */
    hearth_token toks[] = {prompt[8], prompt[8], prompt[5], prompt[6], prompt[7]};
    int32_t seq[] = {0, 1, 2, 2, 2};
    int32_t pos[] = {8, 8, 5, 6, 7};
    int8_t out[] = {1, 1, 0, 0, 1};
    hearth_batch par = {.n_tokens = 5, .tokens = toks, .pos = pos, .seq_id = seq, .logits = out};
    assert_int_equal(hearth_decode(ctx, &par, &err), HEARTH_OK);
    float ref9[N_VOCAB], ref8[N_VOCAB];
    reference_logits(9, ref9, HEARTH_KV_F32);
    reference_logits(8, ref8, HEARTH_KV_F32);
    assert_true(max_diff(ref9, hearth_get_logits(ctx, 0)) < 1e-4);
    assert_true(max_diff(ref9, hearth_get_logits(ctx, 1)) < 1e-4);
    assert_true(max_diff(ref8, hearth_get_logits(ctx, 4)) < 1e-4);
    assert_int_equal(hearth_seq_len(ctx, 2), 8);
    /* truncate sequence 1 back to 4 and re-decode: same as a fresh run of 5 tokens */
    hearth_seq_truncate(ctx, 1, 4);
    assert_int_equal(hearth_seq_len(ctx, 1), 4);
    int32_t s1[] = {1};
    hearth_batch one = {.n_tokens = 1, .tokens = &prompt[4], .seq_id = s1};
    assert_int_equal(hearth_decode(ctx, &one, &err), HEARTH_OK);
    float ref5[N_VOCAB];
    reference_logits(5, ref5, HEARTH_KV_F32);
    assert_true(max_diff(ref5, hearth_get_logits(ctx, -1)) < 1e-4);
    hearth_seq_truncate(ctx, 7, 0); /* out of range: ignored */
    hearth_kv_clear(ctx);
    for (int s = 0; s < 3; s++) assert_int_equal(hearth_seq_len(ctx, s), 0);
    hearth_context_free(ctx);
}

static void test_kv_types(void **state)
{
    (void)state;
    float f32[N_VOCAB], f16[N_VOCAB], q8[N_VOCAB];
    reference_logits(N_PROMPT, f32, HEARTH_KV_F32);
    reference_logits(N_PROMPT, f16, HEARTH_KV_F16);
    reference_logits(N_PROMPT, q8, HEARTH_KV_Q8_0);
    /* lower-precision caches move logits a little, not a lot (and not at all is suspicious) */
    double d16 = max_diff(f32, f16), d8 = max_diff(f32, q8);
    assert_true(d16 > 0 && d16 < 0.05);
    assert_true(d8 > 0 && d8 < 0.5);
    /* a Q8_0 cache needs head sizes divisible by 32: stories260K's are 8 */
    hearth_error err = {0};
    hearth_model *small = hearth_model_load(fixture_path("real/stories260K/stories260K.gguf"), NULL, &err);
    assert_non_null(small);
    hearth_context_params p = hearth_context_default_params();
    p.kv_type = HEARTH_KV_Q8_0;
    assert_null(hearth_context_new(small, &p, &err));
    assert_non_null(strstr(err.message, "Q8_0"));
    hearth_model_free(small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_params),
        cmocka_unit_test(test_bad_batches_change_nothing),
        cmocka_unit_test(test_split_batches_and_outputs),
        cmocka_unit_test(test_parallel_sequences),
        cmocka_unit_test(test_kv_types),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
