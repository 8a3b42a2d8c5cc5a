/* jinja_methods.c — Python methods that templates call on values (str.startswith, str.split,
 * dict.items, list.append, loop.cycle, ...) and the global functions (range, namespace,
 * raise_exception, strftime_now, dict). Also the string helpers the filters share. */
#include <string.h>
#include <time.h>

#include <utf8proc.h>

#include "chat/jinja_internal.h"

static const char *want_str(jctx *c, jv v, const char *what)
{
    if (v.kind != JV_STR) jrt_fail(c, "%s must be a string, not %s", what, jv_type_name(v));
    return v.u.s->data;
}

/* mode: -1 unchanged, 0 lower, 1 upper, 2 capitalize, 3 Python str.title, 4 Jinja |title */
jv jinja_str_case(jctx *c, jv s, int mode)
{
    if (s.kind != JV_STR || mode < 0) return s;
    jbuf b = {0};
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s.u.s->data;
    utf8proc_ssize_t len = (utf8proc_ssize_t)s.u.s->len;
    bool word_start = true, first = true;
    for (utf8proc_ssize_t i = 0, w; i < len; i += w) {
        utf8proc_int32_t cp;
        w = utf8proc_iterate(p + i, len - i, &cp);
        if (w <= 0) { /* cannot happen for validated input; copy the byte */
            jbuf_put(c, &b, (const char *)p + i, 1);
            w = 1;
            continue;
        }
        bool cased = utf8proc_islower(cp) || utf8proc_isupper(cp) ||
                     utf8proc_category(cp) == UTF8PROC_CATEGORY_LT;
        utf8proc_int32_t out = cp;
        switch (mode) {
        case 0: out = utf8proc_tolower(cp); break;
        case 1: out = utf8proc_toupper(cp); break;
        case 2: out = first ? utf8proc_toupper(cp) : utf8proc_tolower(cp); break;
        case 3:
            out = word_start ? utf8proc_toupper(cp) : utf8proc_tolower(cp);
            word_start = !cased;
            break;
        case 4: {
            bool sep = cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || cp == ' ' ||
                       (cp >= 9 && cp <= 13);
            out = sep ? cp : word_start ? utf8proc_toupper(cp) : utf8proc_tolower(cp);
            word_start = sep;
            break;
        }
        }
        first = false;
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t n = utf8proc_encode_char(out, enc);
        jbuf_put(c, &b, (const char *)enc, (size_t)n);
    }
    return jbuf_to_str(c, &b);
}

static size_t cp_width(const char *s, size_t len, size_t i)
{
    return utf8_offset(s + i, len - i, 1);
}

static bool strip_here(const char *s, size_t len, size_t i, size_t w, jv chars)
{
    if (chars.kind != JV_STR) {
        size_t sw;
        return jinja_is_space_at(s, len, i, &sw);
    }
    return memmem(chars.u.s->data, chars.u.s->len, s + i, w) != NULL;
}

jv jinja_str_strip(jctx *c, jv s, jv chars, int which)
{
    if (chars.kind != JV_STR && chars.kind != JV_NONE && chars.kind != JV_UNDEF)
        jrt_fail(c, "strip characters must be a string, not %s", jv_type_name(chars));
    const char *d = s.u.s->data;
    size_t len = s.u.s->len, lo = 0, hi = len;
    if (which & 1)
        while (lo < hi) {
            size_t w = cp_width(d, len, lo);
            if (!strip_here(d, len, lo, w, chars)) break;
            lo += w;
        }
    if (which & 2)
        while (hi > lo) {
            size_t k = hi - 1;
            while (k > lo && ((unsigned char)d[k] & 0xC0) == 0x80) k--;
            if (!strip_here(d, len, k, hi - k, chars)) break;
            hi = k;
        }
    if (lo == 0 && hi == len) return s;
    return jv_str(c, d + lo, hi - lo);
}

