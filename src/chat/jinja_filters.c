/* jinja_filters.c — Jinja2's built-in filters and tests that chat templates use, with Jinja's
 * argument names and defaults (`tojson` follows transformers' override). The name tables are
 * also what the parser checks, so an unknown filter fails at parse time with its position. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "chat/jinja_internal.h"

/* defined in jinja_methods.c */
jv jinja_str_case(jctx *c, jv s, int mode);   /* 0 lower, 1 upper, 2 capitalize, 3 title(py) */
jv jinja_str_strip(jctx *c, jv s, jv chars, int which); /* 1 left, 2 right, 3 both */
jv jinja_str_replace(jctx *c, jv s, jv old, jv new_, int64_t count);
void jinja_sort(jctx *c, jv *items, size_t n, const char *attr, bool reverse, bool case_sensitive);

static const char *const FILTERS[] = {
    "abs", "attr", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first",
    "float", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max",
    "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr",
    "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount", NULL};

static const char *const TESTS[] = {
    "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "even", "false",
    "float", "ge", ">=", "gt", ">", "greaterthan", "in", "integer", "iterable", "le", "<=", "lt",
    "<", "lessthan", "lower", "mapping", "ne", "!=", "none", "number", "odd", "sameas",
    "sequence", "string", "true", "undefined", "upper", NULL};

static bool in_table(const char *const *t, const char *name)
{
    for (; *t; t++)
        if (!strcmp(*t, name)) return true;
    return false;
}

bool jinja_filter_known(const char *name) { return in_table(FILTERS, name); }
bool jinja_test_known(const char *name) { return in_table(TESTS, name); }

static int64_t want_int(jctx *c, jv v, const char *what)
{
    if (v.kind == JV_BOOL) return v.u.b;
    if (v.kind != JV_INT) jrt_fail(c, "%s must be an integer, not %s", what, jv_type_name(v));
    return v.u.i;
}

static jv want_list(jctx *c, jv v, const char *filter)
{
    if (v.kind == JV_LIST) return v;
    if (v.kind == JV_UNDEF) return jv_list(c, 0);
    if (v.kind == JV_STR || v.kind == JV_DICT) {
        jv l = jv_list(c, 0);
        l.u.l = jv_iterate(c, v);
        return l;
    }
    jrt_fail(c, "filter '%s' needs a sequence, not a %s", filter, jv_type_name(v));
}

/* value.attr where attr may be dotted ("a.b") or a number (list index), as Jinja's
 * make_attrgetter does. */
static jv attr_path(jctx *c, jv v, const char *path)
{
    char part[256];
    while (*path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof part) jrt_fail(c, "attribute path too long");
        memcpy(part, path, n);
        part[n] = 0;
        char *end;
        long idx = strtol(part, &end, 10);
        if (v.kind == JV_UNDEF) return v;
        if (n && !*end) v = jv_getitem(c, v, jv_int(idx));
        else v = jv_getattr(c, v, part);
        path += n + (path[n] == '.');
    }
    return v;
}

static const char *want_str(jctx *c, jv v, const char *what)
{
    if (v.kind != JV_STR) jrt_fail(c, "%s must be a string, not %s", what, jv_type_name(v));
    return v.u.s->data;
}

static jv do_tojson(jctx *c, jv v, jv *args, size_t nargs, const char **kwn, jv *kwv, size_t nkw)
{
    jtojson_opts o = {.indent = -1, .item_sep = ", ", .key_sep = ": "};
    jv first = nargs ? args[0] : jv_undef(NULL);
    jv indent = jarg(NULL, 0, 0, kwn, kwv, nkw, "indent", first.kind == JV_INT ? first : jv_none());
    jv ascii = jarg(NULL, 0, 0, kwn, kwv, nkw, "ensure_ascii", first.kind == JV_BOOL ? first : jv_bool(false));
    jv sortk = jarg(NULL, 0, 0, kwn, kwv, nkw, "sort_keys", jv_bool(false));
    jv seps = jarg(NULL, 0, 0, kwn, kwv, nkw, "separators", jv_none());
    if (indent.kind != JV_NONE) {
        o.indent = (int)want_int(c, indent, "tojson indent");
        if (o.indent < 0 || o.indent > 64) jrt_fail(c, "tojson indent out of range");
        o.item_sep = ",";
    }
    o.ensure_ascii = jv_truthy(ascii);
    o.sort_keys = jv_truthy(sortk);
    if (seps.kind == JV_LIST) {
        if (seps.u.l->n != 2) jrt_fail(c, "tojson separators must be a pair of strings");
        o.item_sep = want_str(c, seps.u.l->items[0], "tojson separator");
        o.key_sep = want_str(c, seps.u.l->items[1], "tojson separator");
    }
    jbuf b = {0};
    jv_tojson(c, &b, v, &o, 0);
    return jbuf_to_str(c, &b);
}

