/*
 * grammar_parse.c — GBNF text to a gram, following llama.cpp's grammar syntax:
 *
 *   name ::= alternatives          a rule ends at a newline (except inside parentheses)
 *   a b | c                        sequences and alternatives
 *   "lit\n\"\x41\u00e9"            literals with escapes \n \r \t \\ \" \' \[ \] \- \/ \xHH
 *                                  \uHHHH \UHHHHHHHH
 *   [a-z_] [^"\\] .                character classes (ranges, negation), any character
 *   ( ... )                        groups
 *   x* x+ x? x{m} x{m,} x{m,n} x{,n}  repetition
 *   # comment                      to the end of the line
 *
 * Repetition is desugared into helper rules whose recursion is in tail position, so matching a
 * long repetition never grows the matcher's stacks. Errors say line:column.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sample/grammar.h"

#define MAX_REPEAT 10000u
#define MAX_NEST 256

typedef struct seqbuf { gelem *e; uint32_t n, cap; } seqbuf;

typedef struct prule {
    char *name;
    seqbuf *alts;
    uint32_t n_alts, cap_alts;
    bool defined;
    const char *first_ref; /* where it was first used, for "undefined rule" */
} prule;

typedef struct parser {
    const char *src, *p;
    prule *rules;
    uint32_t n_rules, cap_rules;
    gram *g;
    uint32_t cap_ranges, cap_sets;
    uint32_t *set_hash; /* open addressing: set index + 1, 0 = empty */
    uint32_t set_hash_cap;
    hearth_error *err;
    bool failed;
    int depth;
    uint32_t n_synth;
} parser;

static void perr(parser *P, const char *at, const char *fmt, ...) HEARTH_PRINTF(3, 4);
static void perr(parser *P, const char *at, const char *fmt, ...)
{
    if (P->failed) return;
    P->failed = true;
    int line = 1, col = 1;
    for (const char *s = P->src; s < at && *s; s++) {
        if (*s == '\n') { line++; col = 1; }
        else if (((unsigned char)*s & 0xc0) != 0x80) col++;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hearth_fail(P->err, HEARTH_ERR_FORMAT, "grammar:%d:%d: %s", line, col, msg);
}

static bool seq_push(parser *P, seqbuf *s, uint32_t type, uint32_t value)
{
    if (!sample_grow((void **)&s->e, &s->cap, s->n + 1, sizeof *s->e)) {
        perr(P, P->p, "out of memory");
        return false;
    }
    s->e[s->n++] = (gelem){type, value};
    return true;
}

/* ---- character sets, deduplicated by content ---- */

static uint32_t hash_ranges(const grange *r, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++) {
        h = (h ^ r[i].lo) * 16777619u;
        h = (h ^ r[i].hi) * 16777619u;
    }
    return h ^ n;
}

static bool set_equal(const gram *g, uint32_t s, const grange *r, uint32_t n)
{
    return g->sets[s].n == n && !memcmp(g->ranges + g->sets[s].first, r, n * sizeof *r);
}

static bool set_rehash(parser *P, uint32_t cap)
{
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h) return false;
    for (uint32_t s = 0; s < P->g->n_sets; s++) {
        const gcharset *cs = &P->g->sets[s];
        uint32_t i = hash_ranges(P->g->ranges + cs->first, cs->n) & (cap - 1);
        while (h[i]) i = (i + 1) & (cap - 1);
        h[i] = s + 1;
    }
    free(P->set_hash);
    P->set_hash = h;
    P->set_hash_cap = cap;
    return true;
}

/* Sorts and merges ranges in place; returns the new count. */
static uint32_t normalize_ranges(grange *r, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) { /* insertion sort: classes are short */
        grange x = r[i];
        uint32_t j = i;
        while (j > 0 && r[j - 1].lo > x.lo) { r[j] = r[j - 1]; j--; }
        r[j] = x;
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (m && r[i].lo <= r[m - 1].hi + 1) {
            if (r[i].hi > r[m - 1].hi) r[m - 1].hi = r[i].hi;
        } else {
            r[m++] = r[i];
        }
    }
    return m;
}

