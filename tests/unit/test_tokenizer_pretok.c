/* test_tokenizer_pretok.c — every pre-tokenizer against llama.cpp: the Qwen3 vocabulary (real
 * tokens and merges) with tokenizer.ggml.pre replaced by each name, over the fixture strings,
 * compared with llama.cpp's ids (as count + hash, tests/data/tokenizer-pretok-qwen3.json). */
#include <jansson.h>

#include "testutil.h"
#include "tokenizer/tok_internal.h"

static void test_pretokenizers(void **state)
{
    (void)state;
    json_error_t jerr;
    json_t *ref = json_load_file("tests/data/tokenizer-pretok-qwen3.json", 0, &jerr);
    json_t *strs = json_load_file(fixture_path("reference/tokenizer-strings.json"), JSON_ALLOW_NUL, &jerr);
    assert_non_null(ref);
    assert_non_null(strs);
    hearth_error err = {0};
    hearth_gguf *g = NULL;
    assert_int_equal(hearth_gguf_open(fixture_path("vocab/qwen3.gguf"), &g, &err), HEARTH_OK);
    hearth_vocab *v = NULL;
    assert_int_equal(hearth_vocab_load(g, &v, &err), HEARTH_OK);
    json_t *hashes = json_object_get(ref, "hashes");
    const char *pre;
    json_t *want;
    int n_pre = 0, fails = 0, checks = 0;
    json_object_foreach(hashes, pre, want) {
        if (tok_vocab_set_pre(v, pre, &err)) fprintf(stderr, "%s: %s\n", pre, err.message);
        assert_string_equal(hearth_vocab_pre_name(v), pre);
        assert_int_equal(json_array_size(want), json_array_size(strs));
        for (size_t i = 0; i < json_array_size(strs); i++) {
            json_t *t = json_object_get(json_array_get(strs, i), "text");
            hearth_token *ids;
            size_t n;
            assert_int_equal(hearth_vocab_tokenize(v, json_string_value(t), json_string_length(t), false, false,
                                                   &ids, &n, &err), HEARTH_OK);
            uint64_t h = 1469598103934665603ull;
            for (size_t k = 0; k < n; k++) h = (h ^ (uint32_t)ids[k]) * 1099511628211ull;
            char got[64];
            snprintf(got, sizeof got, "%zu:%016llx", n, (unsigned long long)h);
            const char *exp = json_string_value(json_array_get(want, i));
            checks++;
            if (strcmp(got, exp)) {
                fails++;
                fprintf(stderr, "pre %s, string '%s': got %s, llama.cpp %s\n", pre,
                        json_string_value(json_object_get(json_array_get(strs, i), "id")), got, exp);
            }
            free(ids);
        }
        n_pre++;
    }
    fprintf(stderr, "%d pre-tokenizers: %d/%d strings match llama.cpp\n", n_pre, checks - fails, checks);
    assert_true(n_pre >= 29);
    assert_int_equal(fails, 0);
    hearth_vocab_free(v);
    hearth_gguf_close(g);
    json_decref(ref);
    json_decref(strs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pretokenizers)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