static jv do_indent(jctx *c, jv v, jv width, bool first, bool blank)
{
    jv s = jv_to_string(c, v);
    jbuf ind = {0};
    if (width.kind == JV_STR) jbuf_put(c, &ind, width.u.s->data, width.u.s->len);
    else for (int64_t i = want_int(c, width, "indent width"); i > 0; i--) jbuf_puts(c, &ind, " ");
    jbuf out = {0};
    if (first) jbuf_put(c, &out, ind.data, ind.len);
    const char *p = s.u.s->data, *end = p + s.u.s->len;
    bool line_start = false;
    while (p < end) {
        size_t n = 0;
        while (p + n < end && p[n] != '\n' && p[n] != '\r') n++;
        if (line_start && (n > 0 || blank)) jbuf_put(c, &out, ind.data, ind.len);
        jbuf_put(c, &out, p, n);
        p += n;
        if (p < end) { /* keep the line break; the next line gets indented */
            size_t w = (p[0] == '\r' && p + 1 < end && p[1] == '\n') ? 2 : 1;
            jbuf_puts(c, &out, "\n");
            p += w;
            line_start = true;
        }
    }
    return jbuf_to_str(c, &out);
}

static jv do_select(jctx *c, jv v, jv *args, size_t nargs, bool by_attr, bool keep)
{
    jv list = want_list(c, v, by_attr ? "selectattr" : "select");
    size_t a0 = by_attr ? 1 : 0;
    if (by_attr && nargs < 1) jrt_fail(c, "selectattr/rejectattr need an attribute name");
    const char *attr = by_attr ? want_str(c, args[0], "attribute") : NULL;
    const char *test = nargs > a0 ? want_str(c, args[a0], "test name") : NULL;
    if (test && !jinja_test_known(test)) jrt_fail(c, "unknown test '%s'", test);
    jv out = jv_list(c, 0);
    for (size_t i = 0; i < list.u.l->n; i++) {
        jv item = list.u.l->items[i], x = attr ? attr_path(c, item, attr) : item;
        bool ok = test ? jinja_apply_test(c, test, x, args + a0 + 1, nargs - a0 - 1) : jv_truthy(x);
        if (ok == keep) jv_list_push(c, out.u.l, item);
    }
    return out;
}

static jv do_map(jctx *c, jv v, jv *args, size_t nargs, const char **kwn, jv *kwv, size_t nkw)
{
    jv list = want_list(c, v, "map");
    jv attr = jarg(NULL, 0, 0, kwn, kwv, nkw, "attribute", jv_undef(NULL));
    jv dflt = jarg(NULL, 0, 0, kwn, kwv, nkw, "default", jv_undef(NULL));
    jv out = jv_list(c, list.u.l->n);
    if (attr.kind == JV_UNDEF && !nargs) jrt_fail(c, "map needs a filter name or attribute=");
    const char *filter = attr.kind == JV_UNDEF ? want_str(c, args[0], "filter name") : NULL;
    if (filter && !jinja_filter_known(filter)) jrt_fail(c, "unknown filter '%s'", filter);
    for (size_t i = 0; i < list.u.l->n; i++) {
        jv x = list.u.l->items[i];
        if (filter) {
            x = jinja_apply_filter(c, filter, x, args + 1, nargs - 1, NULL, NULL, 0);
        } else {
            x = attr_path(c, x, want_str(c, attr, "attribute"));
            if (x.kind == JV_UNDEF && dflt.kind != JV_UNDEF) x = dflt;
        }
        jv_list_push(c, out.u.l, x);
    }
    return out;
}

