/*
 * schema.c — JSON Schema to GBNF, so structured output runs through the one grammar matcher.
 *
 * Supported: type (one or a list), properties, required, additionalProperties (false, true or
 * a schema; absent = false when properties are given, as strict structured output wants),
 * enum, const, items, minItems, maxItems, string / number / integer / boolean / null,
 * anyOf, oneOf (as anyOf: write disjoint branches), allOf with one member, local $ref
 * (#/$defs/..., #/definitions/..., "#"), minLength, maxLength, pattern (schema_regex.c).
 * Properties come out in declaration order, required ones first. Numbers are limited to what
 * parsers keep exactly (16 integer digits, 15 fraction digits, 2 exponent digits); \u escapes
 * never produce NUL or lone surrogates, so every output is valid JSON for strict parsers.
 * Keywords that would constrain values further (minimum, uniqueItems, ...) are not enforced:
 * a warning is logged.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "sample/gbnf_text.h"

#define MAX_DEPTH 64
#define MAX_GBNF ((size_t)16 << 20)

static const char BASE_RULES[] =
    "ws ::= ( \" \" | \"\\n\" \" \"{0,8} )?\n"
    "hx ::= [0-9a-fA-F]\n"
    "jesc ::= \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" ( [1-9a-cA-CefEF] hx hx hx | [dD] [0-7] hx hx | "
    "\"0\" ( [1-9a-fA-F] hx hx | \"0\" ( [1-9a-fA-F] hx | \"0\" [1-9a-fA-F] ) ) ) )\n"
    "jchar ::= [^\"\\\\\\x00-\\x1F] | jesc\n"
    "jstring ::= \"\\\"\" jchar* \"\\\"\"\n"
    "jint ::= \"-\"? ( \"0\" | [1-9] [0-9]{0,15} )\n"
    "jnum ::= jint ( \".\" [0-9]{1,15} )? ( [eE] [-+]? [0-9]{1,2} )?\n"
    "jbool ::= \"true\" | \"false\"\n"
    "jnull ::= \"null\"\n"
    "jvalue ::= jobject | jarray | jstring | jnum | jbool | jnull\n"
    "jobject ::= \"{\" ws ( jstring ws \":\" ws jvalue ws ( \",\" ws jstring ws \":\" ws jvalue ws )* )? \"}\"\n"
    "jarray ::= \"[\" ws ( jvalue ws ( \",\" ws jvalue ws )* )? \"]\"\n"
    "jkchar ::= [\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E]\n";

typedef struct refent { char *ref; char name[24]; } refent;

typedef struct sc {
    gbuf out;
    json_t *root;
    hearth_error *err;
    bool failed;
    int n_rules;
    refent *refs;
    int n_refs, cap_refs;
    int depth;
} sc;

static bool sc_fail(sc *C, hearth_status st, const char *fmt, ...) HEARTH_PRINTF(3, 4);
static bool sc_fail(sc *C, hearth_status st, const char *fmt, ...)
{
    if (C->failed) return false;
    C->failed = true;
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hearth_fail(C->err, st, "JSON schema: %s", msg);
    return false;
}

static void new_name(sc *C, char name[24]) { snprintf(name, 24, "s%d", C->n_rules++); }

static bool add_rule(sc *C, const char *name, gbuf *body)
{
    if (body->oom || C->out.oom) { free(body->s); return sc_fail(C, HEARTH_ERR_NOMEM, "out of memory"); }
    gbuf_printf(&C->out, "%s ::= %s\n", name, body->s ? body->s : "\"\"");
    free(body->s);
    *body = (gbuf){0};
    if (C->out.n > MAX_GBNF) return sc_fail(C, HEARTH_ERR_UNSUPPORTED, "the grammar it needs is larger than %zu MiB", MAX_GBNF >> 20);
    return true;
}

/* A GBNF literal for a JSON value written compactly. */
static bool json_literal(sc *C, json_t *v, gbuf *b)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return sc_fail(C, HEARTH_ERR_NOMEM, "out of memory");
    gbuf_literal(b, text, strlen(text));
    free(text);
    return true;
}

static bool schema_rule(sc *C, json_t *s, char name[24]);

static bool get_count(sc *C, json_t *s, const char *key, long long *out, long long dflt)
{
    json_t *v = json_object_get(s, key);
    *out = dflt;
    if (!v) return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000)
        return sc_fail(C, HEARTH_ERR_FORMAT, "'%s' must be an integer from 0 to 100000", key);
    *out = json_integer_value(v);
    return true;
}