static bool add_set(parser *P, const grange *r, uint32_t n, uint32_t *out)
{
    gram *g = P->g;
    if ((g->n_sets + 1) * 2 > P->set_hash_cap && !set_rehash(P, P->set_hash_cap ? P->set_hash_cap * 2 : 64))
        goto oom;
    uint32_t i = hash_ranges(r, n) & (P->set_hash_cap - 1);
    for (; P->set_hash[i]; i = (i + 1) & (P->set_hash_cap - 1))
        if (set_equal(g, P->set_hash[i] - 1, r, n)) { *out = P->set_hash[i] - 1; return true; }
    if (!sample_grow((void **)&g->ranges, &P->cap_ranges, g->n_ranges + n, sizeof *g->ranges)) goto oom;
    if (!sample_grow((void **)&g->sets, &P->cap_sets, g->n_sets + 1, sizeof *g->sets)) goto oom;
    if (n) memcpy(g->ranges + g->n_ranges, r, n * sizeof *r);
    g->sets[g->n_sets] = (gcharset){g->n_ranges, n};
    g->n_ranges += n;
    P->set_hash[i] = g->n_sets + 1;
    *out = g->n_sets++;
    return true;
oom:
    perr(P, P->p, "out of memory");
    return false;
}

/* ---- rules ---- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int32_t rule_find(parser *P, const char *name, size_t len)
{
    for (uint32_t i = 0; i < P->n_rules; i++)
        if (strlen(P->rules[i].name) == len && !memcmp(P->rules[i].name, name, len)) return (int32_t)i;
    return -1;
}

static int32_t rule_add(parser *P, const char *name, size_t len)
{
    if (!sample_grow((void **)&P->rules, &P->cap_rules, P->n_rules + 1, sizeof *P->rules)) goto oom;
    char *copy = malloc(len + 1);
    if (!copy) goto oom;
    memcpy(copy, name, len);
    copy[len] = '\0';
    P->rules[P->n_rules] = (prule){.name = copy};
    return (int32_t)P->n_rules++;
oom:
    perr(P, P->p, "out of memory");
    return -1;
}

static int32_t rule_get(parser *P, const char *name, size_t len)
{
    int32_t r = rule_find(P, name, len);
    return r >= 0 ? r : rule_add(P, name, len);
}

static int32_t synth_rule(parser *P, const char *base)
{
    char name[96];
    int n = snprintf(name, sizeof name, "%s~%u", base, P->n_synth++);
    int32_t r = rule_add(P, name, (size_t)n);
    if (r >= 0) P->rules[r].defined = true;
    return r;
}

/* Appends an alternative (taking ownership of seq's buffer). */
static bool rule_add_alt(parser *P, int32_t r, seqbuf *seq)
{
    prule *R = &P->rules[r];
    if (!sample_grow((void **)&R->alts, &R->cap_alts, R->n_alts + 1, sizeof *R->alts)) {
        free(seq->e);
        perr(P, P->p, "out of memory");
        return false;
    }
    R->alts[R->n_alts++] = *seq;
    *seq = (seqbuf){0};
    return true;
}

/* ---- lexing ---- */

