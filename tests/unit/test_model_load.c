/*
 * test_model_load.c — model loading rejects what the architecture cannot run, with a message
 * naming the file, the key or tensor, and what was expected and found. Each case rewrites a
 * fixture model with one change (via the GGUF writer) and loads the result.
 */
#include <math.h>
#include <unistd.h>

#include "model/model.h"
#include "testutil.h"

typedef struct mutation {
    const char *drop_key;      /* leave this key out                                    */
    const char *set_key;       /* replace (or add) this key ...                          */
    hearth_gguf_vtype set_type; /* ... as u32, f32 or string                              */
    uint32_t set_u32;
    float set_f32;
    const char *set_str;
    const char *drop_tensor;   /* leave this tensor out                                  */
    const char *reshape;       /* give this tensor shape ne0 x ne1 (zero data)           */
    int64_t ne0, ne1;
    int retype;                /* with reshape: this type instead (0: keep; F32 is not needed) */
} mutation;

static char tmp_path[256];

/* Writes fixture `rel` with mutation mu applied to tmp_path. */
static void write_mutated(const char *rel, const mutation *mu)
{
    hearth_error err = {0};
    hearth_gguf *g;
    assert_int_equal(hearth_gguf_open(fixture_path(rel), &g, &err), HEARTH_OK);
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    assert_non_null(w);
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        const hearth_gguf_kv *kv = hearth_gguf_kv_at(g, i);
        if (!strcmp(kv->key.s, "general.alignment")) continue;
        if (mu->drop_key && !strcmp(kv->key.s, mu->drop_key)) continue;
        if (mu->set_key && !strcmp(kv->key.s, mu->set_key)) continue;
        assert_int_equal(hearth_gguf_set_value(w, kv->key.s, &kv->value, &err), HEARTH_OK);
    }
    if (mu->set_key) {
        if (mu->set_type == HEARTH_GGUF_UINT32) hearth_gguf_set_u32(w, mu->set_key, mu->set_u32, &err);
        else if (mu->set_type == HEARTH_GGUF_FLOAT32) hearth_gguf_set_f32(w, mu->set_key, mu->set_f32, &err);
        else hearth_gguf_set_str(w, mu->set_key, mu->set_str, &err);
    }
    int64_t n = hearth_gguf_n_tensors(g), k = 0;
    const void **data = calloc((size_t)n, sizeof *data);
    void *zeros = NULL;
    assert_non_null(data);
    for (int64_t i = 0; i < n; i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        if (mu->drop_tensor && !strcmp(t->name.s, mu->drop_tensor)) continue;
        if (mu->reshape && !strcmp(t->name.s, mu->reshape)) {
            int64_t ne[2] = {mu->ne0, mu->ne1};
            hearth_type type = mu->retype ? (hearth_type)mu->retype : t->type;
            assert_int_equal(hearth_gguf_add_tensor(w, t->name.s, type, mu->ne1 > 1 ? 2 : 1, ne, &err), HEARTH_OK);
            zeros = calloc(1, hearth_row_size(type, mu->ne0) * (size_t)mu->ne1);
            data[k++] = zeros;
            continue;
        }
        assert_int_equal(hearth_gguf_add_tensor(w, t->name.s, t->type, t->n_dims, t->ne, &err), HEARTH_OK);
        data[k++] = t->data;
    }
    void *buf;
    size_t len;
    assert_int_equal(hearth_gguf_writer_to_buffer(w, data, &buf, &len, &err), HEARTH_OK);
    snprintf(tmp_path, sizeof tmp_path, "/tmp/hearth-test-model-load-%d.gguf", (int)getpid());
    FILE *f = fopen(tmp_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
    free(buf);
    free(zeros);
    free(data);
    hearth_gguf_writer_free(w);
    hearth_gguf_close(g);
}

/* Loads the mutated file: expects failure with `status` and every needle in the message. */
static void expect_error(const char *rel, const mutation *mu, hearth_status status, const char *needle1,
                         const char *needle2)
{
    write_mutated(rel, mu);
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(tmp_path, NULL, &err);
    unlink(tmp_path);
    if (m) {
        hearth_model_free(m);
        fail_msg("loaded although %s", needle1);
    }
    if (err.status != status || !strstr(err.message, needle1) || (needle2 && !strstr(err.message, needle2)))
        fail_msg("status %s, message: %s (expected %s with '%s'%s%s)", hearth_status_name(err.status), err.message,
                 hearth_status_name(status), needle1, needle2 ? " and " : "", needle2 ? needle2 : "");
    assert_non_null(strstr(err.message, "hearth-test-model-load")); /* names the file */
}

static void test_unchanged_copy_loads(void **state)
{
    (void)state;
    mutation none = {0};
    write_mutated("models/qwen2-f32.gguf", &none);
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(tmp_path, NULL, &err);
    unlink(tmp_path);
    if (!m) fail_msg("%s", err.message);
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    assert_string_equal(info.arch, "qwen2");
    assert_string_equal(info.file_type, "F32");
    assert_int_equal(info.n_layer, 2);
    assert_int_equal(info.n_head_kv, 2);
    assert_int_equal(info.n_vocab, 800);
    assert_true(info.weight_bytes_per_token > 0);
    hearth_model_free(m);
}