/* "{m,n}" for a repetition of at least lo and at most hi (hi < 0: unbounded). */
static void repeat_suffix(gbuf *b, long long lo, long long hi)
{
    if (hi < 0) gbuf_printf(b, "{%lld,}", lo);
    else gbuf_printf(b, "{%lld,%lld}", lo, hi);
}

static bool string_body(sc *C, json_t *s, gbuf *b)
{
    json_t *pattern = json_object_get(s, "pattern");
    long long lo, hi;
    if (!get_count(C, s, "minLength", &lo, 0) || !get_count(C, s, "maxLength", &hi, -1)) return false;
    if (hi >= 0 && hi < lo) return sc_fail(C, HEARTH_ERR_FORMAT, "maxLength %lld is below minLength %lld", hi, lo);
    gbuf_put(b, "\"\\\"\"", 4);
    if (pattern) {
        if (!json_is_string(pattern)) return sc_fail(C, HEARTH_ERR_FORMAT, "'pattern' must be a string");
        if (lo > 0 || hi >= 0) hearth_warn("JSON schema: minLength/maxLength are not enforced together with a pattern");
        hearth_error e = {0};
        if (!schema_regex_to_gbnf(json_string_value(pattern), b, "jchar", &e))
            return sc_fail(C, e.status, "%s", e.message);
    } else {
        gbuf_put(b, " jchar", 6);
        if (lo == 0 && hi < 0) gbuf_put(b, "*", 1);
        else repeat_suffix(b, lo, hi);
    }
    gbuf_put(b, " \"\\\"\"", 5);
    return true;
}

static bool array_body(sc *C, json_t *s, gbuf *b)
{
    long long lo, hi;
    if (!get_count(C, s, "minItems", &lo, 0) || !get_count(C, s, "maxItems", &hi, -1)) return false;
    if (hi >= 0 && hi < lo) return sc_fail(C, HEARTH_ERR_FORMAT, "maxItems %lld is below minItems %lld", hi, lo);
    json_t *items = json_object_get(s, "items");
    char item[24] = "jvalue";
    if (items && !schema_rule(C, items, item)) return false;
    if (hi == 0) { gbuf_put(b, "\"[\" ws \"]\"", 10); return true; }
    gbuf_printf(b, "\"[\" ws %s( %s ws ( \",\" ws %s ws )", lo == 0 ? "( " : "", item, item);
    repeat_suffix(b, lo > 0 ? lo - 1 : 0, hi < 0 ? -1 : hi - 1);
    gbuf_printf(b, " )%s \"]\"", lo == 0 ? " )?" : "");
    return true;
}

/* A rule matching any object key of printable ASCII without '"' and '\' (so no escapes) that
 * is not one of keys[0..n); keys with other characters can never collide with it. Keys are
 * taken as a trie: at each node, either stop (if that is not a key), take a child's
 * character, or take any other character and then anything. */
static bool key_not_in(sc *C, const char **keys, size_t n, size_t depth, const char *prefix, char name[24])
{
    new_name(C, name);
    gbuf b = {0}, cls = {0};
    bool terminal = false, first = true;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(keys[i], prefix, depth)) continue;
        size_t len = strlen(keys[i]);
        if (len == depth) { terminal = true; continue; }
        unsigned char c = (unsigned char)keys[i][depth];
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') continue; /* extra keys never use these */
        /* first key with this next byte (compare against earlier siblings) */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strncmp(keys[j], prefix, depth) && strlen(keys[j]) > depth && keys[j][depth] == keys[i][depth];
        if (seen) continue;
        char child[24];
        char *next = malloc(depth + 2);
        if (!next) return sc_fail(C, HEARTH_ERR_NOMEM, "out of memory");
        memcpy(next, keys[i], depth + 1);
        next[depth + 1] = '\0';
        bool ok = key_not_in(C, keys, n, depth + 1, next, child);
        free(next);
        if (!ok) { free(b.s); free(cls.s); return false; }
        gbuf_printf(&b, "%s[\\x%02X] %s", first ? "" : " | ", c, child);
        gbuf_printf(&cls, "\\x%02X", c);
        first = false;
    }
    gbuf_printf(&b, "%s[^\"\\\\\\x00-\\x1F\\x7F-\\U0010FFFF%s] jkchar*", first ? "" : " | ", cls.s ? cls.s : "");
    if (!terminal) gbuf_put(&b, " | ( )", 6);
    free(cls.s);
    return add_rule(C, name, &b);
}

