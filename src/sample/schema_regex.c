/*
 * schema_regex.c — JSON Schema "pattern" (the simple part of ECMA regex) to GBNF over the
 * characters of a JSON string: literals and escapes (\d \w \s \D \W \S \. ...), '.', classes
 * with ranges and negation, groups ( ) and (?: ), alternation, * + ? {m} {m,} {m,n}, and ^ $
 * at the ends. Each matched character is emitted as JSON spells it inside a string: '"' and
 * '\' escaped, \n \r \t as escapes, other control characters left out (the output then still
 * matches the pattern, it just never uses them). Backreferences, lookaround and the like are
 * refused with a message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample/gbnf_text.h"

typedef struct rx {
    const char *p, *src;
    gbuf *out;
    const char *jchar;
    hearth_error *err;
    bool failed;
    int depth;
} rx;

static bool rx_fail(rx *R, const char *fmt, ...) HEARTH_PRINTF(2, 3);
static bool rx_fail(rx *R, const char *fmt, ...)
{
    if (R->failed) return false;
    R->failed = true;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hearth_fail(R->err, HEARTH_ERR_UNSUPPORTED, "pattern \"%.200s\" at offset %d: %s", R->src, (int)(R->p - R->src), msg);
    return false;
}

typedef struct rrange { uint32_t lo, hi; } rrange;
typedef struct rset { rrange r[64]; int n; } rset;

static void rset_add(rset *s, uint32_t lo, uint32_t hi)
{
    if (s->n < 64) s->r[s->n++] = (rrange){lo, hi};
}

/* Sort + merge, then complement if asked. */
static void rset_finish(rset *s, bool negate)
{
    for (int i = 1; i < s->n; i++)
        for (int j = i; j > 0 && s->r[j - 1].lo > s->r[j].lo; j--) {
            rrange t = s->r[j]; s->r[j] = s->r[j - 1]; s->r[j - 1] = t;
        }
    int m = 0;
    for (int i = 0; i < s->n; i++) {
        if (m && s->r[i].lo <= s->r[m - 1].hi + 1) {
            if (s->r[i].hi > s->r[m - 1].hi) s->r[m - 1].hi = s->r[i].hi;
        } else s->r[m++] = s->r[i];
    }
    s->n = m;
    if (!negate) return;
    rset c = {.n = 0};
    uint32_t next = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->r[i].lo > next) rset_add(&c, next, s->r[i].lo - 1);
        next = s->r[i].hi + 1;
    }
    if (next <= 0x10ffff) rset_add(&c, next, 0x10ffff);
    *s = c;
}

static bool rset_has(const rset *s, uint32_t cp)
{
    for (int i = 0; i < s->n; i++)
        if (s->r[i].lo <= cp && cp <= s->r[i].hi) return true;
    return false;
}

/* Emits the set as a GBNF group of JSON-string characters. */
static void emit_set(rx *R, const rset *s)
{
    gbuf plain = {0};
    for (int i = 0; i < s->n; i++) { /* the set minus '"', '\' and control characters */
        uint32_t lo = s->r[i].lo < 0x20 ? 0x20 : s->r[i].lo, hi = s->r[i].hi;
        for (uint32_t bad = '"'; lo <= hi && bad; bad = bad == '"' ? '\\' : 0) {
            if (lo <= bad && bad <= hi) {
                if (lo < bad) { gbuf_char(&plain, lo); gbuf_put(&plain, "-", 1); gbuf_char(&plain, bad - 1); }
                lo = bad + 1;
            }
        }
        if (lo <= hi) { gbuf_char(&plain, lo); gbuf_put(&plain, "-", 1); gbuf_char(&plain, hi); }
    }
    gbuf *b = R->out;
    if (plain.oom) b->oom = true;
    gbuf_put(b, "(", 1);
    bool first = true;
    if (plain.n) {
        gbuf_put(b, " [", 2);
        gbuf_put(b, plain.s, plain.n);
        gbuf_put(b, "]", 1);
        first = false;
    }
    free(plain.s);
    static const struct { uint32_t cp; const char *esc; } escs[] = {
        {'"', "\"\\\\\\\"\""}, {'\\', "\"\\\\\\\\\""},
        {'\n', "\"\\\\n\""}, {'\t', "\"\\\\t\""}, {'\r', "\"\\\\r\""}};
    for (size_t i = 0; i < sizeof escs / sizeof escs[0]; i++)
        if (rset_has(s, escs[i].cp)) {
            gbuf_printf(b, "%s %s", first ? "" : " |", escs[i].esc);
            first = false;
        }
    if (first) gbuf_put(b, " [^\\x00-\\U0010FFFF]", 19); /* matches nothing: the grammar check says so */
    gbuf_put(b, " )", 2);
}

