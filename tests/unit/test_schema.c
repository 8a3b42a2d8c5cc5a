/* test_schema.c — JSON Schema constrained sampling: for 50+ schemas, random high-temperature
 * walks through the sampler + grammar over a synthetic vocabulary must produce output that
 * jansson parses and that an independent validator (schema_cases.h, PCRE2 for patterns)
 * accepts. Also: schema compile errors. The same schemas on Qwen3's real vocabulary and a
 * model: tests/tools/schema_e2e.c, run by tests/cli/structured_output.sh. */
#include <math.h>

#include "testutil.h"

#include "base/base.h"
#include "sample/grammar.h"
#include "sample/sample.h"
#include "sample_vocab.h"
#include "schema_cases.h"

static double lcg_unit(uint64_t *s) { return (double)tv_lcg(s) / 4294967296.0; }

/* One constrained random walk; returns the produced bytes (malloc'd) or NULL if sampling failed. */
static char *walk(sample_vocab *v, hearth_grammar *gr, uint64_t seed, int32_t max_tokens, char *why, size_t why_n)
{
    hearth_sampler_params p = hearth_sampler_default_params();
    p.temperature = 1.5f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.seed = seed;
    hearth_error err = {0};
    hearth_sampler *sm = sample_sampler_new_n(v->n_vocab, &p, &err);
    assert_non_null(sm);
    assert_int_equal(hearth_sampler_set_grammar(sm, gr, &err), HEARTH_OK);
    float *logits = malloc((size_t)v->n_vocab * sizeof *logits);
    char *out = malloc(16384);
    size_t n = 0;
    uint64_t rs = seed * 7 + 1;
    bool ok = true;
    for (int32_t i = 0; i < max_tokens && !hearth_sampler_grammar_done(sm); i++) {
        for (int32_t t = 0; t < v->n_vocab; t++) logits[t] = (float)(lcg_unit(&rs) * 6.0);
        hearth_sampler_set_budget(sm, max_tokens - i);
        hearth_token t = hearth_sampler_sample(sm, logits, NULL);
        if (t == HEARTH_TOKEN_NULL) { snprintf(why, why_n, "%s", hearth_sampler_error(sm)); ok = false; break; }
        if (v->eog[t]) break;
        int32_t len = sample_vocab_len(v, t);
        if (n + (size_t)len >= 16384) { snprintf(why, why_n, "too long"); ok = false; break; }
        memcpy(out + n, v->bytes + v->off[t], (size_t)len);
        n += (size_t)len;
    }
    out[n] = 0;
    free(logits);
    hearth_sampler_free(sm);
    if (!ok) { free(out); return NULL; }
    return out;
}

static void test_schemas_random_walks(void **state)
{
    (void)state;
    size_t n_schemas = sizeof SCHEMAS / sizeof *SCHEMAS;
    assert_true(n_schemas >= 50);
    sample_vocab *v = test_vocab_new(400);
    int walks = 0;
    for (size_t i = 0; i < n_schemas; i++) {
        hearth_error err = {0};
        char *gbnf = hearth_json_schema_to_gbnf(SCHEMAS[i], &err);
        if (!gbnf) fail_msg("schema %zu did not compile: %s", i, err.message);
        hearth_grammar *gr = sample_grammar_new(v, false, gbnf, NULL, &err);
        if (!gr) fail_msg("schema %zu: grammar: %s\n%s", i, err.message, gbnf);
        json_error_t je;
        g_root = json_loads(SCHEMAS[i], 0, &je);
        assert_non_null(g_root);
        for (int k = 0; k < 10; k++) {
            char why[1100] = "";
            char *out = walk(v, gr, 1000 * i + (size_t)k, 120, why, sizeof why);
            if (!out) fail_msg("schema %zu walk %d failed: %s", i, k, why);
            json_t *val = json_loads(out, JSON_DECODE_ANY, &je);
            if (!val) fail_msg("schema %zu walk %d: output does not parse (%s): %s", i, k, je.text, out);
            if (!valid(g_root, val)) fail_msg("schema %zu walk %d: output does not validate: %s", i, k, out);
            json_decref(val);
            free(out);
            walks++;
        }
        json_decref(g_root);
        hearth_grammar_free(gr);
        free(gbnf);
    }
    sample_vocab_free(v);
    assert_true(walks >= 500);
}

static void expect_schema_error(const char *schema, const char *needle)
{
    hearth_error err = {0};
    char *g = hearth_json_schema_to_gbnf(schema, &err);
    if (g) fail_msg("schema should fail: %s", schema);
    if (!strstr(err.message, needle)) fail_msg("error '%s' lacks '%s'", err.message, needle);
}

