/* test_synth.c — `hearth synth` models: the exact tensor list per architecture, metadata,
 * quantization mixes, determinism, the synthetic vocab, and a round trip through the reader. */
#include "testutil.h"

#include <math.h>
#include <stddef.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/synth.h"

static hearth_error err;
static char dir[256];

#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != HEARTH_OK) fail_msg("%s: %s", #call, err.message);                           \
    } while (0)

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/hearth-test-synth-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_in_dir(const char *name)
{
    static char p[2][512];
    static int k;
    char *out = p[k++ & 1];
    snprintf(out, sizeof p[0], "%s/%s", dir, name);
    return out;
}

static void tiny(hearth_synth_config *c, const char *arch)
{
    hearth_synth_defaults(c);
    snprintf(c->arch, sizeof c->arch, "%s", arch);
    c->n_embd = 256;
    c->n_layer = 2;
    c->n_head = 4;
    c->n_head_kv = strcmp(arch, "bert") == 0 ? 4 : 2;
    c->n_ff = 512;
    c->n_vocab = 600;
    c->n_ctx = 512;
    c->n_threads = 2;
    c->seed = 7;
    c->pooling = strcmp(arch, "bert") == 0 ? 1 : 0;
}

/* Writes c, opens it, and checks every planned tensor is there with its shape and type. */
static hearth_gguf *write_and_open(const hearth_synth_config *c, const char *name)
{
    const char *path = path_in_dir(name);
    hearth_synth_result res;
    OK(hearth_synth_write(c, path, NULL, NULL, &res, &err));
    hearth_gguf *g;
    OK(hearth_gguf_open(path, &g, &err));
    hearth_synth_tensor *ts;
    int64_t n;
    hearth_synth_config planned = *c;
    planned.n_vocab = res.n_vocab; /* a --vocab file decides it */
    OK(hearth_synth_plan(&planned, &ts, &n, &err));
    assert_int_equal(hearth_gguf_n_tensors(g), n);
    assert_int_equal(res.n_tensors, n);
    assert_int_equal(res.file_size, hearth_gguf_file_size(g));
    for (int64_t i = 0; i < n; i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        assert_string_equal(t->name.s, ts[i].name);
        assert_int_equal(t->ne[0], ts[i].ne[0]);
        assert_int_equal(t->ne[1], ts[i].ne[1]);
        assert_int_equal(t->type, ts[i].type);
    }
    free(ts);
    const char *arch;
    OK(hearth_gguf_get_str(g, "general.architecture", &arch, &err));
    assert_string_equal(arch, c->arch);
    return g;
}

static void expect_tensor(const hearth_gguf *g, const char *name, int64_t ne0, int64_t ne1, hearth_type type)
{
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, name);
    if (!t) fail_msg("missing tensor %s", name);
    if (t->ne[0] != ne0 || t->ne[1] != ne1 || t->type != type)
        fail_msg("%s: [%lld %lld] %s, expected [%lld %lld] %s", name, (long long)t->ne[0], (long long)t->ne[1],
                 hearth_type_name(t->type), (long long)ne0, (long long)ne1, hearth_type_name(type));
}

static uint32_t u32(const hearth_gguf *g, const char *key)
{
    uint32_t v;
    OK(hearth_gguf_get_u32(g, key, &v, &err));
    return v;
}