static bool parse_escape_class(rx *R, rset *s, bool *is_class)
{
    char c = *R->p++;
    *is_class = true;
    switch (c) {
    case 'd': rset_add(s, '0', '9'); return true;
    case 'w': rset_add(s, '0', '9'); rset_add(s, 'A', 'Z'); rset_add(s, 'a', 'z'); rset_add(s, '_', '_'); return true;
    case 's': rset_add(s, ' ', ' '); rset_add(s, '\t', '\r'); return true;
    case 'D': case 'W': case 'S': {
        rset t = {.n = 0};
        R->p--;
        *R->p == 'D' ? rset_add(&t, '0', '9') : (void)0;
        if (*R->p == 'W') { rset_add(&t, '0', '9'); rset_add(&t, 'A', 'Z'); rset_add(&t, 'a', 'z'); rset_add(&t, '_', '_'); }
        if (*R->p == 'S') { rset_add(&t, ' ', ' '); rset_add(&t, '\t', '\r'); }
        R->p++;
        rset_finish(&t, true);
        for (int i = 0; i < t.n; i++) rset_add(s, t.r[i].lo, t.r[i].hi);
        return true;
    }
    default: break;
    }
    *is_class = false;
    uint32_t cp;
    switch (c) {
    case 'n': cp = '\n'; break;
    case 't': cp = '\t'; break;
    case 'r': cp = '\r'; break;
    case 'f': cp = '\f'; break;
    case 'v': cp = '\v'; break;
    case 'u': {
        cp = 0;
        for (int i = 0; i < 4; i++) {
            char h = R->p[i];
            int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (v < 0) return rx_fail(R, "\\u needs 4 hex digits");
            cp = cp * 16 + (uint32_t)v;
        }
        R->p += 4;
        break;
    }
    default:
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || !c)
            return rx_fail(R, "escape '\\%c' is not supported", c ? c : ' ');
        cp = (unsigned char)c;
    }
    rset_add(s, cp, cp);
    return true;
}

static bool read_char(rx *R, uint32_t *cp)
{
    int n = gbnf_utf8(R->p, strlen(R->p), cp);
    if (!n) return rx_fail(R, "invalid UTF-8");
    R->p += n;
    return true;
}

static bool parse_class(rx *R, rset *s)
{
    bool negate = *R->p == '^';
    if (negate) R->p++;
    bool first = true;
    while (*R->p != ']' || first) {
        first = false;
        if (!*R->p) return rx_fail(R, "unterminated '['");
        uint32_t lo;
        if (*R->p == '\\') {
            R->p++;
            rset one = {.n = 0};
            bool is_class;
            if (!parse_escape_class(R, &one, &is_class)) return false;
            for (int i = 0; i < one.n; i++) rset_add(s, one.r[i].lo, one.r[i].hi);
            if (is_class) continue;
            lo = one.r[0].lo;
            s->n--;
        } else if (!read_char(R, &lo)) {
            return false;
        }
        uint32_t hi = lo;
        if (R->p[0] == '-' && R->p[1] && R->p[1] != ']') {
            R->p++;
            if (*R->p == '\\') {
                R->p++;
                rset one = {.n = 0};
                bool is_class;
                if (!parse_escape_class(R, &one, &is_class)) return false;
                if (is_class) return rx_fail(R, "a class escape cannot end a range");
                hi = one.r[0].lo;
            } else if (!read_char(R, &hi)) {
                return false;
            }
            if (hi < lo) return rx_fail(R, "range out of order");
        }
        rset_add(s, lo, hi);
    }
    R->p++;
    rset_finish(s, negate);
    return true;
}

static bool parse_alt(rx *R);

