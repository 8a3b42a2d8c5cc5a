/* jinja_json.c — JSON in and out of the engine. Variables arrive as jansson values and become
 * engine values (object key order kept); `tojson` writes exactly what Python's json.dumps
 * writes as transformers calls it (", " and ": " separators, ensure_ascii=False, floats as
 * Python's repr), because tool schemas rendered into a prompt must match byte for byte. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chat/jinja_internal.h"

jv jv_from_json(jctx *c, const json_t *j, int depth)
{
    if (depth > c->opt->max_depth)
        jrt_fail(c, "variables nest deeper than %d levels", c->opt->max_depth);
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        jv d = jv_dict(c, json_object_size(j));
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)j, key, val)
            jv_dict_set(c, d.u.d, key, strlen(key), jv_from_json(c, val, depth + 1));
        return d;
    }
    case JSON_ARRAY: {
        jv l = jv_list(c, json_array_size(j));
        for (size_t i = 0; i < json_array_size(j); i++)
            jv_list_push(c, l.u.l, jv_from_json(c, json_array_get(j, i), depth + 1));
        return l;
    }
    case JSON_STRING: return jv_str(c, json_string_value(j), json_string_length(j));
    case JSON_INTEGER: return jv_int(json_integer_value(j));
    case JSON_REAL: return jv_float(json_real_value(j));
    case JSON_TRUE: return jv_bool(true);
    case JSON_FALSE: return jv_bool(false);
    case JSON_NULL: return jv_none();
    }
    return jv_none();
}

/* Python's repr(float): the shortest digits that read back to the same double, in fixed
 * notation for 1e-4 <= |x| < 1e16 (always with a ".0" at least) and scientific otherwise. */