jv jinja_str_replace(jctx *c, jv s, jv old, jv new_, int64_t count)
{
    const char *o = want_str(c, old, "replace: old"), *n = want_str(c, new_, "replace: new");
    size_t ol = old.u.s->len, nl = new_.u.s->len, len = s.u.s->len;
    const char *d = s.u.s->data;
    jbuf b = {0};
    size_t i = 0;
    int64_t done = 0;
    if (!ol) { /* Python inserts `new` at every boundary */
        for (; i <= len; done++) {
            if (count >= 0 && done >= count) break;
            jbuf_put(c, &b, n, nl);
            if (i == len) {
                i++;
                break;
            }
            size_t w = cp_width(d, len, i);
            jbuf_put(c, &b, d + i, w);
            i += w;
        }
        if (i < len) jbuf_put(c, &b, d + i, len - i);
        return jbuf_to_str(c, &b);
    }
    while (i < len) {
        const char *hit = count >= 0 && done >= count ? NULL : memmem(d + i, len - i, o, ol);
        if (!hit) break;
        jbuf_put(c, &b, d + i, (size_t)(hit - (d + i)));
        jbuf_put(c, &b, n, nl);
        i = (size_t)(hit - d) + ol;
        done++;
    }
    jbuf_put(c, &b, d + i, len - i);
    return jbuf_to_str(c, &b);
}

static jv str_split(jctx *c, jv s, jv sep, int64_t maxsplit)
{
    jv out = jv_list(c, 0);
    const char *d = s.u.s->data;
    size_t len = s.u.s->len, i = 0;
    if (sep.kind == JV_NONE || sep.kind == JV_UNDEF) { /* runs of whitespace, no empty parts */
        size_t w;
        for (;;) {
            while (i < len && jinja_is_space_at(d, len, i, &w)) i += w;
            if (i >= len) break;
            if (maxsplit >= 0 && (int64_t)out.u.l->n >= maxsplit) {
                size_t end = len;
                while (end > i && jinja_is_space_at(d, len, end - 1, &w)) end--;
                jv_list_push(c, out.u.l, jv_str(c, d + i, end - i));
                break;
            }
            size_t start = i;
            while (i < len && !jinja_is_space_at(d, len, i, &w)) i += cp_width(d, len, i);
            jv_list_push(c, out.u.l, jv_str(c, d + start, i - start));
        }
        return out;
    }
    const char *p = want_str(c, sep, "split separator");
    size_t pl = sep.u.s->len;
    if (!pl) jrt_fail(c, "split: empty separator");
    for (;;) {
        const char *hit = maxsplit >= 0 && (int64_t)out.u.l->n >= maxsplit ? NULL
                                                                            : memmem(d + i, len - i, p, pl);
        if (!hit) break;
        jv_list_push(c, out.u.l, jv_str(c, d + i, (size_t)(hit - (d + i))));
        i = (size_t)(hit - d) + pl;
    }
    jv_list_push(c, out.u.l, jv_str(c, d + i, len - i));
    return out;
}

static bool affix(jctx *c, jv s, jv what, bool start)
{
    if (what.kind == JV_LIST) {
        for (size_t i = 0; i < what.u.l->n; i++)
            if (affix(c, s, what.u.l->items[i], start)) return true;
        return false;
    }
    want_str(c, what, start ? "startswith argument" : "endswith argument");
    size_t n = what.u.s->len;
    if (n > s.u.s->len) return false;
    return !memcmp(s.u.s->data + (start ? 0 : s.u.s->len - n), what.u.s->data, n);
}