static void test_qwen3_layout(void **state)
{
    (void)state;
    hearth_synth_config c;
    tiny(&c, "qwen3");
    c.head_dim = 128; /* qwen3: head_dim * n_head != n_embd */
    c.type = HEARTH_TYPE_Q8_0;
    c.tied = true;
    hearth_gguf *g = write_and_open(&c, "qwen3.gguf");
    assert_int_equal(hearth_gguf_n_tensors(g), 1 + 2 * 11 + 1);
    expect_tensor(g, "token_embd.weight", 256, 600, HEARTH_TYPE_Q8_0);
    expect_tensor(g, "blk.1.attn_q.weight", 256, 512, HEARTH_TYPE_Q8_0);
    expect_tensor(g, "blk.1.attn_k.weight", 256, 256, HEARTH_TYPE_Q8_0);
    expect_tensor(g, "blk.1.attn_v.weight", 256, 256, HEARTH_TYPE_Q8_0);
    expect_tensor(g, "blk.1.attn_q_norm.weight", 128, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.1.attn_k_norm.weight", 128, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.1.attn_output.weight", 512, 256, HEARTH_TYPE_Q8_0);
    expect_tensor(g, "blk.0.ffn_gate.weight", 256, 512, HEARTH_TYPE_Q8_0);
    expect_tensor(g, "blk.0.ffn_down.weight", 512, 256, HEARTH_TYPE_Q8_0);
    expect_tensor(g, "output_norm.weight", 256, 1, HEARTH_TYPE_F32);
    assert_null(hearth_gguf_find_tensor(g, "output.weight"));
    assert_int_equal(u32(g, "qwen3.attention.key_length"), 128);
    assert_int_equal(u32(g, "qwen3.attention.head_count_kv"), 2);
    assert_int_equal(u32(g, "qwen3.block_count"), 2);
    assert_int_equal(u32(g, "qwen3.context_length"), 512);
    assert_int_equal(u32(g, "general.file_type"), 7);
    assert_int_equal(u32(g, "tokenizer.ggml.bos_token_id"), 1);

    /* the synthetic vocab: specials, bytes, then unique pieces with decreasing scores */
    const hearth_gguf_value *tok, *sc, *ty;
    OK(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &tok, &err));
    OK(hearth_gguf_get_arr(g, "tokenizer.ggml.scores", HEARTH_GGUF_FLOAT32, &sc, &err));
    OK(hearth_gguf_get_arr(g, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32, &ty, &err));
    assert_int_equal(tok->v.arr.n, 600);
    assert_string_equal(tok->v.arr.strs[0].s, "<unk>");
    assert_string_equal(tok->v.arr.strs[2].s, "</s>");
    assert_string_equal(tok->v.arr.strs[3 + 0x41].s, "<0x41>");
    assert_int_equal(((const int32_t *)ty->v.arr.data)[10], 6);
    for (uint64_t i = 260; i < tok->v.arr.n; i++) {
        assert_true(((const float *)sc->v.arr.data)[i] < ((const float *)sc->v.arr.data)[i - 1]);
        for (uint64_t k = 259; k < i; k++)
            if (strcmp(tok->v.arr.strs[i].s, tok->v.arr.strs[k].s) == 0)
                fail_msg("duplicate token '%s' at %llu and %llu", tok->v.arr.strs[i].s, (unsigned long long)k,
                         (unsigned long long)i);
    }
    hearth_gguf_close(g);
}

static void test_llama_q4_k_m(void **state)
{
    (void)state;
    hearth_synth_config c;
    tiny(&c, "llama");
    c.n_layer = 8;
    c.llama3_rope_factor = 32;
    c.rope_theta = 500000;
    assert_true(hearth_synth_parse_type("q4_k_m", &c.type, &c.mix));
    assert_int_equal(c.type, HEARTH_TYPE_Q4_K);
    hearth_gguf *g = write_and_open(&c, "llama.gguf");
    assert_int_equal(u32(g, "general.file_type"), 15);
    expect_tensor(g, "output.weight", 256, 600, HEARTH_TYPE_Q6_K);
    expect_tensor(g, "token_embd.weight", 256, 600, HEARTH_TYPE_Q4_K);
    expect_tensor(g, "blk.3.attn_q.weight", 256, 256, HEARTH_TYPE_Q4_K);
    /* use_more_bits over 8 layers: 0, 3, 6, 7 */
    const bool more[8] = {true, false, false, true, false, false, true, true};
    char name[64];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "blk.%d.attn_v.weight", i);
        expect_tensor(g, name, 256, 128, more[i] ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q4_K);
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", i);
        expect_tensor(g, name, 512, 256, more[i] ? HEARTH_TYPE_Q6_K : HEARTH_TYPE_Q4_K);
    }
    /* rope_freqs like convert_hf_to_gguf.py's llama3 scaling: 1 for short wavelengths,
     * the factor for long ones, smooth between */
    const hearth_gguf_tensor *rf = hearth_gguf_find_tensor(g, "rope_freqs.weight");
    assert_non_null(rf);
    assert_int_equal(rf->ne[0], 32);
    const float *f = rf->data;
    assert_true(f[0] == 1.0f);
    assert_true(f[31] == 32.0f);
    for (int i = 1; i < 32; i++) assert_true(f[i] >= f[i - 1]);
    hearth_gguf_close(g);

    /* tied: the embeddings take the output's Q6_K */
    c.tied = true;
    c.llama3_rope_factor = 0;
    g = write_and_open(&c, "llama-tied.gguf");
    expect_tensor(g, "token_embd.weight", 256, 600, HEARTH_TYPE_Q6_K);
    assert_null(hearth_gguf_find_tensor(g, "rope_freqs.weight"));
    hearth_gguf_close(g);
}

