/* gbnf_text.c — writing GBNF text: a growable buffer and character escaping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample/gbnf_text.h"

static bool reserve(gbuf *b, size_t more)
{
    if (b->oom) return false;
    if (b->n + more + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) { b->oom = true; return false; }
    b->s = s;
    b->cap = cap;
    return true;
}

void gbuf_put(gbuf *b, const char *s, size_t n)
{
    if (!reserve(b, n)) return;
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

void gbuf_printf(gbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

void gbuf_char(gbuf *b, uint32_t cp)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == ' ' || cp == '_') {
        char c = (char)cp;
        gbuf_put(b, &c, 1);
    } else if (cp < 0x100) {
        gbuf_printf(b, "\\x%02X", cp);
    } else if (cp < 0x10000) {
        gbuf_printf(b, "\\u%04X", cp);
    } else {
        gbuf_printf(b, "\\U%08X", cp);
    }
}

int gbnf_utf8(const char *s, size_t n, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    if (!n) return 0;
    if (u[0] < 0x80) { *cp = u[0]; return 1; }
    int len = u[0] >= 0xc2 && u[0] <= 0xdf ? 2 : u[0] >= 0xe0 && u[0] <= 0xef ? 3 : u[0] >= 0xf0 && u[0] <= 0xf4 ? 4 : 0;
    if (!len || (size_t)len > n) return 0;
    uint32_t c = u[0] & (0x7fu >> len);
    for (int i = 1; i < len; i++) {
        if ((u[i] & 0xc0) != 0x80) return 0;
        c = (c << 6) | (u[i] & 0x3fu);
    }
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min_cp[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    *cp = c;
    return len;
}

void gbuf_literal(gbuf *b, const char *text, size_t n)
{
    gbuf_put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        int k = gbnf_utf8(text + i, n - i, &cp);
        if (!k) { cp = (unsigned char)text[i]; k = 1; } /* not UTF-8: the byte as a code point */
        gbuf_char(b, cp);
        i += (size_t)k;
    }
    gbuf_put(b, "\"", 1);
}