static bool str_method(jctx *c, jv s, const char *m, jv *args, size_t nargs, const char **kwn,
                       jv *kwv, size_t nkw, jv *out)
{
#define ARG(pos, kw, dflt) jarg(args, nargs, pos, kwn, kwv, nkw, kw, dflt)
    if (!strcmp(m, "strip")) *out = jinja_str_strip(c, s, ARG(0, "chars", jv_none()), 3);
    else if (!strcmp(m, "lstrip")) *out = jinja_str_strip(c, s, ARG(0, "chars", jv_none()), 1);
    else if (!strcmp(m, "rstrip")) *out = jinja_str_strip(c, s, ARG(0, "chars", jv_none()), 2);
    else if (!strcmp(m, "lower")) *out = jinja_str_case(c, s, 0);
    else if (!strcmp(m, "upper")) *out = jinja_str_case(c, s, 1);
    else if (!strcmp(m, "capitalize")) *out = jinja_str_case(c, s, 2);
    else if (!strcmp(m, "title")) *out = jinja_str_case(c, s, 3);
    else if (!strcmp(m, "startswith") || !strcmp(m, "endswith")) {
        if (!nargs) jrt_fail(c, "%s() needs an argument", m);
        *out = jv_bool(affix(c, s, args[0], m[0] == 's'));
    } else if (!strcmp(m, "split")) {
        jv ms = ARG(1, "maxsplit", jv_int(-1));
        *out = str_split(c, s, ARG(0, "sep", jv_none()), ms.kind == JV_INT ? ms.u.i : -1);
    } else if (!strcmp(m, "replace")) {
        jv cnt = ARG(2, "count", jv_int(-1));
        if (nargs < 2) jrt_fail(c, "replace() needs two arguments");
        *out = jinja_str_replace(c, s, args[0], args[1], cnt.kind == JV_INT ? cnt.u.i : -1);
    } else if (!strcmp(m, "find") || !strcmp(m, "count") || !strcmp(m, "index")) {
        jv sub = ARG(0, "sub", jv_undef(NULL));
        want_str(c, sub, "argument");
        const char *d = s.u.s->data, *hit = memmem(d, s.u.s->len, sub.u.s->data, sub.u.s->len);
        if (m[0] == 'c') {
            int64_t n = 0;
            if (!sub.u.s->len) n = (int64_t)utf8_count(d, s.u.s->len) + 1;
            else
                for (size_t i = 0; (hit = memmem(d + i, s.u.s->len - i, sub.u.s->data, sub.u.s->len));
                     i = (size_t)(hit - d) + sub.u.s->len)
                    n++;
            *out = jv_int(n);
        } else if (!hit && m[0] == 'i') {
            jrt_fail(c, "index(): substring not found");
        } else {
            *out = jv_int(hit ? (int64_t)utf8_count(d, (size_t)(hit - d)) : -1);
        }
    } else if (!strcmp(m, "join")) {
        jlist *l = jv_iterate(c, ARG(0, "iterable", jv_undef(NULL)));
        jbuf b = {0};
        for (size_t i = 0; i < l->n; i++) {
            if (i) jbuf_put(c, &b, s.u.s->data, s.u.s->len);
            jv_write(c, &b, jv_to_string(c, l->items[i]));
        }
        *out = jbuf_to_str(c, &b);
    } else if (!strcmp(m, "removeprefix") || !strcmp(m, "removesuffix")) {
        jv a = ARG(0, "affix", jv_undef(NULL));
        bool pre = m[6] == 'p';
        *out = affix(c, s, a, pre) ? jv_str(c, s.u.s->data + (pre ? a.u.s->len : 0), s.u.s->len - a.u.s->len) : s;
    } else if (!strcmp(m, "isdigit") || !strcmp(m, "isspace") || !strcmp(m, "isalpha") || !strcmp(m, "isalnum")) {
        bool ok = s.u.s->len > 0;
        for (size_t i = 0; i < s.u.s->len && ok; i++) {
            unsigned char ch = (unsigned char)s.u.s->data[i];
            bool dg = ch >= '0' && ch <= '9', al = ((ch | 32) >= 'a' && (ch | 32) <= 'z');
            ok = m[2] == 'd' ? dg : m[2] == 's' ? (ch == ' ' || (ch >= 9 && ch <= 13))
               : m[4] == 'a' && m[5] == 0 ? al : (al || dg);
        }
        *out = jv_bool(ok);
    } else if (!strcmp(m, "format")) {
        *out = jinja_brace_format(c, s, args, nargs, kwn, kwv, nkw);
    } else {
        return false;
    }
    return true;
#undef ARG
}

static bool dict_method(jctx *c, jv d, const char *m, jv *args, size_t nargs, jv *out)
{
    if (!strcmp(m, "items") || !strcmp(m, "keys") || !strcmp(m, "values")) {
        jv l = jv_list(c, d.u.d->n);
        for (size_t i = 0; i < d.u.d->n; i++) {
            jv k = {.kind = JV_STR};
            k.u.s = d.u.d->keys[i];
            if (m[0] == 'k') {
                jv_list_push(c, l.u.l, k);
            } else if (m[0] == 'v') {
                jv_list_push(c, l.u.l, d.u.d->vals[i]);
            } else {
                jv pair = jv_list(c, 2);
                jv_list_push(c, pair.u.l, k);
                jv_list_push(c, pair.u.l, d.u.d->vals[i]);
                pair.u.l->tuple = true;
                jv_list_push(c, l.u.l, pair);
            }
        }
        *out = l;
        return true;
    }
    if (!strcmp(m, "get")) {
        if (!nargs) jrt_fail(c, "get() needs a key");
        jv *v = args[0].kind == JV_STR ? jv_dict_get(d.u.d, args[0].u.s->data, args[0].u.s->len) : NULL;
        *out = v ? *v : nargs > 1 ? args[1] : jv_none();
        return true;
    }
    return false;
}

