/* test_tokenizer.c — every fixture vocabulary against llama.cpp's own results: for each test
 * string, the ids in all four (add_special, parse_special) modes and both detokenizations. */
#include <jansson.h>

#include "testutil.h"
#include "tokenizer/tokenizer.h"

typedef struct mode {
    const char *name;
    bool add_special, parse_special;
} mode;

static const mode modes[] = {
    {"default", true, false},
    {"add_special_parse_special", true, true},
    {"no_special", false, false},
    {"parse_special_only", false, true},
};

static void print_ids(const char *what, const hearth_token *ids, size_t n)
{
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < n && i < 40; i++) fprintf(stderr, " %d", ids[i]);
    fprintf(stderr, n > 40 ? " ...\n" : "\n");
}

/* Returns the number of failed checks for one vocabulary; prints each failure. */
static int check_vocab(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "vocab/%s.gguf", name);
    hearth_error err = {0};
    hearth_gguf *g = NULL;
    hearth_vocab *v = NULL;
    if (hearth_gguf_open(fixture_path(rel), &g, &err) || hearth_vocab_load(g, &v, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.message);
        hearth_gguf_close(g);
        return 1;
    }
    hearth_gguf_close(g); /* the vocabulary must not depend on the file staying open */
    snprintf(rel, sizeof rel, "reference/tokenize-%s.json", name);
    json_error_t jerr;
    json_t *root = json_load_file(fixture_path(rel), JSON_ALLOW_NUL, &jerr);
    assert_non_null(root);
    json_t *results = json_object_get(root, "results");
    int fails = 0, checks = 0;
    size_t i;
    json_t *r;
    json_array_foreach(results, i, r) {
        const char *text = json_string_value(json_object_get(r, "text"));
        size_t text_len = json_string_length(json_object_get(r, "text"));
        json_t *lc = json_object_get(r, "llama_cpp");
        for (size_t m = 0; m < HEARTH_ARRAY_LEN(modes); m++) {
            json_t *ref = json_object_get(lc, modes[m].name);
            json_t *ref_ids = json_object_get(ref, "ids");
            hearth_token *ids;
            size_t n;
            assert_int_equal(hearth_vocab_tokenize(v, text, text_len, modes[m].add_special,
                                                   modes[m].parse_special, &ids, &n, &err), HEARTH_OK);
            bool same = n == json_array_size(ref_ids);
            for (size_t k = 0; same && k < n; k++)
                same = ids[k] == (hearth_token)json_integer_value(json_array_get(ref_ids, k));
            checks++;
            if (!same) {
                fails++;
                fprintf(stderr, "%s %s [%s]: ids differ\n", name, json_string_value(json_object_get(r, "id")),
                        modes[m].name);
                print_ids("got", ids, n);
                hearth_token want[4096];
                size_t wn = json_array_size(ref_ids);
                for (size_t k = 0; k < wn && k < 4096; k++) want[k] = (hearth_token)json_integer_value(json_array_get(ref_ids, k));
                print_ids("want", want, wn);
            }
            /* detokenize llama.cpp's ids, so a tokenizing bug is not counted twice */
            size_t wn = json_array_size(ref_ids);
            hearth_token *want = malloc((wn + 1) * sizeof *want);
            for (size_t k = 0; k < wn; k++) want[k] = (hearth_token)json_integer_value(json_array_get(ref_ids, k));
            static const char *const dk[2] = {"detok", "detok_remove_special"};
            for (int d = 0; d < 2; d++) {
                json_t *exp = json_object_get(ref, dk[d]);
                size_t cap = 16 * text_len + 256;
                char *buf = malloc(cap);
                size_t got = hearth_vocab_detokenize(v, want, wn, buf, cap, d == 1, d == 0);
                checks++;
                if (got > cap || got != json_string_length(exp) || memcmp(buf, json_string_value(exp), got)) {
                    fails++;
                    fprintf(stderr, "%s %s [%s] %s: got '%.*s' want '%s'\n", name,
                            json_string_value(json_object_get(r, "id")), modes[m].name, dk[d],
                            (int)(got > cap ? cap : got), buf, json_string_value(exp));
                }
                free(buf);
            }
            free(want);
            free(ids);
        }
    }
    fprintf(stderr, "%s: %d/%d checks pass\n", name, checks - fails, checks);
    json_decref(root);
    hearth_vocab_free(v);
    return fails;
}

static void test_mistral(void **state) { (void)state; assert_int_equal(check_vocab("mistral"), 0); }
static void test_gemma3(void **state) { (void)state; assert_int_equal(check_vocab("gemma3"), 0); }
static void test_llama3(void **state) { (void)state; assert_int_equal(check_vocab("llama3"), 0); }
static void test_qwen3(void **state) { (void)state; assert_int_equal(check_vocab("qwen3"), 0); }
static void test_bert(void **state) { (void)state; assert_int_equal(check_vocab("bert"), 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mistral), cmocka_unit_test(test_gemma3), cmocka_unit_test(test_llama3),
        cmocka_unit_test(test_qwen3), cmocka_unit_test(test_bert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
