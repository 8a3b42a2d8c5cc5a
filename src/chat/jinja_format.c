/* jinja_format.c — Python's two string formatting mini-languages as templates meet them:
 * `"%s: %d" % (a, b)` (and the `format` filter, which is the same thing) and
 * `"{} {name}".format(a, name=b)`. Conversions: %s %r %d %i %f %F %e %E %g %G %x %X %o %c %%,
 * with flags, width and precision; str.format fields without a format spec. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja_internal.h"

static jv next_arg(jctx *c, jv *args, size_t nargs, size_t *used)
{
    if (*used >= nargs) jrt_fail(c, "not enough arguments for format string");
    return args[(*used)++];
}

static double as_double(jctx *c, jv v, char conv)
{
    if (v.kind == JV_INT) return (double)v.u.i;
    if (v.kind == JV_FLOAT) return v.u.f;
    if (v.kind == JV_BOOL) return v.u.b;
    jrt_fail(c, "%%%c format: a number is required, not %s", conv, jv_type_name(v));
}

static void pad_put(jctx *c, jbuf *b, const char *s, size_t n, int width, bool left, char fill)
{
    size_t cps = utf8_count(s, n);
    if (!left)
        for (size_t i = cps; (int)i < width; i++) jbuf_put(c, b, &fill, 1);
    jbuf_put(c, b, s, n);
    if (left)
        for (size_t i = cps; (int)i < width; i++) jbuf_puts(c, b, " ");
}

/* fmt % args (args: the tuple's items, or one value); dict supplies %(name)s. */
jv jinja_percent_format(jctx *c, jv fmt, jv *args, size_t nargs, const jdict *named)
{
    const char *p = fmt.u.s->data, *end = p + fmt.u.s->len;
    jbuf b = {0};
    size_t used = 0;
    while (p < end) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        if (!pct) {
            jbuf_put(c, &b, p, (size_t)(end - p));
            break;
        }
        jbuf_put(c, &b, p, (size_t)(pct - p));
        p = pct + 1;
        jv arg = jv_undef(NULL);
        bool have = false;
        if (p < end && *p == '(') {
            const char *close = memchr(p, ')', (size_t)(end - p));
            if (!close || !named) jrt_fail(c, "format: %%(name) needs a mapping argument");
            jv *v = jv_dict_get(named, p + 1, (size_t)(close - p - 1));
            if (!v) jrt_fail(c, "format: no key '%.*s' in the mapping", (int)(close - p - 1), p + 1);
            arg = *v;
            have = true;
            p = close + 1;
        }
        char flags[8] = "";
        size_t nf = 0;
        while (p < end && strchr("-+ 0#", *p) && nf < sizeof flags - 1) flags[nf++] = *p++;
        flags[nf] = 0;
        int width = 0, prec = -1;
        while (p < end && *p >= '0' && *p <= '9') {
            width = width * 10 + (*p++ - '0');
            if (width > 400) jrt_fail(c, "format: field width over 400");
        }
        if (p < end && *p == '.') {
            prec = 0;
            for (p++; p < end && *p >= '0' && *p <= '9' && prec < 10000; p++) prec = prec * 10 + (*p - '0');
        }
        if (p >= end) jrt_fail(c, "format: incomplete format specifier");
        char conv = *p++;
        if (conv == '%') {
            jbuf_puts(c, &b, "%");
            continue;
        }
        if (!have) arg = named && !nargs ? jv_undef(NULL) : next_arg(c, args, nargs, &used);
        bool left = strchr(flags, '-') != NULL;
        char spec[48], tmp[512];
        switch (conv) {
        case 's':
        case 'r': {
            jbuf s = {0};
            if (conv == 's') jv_write(c, &s, arg);
            else jv_repr(c, &s, arg, 0);
            size_t n = s.len;
            if (prec >= 0) n = utf8_offset(s.data ? s.data : "", s.len, (size_t)prec);
            pad_put(c, &b, s.data ? s.data : "", n, width, left, ' ');
            break;
        }
        case 'd': case 'i': case 'x': case 'X': case 'o': case 'c': {
            int64_t iv = arg.kind == JV_INT ? arg.u.i : (int64_t)as_double(c, arg, conv);
            if (conv == 'c') {
                char ch = (char)iv;
                pad_put(c, &b, &ch, 1, width, left, ' ');
                break;
            }
            snprintf(spec, sizeof spec, "%%%s%.0d%s", flags, width,
                     conv == 'x' ? PRIx64 : conv == 'X' ? PRIX64 : conv == 'o' ? PRIo64 : PRId64);
            snprintf(tmp, sizeof tmp, spec, iv);
            jbuf_puts(c, &b, tmp);
            break;
        }
        case 'f': case 'F': case 'e': case 'E': case 'g': case 'G':
            snprintf(spec, sizeof spec, "%%%s%.0d.%d%c", flags, width, prec < 0 ? 6 : HEARTH_MIN(prec, 100), conv);
            snprintf(tmp, sizeof tmp, spec, as_double(c, arg, conv));
            jbuf_puts(c, &b, tmp);
            break;
        default: jrt_fail(c, "unsupported format character '%c'", conv);
        }
    }
    if (used < nargs && !named) jrt_fail(c, "not all arguments converted during string formatting");
    return jbuf_to_str(c, &b);
}

/* "{} {0} {name}".format(...): fields without format specs; {{ and }} are literal braces. */
jv jinja_brace_format(jctx *c, jv fmt, jv *args, size_t nargs, const char **kwn, jv *kwv, size_t nkw)
{
    const char *p = fmt.u.s->data, *end = p + fmt.u.s->len;
    jbuf b = {0};
    size_t auto_index = 0;
    while (p < end) {
        char ch = *p;
        if ((ch == '{' || ch == '}') && p + 1 < end && p[1] == ch) {
            jbuf_put(c, &b, p, 1);
            p += 2;
            continue;
        }
        if (ch == '}') jrt_fail(c, "str.format(): single '}' in format string");
        if (ch != '{') {
            jbuf_put(c, &b, p++, 1);
            continue;
        }
        const char *close = memchr(p, '}', (size_t)(end - p));
        if (!close) jrt_fail(c, "str.format(): unclosed '{' in format string");
        const char *name = p + 1;
        size_t len = (size_t)(close - name);
        if (memchr(name, ':', len) || memchr(name, '!', len) || memchr(name, '.', len) || memchr(name, '[', len))
            jrt_fail(c, "unsupported feature: str.format() field '{%.*s}' (only {}, {N} and {name})", (int)len, name);
        jv v;
        if (len == 0 || (name[0] >= '0' && name[0] <= '9')) {
            size_t idx = len == 0 ? auto_index++ : (size_t)strtoul(name, NULL, 10);
            if (idx >= nargs) jrt_fail(c, "str.format(): replacement index %zu out of range", idx);
            v = args[idx];
        } else {
            size_t k = 0;
            while (k < nkw && (strlen(kwn[k]) != len || memcmp(kwn[k], name, len))) k++;
            if (k == nkw) jrt_fail(c, "str.format(): no argument named '%.*s'", (int)len, name);
            v = kwv[k];
        }
        jv_write(c, &b, v);
        p = close + 1;
    }
    return jbuf_to_str(c, &b);
}