void jv_write_float(jbuf *b, jctx *c, double f)
{
    if (isnan(f)) {
        jbuf_puts(c, b, "nan");
        return;
    }
    if (isinf(f)) {
        jbuf_puts(c, b, f < 0 ? "-inf" : "inf");
        return;
    }
    if (f == 0) {
        jbuf_puts(c, b, signbit(f) ? "-0.0" : "0.0");
        return;
    }
    char tmp[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (strtod(tmp, NULL) == f) break;
    }
    /* tmp = [-]D[.DDD]e[+-]XX */
    char digits[24];
    size_t nd = 0;
    const char *p = tmp;
    bool neg = *p == '-';
    if (neg) p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[nd++] = *p;
    digits[nd] = 0;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') digits[--nd] = 0;
    if (neg) jbuf_puts(c, b, "-");
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 >= 0) {
            for (int i = 0; i <= exp10; i++) jbuf_put(c, b, i < (int)nd ? &digits[i] : "0", 1);
            jbuf_puts(c, b, ".");
            if ((int)nd > exp10 + 1) jbuf_put(c, b, digits + exp10 + 1, nd - (size_t)exp10 - 1);
            else jbuf_puts(c, b, "0");
        } else {
            jbuf_puts(c, b, "0.");
            for (int i = 0; i < -exp10 - 1; i++) jbuf_puts(c, b, "0");
            jbuf_put(c, b, digits, nd);
        }
    } else {
        jbuf_put(c, b, digits, 1);
        if (nd > 1) {
            jbuf_puts(c, b, ".");
            jbuf_put(c, b, digits + 1, nd - 1);
        }
        jbuf_printf(c, b, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}

static void write_json_string(jctx *c, jbuf *b, const char *s, size_t len, bool ascii)
{
    jbuf_puts(c, b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        switch (ch) {
        case '"': jbuf_puts(c, b, "\\\""); continue;
        case '\\': jbuf_puts(c, b, "\\\\"); continue;
        case '\n': jbuf_puts(c, b, "\\n"); continue;
        case '\r': jbuf_puts(c, b, "\\r"); continue;
        case '\t': jbuf_puts(c, b, "\\t"); continue;
        case '\b': jbuf_puts(c, b, "\\b"); continue;
        case '\f': jbuf_puts(c, b, "\\f"); continue;
        }
        if (ch < 0x20 || (ascii && ch == 0x7f)) {
            jbuf_printf(c, b, "\\u%04x", ch);
        } else if (ch >= 0x80 && ascii) {
            uint32_t cp;
            size_t w = (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : 4;
            if (i + w > len) w = len - i;
            cp = w == 2 ? ch & 0x1Fu : w == 3 ? ch & 0x0Fu : ch & 0x07u;
            for (size_t k = 1; k < w; k++) cp = (cp << 6) | (s[i + k] & 0x3Fu);
            i += w - 1;
            if (cp >= 0x10000) {
                cp -= 0x10000;
                jbuf_printf(c, b, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
            } else {
                jbuf_printf(c, b, "\\u%04x", cp);
            }
        } else {
            jbuf_put(c, b, (const char *)&ch, 1);
        }
    }
    jbuf_puts(c, b, "\"");
}

static void newline_indent(jctx *c, jbuf *b, const jtojson_opts *o, int depth)
{
    jbuf_puts(c, b, "\n");
    for (int i = 0; i < o->indent * depth; i++) jbuf_puts(c, b, " ");
}

static int key_order(const void *a, const void *b)
{
    const jstr *x = **(jstr *const *const *)a, *y = **(jstr *const *const *)b;
    size_t n = HEARTH_MIN(x->len, y->len);
    int r = memcmp(x->data, y->data, n);
    return r ? r : (x->len > y->len) - (x->len < y->len);
}

void jv_tojson(jctx *c, jbuf *b, jv v, const jtojson_opts *o, int depth)
{
    if (depth > c->opt->max_depth) jrt_fail(c, "tojson: value nests deeper than %d levels", c->opt->max_depth);
    bool pretty = o->indent >= 0;
    switch (v.kind) {
    case JV_NONE: jbuf_puts(c, b, "null"); return;
    case JV_BOOL: jbuf_puts(c, b, v.u.b ? "true" : "false"); return;
    case JV_INT: jbuf_printf(c, b, "%lld", (long long)v.u.i); return;
    case JV_FLOAT:
        if (isnan(v.u.f)) jbuf_puts(c, b, "NaN");
        else if (isinf(v.u.f)) jbuf_puts(c, b, v.u.f < 0 ? "-Infinity" : "Infinity");
        else jv_write_float(b, c, v.u.f);
        return;
    case JV_STR: write_json_string(c, b, v.u.s->data, v.u.s->len, o->ensure_ascii); return;
    case JV_LIST:
        if (!v.u.l->n) {
            jbuf_puts(c, b, "[]");
            return;
        }
        jbuf_puts(c, b, "[");
        for (size_t i = 0; i < v.u.l->n; i++) {
            if (i) jbuf_puts(c, b, o->item_sep);
            if (pretty) newline_indent(c, b, o, depth + 1);
            jv_tojson(c, b, v.u.l->items[i], o, depth + 1);
        }
        if (pretty) newline_indent(c, b, o, depth);
        jbuf_puts(c, b, "]");
        return;
    case JV_DICT:
    case JV_NS: {
        const jdict *d = v.u.d;
        if (!d->n) {
            jbuf_puts(c, b, "{}");
            return;
        }
        jstr ***order = ja_alloc(&c->arena, &c->e, d->n * sizeof *order);
        for (size_t i = 0; i < d->n; i++) order[i] = &d->keys[i];
        if (o->sort_keys) qsort(order, d->n, sizeof *order, key_order);
        jbuf_puts(c, b, "{");
        for (size_t i = 0; i < d->n; i++) {
            size_t k = (size_t)(order[i] - d->keys);
            if (i) jbuf_puts(c, b, o->item_sep);
            if (pretty) newline_indent(c, b, o, depth + 1);
            write_json_string(c, b, d->keys[k]->data, d->keys[k]->len, o->ensure_ascii);
            jbuf_puts(c, b, o->key_sep);
            jv_tojson(c, b, d->vals[k], o, depth + 1);
        }
        if (pretty) newline_indent(c, b, o, depth);
        jbuf_puts(c, b, "}");
        return;
    }
    case JV_UNDEF:
        jrt_fail(c, "tojson: cannot serialize an undefined value (%s)", v.u.undef ? v.u.undef : "?");
    default: jrt_fail(c, "tojson: cannot serialize a %s", jv_type_name(v));
    }
}
