/* schema_cases.h — the JSON Schemas the structured-output tests run (test_schema.c on a
 * synthetic vocabulary, tests/tools/schema_e2e.c on Qwen3's real vocabulary and a model), and
 * an independent validator for the keyword subset hearth compiles: written straight from the
 * JSON Schema rules on jansson values, PCRE2 for "pattern" — no code shared with schema.c. */
#ifndef HEARTH_TEST_SCHEMA_CASES_H
#define HEARTH_TEST_SCHEMA_CASES_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* ---- an independent validator for the same keyword subset ---- */

static json_t *g_root; /* the schema being checked, for $ref */

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
    if (!re) return false;
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

#endif