static void test_qwen2_fallback(void **state)
{
    (void)state;
    hearth_synth_config c;
    tiny(&c, "qwen2");
    c.n_embd = 224; /* not a multiple of 256 (like Qwen2.5-0.5B's 896) */
    c.n_head = 7;
    c.n_head_kv = 1;
    assert_true(hearth_synth_parse_type("q4_k_m", &c.type, &c.mix));
    hearth_gguf *g = write_and_open(&c, "qwen2.gguf");
    expect_tensor(g, "blk.0.attn_q.weight", 224, 224, HEARTH_TYPE_Q5_0);
    expect_tensor(g, "blk.0.attn_q.bias", 224, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.0.attn_k.bias", 32, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.0.attn_v.weight", 224, 32, HEARTH_TYPE_Q5_0); /* Q4_K fell back */
    expect_tensor(g, "blk.1.attn_v.weight", 224, 32, HEARTH_TYPE_Q8_0); /* Q6_K fell back */
    expect_tensor(g, "blk.0.ffn_down.weight", 512, 224, HEARTH_TYPE_Q4_K);
    expect_tensor(g, "blk.1.ffn_down.weight", 512, 224, HEARTH_TYPE_Q6_K);
    expect_tensor(g, "output.weight", 224, 600, HEARTH_TYPE_Q8_0);
    hearth_gguf_close(g);
}

static void test_phi3_and_bert(void **state)
{
    (void)state;
    hearth_synth_config c;
    tiny(&c, "phi3");
    c.type = HEARTH_TYPE_F16;
    hearth_gguf *g = write_and_open(&c, "phi3.gguf");
    expect_tensor(g, "blk.0.attn_qkv.weight", 256, 256 + 2 * 128, HEARTH_TYPE_F16);
    expect_tensor(g, "blk.0.ffn_up.weight", 256, 1024, HEARTH_TYPE_F16);
    expect_tensor(g, "blk.1.ffn_down.weight", 512, 256, HEARTH_TYPE_F16);
    expect_tensor(g, "output.weight", 256, 600, HEARTH_TYPE_F16);
    assert_null(hearth_gguf_find_tensor(g, "blk.0.attn_q.weight"));
    /* llama.cpp insists a phi3 model's vocab has <|endoftext|> */
    const hearth_gguf_value *tok;
    OK(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &tok, &err));
    assert_string_equal(tok->v.arr.strs[595].s, "<|endoftext|>");
    hearth_gguf_close(g);

    tiny(&c, "bert");
    c.type = HEARTH_TYPE_Q8_0;
    g = write_and_open(&c, "bert.gguf");
    assert_int_equal(hearth_gguf_n_tensors(g), 5 + 2 * 16);
    expect_tensor(g, "token_types.weight", 256, 2, HEARTH_TYPE_F32);
    expect_tensor(g, "position_embd.weight", 256, 512, HEARTH_TYPE_F32);
    expect_tensor(g, "token_embd_norm.bias", 256, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.1.attn_output_norm.weight", 256, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.1.ffn_up.bias", 512, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.1.layer_output_norm.bias", 256, 1, HEARTH_TYPE_F32);
    expect_tensor(g, "blk.0.attn_v.weight", 256, 256, HEARTH_TYPE_Q8_0);
    assert_int_equal(u32(g, "bert.pooling_type"), 1);
    assert_int_equal(u32(g, "tokenizer.ggml.token_type_count"), 2);
    bool causal = true;
    OK(hearth_gguf_get_bool(g, "bert.attention.causal", &causal, &err));
    assert_false(causal);
    hearth_gguf_close(g);
}

/* Same seed, same bytes, whatever the thread count; another seed, other bytes. Values are
 * finite and scaled like N(0, 0.02); norms sit near 1. */