static void test_schema_errors(void **state)
{
    (void)state;
    expect_schema_error("{\"type\":", "line 1");
    expect_schema_error("{\"type\":\"strin\"}", "unknown type 'strin'");
    expect_schema_error("{\"type\":7}", "'type' must be");
    expect_schema_error("false", "matches nothing");
    expect_schema_error("{\"$ref\":\"http://x/y\"}", "only local $ref");
    expect_schema_error("{\"$ref\":\"#/$defs/none\"}", "points at nothing");
    expect_schema_error("{\"enum\":[]}", "non-empty");
    expect_schema_error("{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}", "below minLength");
    expect_schema_error("{\"type\":\"array\",\"minItems\":-1}", "'minItems' must be");
    expect_schema_error("{\"type\":\"string\",\"pattern\":\"(a\"}", "unclosed");
    expect_schema_error("{\"type\":\"string\",\"pattern\":\"(?=a)\"}", "lookaround");
    expect_schema_error("{\"type\":\"string\",\"pattern\":\"(a)\\\\1\"}", "backreferences");
    expect_schema_error("{\"allOf\":[{},{}]}", "one member");
    expect_schema_error("{\"type\":\"object\",\"properties\":[]}", "'properties' must be an object");
    expect_schema_error("{\"type\":\"object\",\"required\":[1]}", "must be strings");
    /* deep nesting is refused, not a stack overflow */
    char deep[4000] = "";
    for (int i = 0; i < 100; i++) strcat(deep, "{\"items\":");
    strcat(deep, "{}");
    for (int i = 0; i < 100; i++) strcat(deep, "}");
    expect_schema_error(deep, "nested deeper");
    /* NULL or "" = any JSON object */
    hearth_error err = {0};
    char *g = hearth_json_schema_to_gbnf(NULL, &err);
    assert_non_null(g);
    assert_non_null(strstr(g, "root ::= jobject"));
    free(g);
}

/* A recursive schema through $ref "#" nests, and the budget still closes every value. */
static void test_budget_closes_values(void **state)
{
    (void)state;
    sample_vocab *v = test_vocab_new(100);
    hearth_error err = {0};
    char *gbnf = hearth_json_schema_to_gbnf(NULL, &err); /* any object, unbounded nesting */
    hearth_grammar *gr = sample_grammar_new(v, false, gbnf, NULL, &err);
    assert_non_null(gr);
    for (int k = 0; k < 20; k++) {
        char why[1100] = "";
        char *out = walk(v, gr, (uint64_t)k + 77, 40, why, sizeof why);
        if (!out) fail_msg("walk %d: %s", k, why);
        json_error_t je;
        json_t *val = json_loads(out, 0, &je);
        if (!val) fail_msg("walk %d does not parse: %s", k, out);
        assert_true(json_is_object(val));
        json_decref(val);
        free(out);
    }
    hearth_grammar_free(gr);
    free(gbnf);
    sample_vocab_free(v);
}

/* Random mutations of the schemas: the compiler either refuses with a message or emits GBNF that
 * the grammar parser accepts (ASan watches for the rest). */
static void test_fuzz_schemas(void **state)
{
    (void)state;
    uint64_t rng = 5;
    char buf[2048];
    int compiled = 0;
    size_t n_schemas = sizeof SCHEMAS / sizeof *SCHEMAS;
    for (int it = 0; it < 1500; it++) {
        const char *src = SCHEMAS[it % n_schemas];
        size_t n = strlen(src);
        if (n >= sizeof buf - 8) continue;
        memcpy(buf, src, n + 1);
        for (int e = 0; e < 1 + (int)(tv_lcg(&rng) % 3); e++) {
            static const char alphabet[] = "{}[]\":,0123456789-eE.\\ntruefalsenull$#/^*+?()|";
            size_t at = tv_lcg(&rng) % n;
            buf[at] = alphabet[tv_lcg(&rng) % (sizeof alphabet - 1)];
        }
        hearth_error err = {0};
        char *g = hearth_json_schema_to_gbnf(buf, &err);
        if (!g) {
            assert_true(err.status != HEARTH_OK && err.message[0]);
            continue;
        }
        compiled++;
        gram *gr = gram_parse(g, NULL, &err);
        /* never a syntax error in what the compiler wrote; at most a pattern that matches nothing */
        if (!gr && !strstr(err.message, "can never be completed")) fail_msg("bad GBNF for %s: %s", buf, err.message);
        gram_free(gr);
        free(g);
    }
    assert_true(compiled > 100);
}

int main(void)
{
    hearth_log_set(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_random_walks),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_budget_closes_values),
        cmocka_unit_test(test_fuzz_schemas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