static bool parse_atom(rx *R)
{
    rset s = {.n = 0};
    char c = *R->p;
    if (c == '(') {
        if (++R->depth > 64) return rx_fail(R, "groups nested too deep");
        R->p++;
        if (R->p[0] == '?') {
            if (R->p[1] != ':') return rx_fail(R, "lookaround and named groups are not supported");
            R->p += 2;
        }
        gbuf_put(R->out, "( ", 2);
        if (!parse_alt(R)) return false;
        if (*R->p != ')') return rx_fail(R, "unclosed '('");
        R->p++;
        R->depth--;
        gbuf_put(R->out, " )", 2);
        return true;
    }
    if (c == '[') {
        R->p++;
        if (!parse_class(R, &s)) return false;
    } else if (c == '.') {
        R->p++;
        rset_add(&s, '\n', '\n');
        rset_finish(&s, true);
    } else if (c == '\\') {
        R->p++;
        if (*R->p >= '1' && *R->p <= '9') return rx_fail(R, "backreferences are not supported");
        if (*R->p == 'b' || *R->p == 'B') return rx_fail(R, "word boundaries are not supported");
        bool is_class;
        if (!parse_escape_class(R, &s, &is_class)) return false;
        rset_finish(&s, false);
    } else {
        uint32_t cp;
        if (!read_char(R, &cp)) return false;
        rset_add(&s, cp, cp);
    }
    emit_set(R, &s);
    return true;
}

static bool parse_number(rx *R, unsigned *v)
{
    if (*R->p < '0' || *R->p > '9') return false;
    unsigned n = 0;
    while (*R->p >= '0' && *R->p <= '9') {
        n = n * 10 + (unsigned)(*R->p++ - '0');
        if (n > 1000) return rx_fail(R, "repetition count above 1000");
    }
    *v = n;
    return true;
}

static bool parse_concat(rx *R)
{
    bool empty = true;
    while (*R->p && *R->p != '|' && *R->p != ')') {
        if (*R->p == '$' && (R->p[1] == '\0' || R->p[1] == ')' || R->p[1] == '|'))
            return rx_fail(R, "'$' is only supported at the very end");
        if (*R->p == '*' || *R->p == '+' || *R->p == '?' || *R->p == '{')
            return rx_fail(R, "a repetition needs something before it");
        gbuf_put(R->out, " ", 1);
        if (!parse_atom(R)) return false;
        empty = false;
        char q = *R->p;
        if (q == '*' || q == '+' || q == '?') {
            R->p++;
            gbuf_put(R->out, &q, 1);
        } else if (q == '{') {
            R->p++;
            unsigned lo = 0, hi = 0;
            if (!parse_number(R, &lo)) {
                if (R->failed) return false;
                return rx_fail(R, "a literal '{' must be escaped as \\{");
            }
            hi = lo;
            bool open = false;
            if (*R->p == ',') {
                R->p++;
                if (!parse_number(R, &hi)) { if (R->failed) return false; open = true; }
            }
            if (*R->p != '}') return rx_fail(R, "expected '}'");
            R->p++;
            if (!open && hi < lo) return rx_fail(R, "{m,n} with n < m");
            if (open) gbuf_printf(R->out, "{%u,}", lo);
            else gbuf_printf(R->out, "{%u,%u}", lo, hi);
        } else {
            continue;
        }
        if (*R->p == '?') R->p++; /* lazy: the same set of strings */
        if (*R->p == '*' || *R->p == '+' || *R->p == '{') return rx_fail(R, "possessive or doubled quantifier");
    }
    if (empty) gbuf_put(R->out, " \"\"", 3);
    return true;
}

static bool parse_alt(rx *R)
{
    for (;;) {
        if (!parse_concat(R)) return false;
        if (*R->p != '|') return true;
        R->p++;
        gbuf_put(R->out, " |", 2);
    }
}

bool schema_regex_to_gbnf(const char *pattern, gbuf *out, const char *jchar, hearth_error *err)
{
    size_t len = strlen(pattern);
    bool head = len > 0 && pattern[0] == '^';
    bool tail = len > (size_t)head && pattern[len - 1] == '$' && (len < 2 || pattern[len - 2] != '\\');
    char *body = malloc(len + 1);
    if (!body) { hearth_fail(err, HEARTH_ERR_NOMEM, "pattern: out of memory"); return false; }
    memcpy(body, pattern + head, len - head - tail);
    body[len - head - tail] = '\0';
    rx R = {.p = body, .src = body, .out = out, .jchar = jchar, .err = err};
    if (!head) gbuf_printf(out, " %s*", jchar);
    gbuf_put(out, " (", 2);
    bool ok = parse_alt(&R);
    if (ok && *R.p) ok = rx_fail(&R, "unmatched ')'");
    gbuf_put(out, " )", 2);
    if (!tail) gbuf_printf(out, " %s*", jchar);
    free(body);
    return ok;
}