static void test_missing_keys(void **state)
{
    (void)state;
    const char *keys[] = {"qwen3.block_count", "qwen3.embedding_length", "qwen3.context_length",
                          "qwen3.feed_forward_length", "qwen3.attention.head_count",
                          "qwen3.attention.layer_norm_rms_epsilon"};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(keys); i++) {
        mutation mu = {.drop_key = keys[i]};
        expect_error("models/qwen3-f32.gguf", &mu, HEARTH_ERR_FORMAT, "missing required key", keys[i]);
    }
    mutation arch = {.drop_key = "general.architecture"};
    expect_error("models/qwen3-f32.gguf", &arch, HEARTH_ERR_FORMAT, "general.architecture", NULL);
}

static void test_bad_values(void **state)
{
    (void)state;
    mutation unknown = {.set_key = "general.architecture", .set_type = HEARTH_GGUF_STRING, .set_str = "mamba"};
    expect_error("models/llama-f32.gguf", &unknown, HEARTH_ERR_UNSUPPORTED, "'mamba'", "not supported");
    mutation heads = {.set_key = "llama.attention.head_count_kv", .set_type = HEARTH_GGUF_UINT32, .set_u32 = 3};
    expect_error("models/llama-f32.gguf", &heads, HEARTH_ERR_FORMAT, "multiple of head_count_kv", NULL);
    mutation zero = {.set_key = "llama.block_count", .set_type = HEARTH_GGUF_UINT32, .set_u32 = 0};
    expect_error("models/llama-f32.gguf", &zero, HEARTH_ERR_FORMAT, "block_count", "found 0");
    mutation rot = {.set_key = "llama.rope.dimension_count", .set_type = HEARTH_GGUF_UINT32, .set_u32 = 33};
    expect_error("models/llama-f32.gguf", &rot, HEARTH_ERR_FORMAT, "rope.dimension_count", "33");
    mutation type = {.set_key = "llama.block_count", .set_type = HEARTH_GGUF_STRING, .set_str = "two"};
    expect_error("models/llama-f32.gguf", &type, HEARTH_ERR_FORMAT, "llama.block_count", NULL);
    mutation scaling = {.set_key = "llama.rope.scaling.type", .set_type = HEARTH_GGUF_STRING, .set_str = "wavy"};
    expect_error("models/llama-f32.gguf", &scaling, HEARTH_ERR_UNSUPPORTED, "wavy", NULL);
    mutation nan_eps = {.set_key = "llama.attention.layer_norm_rms_epsilon", .set_type = HEARTH_GGUF_FLOAT32,
                        .set_f32 = NAN};
    expect_error("models/llama-f32.gguf", &nan_eps, HEARTH_ERR_FORMAT, "out of range", NULL);
}

static void test_rope_scaling_keys(void **state)
{
    (void)state;
    /* YaRN: the correction range is ggml's (llama-f32: 32 rotated dims, 2048 trained, base 1e4) */
    mutation yarn = {.set_key = "llama.rope.scaling.type", .set_type = HEARTH_GGUF_STRING, .set_str = "yarn"};
    write_mutated("models/llama-f32.gguf", &yarn);
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(tmp_path, NULL, &err);
    unlink(tmp_path);
    if (!m) fail_msg("%s", err.message);
    assert_int_equal(m->hp.rope_scaling, HEARTH_ROPE_SCALING_YARN);
    assert_true(m->hp.yarn_low == 4.0f && m->hp.yarn_high == 11.0f);
    assert_true(m->hp.rope_freq_scale == 1.0f && m->hp.rope_mscale == 1.0f);
    hearth_model_free(m);
    mutation deepseek = {.set_key = "llama.rope.scaling.yarn_log_multiplier", .set_type = HEARTH_GGUF_FLOAT32,
                         .set_f32 = 0.1f};
    /* only matters with YaRN: without it the key is ignored, like llama.cpp */
    write_mutated("models/llama-f32.gguf", &deepseek);
    m = hearth_model_load(tmp_path, NULL, &err);
    unlink(tmp_path);
    assert_non_null(m);
    hearth_model_free(m);
    mutation bad = {.set_key = "llama.rope.scaling.attn_factor", .set_type = HEARTH_GGUF_FLOAT32, .set_f32 = -1};
    expect_error("models/llama-f32.gguf", &bad, HEARTH_ERR_FORMAT, "rope scaling out of range", "attn_factor -1");
}