static bool object_body(sc *C, json_t *s, gbuf *b)
{
    json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
    json_t *addl = json_object_get(s, "additionalProperties");
    if (props && !json_is_object(props)) return sc_fail(C, HEARTH_ERR_FORMAT, "'properties' must be an object");
    if (req && !json_is_array(req)) return sc_fail(C, HEARTH_ERR_FORMAT, "'required' must be an array of names");
    if (addl && !json_is_boolean(addl) && !json_is_object(addl))
        return sc_fail(C, HEARTH_ERR_FORMAT, "'additionalProperties' must be a boolean or a schema");
    if (!props && !req && (!addl || json_is_true(addl))) { gbuf_put(b, "jobject", 7); return true; }
    bool extra = addl && !json_is_false(addl);
    size_t n_props = props ? json_object_size(props) : 0, n_req = req ? json_array_size(req) : 0;
    size_t cap = n_props + n_req + 1;
    const char **keys = calloc(cap, sizeof *keys);
    char (*kv)[24] = calloc(cap, sizeof *kv);
    bool *is_req = calloc(cap, sizeof *is_req);
    size_t n = 0;
    bool ok = keys && kv && is_req;
    if (!ok) sc_fail(C, HEARTH_ERR_NOMEM, "out of memory");
    const char *key;
    json_t *val;
    if (ok && props) json_object_foreach(props, key, val) keys[n++] = key;
    for (size_t i = 0; ok && i < n_req; i++) { /* required names not in properties: any value */
        json_t *r = json_array_get(req, i);
        if (!json_is_string(r)) { ok = sc_fail(C, HEARTH_ERR_FORMAT, "'required' entries must be strings"); break; }
        size_t k = 0;
        while (k < n && strcmp(keys[k], json_string_value(r))) k++;
        if (k == n) keys[n++] = json_string_value(r);
        is_req[k] = true;
    }
    for (size_t i = 0; ok && i < n; i++) { /* kv_i ::= "key" ws ":" ws value ws */
        char vname[24] = "jvalue";
        json_t *ps = props ? json_object_get(props, keys[i]) : NULL;
        if (ps && !schema_rule(C, ps, vname)) { ok = false; break; }
        json_t *k = json_string(keys[i]);
        gbuf body = {0};
        ok = k && json_literal(C, k, &body);
        json_decref(k);
        if (!ok) { free(body.s); break; }
        gbuf_printf(&body, " ws \":\" ws %s ws", vname);
        new_name(C, kv[i]);
        ok = add_rule(C, kv[i], &body);
    }
    char ext[24] = "";
    if (ok && extra) { /* ext ::= "\"" key-not-declared "\"" ws ":" ws value ws */
        char vname[24] = "jvalue", kname[24];
        ok = (json_is_true(addl) || schema_rule(C, addl, vname)) && key_not_in(C, keys, n, 0, "", kname);
        if (ok) {
            gbuf body = {0};
            gbuf_printf(&body, "\"\\\"\" %s \"\\\"\" ws \":\" ws %s ws", kname, vname);
            new_name(C, ext);
            ok = add_rule(C, ext, &body);
        }
    }
    if (ok) {
        /* required ones first (in order), then optional ones each "(, kv)?", then extras */
        gbuf_put(b, "\"{\" ws", 6);
        bool any_req = false;
        for (size_t i = 0; i < n; i++)
            if (is_req[i]) { gbuf_printf(b, "%s %s", any_req ? " \",\" ws" : "", kv[i]); any_req = true; }
        if (any_req) {
            for (size_t i = 0; i < n; i++)
                if (!is_req[i]) gbuf_printf(b, " ( \",\" ws %s )?", kv[i]);
            if (extra) gbuf_printf(b, " ( \",\" ws %s )*", ext);
        } else {
            /* no required key: the first present item has no comma before it */
            gbuf_put(b, " (", 2);
            bool first = true;
            for (size_t i = 0; i < n; i++) {
                gbuf_printf(b, "%s %s", first ? "" : " |", kv[i]);
                for (size_t j = i + 1; j < n; j++) gbuf_printf(b, " ( \",\" ws %s )?", kv[j]);
                if (extra) gbuf_printf(b, " ( \",\" ws %s )*", ext);
                first = false;
            }
            if (extra) gbuf_printf(b, "%s %s ( \",\" ws %s )*", first ? "" : " |", ext, ext);
            gbuf_put(b, " )?", 3);
        }
        gbuf_put(b, " \"}\"", 4);
    }
    free(keys);
    free(kv);
    free(is_req);
    return ok;
}