static bool list_method(jctx *c, jv l, const char *m, jv *args, size_t nargs, jv *out)
{
    if (!strcmp(m, "append")) {
        if (nargs != 1) jrt_fail(c, "append() takes one argument");
        jv_list_push(c, l.u.l, args[0]);
        *out = jv_none();
        return true;
    }
    if (!strcmp(m, "pop")) {
        if (!l.u.l->n) jrt_fail(c, "pop from an empty list");
        int64_t i = nargs && args[0].kind == JV_INT ? args[0].u.i : -1;
        if (i < 0) i += (int64_t)l.u.l->n;
        if (i < 0 || i >= (int64_t)l.u.l->n) jrt_fail(c, "pop index out of range");
        *out = l.u.l->items[i];
        memmove(l.u.l->items + i, l.u.l->items + i + 1, (l.u.l->n - (size_t)i - 1) * sizeof(jv));
        l.u.l->n--;
        return true;
    }
    if (!strcmp(m, "index") || !strcmp(m, "count")) {
        if (nargs != 1) jrt_fail(c, "%s() takes one argument", m);
        int64_t n = 0;
        for (size_t i = 0; i < l.u.l->n; i++)
            if (jv_equal(l.u.l->items[i], args[0])) {
                if (m[0] == 'i') {
                    *out = jv_int((int64_t)i);
                    return true;
                }
                n++;
            }
        if (m[0] == 'i') jrt_fail(c, "index(): value is not in the list");
        *out = jv_int(n);
        return true;
    }
    return false;
}

bool jinja_call_method(jctx *c, jv obj, const char *name, jv *args, size_t nargs,
                       const char **kwn, jv *kwv, size_t nkw, jv *out)
{
    switch (obj.kind) {
    case JV_STR: return str_method(c, obj, name, args, nargs, kwn, kwv, nkw, out);
    case JV_DICT: return dict_method(c, obj, name, args, nargs, out);
    case JV_LIST: return list_method(c, obj, name, args, nargs, out);
    case JV_LOOP:
        if (strcmp(name, "cycle")) return false;
        if (!nargs) jrt_fail(c, "loop.cycle() needs arguments");
        *out = args[obj.u.loop->index0 % nargs];
        return true;
    case JV_UNDEF: jrt_fail(c, "%s", obj.u.undef ? obj.u.undef : "call on an undefined value");
    default: return false;
    }
}

static jv do_range(jctx *c, jv *args, size_t nargs)
{
    int64_t a[3] = {0, 0, 1};
    if (nargs < 1 || nargs > 3) jrt_fail(c, "range() takes 1 to 3 arguments");
    for (size_t i = 0; i < nargs; i++) {
        if (args[i].kind != JV_INT) jrt_fail(c, "range() arguments must be integers");
        a[nargs == 1 ? 1 : i] = args[i].u.i;
    }
    if (a[2] == 0) jrt_fail(c, "range() step must not be zero");
    double count = a[2] > 0 ? ((double)a[1] - (double)a[0]) / (double)a[2]
                            : ((double)a[0] - (double)a[1]) / (double)-a[2];
    if (count > (double)(c->arena.limit / sizeof(jv)))
        jrt_fail(c, "range() of %.0f items is larger than the memory limit", count);
    jv l = jv_list(c, count > 0 ? (size_t)count + 1 : 0);
    for (int64_t v = a[0]; a[2] > 0 ? v < a[1] : v > a[1]; v += a[2]) {
        jv_list_push(c, l.u.l, jv_int(v));
        if (++c->steps > c->opt->max_steps)
            jrt_fail(c, "rendering exceeded its budget of %llu steps", (unsigned long long)c->opt->max_steps);
        if ((a[2] > 0 && v > INT64_MAX - a[2]) || (a[2] < 0 && v < INT64_MIN - a[2])) break;
    }
    return l;
}