static void test_tensor_problems(void **state)
{
    (void)state;
    mutation drop = {.drop_tensor = "blk.1.ffn_down.weight"};
    expect_error("models/llama-f32.gguf", &drop, HEARTH_ERR_FORMAT, "missing tensor 'blk.1.ffn_down.weight'", NULL);
    /* llama-f32: n_embd 128, 4 heads of 32, n_ff 384 */
    mutation shape = {.reshape = "blk.0.attn_q.weight", .ne0 = 128, .ne1 = 96};
    expect_error("models/llama-f32.gguf", &shape, HEARTH_ERR_FORMAT, "'blk.0.attn_q.weight'",
                 "expected shape [128, 128], found [128, 96");
    mutation norm = {.reshape = "output_norm.weight", .ne0 = 64, .ne1 = 1};
    expect_error("models/llama-f32.gguf", &norm, HEARTH_ERR_FORMAT, "'output_norm.weight'", "expected shape [128]");
    mutation qk = {.drop_tensor = "blk.0.attn_k_norm.weight"};
    expect_error("models/qwen3-f32.gguf", &qk, HEARTH_ERR_FORMAT, "attn_k_norm", "qwen3");
    mutation bias = {.drop_tensor = "blk.1.attn_v.bias"};
    expect_error("models/qwen2-f32.gguf", &bias, HEARTH_ERR_FORMAT, "blk.1.attn_v.bias", NULL);
    /* phi3: fused QKV of n_embd + 2 * n_embd_kv rows, fused gate+up of 2 * n_ff rows */
    mutation qkv = {.reshape = "blk.0.attn_qkv.weight", .ne0 = 128, .ne1 = 128};
    expect_error("models/phi3-f32.gguf", &qkv, HEARTH_ERR_FORMAT, "'blk.0.attn_qkv.weight'", "[128, 384]");
    mutation up = {.reshape = "blk.1.ffn_up.weight", .ne0 = 128, .ne1 = 384};
    expect_error("models/phi3-f32.gguf", &up, HEARTH_ERR_FORMAT, "'blk.1.ffn_up.weight'", "[128, 768]");
    /* well-formed types this build cannot compute with */
    mutation iq = {.reshape = "blk.0.ffn_up.weight", .ne0 = 128, .ne1 = 384, .retype = HEARTH_TYPE_IQ4_NL};
    expect_error("models/llama-f32.gguf", &iq, HEARTH_ERR_UNSUPPORTED, "'blk.0.ffn_up.weight'", "IQ4_NL");
    mutation i32 = {.reshape = "blk.1.attn_norm.weight", .ne0 = 128, .ne1 = 1, .retype = HEARTH_TYPE_I32};
    expect_error("models/llama-f32.gguf", &i32, HEARTH_ERR_UNSUPPORTED, "'blk.1.attn_norm.weight'", "I32");
    mutation embd = {.drop_tensor = "token_embd.weight"};
    expect_error("models/qwen3-f32.gguf", &embd, HEARTH_ERR_FORMAT, "token_embd.weight", NULL);
}

static void test_not_a_model(void **state)
{
    (void)state;
    hearth_error err = {0};
    assert_null(hearth_model_load("/nonexistent/model.gguf", NULL, &err));
    assert_int_equal(err.status, HEARTH_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent/model.gguf"));
    assert_null(hearth_model_load(NULL, NULL, &err));
    assert_int_equal(err.status, HEARTH_ERR_INVALID_ARG);
    /* a vocabulary-only file loads with vocab_only and refuses a context */
    hearth_model_params p = hearth_model_default_params();
    p.vocab_only = true;
    hearth_model *m = hearth_model_load(fixture_path("vocab/mistral.gguf"), &p, &err);
    if (!m) fail_msg("%s", err.message);
    assert_null(hearth_context_new(m, NULL, &err));
    assert_int_equal(err.status, HEARTH_ERR_INVALID_ARG);
    hearth_model_free(m);
    assert_null(hearth_model_load(fixture_path("vocab/mistral.gguf"), NULL, &err));
}

static void test_metadata_queries(void **state)
{
    (void)state;
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(fixture_path("models/qwen3-real-vocab-q8_0.gguf"), NULL, &err);
    if (!m) fail_msg("%s", err.message);
    char buf[256];
    assert_int_equal(hearth_model_meta(m, "qwen3.block_count", buf, sizeof buf), 1);
    assert_string_equal(buf, "2");
    assert_int_equal(hearth_model_meta(m, "no.such.key", buf, sizeof buf), -1);
    /* arrays are summarized; a short buffer is truncated but the full length is returned */
    int32_t n = hearth_model_meta(m, "tokenizer.ggml.tokens", buf, sizeof buf);
    assert_true(n > 0 && strstr(buf, "151936"));
    char small[8];
    assert_int_equal(hearth_model_meta(m, "tokenizer.ggml.tokens", small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(hearth_model_meta(m, "tokenizer.ggml.tokens", NULL, 0), n);
    int32_t count = hearth_model_meta_count(m);
    assert_true(count > 10);
    assert_non_null(hearth_model_meta_key(m, 0));
    assert_null(hearth_model_meta_key(m, count));
    assert_null(hearth_model_meta_key(m, -1));
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    assert_string_equal(info.tokenizer, "gpt2");
    assert_string_equal(info.pre, "qwen2");
    assert_non_null(info.chat_template);
    hearth_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unchanged_copy_loads),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_rope_scaling_keys),
        cmocka_unit_test(test_tensor_problems),
        cmocka_unit_test(test_not_a_model),
        cmocka_unit_test(test_metadata_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