static jv parse_number(jctx *c, jv v, bool want_float, jv dflt)
{
    if (v.kind == JV_INT) return want_float ? jv_float((double)v.u.i) : v;
    if (v.kind == JV_BOOL) return want_float ? jv_float(v.u.b) : jv_int(v.u.b);
    if (v.kind == JV_FLOAT) {
        if (want_float) return v;
        if (!isfinite(v.u.f) || fabs(v.u.f) >= 9.2e18) return dflt;
        return jv_int((int64_t)v.u.f);
    }
    if (v.kind != JV_STR) return dflt;
    const char *s = v.u.s->data;
    char *end;
    if (!want_float) {
        long long i = strtoll(s, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\n') end++;
        if (end != s && !*end) return jv_int(i);
    }
    double f = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n') end++;
    if (end == s || *end) return dflt;
    return want_float ? jv_float(f) : parse_number(c, jv_float(f), false, dflt);
}

jv jinja_apply_filter(jctx *c, const char *name, jv v, jv *args, size_t nargs,
                      const char **kwn, jv *kwv, size_t nkw)
{
#define ARG(pos, kw, dflt) jarg(args, nargs, pos, kwn, kwv, nkw, kw, dflt)
    if (!strcmp(name, "default") || !strcmp(name, "d")) {
        bool boolean = jv_truthy(ARG(1, "boolean", jv_bool(false)));
        if (v.kind == JV_UNDEF || (boolean && !jv_truthy(v))) return ARG(0, "default_value", jv_cstr(c, ""));
        return v;
    }
    if (!strcmp(name, "tojson")) return do_tojson(c, v, args, nargs, kwn, kwv, nkw);
    if (!strcmp(name, "length") || !strcmp(name, "count")) return jv_int(jv_length(c, v));
    if (!strcmp(name, "safe")) return jv_to_string(c, v); /* Markup(value): a string */
    if (!strcmp(name, "string")) return jv_to_string(c, v);
    if (!strcmp(name, "items")) {
        if (v.kind == JV_UNDEF) return jv_list(c, 0);
        if (v.kind != JV_DICT) jrt_fail(c, "filter 'items' needs a mapping, not a %s", jv_type_name(v));
        jv out = jv_list(c, v.u.d->n);
        for (size_t i = 0; i < v.u.d->n; i++) {
            jv pair = jv_list(c, 2), k = {.kind = JV_STR};
            k.u.s = v.u.d->keys[i];
            jv_list_push(c, pair.u.l, k);
            jv_list_push(c, pair.u.l, v.u.d->vals[i]);
            pair.u.l->tuple = true;
            jv_list_push(c, out.u.l, pair);
        }
        return out;
    }
    /* As Jinja's default Undefined: it is "" to string filters and empty to sequence filters;
     * only the filters that need a real value fail on it. */
    if (v.kind == JV_UNDEF && (!strcmp(name, "abs") || !strcmp(name, "round") || !strcmp(name, "dictsort") ||
                               !strcmp(name, "attr") || !strcmp(name, "int") || !strcmp(name, "float") ||
                               !strcmp(name, "indent")))
        jrt_fail(c, "filter '%s' applied to an undefined value: %s", name, v.u.undef ? v.u.undef : "?");
    if (v.kind == JV_BOOL && (!strcmp(name, "abs") || !strcmp(name, "round"))) v = jv_int(v.u.b);
    if (!strcmp(name, "trim")) return jinja_str_strip(c, jv_to_string(c, v), ARG(0, "chars", jv_none()), 3);
    if (!strcmp(name, "upper")) return jinja_str_case(c, jv_to_string(c, v), 1);
    if (!strcmp(name, "lower")) return jinja_str_case(c, jv_to_string(c, v), 0);
    if (!strcmp(name, "capitalize")) return jinja_str_case(c, jv_to_string(c, v), 2);
    if (!strcmp(name, "title")) return jinja_str_case(c, jv_to_string(c, v), 4);
    if (!strcmp(name, "replace")) {
        jv cnt = ARG(2, "count", jv_none());
        return jinja_str_replace(c, jv_to_string(c, v), ARG(0, "old", jv_undef("replace needs 'old'")),
                                 ARG(1, "new", jv_undef("replace needs 'new'")),
                                 cnt.kind == JV_NONE ? -1 : want_int(c, cnt, "count"));
    }
    if (!strcmp(name, "indent"))
        return do_indent(c, v, ARG(0, "width", jv_int(4)), jv_truthy(ARG(1, "first", jv_bool(false))),
                         jv_truthy(ARG(2, "blank", jv_bool(false))));
    if (!strcmp(name, "escape") || !strcmp(name, "e")) {
        jv s = jv_to_string(c, v);
        jbuf b = {0};
        for (size_t i = 0; i < s.u.s->len; i++) {
            char ch = s.u.s->data[i];
            const char *rep = ch == '&' ? "&amp;" : ch == '<' ? "&lt;" : ch == '>' ? "&gt;"
                            : ch == '"' ? "&#34;" : ch == '\'' ? "&#39;" : NULL;
            if (rep) jbuf_puts(c, &b, rep);
            else jbuf_put(c, &b, &ch, 1);
        }
        return jbuf_to_str(c, &b);
    }
    if (!strcmp(name, "format")) { /* "%s-%s" | format(a, b), or named: format(k=v) */
        jv fmt = jv_to_string(c, v);
        if (nkw) {
            jv d = jv_dict(c, nkw);
            for (size_t i = 0; i < nkw; i++) jv_dict_set(c, d.u.d, kwn[i], strlen(kwn[i]), kwv[i]);
            return jinja_percent_format(c, fmt, NULL, 0, d.u.d);
        }
        return jinja_percent_format(c, fmt, args, nargs, NULL);
    }
    if (!strcmp(name, "int")) return parse_number(c, v, false, ARG(0, "default", jv_int(0)));
    if (!strcmp(name, "float")) return parse_number(c, v, true, ARG(0, "default", jv_float(0)));
    if (!strcmp(name, "abs")) {
        if (v.kind == JV_INT && v.u.i != INT64_MIN) return jv_int(v.u.i < 0 ? -v.u.i : v.u.i);
        if (v.kind == JV_FLOAT) return jv_float(fabs(v.u.f));
        jrt_fail(c, "filter 'abs' needs a number, not a %s", jv_type_name(v));
    }
    if (!strcmp(name, "round")) {
        if (v.kind != JV_INT && v.kind != JV_FLOAT) jrt_fail(c, "filter 'round' needs a number");
        int64_t prec = want_int(c, ARG(0, "precision", jv_int(0)), "precision");
        jv method = ARG(1, "method", jv_cstr(c, "common"));
        double f = v.kind == JV_INT ? (double)v.u.i : v.u.f, m = pow(10, (double)prec);
        const char *how = want_str(c, method, "method");
        /* "common" is Python's round(): halves go to the even neighbour */
        if (v.kind == JV_INT && !strcmp(how, "common") && prec >= 0) return v; /* round(int) is that int */
        double r = !strcmp(how, "ceil") ? ceil(f * m) / m : !strcmp(how, "floor") ? floor(f * m) / m
                                                                                 : nearbyint(f * m) / m;
        return jv_float(r);
    }
    if (!strcmp(name, "attr")) { /* Python attributes only: a dict's keys are not attributes */
        const char *a = want_str(c, ARG(0, "name", jv_none()), "attribute");
        return v.kind == JV_DICT ? jv_undef("attr: a dict's keys are not attributes") : jv_getattr(c, v, a);
    }
    if (!strcmp(name, "wordcount")) {
        jv s = jv_to_string(c, v);
        int64_t words = 0;
        bool in = false;
        for (size_t i = 0; i < s.u.s->len; i++) {
            unsigned char ch = (unsigned char)s.u.s->data[i];
            bool w = ch >= 0x80 || ch == '_' || (ch >= '0' && ch <= '9') || ((ch | 32) >= 'a' && (ch | 32) <= 'z');
            words += w && !in;
            in = w;
        }
        return jv_int(words);
    }
    if (!strcmp(name, "join")) {
        jv list = want_list(c, v, "join");
        jv sep = ARG(0, "d", jv_cstr(c, ""));
        jv attr = ARG(1, "attribute", jv_none());
        jbuf b = {0};
        for (size_t i = 0; i < list.u.l->n; i++) {
            if (i) jv_write(c, &b, jv_to_string(c, sep));
            jv x = list.u.l->items[i];
            if (attr.kind == JV_STR) x = attr_path(c, x, attr.u.s->data);
            jv_write(c, &b, x);
        }
        return jbuf_to_str(c, &b);
    }
    if (!strcmp(name, "list")) {
        jv list = want_list(c, v, "list"), out = jv_list(c, list.u.l->n);
        for (size_t i = 0; i < list.u.l->n; i++) jv_list_push(c, out.u.l, list.u.l->items[i]);
        return out;
    }
    if (!strcmp(name, "first") || !strcmp(name, "last")) {
        jv list = want_list(c, v, name);
        if (!list.u.l->n) return jv_undef("first/last of an empty sequence");
        return list.u.l->items[name[0] == 'f' ? 0 : list.u.l->n - 1];
    }
    if (!strcmp(name, "reverse")) {
        jv list = want_list(c, v, "reverse"), out = jv_list(c, list.u.l->n);
        for (size_t i = list.u.l->n; i-- > 0;) jv_list_push(c, out.u.l, list.u.l->items[i]);
        if (v.kind != JV_STR) return out;
        jbuf b = {0};
        for (size_t i = 0; i < out.u.l->n; i++) jv_write(c, &b, out.u.l->items[i]);
        return jbuf_to_str(c, &b);
    }
    if (!strcmp(name, "sort") || !strcmp(name, "dictsort") || !strcmp(name, "unique") ||
        !strcmp(name, "min") || !strcmp(name, "max")) {
        bool dict = name[1] == 'i' && name[0] == 'd';
        jv src = dict ? jinja_apply_filter(c, "items", v, NULL, 0, NULL, NULL, 0) : want_list(c, v, name);
        jv out = jv_list(c, src.u.l->n);
        for (size_t i = 0; i < src.u.l->n; i++) jv_list_push(c, out.u.l, src.u.l->items[i]);
        bool cs = jv_truthy(ARG(dict ? 0 : 1, "case_sensitive", jv_bool(false)));
        jv attr = ARG(dict ? 99 : 2, "attribute", jv_none());
        if (dict) {
            jv by = ARG(1, "by", jv_cstr(c, "key"));
            attr = jv_cstr(c, !strcmp(want_str(c, by, "by"), "value") ? "1" : "0");
        }
        bool rev = jv_truthy(ARG(dict ? 2 : 0, "reverse", jv_bool(false)));
        if (!strcmp(name, "unique")) {
            jv u = jv_list(c, 0);
            for (size_t i = 0; i < out.u.l->n; i++) {
                jv x = out.u.l->items[i], kx = jinja_str_case(c, x, cs ? -1 : 0);
                if ((x.kind == JV_LIST && !x.u.l->tuple) || x.kind == JV_DICT || x.kind == JV_NS)
                    jrt_fail(c, "unique: a %s cannot be compared for uniqueness (unhashable)", jv_type_name(x));
                bool seen = false;
                for (size_t k = 0; k < u.u.l->n && !seen; k++)
                    seen = jv_equal(jinja_str_case(c, u.u.l->items[k], cs ? -1 : 0), kx);
                if (!seen) jv_list_push(c, u.u.l, x);
            }
            return u;
        }
        jinja_sort(c, out.u.l->items, out.u.l->n, attr.kind == JV_STR ? attr.u.s->data : NULL,
                   name[0] == 'm' ? false : rev, cs);
        if (name[0] == 'm') {
            if (!out.u.l->n) return jv_undef("min/max of an empty sequence");
            return out.u.l->items[name[1] == 'i' ? 0 : out.u.l->n - 1];
        }
        return out;
    }
    if (!strcmp(name, "sum")) {
        jv list = want_list(c, v, "sum");
        jv attr = ARG(0, "attribute", jv_none()), acc = ARG(1, "start", jv_int(0));
        for (size_t i = 0; i < list.u.l->n; i++) {
            jv x = list.u.l->items[i];
            if (attr.kind == JV_STR) x = attr_path(c, x, attr.u.s->data);
            acc = jv_binary(c, OP_ADD, acc, x);
        }
        return acc;
    }
    if (!strcmp(name, "map")) return do_map(c, v, args, nargs, kwn, kwv, nkw);
    if (!strcmp(name, "select")) return do_select(c, v, args, nargs, false, true);
    if (!strcmp(name, "reject")) return do_select(c, v, args, nargs, false, false);
    if (!strcmp(name, "selectattr")) return do_select(c, v, args, nargs, true, true);
    if (!strcmp(name, "rejectattr")) return do_select(c, v, args, nargs, true, false);
#undef ARG
    jrt_fail(c, "unknown filter '%s'", name);
}

static bool same(jv a, jv b)
{
    if (a.kind != b.kind) return false;
    switch (a.kind) {
    case JV_STR: return a.u.s == b.u.s || jv_equal(a, b);
    case JV_LIST: return a.u.l == b.u.l;
    case JV_DICT: case JV_NS: return a.u.d == b.u.d;
    default: return jv_equal(a, b);
    }
}

bool jinja_apply_test(jctx *c, const char *name, jv v, jv *args, size_t nargs)
{
    jv arg = nargs ? args[0] : jv_undef("test needs an argument");
    if (!strcmp(name, "defined")) return v.kind != JV_UNDEF;
    if (!strcmp(name, "undefined")) return v.kind == JV_UNDEF;
    if (!strcmp(name, "none")) return v.kind == JV_NONE;
    if (!strcmp(name, "boolean")) return v.kind == JV_BOOL;
    if (!strcmp(name, "true")) return v.kind == JV_BOOL && v.u.b;
    if (!strcmp(name, "false")) return v.kind == JV_BOOL && !v.u.b;
    if (!strcmp(name, "string")) return v.kind == JV_STR;
    if (!strcmp(name, "number")) return v.kind == JV_INT || v.kind == JV_FLOAT || v.kind == JV_BOOL;
    if (!strcmp(name, "integer")) return v.kind == JV_INT;
    if (!strcmp(name, "float")) return v.kind == JV_FLOAT;
    if (!strcmp(name, "mapping")) return v.kind == JV_DICT;
    if (!strcmp(name, "iterable")) /* Jinja's Undefined iterates as empty, so it counts */
        return v.kind == JV_LIST || v.kind == JV_STR || v.kind == JV_DICT || v.kind == JV_UNDEF;
    if (!strcmp(name, "sequence")) /* Undefined has a length (0) and item access, as in Jinja */
        return v.kind == JV_LIST || v.kind == JV_STR || v.kind == JV_DICT || v.kind == JV_UNDEF;
    if (!strcmp(name, "callable")) return v.kind == JV_MACRO || v.kind == JV_FUNC;
    if (!strcmp(name, "sameas")) return same(v, arg);
    if (!strcmp(name, "lower") || !strcmp(name, "upper")) {
        v = jv_to_string(c, v); /* Jinja tests str(value) */
        bool cased = false, up = name[0] == 'u';
        utf8proc_int32_t cp;
        for (utf8proc_ssize_t i = 0, w; i < (utf8proc_ssize_t)v.u.s->len; i += w) {
            w = utf8proc_iterate((const utf8proc_uint8_t *)v.u.s->data + i, (utf8proc_ssize_t)v.u.s->len - i, &cp);
            if (w <= 0) return false;
            bool is_l = utf8proc_islower(cp), is_u = utf8proc_isupper(cp);
            if ((up && is_l) || (!up && is_u)) return false;
            cased |= is_l || is_u;
        }
        return cased;
    }
    if (!strcmp(name, "odd") || !strcmp(name, "even")) {
        int64_t i = want_int(c, v, "odd/even operand");
        return (i % 2 != 0) == (name[0] == 'o');
    }
    if (!strcmp(name, "divisibleby")) {
        if (v.kind == JV_FLOAT || arg.kind == JV_FLOAT) { /* Python: value % num == 0 */
            jv r = jv_binary(c, OP_MOD, v, arg);
            return r.u.f == 0;
        }
        int64_t d = want_int(c, arg, "divisibleby argument");
        if (d == 0) jrt_fail(c, "divisibleby 0");
        return d == -1 || want_int(c, v, "divisibleby operand") % d == 0;
    }
    if (arg.kind == JV_UNDEF && strcmp(name, "eq") && strcmp(name, "equalto") && strcmp(name, "==") &&
        strcmp(name, "ne") && strcmp(name, "!="))
        jrt_fail(c, "test '%s' needs an argument", name);
    if (!strcmp(name, "eq") || !strcmp(name, "equalto") || !strcmp(name, "==")) return jv_equal(v, arg);
    if (!strcmp(name, "ne") || !strcmp(name, "!=")) return !jv_equal(v, arg);
    if (!strcmp(name, "lt") || !strcmp(name, "<") || !strcmp(name, "lessthan")) return jv_compare(c, v, arg) < 0;
    if (!strcmp(name, "le") || !strcmp(name, "<=")) return jv_compare(c, v, arg) <= 0;
    if (!strcmp(name, "gt") || !strcmp(name, ">") || !strcmp(name, "greaterthan")) return jv_compare(c, v, arg) > 0;
    if (!strcmp(name, "ge") || !strcmp(name, ">=")) return jv_compare(c, v, arg) >= 0;
    if (!strcmp(name, "in")) return jv_contains(c, arg, v);
    jrt_fail(c, "unknown test '%s'", name);
}