static bool type_body(sc *C, json_t *s, const char *type, gbuf *b)
{
    if (!strcmp(type, "string")) return string_body(C, s, b);
    if (!strcmp(type, "object")) return object_body(C, s, b);
    if (!strcmp(type, "array")) return array_body(C, s, b);
    const char *r = !strcmp(type, "number") ? "jnum" : !strcmp(type, "integer") ? "jint"
                  : !strcmp(type, "boolean") ? "jbool" : !strcmp(type, "null") ? "jnull" : NULL;
    if (!r) return sc_fail(C, HEARTH_ERR_FORMAT, "unknown type '%s'", type);
    gbuf_put(b, r, strlen(r));
    return true;
}

static json_t *resolve_ref(sc *C, const char *ref)
{
    if (!strcmp(ref, "#")) return C->root;
    if (strncmp(ref, "#/", 2)) { sc_fail(C, HEARTH_ERR_UNSUPPORTED, "only local $ref (#/...) is supported, not '%s'", ref); return NULL; }
    json_t *cur = C->root;
    const char *p = ref + 2;
    char part[256];
    while (cur && *p) {
        size_t n = 0;
        for (; *p && *p != '/'; p++) {
            char c = *p;
            if (c == '~' && (p[1] == '0' || p[1] == '1')) c = *++p == '0' ? '~' : '/';
            if (n + 1 < sizeof part) part[n++] = c;
        }
        part[n] = '\0';
        if (*p == '/') p++;
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)strtoul(part, NULL, 10)) : json_object_get(cur, part);
    }
    if (!cur) sc_fail(C, HEARTH_ERR_FORMAT, "$ref '%s' points at nothing", ref);
    return cur;
}

static const char *const IGNORED_CONSTRAINTS[] = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf", "uniqueItems", "not", "if", "patternProperties", "minProperties", "maxProperties",
    "contains", "prefixItems", "propertyNames", "dependentRequired", "format"};