jv jinja_call_global(jctx *c, jfunc_id fn, jv *args, size_t nargs, const char **kwn, jv *kwv,
                     size_t nkw)
{
    switch (fn) {
    case JF_RANGE: return do_range(c, args, nargs);
    case JF_RAISE:
        jfail(&c->e, HEARTH_ERR_FORMAT, c->line, c->col, "raise_exception: %s",
              nargs && args[0].kind == JV_STR ? args[0].u.s->data : "(no message)");
    case JF_NAMESPACE:
    case JF_DICT: {
        jv d = jv_dict(c, nkw);
        if (fn == JF_NAMESPACE) d.kind = JV_NS;
        if (nargs > 1) jrt_fail(c, "namespace()/dict() take at most one positional argument");
        if (nargs == 1) {
            if (args[0].kind != JV_DICT) jrt_fail(c, "namespace()/dict() argument must be a mapping");
            for (size_t i = 0; i < args[0].u.d->n; i++)
                jv_dict_set(c, d.u.d, args[0].u.d->keys[i]->data, args[0].u.d->keys[i]->len, args[0].u.d->vals[i]);
        }
        for (size_t i = 0; i < nkw; i++) jv_dict_set(c, d.u.d, kwn[i], strlen(kwn[i]), kwv[i]);
        return d;
    }
    case JF_STRFTIME: {
        if (nargs != 1) jrt_fail(c, "strftime_now() takes one format string");
        const char *fmt = want_str(c, args[0], "strftime_now format");
        if (args[0].u.s->len > 128) jrt_fail(c, "strftime_now format too long");
        time_t now = c->opt->now ? (time_t)c->opt->now : time(NULL);
        struct tm tm;
        if (c->opt->now) gmtime_r(&now, &tm);
        else localtime_r(&now, &tm);
        char buf[512];
        size_t n = strftime(buf, sizeof buf, fmt, &tm);
        return jv_str(c, buf, n);
    }
    }
    jrt_fail(c, "internal error: unknown function");
}

void jinja_install_globals(jctx *c, jscope *root)
{
    static const struct { const char *name; jfunc_id id; } g[] = {
        {"range", JF_RANGE}, {"namespace", JF_NAMESPACE}, {"raise_exception", JF_RAISE},
        {"strftime_now", JF_STRFTIME}, {"dict", JF_DICT}};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(g); i++) {
        jv v = {.kind = JV_FUNC};
        v.u.fn = g[i].id;
        jscope_set(c, root, g[i].name, v);
    }
}

/* Stable merge sort (Python's sort is stable, and templates may rely on it). */
static int sort_cmp(jctx *c, jv a, jv b, const char *attr, bool cs)
{
    if (attr) {
        a = jv_getattr(c, a, attr);
        b = jv_getattr(c, b, attr);
    }
    if (!cs) {
        a = jinja_str_case(c, a, 0);
        b = jinja_str_case(c, b, 0);
    }
    return jv_compare(c, a, b);
}

void jinja_sort(jctx *c, jv *items, size_t n, const char *attr, bool reverse, bool cs)
{
    if (n < 2) return;
    jv *tmp = ja_alloc(&c->arena, &c->e, n * sizeof(jv));
    /* "0"/"1" select a pair element (dictsort by key/value) */
    bool pair = attr && (!strcmp(attr, "0") || !strcmp(attr, "1"));
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = HEARTH_MIN(lo + width, n), hi = HEARTH_MIN(lo + 2 * width, n);
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                jv a = items[i], b = items[j];
                int r;
                if (pair) r = sort_cmp(c, jv_getitem(c, a, jv_int(attr[0] - '0')),
                                       jv_getitem(c, b, jv_int(attr[0] - '0')), NULL, cs);
                else r = sort_cmp(c, a, b, attr, cs);
                if (reverse) r = -r;
                tmp[k++] = r <= 0 ? items[i++] : items[j++];
                c->steps++;
            }
            while (i < mid) tmp[k++] = items[i++];
            while (j < hi) tmp[k++] = items[j++];
        }
        memcpy(items, tmp, n * sizeof(jv));
    }
}