static void test_values_and_determinism(void **state)
{
    (void)state;
    hearth_synth_config c;
    tiny(&c, "llama");
    c.type = HEARTH_TYPE_F32;
    c.n_threads = 1;
    OK(hearth_synth_write(&c, path_in_dir("a.gguf"), NULL, NULL, NULL, &err));
    c.n_threads = 3;
    OK(hearth_synth_write(&c, path_in_dir("b.gguf"), NULL, NULL, NULL, &err));
    c.seed = 8;
    OK(hearth_synth_write(&c, path_in_dir("c.gguf"), NULL, NULL, NULL, &err));
    char *a, *b, *d;
    size_t na, nb, nd;
    OK(hearth_read_file(path_in_dir("a.gguf"), 64u << 20, &a, &na, &err));
    OK(hearth_read_file(path_in_dir("b.gguf"), 64u << 20, &b, &nb, &err));
    OK(hearth_read_file(path_in_dir("c.gguf"), 64u << 20, &d, &nd, &err));
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    assert_int_equal(na, nd);
    assert_true(memcmp(a, d, na) != 0);
    free(b);
    free(d);

    hearth_gguf *g;
    OK(hearth_gguf_parse(a, na, "a.gguf", &g, &err));
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "blk.0.ffn_up.weight");
    const float *x = t->data;
    double sum = 0, sq = 0;
    size_t n = (size_t)(t->ne[0] * t->ne[1]);
    for (size_t i = 0; i < n; i++) {
        assert_true(isfinite(x[i]));
        sum += x[i];
        sq += (double)x[i] * x[i];
    }
    double mean = sum / (double)n, sd = sqrt(sq / (double)n - mean * mean);
    assert_true(fabs(mean) < 0.002);
    assert_true(sd > 0.018 && sd < 0.022);
    const float *norm = hearth_gguf_find_tensor(g, "blk.1.ffn_norm.weight")->data;
    for (int i = 0; i < 256; i++) assert_true(norm[i] > 0.85f && norm[i] < 1.15f);
    hearth_gguf_close(g);
    free(a);
}

/* Every producible type round-trips: quantized rows dequantize near the generated values. */
static void test_every_type(void **state)
{
    (void)state;
    static const char *const types[] = {"f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
                                        "q2_k", "q3_k", "q4_k", "q5_k", "q6_k", "q3_k_m", "q4_k_s", "q5_k_s", "q5_k_m"};
    const hearth_kernels *k = hearth_kernels_at(HEARTH_CPU_SCALAR);
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(types); i++) {
        hearth_synth_config c;
        tiny(&c, "qwen3");
        c.n_layer = 1;
        assert_true(hearth_synth_parse_type(types[i], &c.type, &c.mix));
        hearth_gguf *g = write_and_open(&c, "types.gguf");
        const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "blk.0.attn_q.weight");
        float row[256];
        k->to_float[t->type](t->data, row, 256);
        double sq = 0;
        for (int j = 0; j < 256; j++) sq += (double)row[j] * row[j];
        double rms = sqrt(sq / 256);
        if (!(rms > 0.01 && rms < 0.04)) fail_msg("%s: row rms %g", types[i], rms);
        hearth_gguf_close(g);
        unlink(path_in_dir("types.gguf"));
    }
}

static void test_presets_and_vocab(void **state)
{
    (void)state;
    assert_true(hearth_synth_n_presets() >= 7);
    const char *need[] = {"qwen3-0.6b", "qwen3-8b", "llama-3.2-1b", "qwen2.5-0.5b", "phi3-mini", "all-minilm-l6", "bge-small"};
    hearth_synth_config c;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(need); i++) {
        assert_true(hearth_synth_preset(need[i], &c));
        hearth_synth_tensor *ts;
        int64_t n;
        OK(hearth_synth_plan(&c, &ts, &n, &err));
        free(ts);
    }
    assert_false(hearth_synth_preset("gpt-5", &c));

    /* Qwen3-0.6B's parameter count, from its plan: 596M with tied embeddings */
    assert_true(hearth_synth_preset("qwen3-0.6b", &c));
    hearth_synth_tensor *ts;
    int64_t n;
    OK(hearth_synth_plan(&c, &ts, &n, &err));
    uint64_t params = 0;
    for (int64_t i = 0; i < n; i++) params += (uint64_t)(ts[i].ne[0] * ts[i].ne[1]);
    free(ts);
    assert_int_equal(n, 1 + 28 * 11 + 1);
    assert_true(params > 595000000 && params < 597000000);

    /* a real vocab: tokenizer.* copied, n_vocab from it */
    tiny(&c, "qwen3");
    c.n_layer = 1;
    c.n_embd = 64;
    c.n_ff = 128;
    c.type = HEARTH_TYPE_Q8_0;
    c.vocab_path = fixture_path("vocab/qwen3.gguf");
    c.n_vocab = 5; /* replaced by the vocab's size */
    hearth_gguf *g = write_and_open(&c, "vocab.gguf");
    const hearth_gguf_value *tok;
    OK(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &tok, &err));
    assert_int_equal(tok->v.arr.n, 151936);
    expect_tensor(g, "token_embd.weight", 64, 151936, HEARTH_TYPE_Q8_0);
    assert_non_null(hearth_gguf_get(g, "tokenizer.ggml.merges"));
    assert_non_null(hearth_gguf_get(g, "tokenizer.chat_template"));
    assert_int_equal(u32(g, "qwen3.vocab_size"), 151936);
    hearth_gguf_close(g);
    unlink(path_in_dir("vocab.gguf"));
}