static const char *skip_space(const char *p, bool nested)
{
    for (;;) {
        if (*p == ' ' || *p == '\t' || (nested && (*p == '\n' || *p == '\r'))) p++;
        else if (*p == '#') { while (*p && *p != '\n') p++; }
        else return p;
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes one UTF-8 code point; returns bytes used, 0 when invalid. */
static int utf8_decode(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (u[0] < 0x80) { *cp = u[0]; return 1; }
    int n = u[0] >= 0xf0 && u[0] <= 0xf4 ? 4 : u[0] >= 0xe0 ? (u[0] < 0xf0 ? 3 : 0) : u[0] >= 0xc2 ? 2 : 0;
    if (!n) return 0;
    uint32_t c = u[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (u[i] & 0x3f);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_cp[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return n;
}

/* One character of a literal or class at P->p (escapes decoded). */
static bool parse_char(parser *P, uint32_t *cp)
{
    const char *p = P->p;
    if (*p == '\\') {
        char e = p[1];
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        if (digits) {
            uint32_t v = 0;
            for (int i = 0; i < digits; i++) {
                int h = hexval(p[2 + i]);
                if (h < 0) { perr(P, p, "\\%c needs %d hex digits", e, digits); return false; }
                v = v * 16 + (uint32_t)h;
            }
            if (v > 0x10ffff) { perr(P, p, "code point U+%X is beyond U+10FFFF", v); return false; }
            *cp = v;
            P->p = p + 2 + digits;
            return true;
        }
        const char *from = "nrt\\\"'[]-/";
        const char *to = "\n\r\t\\\"'[]-/";
        const char *f = e ? strchr(from, e) : NULL;
        if (!f) { perr(P, p, "unknown escape '\\%c'", e ? e : ' '); return false; }
        *cp = (unsigned char)to[f - from];
        P->p = p + 2;
        return true;
    }
    int n = utf8_decode(p, cp);
    if (!n) { perr(P, p, "invalid UTF-8"); return false; }
    P->p = p + n;
    return true;
}

static bool parse_literal(parser *P, seqbuf *seq)
{
    const char *start = P->p++;
    while (*P->p != '"') {
        if (!*P->p || *P->p == '\n') { perr(P, start, "unterminated string literal"); return false; }
        uint32_t cp, set;
        if (!parse_char(P, &cp)) return false;
        grange r = {cp, cp};
        if (!add_set(P, &r, 1, &set) || !seq_push(P, seq, GE_CHARS, set)) return false;
    }
    P->p++;
    return true;
}

static bool parse_class(parser *P, seqbuf *seq)
{
    const char *start = P->p++;
    bool negate = *P->p == '^';
    if (negate) P->p++;
    grange *r = NULL;
    uint32_t n = 0, cap = 0;
    bool ok = false;
    while (*P->p != ']') {
        if (!*P->p || *P->p == '\n') { perr(P, start, "unterminated character class"); goto out; }
        uint32_t lo, hi;
        if (!parse_char(P, &lo)) goto out;
        hi = lo;
        if (P->p[0] == '-' && P->p[1] != ']' && P->p[1]) {
            const char *at = P->p++;
            if (!parse_char(P, &hi)) goto out;
            if (hi < lo) { perr(P, at, "range end U+%X is below its start U+%X", hi, lo); goto out; }
        }
        if (!sample_grow((void **)&r, &cap, n + 1, sizeof *r)) { perr(P, P->p, "out of memory"); goto out; }
        r[n++] = (grange){lo, hi};
    }
    P->p++;
    n = normalize_ranges(r, n);
    if (negate) {
        grange *c = malloc((n + 1) * sizeof *c);
        if (!c) { perr(P, P->p, "out of memory"); goto out; }
        uint32_t m = 0, next = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (r[i].lo > next) c[m++] = (grange){next, r[i].lo - 1};
            next = r[i].hi + 1;
        }
        if (next <= 0x10ffff) c[m++] = (grange){next, 0x10ffff};
        free(r);
        r = c;
        n = m;
    }
    uint32_t set;
    ok = add_set(P, r, n, &set) && seq_push(P, seq, GE_CHARS, set);
out:
    free(r);
    return ok;
}

static bool parse_alternates(parser *P, int32_t rule, bool nested);

/* Makes seq[from..n) a single element (wrapping it in a helper rule when it is longer). */
static bool single_element(parser *P, seqbuf *seq, uint32_t from, gelem *out)
{
    if (seq->n - from == 1) { *out = seq->e[from]; seq->n = from; return true; }
    int32_t r = synth_rule(P, "seq");
    if (r < 0) return false;
    seqbuf s = {0};
    for (uint32_t i = from; i < seq->n; i++)
        if (!seq_push(P, &s, seq->e[i].type, seq->e[i].value)) { free(s.e); return false; }
    seq->n = from;
    if (!rule_add_alt(P, r, &s)) return false;
    *out = (gelem){GE_RULE, (uint32_t)r};
    return true;
}

/* x{min,max} (max = UINT32_MAX: unbounded) applied to seq[from..n). */
static bool repeat(parser *P, seqbuf *seq, uint32_t from, uint32_t min, uint32_t max)
{
    gelem x;
    if (!single_element(P, seq, from, &x)) return false;
    for (uint32_t i = 0; i < min; i++)
        if (!seq_push(P, seq, x.type, x.value)) return false;
    if (max == min) return true;
    seqbuf empty = {0}, s = {0};
    if (max == UINT32_MAX) { /* star ::= x star | (empty) */
        int32_t r = synth_rule(P, "star");
        if (r < 0) return false;
        if (!seq_push(P, &s, x.type, x.value) || !seq_push(P, &s, GE_RULE, (uint32_t)r) ||
            !rule_add_alt(P, r, &s) || !rule_add_alt(P, r, &empty)) { free(s.e); return false; }
        return seq_push(P, seq, GE_RULE, (uint32_t)r);
    }
    int32_t inner = -1; /* opt_k ::= x opt_{k+1} | (empty), built from the innermost out */
    for (uint32_t k = 0; k < max - min; k++) {
        int32_t r = synth_rule(P, "opt");
        if (r < 0) return false;
        if (!seq_push(P, &s, x.type, x.value) || (inner >= 0 && !seq_push(P, &s, GE_RULE, (uint32_t)inner)) ||
            !rule_add_alt(P, r, &s) || !rule_add_alt(P, r, &empty)) { free(s.e); return false; }
        inner = r;
    }
    return seq_push(P, seq, GE_RULE, (uint32_t)inner);
}

static bool parse_uint(parser *P, uint32_t *v)
{
    const char *p = P->p;
    if (*p < '0' || *p > '9') return false;
    uint64_t n = 0;
    while (*p >= '0' && *p <= '9') {
        n = n * 10 + (uint64_t)(*p++ - '0');
        if (n > MAX_REPEAT) { perr(P, P->p, "repetition count above %u", MAX_REPEAT); return false; }
    }
    *v = (uint32_t)n;
    P->p = p;
    return true;
}

static bool parse_braces(parser *P, uint32_t *min, uint32_t *max)
{
    const char *start = P->p;
    P->p = skip_space(P->p + 1, true);
    bool has_min = parse_uint(P, min);
    if (P->failed) return false;
    if (!has_min) *min = 0;
    P->p = skip_space(P->p, true);
    if (*P->p == ',') {
        P->p = skip_space(P->p + 1, true);
        if (!parse_uint(P, max)) {
            if (P->failed) return false;
            *max = UINT32_MAX;
        }
        if (!has_min && *max == UINT32_MAX) { perr(P, start, "repetition {,} needs a bound"); return false; }
    } else {
        if (!has_min) { perr(P, start, "expected a number after '{'"); return false; }
        *max = *min;
    }
    P->p = skip_space(P->p, true);
    if (*P->p != '}') { perr(P, P->p, "expected '}' to close the repetition"); return false; }
    P->p++;
    if (*max < *min) { perr(P, start, "repetition {%u,%u}: maximum below minimum", *min, *max); return false; }
    return true;
}

static bool parse_sequence(parser *P, seqbuf *seq, bool nested)
{
    for (;;) {
        P->p = skip_space(P->p, nested);
        char c = *P->p;
        uint32_t from = seq->n;
        const char *item = P->p;
        if (c == '"') {
            if (!parse_literal(P, seq)) return false;
        } else if (c == '[') {
            if (!parse_class(P, seq)) return false;
        } else if (c == '.') {
            grange any = {0, 0x10ffff};
            uint32_t set;
            P->p++;
            if (!add_set(P, &any, 1, &set) || !seq_push(P, seq, GE_CHARS, set)) return false;
        } else if (is_name_char(c)) {
            const char *s = P->p;
            while (is_name_char(*P->p)) P->p++;
            const char *after = skip_space(P->p, nested);
            if (after[0] == ':' && after[1] == ':' && after[2] == '=') {
                perr(P, s, "a new rule starts here: the previous rule must end with a newline");
                return false;
            }
            int32_t r = rule_get(P, s, (size_t)(P->p - s));
            if (r < 0) return false;
            if (!P->rules[r].first_ref) P->rules[r].first_ref = s;
            if (!seq_push(P, seq, GE_RULE, (uint32_t)r)) return false;
        } else if (c == '(') {
            if (++P->depth > MAX_NEST) { perr(P, P->p, "groups nested deeper than %d", MAX_NEST); return false; }
            int32_t r = synth_rule(P, "group");
            P->p++;
            if (r < 0 || !parse_alternates(P, r, true)) return false;
            P->p = skip_space(P->p, true);
            if (*P->p != ')') { perr(P, item, "unclosed '('"); return false; }
            P->p++;
            P->depth--;
            if (!seq_push(P, seq, GE_RULE, (uint32_t)r)) return false;
        } else {
            return true; /* end of the sequence: '|', ')', newline, end, or an error upstream */
        }
        /* postfix operators */
        char o = *P->p;
        uint32_t min, max;
        if (o == '*' || o == '+' || o == '?') {
            P->p++;
            min = o == '+' ? 1 : 0;
            max = o == '?' ? 1 : UINT32_MAX;
        } else if (o == '{') {
            if (!parse_braces(P, &min, &max)) return false;
        } else {
            continue;
        }
        if (!repeat(P, seq, from, min, max)) return false;
        if (*P->p == '*' || *P->p == '+' || *P->p == '?' || *P->p == '{') {
            perr(P, P->p, "two repetition operators in a row: group the first with ( )");
            return false;
        }
    }
}

static bool parse_alternates(parser *P, int32_t rule, bool nested)
{
    for (;;) {
        seqbuf seq = {0};
        if (!parse_sequence(P, &seq, nested) || !rule_add_alt(P, rule, &seq)) { free(seq.e); return false; }
        P->p = skip_space(P->p, nested);
        if (*P->p != '|') return true;
        P->p++;
    }
}

static bool parse_rules(parser *P)
{
    for (;;) {
        P->p = skip_space(P->p, true);
        if (!*P->p) return true;
        const char *s = P->p;
        while (is_name_char(*P->p)) P->p++;
        if (P->p == s) { perr(P, s, "expected a rule name, found '%c'", *s); return false; }
        size_t len = (size_t)(P->p - s);
        P->p = skip_space(P->p, false);
        if (strncmp(P->p, "::=", 3)) { perr(P, P->p, "expected '::=' after rule name '%.*s'", (int)len, s); return false; }
        P->p += 3;
        int32_t r = rule_get(P, s, len);
        if (r < 0) return false;
        if (P->rules[r].defined) { perr(P, s, "rule '%.*s' is defined twice", (int)len, s); return false; }
        P->rules[r].defined = true;
        if (!parse_alternates(P, r, false)) return false;
        P->p = skip_space(P->p, false);
        if (*P->p == ')') { perr(P, P->p, "unmatched ')'"); return false; }
        if (*P->p && *P->p != '\n' && *P->p != '\r') {
            perr(P, P->p, "unexpected '%c'", *P->p);
            return false;
        }
    }
}

/* Lays the parsed rules out as one element array. */
static bool flatten(parser *P)
{
    gram *g = P->g;
    uint32_t n_elems = 0, n_alts = 0;
    for (uint32_t r = 0; r < P->n_rules; r++) {
        n_alts += P->rules[r].n_alts;
        for (uint32_t a = 0; a < P->rules[r].n_alts; a++) n_elems += P->rules[r].alts[a].n + 1;
    }
    g->elems = malloc((n_elems + 1) * sizeof *g->elems);
    g->alts = malloc((n_alts + 1) * sizeof *g->alts);
    g->rules = calloc(P->n_rules + 1, sizeof *g->rules);
    if (!g->elems || !g->alts || !g->rules) { perr(P, P->p, "out of memory"); return false; }
    for (uint32_t r = 0; r < P->n_rules; r++) {
        prule *R = &P->rules[r];
        g->rules[r] = (grule){R->name, g->n_alts, R->n_alts};
        R->name = NULL;
        for (uint32_t a = 0; a < R->n_alts; a++) {
            g->alts[g->n_alts++] = g->n_elems;
            if (R->alts[a].n) memcpy(g->elems + g->n_elems, R->alts[a].e, R->alts[a].n * sizeof *g->elems);
            g->n_elems += R->alts[a].n;
            g->elems[g->n_elems++] = (gelem){GE_END, r};
        }
    }
    g->n_rules = P->n_rules;
    return true;
}

gram *gram_parse(const char *text, const char *root_rule, hearth_error *err)
{
    if (!text) { hearth_fail(err, HEARTH_ERR_INVALID_ARG, "grammar: no text"); return NULL; }
    if (!root_rule) root_rule = "root";
    parser P = {.src = text, .p = text, .err = err};
    P.g = calloc(1, sizeof *P.g);
    if (!P.g) { hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory"); return NULL; }
    bool ok = parse_rules(&P);
    for (uint32_t r = 0; ok && r < P.n_rules; r++)
        if (!P.rules[r].defined) { perr(&P, P.rules[r].first_ref, "undefined rule '%s'", P.rules[r].name); ok = false; }
    int32_t root = ok ? rule_find(&P, root_rule, strlen(root_rule)) : -1;
    if (ok && root < 0) {
        hearth_fail(err, HEARTH_ERR_FORMAT, "grammar: no rule named '%s' to start from", root_rule);
        ok = false;
    }
    if (ok) {
        P.g->root = (uint32_t)root;
        ok = flatten(&P);
    }
    for (uint32_t r = 0; r < P.n_rules; r++) {
        for (uint32_t a = 0; a < P.rules[r].n_alts; a++) free(P.rules[r].alts[a].e);
        free(P.rules[r].alts);
        free(P.rules[r].name);
    }
    free(P.rules);
    free(P.set_hash);
    if (ok && gram_check(P.g, err) != HEARTH_OK) ok = false;
    if (!ok) { gram_free(P.g); return NULL; }
    return P.g;
}

void gram_free(gram *g)
{
    if (!g) return;
    for (uint32_t r = 0; r < g->n_rules; r++) free(g->rules[r].name);
    free(g->rules);
    free(g->elems);
    free(g->alts);
    free(g->ranges);
    free(g->sets);
    free(g->min_from);
    free(g);
}

bool gram_set_has(const gram *g, uint32_t set, uint32_t cp)
{
    const grange *r = g->ranges + g->sets[set].first;
    uint32_t lo = 0, hi = g->sets[set].n;
    while (lo < hi) { /* first range whose hi >= cp */
        uint32_t mid = (lo + hi) / 2;
        if (r[mid].hi < cp) lo = mid + 1;
        else hi = mid;
    }
    return lo < g->sets[set].n && r[lo].lo <= cp;
}
