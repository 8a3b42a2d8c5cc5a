/*
 * calc.c — the `calc` tool: exact arithmetic over rationals, by recursive descent. No eval, no
 * floating point in the result: 0.1 + 0.2 is exactly 3/10 and prints as 0.3. Numerators and
 * denominators are 128-bit; any overflow is reported, never wrapped.
 *
 *   expr   := term (('+' | '-') term)*
 *   term   := unary (('*' | '/' | '%') unary)*
 *   unary  := ('-' | '+') unary | power
 *   power  := atom ('^' unary)?          right-associative, integer exponents only
 *   atom   := NUMBER | '(' expr ')' | NAME '(' expr (',' expr)* ')'    NAME: abs, min, max
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent.h"
#include "base/base.h"

typedef __int128 i128;
typedef struct { i128 num, den; } rat; /* den > 0, gcd(num, den) == 1 */

typedef struct {
    const char *s, *p;
    int depth;
    hearth_error *err;
    hearth_status st;
} calc;

static bool fail(calc *c, const char *msg)
{
    if (!c->st)
        c->st = hearth_fail(c->err, HEARTH_ERR_INVALID_ARG, "calc: %s at offset %d", msg, (int)(c->p - c->s));
    return false;
}

static i128 gcd(i128 a, i128 b)
{
    if (a < 0) a = -a;
    if (b < 0) b = -b;
    while (b) {
        i128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static bool make(calc *c, i128 num, i128 den, rat *out)
{
    if (den == 0) return fail(c, "division by zero");
    if (den < 0) {
        if (__builtin_sub_overflow((i128)0, num, &num) || __builtin_sub_overflow((i128)0, den, &den))
            return fail(c, "number too large");
    }
    i128 g = gcd(num, den);
    if (g > 1) {
        num /= g;
        den /= g;
    }
    out->num = num;
    out->den = den;
    return true;
}

static bool add(calc *c, rat a, rat b, bool sub, rat *out)
{
    i128 x, y, d;
    if (__builtin_mul_overflow(a.num, b.den, &x) || __builtin_mul_overflow(b.num, a.den, &y) ||
        __builtin_mul_overflow(a.den, b.den, &d) ||
        (sub ? __builtin_sub_overflow(x, y, &x) : __builtin_add_overflow(x, y, &x)))
        return fail(c, "number too large");
    return make(c, x, d, out);
}

static bool mul(calc *c, rat a, rat b, rat *out)
{
    i128 g1 = gcd(a.num, b.den), g2 = gcd(b.num, a.den), n, d;
    if (g1 == 0) g1 = 1;
    if (g2 == 0) g2 = 1;
    if (__builtin_mul_overflow(a.num / g1, b.num / g2, &n) || __builtin_mul_overflow(a.den / g2, b.den / g1, &d))
        return fail(c, "number too large");
    return make(c, n, d, out);
}

static bool divide(calc *c, rat a, rat b, rat *out)
{
    if (b.num == 0) return fail(c, "division by zero");
    rat inv;
    if (!make(c, b.den, b.num, &inv)) return false;
    return mul(c, a, inv, out);
}

static void skip(calc *c)
{
    while (isspace((unsigned char)*c->p)) c->p++;
}

static bool expr(calc *c, rat *out);
static bool unary(calc *c, rat *out);

static bool number(calc *c, rat *out)
{
    i128 num = 0, den = 1;
    bool digits = false, dot = false;
    for (;; c->p++) {
        char ch = *c->p;
        if (ch == '_' && digits) continue; /* 1_000_000 */
        if (ch == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!isdigit((unsigned char)ch)) break;
        digits = true;
        if (__builtin_mul_overflow(num, 10, &num) || __builtin_add_overflow(num, ch - '0', &num) ||
            (dot && __builtin_mul_overflow(den, 10, &den)))
            return fail(c, "number too large");
    }
    if (!digits) return fail(c, "expected a number");
    return make(c, num, den, out);
}

static bool call(calc *c, const char *name, size_t len, rat *out)
{
    rat args[16];
    int n = 0;
    c->p++; /* '(' */
    for (;;) {
        if (n == 16) return fail(c, "too many arguments");
        if (!expr(c, &args[n++])) return false;
        skip(c);
        if (*c->p == ',') {
            c->p++;
            continue;
        }
        if (*c->p != ')') return fail(c, "expected ',' or ')'");
        c->p++;
        break;
    }
    if (len == 3 && !memcmp(name, "abs", 3) && n == 1) {
        *out = args[0];
        if (out->num < 0 && __builtin_sub_overflow((i128)0, out->num, &out->num)) return fail(c, "number too large");
        return true;
    }
    bool is_min = len == 3 && !memcmp(name, "min", 3), is_max = len == 3 && !memcmp(name, "max", 3);
    if (!is_min && !is_max) return fail(c, "unknown function (known: abs, min, max)");
    *out = args[0];
    for (int i = 1; i < n; i++) {
        rat d;
        if (!add(c, args[i], *out, true, &d)) return false;
        if ((is_min && d.num < 0) || (is_max && d.num > 0)) *out = args[i];
    }
    return true;
}

static bool atom(calc *c, rat *out)
{
    skip(c);
    if (*c->p == '(') {
        c->p++;
        if (!expr(c, out)) return false;
        skip(c);
        if (*c->p != ')') return fail(c, "expected ')'");
        c->p++;
        return true;
    }
    if (isalpha((unsigned char)*c->p)) {
        const char *name = c->p;
        while (isalpha((unsigned char)*c->p)) c->p++;
        size_t len = (size_t)(c->p - name);
        skip(c);
        if (*c->p != '(') return fail(c, "unknown name (only abs, min, max functions exist)");
        return call(c, name, len, out);
    }
    return number(c, out);
}

static bool power(calc *c, rat *out)
{
    if (!atom(c, out)) return false;
    skip(c);
    if (*c->p != '^' && !(c->p[0] == '*' && c->p[1] == '*')) return true;
    c->p += *c->p == '^' ? 1 : 2;
    rat e;
    if (!unary(c, &e)) return false;
    if (e.den != 1) return fail(c, "exponent must be an integer");
    if (e.num > 4096 || e.num < -4096) return fail(c, "exponent too large");
    long n = (long)(e.num < 0 ? -e.num : e.num);
    rat base = *out, acc = {1, 1};
    for (long i = 0; i < n; i++)
        if (!mul(c, acc, base, &acc)) return false;
    if (e.num < 0) return divide(c, (rat){1, 1}, acc, out);
    *out = acc;
    return true;
}

static bool unary(calc *c, rat *out)
{
    skip(c);
    if (*c->p == '-' || *c->p == '+') {
        bool neg = *c->p++ == '-';
        if (++c->depth > 200) return fail(c, "expression nested too deeply");
        bool ok = unary(c, out);
        c->depth--;
        if (ok && neg) out->num = -out->num;
        return ok;
    }
    return power(c, out);
}

static bool term(calc *c, rat *out)
{
    if (!unary(c, out)) return false;
    for (;;) {
        skip(c);
        char op = *c->p;
        if ((op != '*' && op != '/' && op != '%') || (op == '*' && c->p[1] == '*')) return true;
        c->p++;
        rat r;
        if (!unary(c, &r)) return false;
        if (op == '*' && !mul(c, *out, r, out)) return false;
        if (op == '/' && !divide(c, *out, r, out)) return false;
        if (op == '%') {
            if (out->den != 1 || r.den != 1) return fail(c, "% needs integers");
            if (r.num == 0) return fail(c, "division by zero");
            out->num %= r.num;
        }
    }
}

static bool expr(calc *c, rat *out)
{
    if (++c->depth > 200) return fail(c, "expression nested too deeply");
    if (!term(c, out)) return false;
    for (;;) {
        skip(c);
        char op = *c->p;
        if (op != '+' && op != '-') break;
        c->p++;
        rat r;
        if (!term(c, &r) || !add(c, *out, r, op == '-', out)) return false;
    }
    c->depth--;
    return true;
}

static int print_i128(char *buf, size_t size, i128 v)
{
    char tmp[48];
    int n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (neg) tmp[n++] = '-';
    int w = 0;
    for (int i = n - 1; i >= 0 && (size_t)w + 1 < size; i--) buf[w++] = tmp[i];
    if (size) buf[w] = 0;
    return n;
}

static void format_fraction(rat r, char *out, size_t size)
{
    char a[48], b[48];
    print_i128(a, sizeof a, r.num);
    print_i128(b, sizeof b, r.den);
    snprintf(out, size, "%s/%s", a, b);
}

/* Integers print as integers, terminating fractions as exact decimals, others as p/q. */
static void format(rat r, char *out, size_t size)
{
    if (r.den == 1) {
        print_i128(out, size, r.num);
        return;
    }
    i128 d = r.den;
    int twos = 0, fives = 0;
    while (d % 2 == 0) d /= 2, twos++;
    while (d % 5 == 0) d /= 5, fives++;
    int places = twos > fives ? twos : fives;
    i128 scale = 1, scaled;
    for (int i = 0; i < places && d == 1; i++)
        if (__builtin_mul_overflow(scale, 10, &scale)) d = 0;
    if (d != 1 || __builtin_mul_overflow(r.num, scale / r.den, &scaled)) {
        format_fraction(r, out, size);
        return;
    }
    /* Exact decimal: print |scaled| padded to places+1 digits, then insert the point. */
    char digits[64], padded[112];
    int n = print_i128(digits, sizeof digits, scaled < 0 ? -scaled : scaled);
    int pad = places + 1 > n ? places + 1 - n : 0;
    snprintf(padded, sizeof padded, "%.*s%s", pad, "0000000000000000000000000000000000000000", digits);
    int len = n + pad;
    snprintf(out, size, "%s%.*s.%s", scaled < 0 ? "-" : "", len - places, padded, padded + len - places);
}

hearth_status agent_calc(const char *expression, char *out, size_t out_size, hearth_error *err)
{
    calc c = {.s = expression, .p = expression, .err = err};
    rat r;
    if (strlen(expression) > 4096)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "calc: expression longer than 4096 bytes");
    if (!expr(&c, &r)) return c.st;
    skip(&c);
    if (*c.p) {
        fail(&c, "unexpected character");
        return c.st;
    }
    format(r, out, out_size);
    return HEARTH_OK;
}