static bool stop_after_first(const char *tensor, uint64_t done, uint64_t total, void *user)
{
    (void)tensor;
    assert_true(done <= total);
    return ++*(int *)user < 2;
}

/* A progress callback that says stop leaves no file, not even the temporary one. */
static void test_cancel(void **state)
{
    (void)state;
    hearth_synth_config c;
    tiny(&c, "llama");
    int calls = 0;
    assert_int_equal(hearth_synth_write(&c, path_in_dir("cancel.gguf"), stop_after_first, &calls, NULL, &err),
                     HEARTH_ERR_CANCELLED);
    assert_int_equal(calls, 2);
    assert_int_equal(access(path_in_dir("cancel.gguf"), F_OK), -1);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path_in_dir("cancel.gguf"), (long)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
}

static void expect_invalid(hearth_synth_config *c, const char *substring)
{
    hearth_status st = hearth_synth_write(c, path_in_dir("bad.gguf"), NULL, NULL, NULL, &err);
    if (st != HEARTH_ERR_INVALID_ARG || !strstr(err.message, substring))
        fail_msg("expected invalid-arg '%s', got %d: %s", substring, st, err.message);
    assert_int_equal(access(path_in_dir("bad.gguf"), F_OK), -1);
}

/* One bad field per case: which config field gets which value, and the message it gives. */
static const struct {
    const char *arch;
    size_t field; /* offsetof an int64_t field of hearth_synth_config, or SIZE_MAX: none */
    int64_t value;
    const char *expect;
} bad_configs[] = {
    {"gpt2", SIZE_MAX, 0, "--arch: expected llama, qwen2, qwen3, phi3 or bert, found 'gpt2'"},
    {"llama", offsetof(hearth_synth_config, n_head_kv), 3, "--n-head-kv: expected a divisor of --n-head, found 3"},
    {"llama", offsetof(hearth_synth_config, n_embd), 250, "--n-embd: expected a multiple of --n-head"},
    {"phi3", offsetof(hearth_synth_config, head_dim), 32, "--head-dim: expected n_embd / n_head for phi3 and bert"},
    {"bert", offsetof(hearth_synth_config, n_head_kv), 2, "--n-head-kv: expected --n-head for bert"},
    {"llama", offsetof(hearth_synth_config, n_vocab), 100, "--n-vocab: expected 300..16777216 for a synthetic vocab, found 100"},
    {"llama", offsetof(hearth_synth_config, n_layer), 0, "--n-layer: expected 1..4096, found 0"},
    {"llama", offsetof(hearth_synth_config, n_ff), -5, "--n-ff: expected 1..8388608, found -5"},
    {"llama", offsetof(hearth_synth_config, n_ctx), 0, "--ctx: expected 1..16777216, found 0"},
};

static void test_invalid_configs(void **state)
{
    (void)state;
    hearth_synth_config c;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(bad_configs); i++) {
        tiny(&c, bad_configs[i].arch);
        if (bad_configs[i].field != SIZE_MAX)
            memcpy((char *)&c + bad_configs[i].field, &bad_configs[i].value, sizeof(int64_t));
        expect_invalid(&c, bad_configs[i].expect);
    }
    tiny(&c, "llama");
    c.type = HEARTH_TYPE_IQ2_XXS;
    expect_invalid(&c, "--type: IQ2_XXS cannot be produced");
    hearth_type t;
    hearth_synth_mix m;
    assert_false(hearth_synth_parse_type("q4_k_x", &t, &m));
    assert_false(hearth_synth_parse_type("iq2_xxs", &t, &m));
    tiny(&c, "llama");
    c.vocab_path = "/nonexistent/vocab.gguf";
    assert_int_equal(hearth_synth_write(&c, path_in_dir("bad.gguf"), NULL, NULL, NULL, &err), HEARTH_ERR_IO);
    assert_non_null(strstr(err.message, "--vocab: /nonexistent/vocab.gguf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qwen3_layout),
        cmocka_unit_test(test_llama_q4_k_m),
        cmocka_unit_test(test_qwen2_fallback),
        cmocka_unit_test(test_phi3_and_bert),
        cmocka_unit_test(test_values_and_determinism),
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_presets_and_vocab),
        cmocka_unit_test(test_invalid_configs),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
