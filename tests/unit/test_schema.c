/* test_schema.c — JSON Schema constrained sampling: for 50+ schemas, random high-temperature
 * walks through the sampler + grammar over a synthetic vocabulary must produce output that
 * jansson parses and that an independent validator (written here, PCRE2 for patterns) accepts.
 * Also: schema compile errors. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <math.h>
#include <pcre2.h>

#include "testutil.h"

#include "base/base.h"
#include "sample/grammar.h"
#include "sample/sample.h"
#include "sample_vocab.h"

/* ---- an independent validator for the same keyword subset ---- */

static json_t *g_root;

static json_t *resolve(const char *ref)
{
    if (!strcmp(ref, "#")) return g_root;
    json_t *cur = g_root;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ref + 2);
    for (char *tok = strtok(buf, "/"); tok && cur; tok = strtok(NULL, "/")) cur = json_object_get(cur, tok);
    return cur;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

static bool is_type(json_t *v, const char *t)
{
    if (!strcmp(t, "string")) return json_is_string(v);
    if (!strcmp(t, "integer")) return json_is_integer(v);
    if (!strcmp(t, "number")) return json_is_number(v);
    if (!strcmp(t, "boolean")) return json_is_boolean(v);
    if (!strcmp(t, "null")) return json_is_null(v);
    if (!strcmp(t, "object")) return json_is_object(v);
    if (!strcmp(t, "array")) return json_is_array(v);
    return false;
}

static bool valid(json_t *s, json_t *v);

static bool valid_pattern(const char *pat, const char *str, size_t len)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &off, NULL);
    assert_non_null(re);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)str, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static bool valid(json_t *s, json_t *v)
{
    if (json_is_true(s)) return true;
    json_t *k;
    if ((k = json_object_get(s, "$ref"))) return valid(resolve(json_string_value(k)), v);
    if ((k = json_object_get(s, "const")) && !json_equal(k, v)) return false;
    if ((k = json_object_get(s, "enum"))) {
        bool any = false;
        for (size_t i = 0; i < json_array_size(k); i++) any |= json_equal(json_array_get(k, i), v);
        if (!any) return false;
    }
    if ((k = json_object_get(s, "anyOf"))) {
        bool any = false;
        for (size_t i = 0; i < json_array_size(k); i++) any |= valid(json_array_get(k, i), v);
        if (!any) return false;
    }
    if ((k = json_object_get(s, "oneOf"))) {
        int n = 0;
        for (size_t i = 0; i < json_array_size(k); i++) n += valid(json_array_get(k, i), v);
        if (n != 1) return false;
    }
    if ((k = json_object_get(s, "type"))) {
        bool ok = false;
        if (json_is_string(k)) ok = is_type(v, json_string_value(k));
        for (size_t i = 0; json_is_array(k) && i < json_array_size(k); i++) ok |= is_type(v, json_string_value(json_array_get(k, i)));
        if (!ok) return false;
    }
    if (json_is_string(v)) {
        size_t n = utf8_chars(json_string_value(v), json_string_length(v));
        if ((k = json_object_get(s, "minLength")) && n < (size_t)json_integer_value(k)) return false;
        if ((k = json_object_get(s, "maxLength")) && n > (size_t)json_integer_value(k)) return false;
        if ((k = json_object_get(s, "pattern")) && !valid_pattern(json_string_value(k), json_string_value(v), json_string_length(v)))
            return false;
    }
    if (json_is_array(v)) {
        if ((k = json_object_get(s, "minItems")) && json_array_size(v) < (size_t)json_integer_value(k)) return false;
        if ((k = json_object_get(s, "maxItems")) && json_array_size(v) > (size_t)json_integer_value(k)) return false;
        if ((k = json_object_get(s, "items")))
            for (size_t i = 0; i < json_array_size(v); i++)
                if (!valid(k, json_array_get(v, i))) return false;
    }
    if (json_is_object(v)) {
        json_t *props = json_object_get(s, "properties"), *addl = json_object_get(s, "additionalProperties");
        if ((k = json_object_get(s, "required")))
            for (size_t i = 0; i < json_array_size(k); i++)
                if (!json_object_get(v, json_string_value(json_array_get(k, i)))) return false;
        const char *key;
        json_t *val;
        json_object_foreach(v, key, val) {
            json_t *ps = props ? json_object_get(props, key) : NULL;
            if (ps) {
                if (!valid(ps, val)) return false;
            } else if (addl && json_is_false(addl)) {
                return false;
            } else if (!addl && props) {
                return false; /* hearth's documented default: properties given = closed object */
            } else if (addl && json_is_object(addl) && !valid(addl, val)) {
                return false;
            }
        }
    }
    return true;
}

/* ---- the schemas ---- */