/* Writes the alternatives for schema s into b. */
static bool schema_body(sc *C, json_t *s, gbuf *b)
{
    if (json_is_true(s)) { gbuf_put(b, "jvalue", 6); return true; }
    if (json_is_false(s)) return sc_fail(C, HEARTH_ERR_FORMAT, "schema 'false' matches nothing");
    if (!json_is_object(s)) return sc_fail(C, HEARTH_ERR_FORMAT, "a schema must be an object or a boolean");
    for (size_t i = 0; i < sizeof IGNORED_CONSTRAINTS / sizeof *IGNORED_CONSTRAINTS; i++)
        if (json_object_get(s, IGNORED_CONSTRAINTS[i]))
            hearth_warn("JSON schema: '%s' is not enforced by constrained decoding", IGNORED_CONSTRAINTS[i]);
    json_t *v;
    if ((v = json_object_get(s, "$ref"))) {
        if (!json_is_string(v)) return sc_fail(C, HEARTH_ERR_FORMAT, "'$ref' must be a string");
        const char *ref = json_string_value(v);
        for (int i = 0; i < C->n_refs; i++)
            if (!strcmp(C->refs[i].ref, ref)) { gbuf_put(b, C->refs[i].name, strlen(C->refs[i].name)); return true; }
        json_t *target = resolve_ref(C, ref);
        if (!target) return false;
        if (C->n_refs == C->cap_refs) {
            int cap = C->cap_refs ? C->cap_refs * 2 : 8;
            refent *r = realloc(C->refs, (size_t)cap * sizeof *r);
            if (!r) return sc_fail(C, HEARTH_ERR_NOMEM, "out of memory");
            C->refs = r;
            C->cap_refs = cap;
        }
        refent *e = &C->refs[C->n_refs];
        e->ref = strdup(ref);
        if (!e->ref) return sc_fail(C, HEARTH_ERR_NOMEM, "out of memory");
        new_name(C, e->name);
        C->n_refs++;
        char name[24];
        memcpy(name, e->name, sizeof name); /* C->refs may move while compiling the target */
        gbuf tb = {0};
        if (!schema_body(C, target, &tb) || !add_rule(C, name, &tb)) { free(tb.s); return false; }
        gbuf_put(b, name, strlen(name));
        return true;
    }
    if ((v = json_object_get(s, "const"))) return json_literal(C, v, b);
    if ((v = json_object_get(s, "enum"))) {
        if (!json_is_array(v) || !json_array_size(v)) return sc_fail(C, HEARTH_ERR_FORMAT, "'enum' must be a non-empty array");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) gbuf_put(b, " | ", 3);
            if (!json_literal(C, json_array_get(v, i), b)) return false;
        }
        return true;
    }
    json_t *any = json_object_get(s, "anyOf");
    if (!any) any = json_object_get(s, "oneOf");
    if (!any && (v = json_object_get(s, "allOf"))) {
        if (!json_is_array(v) || json_array_size(v) != 1)
            return sc_fail(C, HEARTH_ERR_UNSUPPORTED, "'allOf' is supported with one member only");
        return schema_body(C, json_array_get(v, 0), b);
    }
    if (any) {
        if (!json_is_array(any) || !json_array_size(any)) return sc_fail(C, HEARTH_ERR_FORMAT, "'anyOf'/'oneOf' must be a non-empty array");
        for (size_t i = 0; i < json_array_size(any); i++) {
            char name[24];
            if (!schema_rule(C, json_array_get(any, i), name)) return false;
            gbuf_printf(b, "%s%s", i ? " | " : "", name);
        }
        return true;
    }
    json_t *type = json_object_get(s, "type");
    if (json_is_string(type)) return type_body(C, s, json_string_value(type), b);
    if (json_is_array(type) && json_array_size(type)) {
        for (size_t i = 0; i < json_array_size(type); i++) {
            json_t *t = json_array_get(type, i);
            if (!json_is_string(t)) return sc_fail(C, HEARTH_ERR_FORMAT, "'type' entries must be strings");
            if (i) gbuf_put(b, " | ", 3);
            gbuf_put(b, "( ", 2);
            if (!type_body(C, s, json_string_value(t), b)) return false;
            gbuf_put(b, " )", 2);
        }
        return true;
    }
    if (type) return sc_fail(C, HEARTH_ERR_FORMAT, "'type' must be a string or an array of strings");
    if (json_object_get(s, "properties") || json_object_get(s, "required") || json_object_get(s, "additionalProperties"))
        return object_body(C, s, b);
    if (json_object_get(s, "items") || json_object_get(s, "minItems") || json_object_get(s, "maxItems"))
        return array_body(C, s, b);
    if (json_object_get(s, "pattern") || json_object_get(s, "minLength") || json_object_get(s, "maxLength"))
        return string_body(C, s, b);
    gbuf_put(b, "jvalue", 6);
    return true;
}

static bool schema_rule(sc *C, json_t *s, char name[24])
{
    if (++C->depth > MAX_DEPTH) return sc_fail(C, HEARTH_ERR_UNSUPPORTED, "nested deeper than %d", MAX_DEPTH);
    gbuf b = {0};
    bool ok = schema_body(C, s, &b);
    if (ok) {
        new_name(C, name);
        ok = add_rule(C, name, &b);
    } else {
        free(b.s);
    }
    C->depth--;
    return ok;
}

char *hearth_json_schema_to_gbnf(const char *schema, hearth_error *err)
{
    sc C = {.err = err};
    gbuf_put(&C.out, BASE_RULES, sizeof BASE_RULES - 1);
    if (!schema || !*schema) {
        gbuf_put(&C.out, "root ::= jobject\n", 17);
    } else {
        json_error_t je;
        C.root = json_loads(schema, JSON_DECODE_ANY, &je);
        if (!C.root) {
            hearth_fail(err, HEARTH_ERR_FORMAT, "JSON schema: line %d column %d: %s", je.line, je.column, je.text);
            free(C.out.s);
            return NULL;
        }
        gbuf body = {0};
        if (schema_body(&C, C.root, &body)) add_rule(&C, "root", &body);
        else free(body.s);
        json_decref(C.root);
    }
    for (int i = 0; i < C.n_refs; i++) free(C.refs[i].ref);
    free(C.refs);
    if (!C.failed && C.out.oom) sc_fail(&C, HEARTH_ERR_NOMEM, "out of memory");
    if (C.failed) { free(C.out.s); return NULL; }
    return C.out.s;
}
