/* test_bert.c — the bert encoder against llama.cpp's embeddings of the fixture models
 * (cosine >= 0.9999 per text; references are mean-pooled, not normalized), batching several
 * sequences in one decode, hearth_embed (tokenize + truncate + normalize), hostile use. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>

#include "hearth.h"

static double cosine(const float *a, const double *b, int n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

typedef struct ref {
    int n;
    hearth_token tokens[64][128];
    int n_tokens[64];
    double vec[64][1024];
    const char *text[64];
    int dim;
    json_t *root;
} ref;

static void load_ref(const char *name, ref *r)
{
    char rel[256];
    snprintf(rel, sizeof rel, "reference/%s.json", name);
    json_error_t je;
    r->root = json_load_file(fixture_path(rel), 0, &je);
    assert_non_null(r->root);
    json_t *embs = json_object_get(r->root, "embeddings");
    r->n = (int)json_array_size(embs);
    assert_true(r->n > 0 && r->n <= 64);
    for (int i = 0; i < r->n; i++) {
        json_t *e = json_array_get(embs, (size_t)i);
        json_t *toks = json_object_get(e, "tokens"), *vec = json_object_get(e, "vector");
        r->text[i] = json_string_value(json_object_get(e, "text"));
        r->n_tokens[i] = (int)json_array_size(toks);
        for (int t = 0; t < r->n_tokens[i]; t++) r->tokens[i][t] = (hearth_token)json_integer_value(json_array_get(toks, (size_t)t));
        r->dim = (int)json_array_size(vec);
        for (int d = 0; d < r->dim; d++) r->vec[i][d] = json_number_value(json_array_get(vec, (size_t)d));
    }
}

static void check_model(const char *name)
{
    ref *r = calloc(1, sizeof *r);
    load_ref(name, r);
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s.gguf", name);
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(fixture_path(rel), NULL, &err);
    if (!m) fail_msg("%s", err.message);
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    assert_string_equal(info.arch, "bert");
    assert_int_equal(info.n_embd, r->dim);
    hearth_context_params cp = hearth_context_default_params();
    cp.n_seq_max = 8;
    cp.n_threads = 2;
    cp.embeddings = true;
    hearth_context *ctx = hearth_context_new(m, &cp, &err);
    if (!ctx) fail_msg("%s", err.message);
    /* one text at a time */
    for (int i = 0; i < r->n; i++) {
        hearth_batch b = {.n_tokens = r->n_tokens[i], .tokens = r->tokens[i]};
        int32_t pos[128];
        for (int t = 0; t < r->n_tokens[i]; t++) pos[t] = t;
        b.pos = pos;
        assert_int_equal(hearth_decode(ctx, &b, &err), HEARTH_OK);
        const float *v = hearth_get_embeddings_seq(ctx, 0);
        assert_non_null(v);
        double c = cosine(v, r->vec[i], r->dim);
        print_message("%s text %d: cosine %.7f\n", name, i, c);
        assert_true(c >= 0.9999);
    }
    /* all texts in one batch, one sequence each: the same vectors */
    hearth_token tok[1024];
    int32_t pos[1024], seq[1024], n = 0;
    for (int i = 0; i < r->n; i++)
        for (int t = 0; t < r->n_tokens[i]; t++) tok[n] = r->tokens[i][t], pos[n] = t, seq[n++] = i;
    hearth_batch b = {.n_tokens = n, .tokens = tok, .pos = pos, .seq_id = seq};
    assert_int_equal(hearth_decode(ctx, &b, &err), HEARTH_OK);
    for (int i = 0; i < r->n; i++) assert_true(cosine(hearth_get_embeddings_seq(ctx, i), r->vec[i], r->dim) >= 0.9999);
    /* a sequence that does not start at 0 within its slice is refused, not silently wrong */
    pos[0] = 3;
    b.n_tokens = 1;
    assert_int_not_equal(hearth_decode(ctx, &b, &err), HEARTH_OK);
    hearth_context_free(ctx);
    hearth_model_free(m);
    json_decref(r->root);
    free(r);
}

static void test_bert_f32(void **s) { (void)s; check_model("bert-f32"); }
static void test_bert_f16(void **s) { (void)s; check_model("bert-f16"); }
static void test_bert_q8_0(void **s) { (void)s; check_model("bert-q8_0"); }
static void test_bert_real_vocab(void **s) { (void)s; check_model("bert-real-vocab-q8_0"); }

/* hearth_embed on text: tokenization matches the reference ids, vectors are normalized, long
 * texts are truncated (and counted), many texts batch into the same answers. */
static void test_embed_text(void **state)
{
    (void)state;
    ref *r = calloc(1, sizeof *r);
    load_ref("bert-real-vocab-q8_0", r);
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(fixture_path("models/bert-real-vocab-q8_0.gguf"), NULL, &err);
    assert_non_null(m);
    hearth_context_params cp = hearth_context_default_params();
    cp.n_seq_max = 4;
    cp.n_ctx = 64;
    cp.n_threads = 1;
    hearth_context *ctx = hearth_context_new(m, &cp, &err);
    assert_non_null(ctx);
    const char *texts[16];
    int nt = 0;
    for (int i = 0; i < r->n; i++)
        if (r->text[i]) texts[nt++] = r->text[i];
    assert_true(nt >= 2);
    float out[16 * 64];
    int32_t trunc;
    assert_int_equal(hearth_embed(ctx, texts, NULL, nt, out, true, &trunc, &err), HEARTH_OK);
    assert_int_equal(trunc, 0);
    for (int i = 0, k = 0; i < r->n; i++) {
        if (!r->text[i]) continue;
        double nn = 0;
        for (int d = 0; d < r->dim; d++) nn += (double)out[k * r->dim + d] * out[k * r->dim + d];
        assert_true(fabs(nn - 1.0) < 1e-4);
        assert_true(cosine(out + k * r->dim, r->vec[i], r->dim) >= 0.9999);
        k++;
    }
    /* a text far longer than the 64-token context */
    char *long_text = malloc(20000);
    long_text[0] = 0;
    for (int i = 0; i < 1000; i++) strcat(long_text, "agent ");
    const char *lt[5] = {long_text, texts[0], long_text, texts[1], ""};
    float out2[5 * 64];
    assert_int_equal(hearth_embed(ctx, lt, NULL, 5, out2, true, &trunc, &err), HEARTH_OK);
    assert_int_equal(trunc, 2);
    assert_memory_equal(out2, out2 + 2 * 64, 64 * sizeof(float));
    for (int d = 0; d < 64; d++) assert_true(fabsf(out2[64 + d] - out[d]) < 1e-4); /* batching does not change results */
    free(long_text);
    hearth_context_free(ctx);
    /* a decoder model is not an embedding model */
    hearth_model *llama = hearth_model_load(fixture_path("models/llama-f32.gguf"), NULL, &err);
    assert_non_null(llama);
    ctx = hearth_context_new(llama, NULL, &err);
    assert_non_null(ctx);
    assert_int_equal(hearth_embed(ctx, texts, NULL, 1, out, true, NULL, &err), HEARTH_ERR_UNSUPPORTED);
    assert_null(hearth_get_embeddings_seq(ctx, 0));
    hearth_context_free(ctx);
    hearth_model_free(llama);
    hearth_model_free(m);
    json_decref(r->root);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bert_f32),        cmocka_unit_test(test_bert_f16),
        cmocka_unit_test(test_bert_q8_0),       cmocka_unit_test(test_bert_real_vocab),
        cmocka_unit_test(test_embed_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