static const char *const SCHEMAS[] = {
    "{\"type\":\"string\"}",
    "{\"type\":\"integer\"}",
    "{\"type\":\"number\"}",
    "{\"type\":\"boolean\"}",
    "{\"type\":\"null\"}",
    "{}",
    "{\"type\":\"object\"}",
    "{\"type\":\"array\"}",
    "{\"type\":[\"string\",\"null\"]}",
    "{\"enum\":[\"red\",\"green\",\"blue\"]}",
    "{\"enum\":[1,2.5,\"x\",null,true,{\"a\":[1]}]}",
    "{\"const\":\"fixed \\\"quoted\\\" \\u00e9\"}",
    "{\"type\":\"string\",\"minLength\":3,\"maxLength\":5}",
    "{\"type\":\"string\",\"maxLength\":0}",
    "{\"type\":\"string\",\"minLength\":10}",
    "{\"type\":\"string\",\"pattern\":\"^[a-z]{2,4}-[0-9]+$\"}",
    "{\"type\":\"string\",\"pattern\":\"^\\\\d{3}\\\\.\\\\d{2}$\"}",
    "{\"type\":\"string\",\"pattern\":\"^(cat|dog|bird)s?$\"}",
    "{\"type\":\"string\",\"pattern\":\"ab+c\"}",
    "{\"type\":\"string\",\"pattern\":\"^[^a-z\\\"]*$\"}",
    "{\"type\":\"string\",\"pattern\":\"^\\\\w+@\\\\w+\\\\.(com|org)$\"}",
    "{\"type\":\"string\",\"pattern\":\"^(?:x|y){3}$\"}",
    "{\"type\":\"string\",\"pattern\":\"^.{1,3}$\"}",
    "{\"type\":\"string\",\"pattern\":\"^[\\\"\\\\\\\\]+$\"}",
    "{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}",
    "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":2,\"maxItems\":4}",
    "{\"type\":\"array\",\"items\":{\"type\":\"boolean\"},\"maxItems\":0}",
    "{\"type\":\"array\",\"items\":{\"type\":\"number\"},\"minItems\":1}",
    "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"maxItems\":2},\"maxItems\":3}",
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},\"required\":[\"name\",\"age\"]}",
    "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},\"age\":{\"type\":\"integer\"}},\"required\":[\"name\"]}",
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"},\"b\":{\"type\":\"number\"},\"c\":{\"type\":\"boolean\"}}}",
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"],\"additionalProperties\":true}",
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"additionalProperties\":{\"type\":\"string\"}}",
    "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
    "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{\"user\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}},\"required\":[\"id\",\"tags\"]}},\"required\":[\"user\"]}",
    "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"object\",\"properties\":{\"b\":{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"object\",\"properties\":{\"d\":{\"type\":\"null\"}},\"required\":[\"d\"]}},\"required\":[\"c\"]}},\"required\":[\"b\"]}},\"required\":[\"a\"]}",
    "{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\",\"maxLength\":3}]}",
    "{\"oneOf\":[{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"circle\"},\"r\":{\"type\":\"number\"}},\"required\":[\"kind\",\"r\"]},"
    "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"square\"},\"side\":{\"type\":\"number\"}},\"required\":[\"kind\",\"side\"]}]}",
    "{\"$defs\":{\"point\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"},\"y\":{\"type\":\"number\"}},\"required\":[\"x\",\"y\"]}},"
    "\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/point\"},\"maxItems\":3}",
    "{\"definitions\":{\"node\":{\"type\":\"object\",\"properties\":{\"v\":{\"type\":\"integer\"},\"next\":{\"anyOf\":[{\"$ref\":\"#/definitions/node\"},{\"type\":\"null\"}]}},\"required\":[\"v\",\"next\"]}},"
    "\"$ref\":\"#/definitions/node\"}",
    "{\"type\":\"object\",\"properties\":{\"plan\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"tool\":{\"enum\":[\"search\",\"calc\",\"read\"]},"
    "\"args\":{\"type\":\"object\"},\"why\":{\"type\":\"string\",\"maxLength\":40}},\"required\":[\"tool\",\"args\"]},\"minItems\":1,\"maxItems\":3}},\"required\":[\"plan\"]}",
    "{\"type\":\"object\",\"properties\":{\"\\u540d\\u524d\":{\"type\":\"string\"},\"caf\\u00e9\":{\"const\":\"\\u2603\"}},\"required\":[\"\\u540d\\u524d\",\"caf\\u00e9\"]}",
    "{\"type\":\"object\",\"properties\":{\"q\\\"uote\":{\"type\":\"integer\"},\"back\\\\slash\":{\"type\":\"boolean\"}},\"required\":[\"q\\\"uote\",\"back\\\\slash\"]}",
    "{\"type\":\"object\",\"properties\":{\"answer\":{\"type\":\"string\"},\"confidence\":{\"type\":\"number\"}},\"required\":[\"answer\",\"confidence\"],\"additionalProperties\":false}",
    "{\"type\":\"object\",\"properties\":{\"status\":{\"enum\":[\"ok\",\"error\"]},\"code\":{\"type\":[\"integer\",\"null\"]}},\"required\":[\"status\"]}",
    "{\"type\":\"array\",\"items\":{\"enum\":[\"a\",\"b\"]},\"minItems\":3,\"maxItems\":3}",
    "{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"k\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":2}},\"required\":[\"k\"]}}",
    "{\"type\":\"object\",\"properties\":{\"date\":{\"type\":\"string\",\"pattern\":\"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"},\"n\":{\"type\":\"integer\"}},\"required\":[\"date\"]}",
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"},\"name\":{\"type\":\"string\"}},\"additionalProperties\":true}",
    "{\"allOf\":[{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"}},\"required\":[\"x\"]}]}",
    "{\"properties\":{\"t\":{\"type\":\"boolean\"}},\"required\":[\"t\"]}",
    "{\"items\":{\"type\":\"null\"},\"maxItems\":2}",
    "{\"type\":\"object\",\"required\":[\"anything\"]}",
    "{\"type\":[\"array\",\"object\",\"number\"]}",
    "{\"type\":\"object\",\"properties\":{\"emoji\":{\"type\":\"string\",\"pattern\":\"^[\\ud83d\\ude00-\\ud83d\\ude4f]+$\"}},\"required\":[\"emoji\"]}",
    "{\"anyOf\":[{\"type\":\"null\"},{\"type\":\"array\",\"items\":{\"$ref\":\"#\"},\"maxItems\":2}]}",
};

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

int main(void)
{
    hearth_log_set(NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas_random_walks),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_budget_closes_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
