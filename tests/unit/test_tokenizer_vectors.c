/* test_tokenizer_vectors.c — llama.cpp's own tokenizer test vectors (tests/test-tokenizer-0
 * data) for the vocabularies they apply to, and the `tokenization` field of every fixture
 * model's reference (synthetic SentencePiece vocabularies inside real model files). */
#include <jansson.h>

#include "testutil.h"
#include "tokenizer/tokenizer.h"

static hearth_vocab *load_vocab(const char *rel)
{
    hearth_error err = {0};
    hearth_gguf *g = NULL;
    hearth_vocab *v = NULL;
    if (hearth_gguf_open(fixture_path(rel), &g, &err) || hearth_vocab_load(g, &v, &err))
        fprintf(stderr, "%s: %s\n", rel, err.message);
    hearth_gguf_close(g);
    return v;
}

static char *slurp(const char *rel, size_t *len)
{
    FILE *f = fopen(fixture_path(rel), "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Returns the number of mismatching strings; *total gets the number of strings. */
static int run_vectors(const char *vocab, const char *vectors, int *total)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vocab/%s.gguf", vocab);
    hearth_vocab *v = load_vocab(rel);
    assert_non_null(v);
    size_t in_len, out_len;
    snprintf(rel, sizeof rel, "real/llama.cpp-tokenizer-tests/ggml-vocab-%s.gguf.inp", vectors);
    char *inp = slurp(rel, &in_len);
    snprintf(rel, sizeof rel, "real/llama.cpp-tokenizer-tests/ggml-vocab-%s.gguf.out", vectors);
    char *outp = slurp(rel, &out_len);
    assert_non_null(inp);
    assert_non_null(outp);
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const char *s = inp, *line = outp;
    int fails = 0, n = 0;
    while (s < inp + in_len) {
        const char *e = strstr(s, sep);
        size_t len = e ? (size_t)(e - s) : (size_t)(inp + in_len - s);
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        hearth_token want[1024];
        size_t wn = 0;
        for (const char *p = line; p < nl;) {
            char *end;
            long x = strtol(p, &end, 10);
            if (end == p) break;
            want[wn++] = (hearth_token)x;
            p = end;
        }
        hearth_token *ids;
        size_t got;
        hearth_error err = {0};
        assert_int_equal(hearth_vocab_tokenize(v, s, len, false, false, &ids, &got, &err), HEARTH_OK);
        if (got != wn || memcmp(ids, want, wn * sizeof *ids)) {
            fails++;
            fprintf(stderr, "%s: vector %d ('%.*s') differs\n", vectors, n, (int)len, s);
        }
        free(ids);
        n++;
        line = nl + 1;
        if (!e) break;
        s = e + sizeof sep - 1;
    }
    fprintf(stderr, "%s on vocab/%s: %d/%d vectors pass\n", vectors, vocab, n - fails, n);
    *total = n;
    free(inp);
    free(outp);
    hearth_vocab_free(v);
    return fails;
}

static void test_llama_bpe(void **state)
{
    (void)state;
    int n;
    assert_int_equal(run_vectors("llama3", "llama-bpe", &n), 0);
    assert_int_equal(n, 46);
}

static void test_qwen2(void **state)
{
    (void)state;
    int n;
    assert_int_equal(run_vectors("qwen3", "qwen2", &n), 0);
    assert_int_equal(n, 46);
}

static void test_bert_bge(void **state)
{
    (void)state;
    int n;
    assert_int_equal(run_vectors("bert", "bert-bge", &n), 0);
    assert_int_equal(n, 46);
}

/* Every reference/<model>.json that has a tokenization field, against models/<model>.gguf. */
static void test_model_fixtures(void **state)
{
    (void)state;
    static const char *const models[] = {
        "llama-f32", "llama-f16", "llama-q4_0-gqa", "llama-q4_k", "llama-mistral-vocab-q8_0", "phi3-f32",
        "phi3-q4_0", "phi3-q6_k-gqa", "qwen2-f32", "qwen2-q5_k", "qwen2-q8_0", "qwen3-bf16", "qwen3-f32",
        "qwen3-q4_k", "qwen3-q6_k", "qwen3-real-vocab-q8_0",
    };
    int checked = 0, fails = 0;
    for (size_t m = 0; m < HEARTH_ARRAY_LEN(models); m++) {
        char rel[256];
        snprintf(rel, sizeof rel, "reference/%s.json", models[m]);
        json_error_t jerr;
        json_t *root = json_load_file(fixture_path(rel), JSON_ALLOW_NUL, &jerr);
        assert_non_null(root);
        json_t *cases = json_object_get(root, "tokenization");
        if (!json_is_array(cases)) {
            json_decref(root);
            continue;
        }
        snprintf(rel, sizeof rel, "models/%s.gguf", models[m]);
        hearth_vocab *v = load_vocab(rel);
        assert_non_null(v);
        size_t i;
        json_t *c;
        json_array_foreach(cases, i, c) {
            json_t *t = json_object_get(c, "text"), *want = json_object_get(c, "ids");
            hearth_token *ids;
            size_t n;
            hearth_error err = {0};
            assert_int_equal(hearth_vocab_tokenize(v, json_string_value(t), json_string_length(t), false, false,
                                                   &ids, &n, &err), HEARTH_OK);
            bool same = n == json_array_size(want);
            for (size_t k = 0; same && k < n; k++) same = ids[k] == json_integer_value(json_array_get(want, k));
            if (!same) {
                fails++;
                fprintf(stderr, "%s: '%s' differs\n", models[m], json_string_value(t));
            }
            checked++;
            free(ids);
        }
        hearth_vocab_free(v);
        json_decref(root);
    }
    fprintf(stderr, "model fixtures: %d/%d tokenizations pass\n", checked - fails, checked);
    assert_true(checked >= 40);
    assert_int_equal(fails, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_llama_bpe),
        cmocka_unit_test(test_qwen2),
        cmocka_unit_test(test_bert_bge),
        cmocka_unit_test(test_model_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
