/*
 * unicode.c — code points the way llama.cpp sees them. Its tokenizers decode UTF-8 leniently
 * (overlong forms and surrogates pass, malformed bytes become U+FFFD one byte at a time) and
 * classify code points by their UnicodeData general category plus a fixed \s set; ids only
 * match llama.cpp when we do the same, so this file reproduces those rules with utf8proc's
 * tables instead of the strict decoders a fresh design would use.
 */
#include <stdlib.h>
#include <utf8proc.h>

#include "tokenizer/tok_internal.h"

uint32_t tok_utf8_decode(const uint8_t *s, size_t n, size_t *adv)
{
    uint8_t c = s[0];
    *adv = 1;
    if (c < 0x80) return c;
    if (!(c & 0x40)) return 0xFFFD; /* stray continuation byte */
    if (!(c & 0x20)) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0xFFFD;
        *adv = 2;
        return ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if (!(c & 0x10)) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0xFFFD;
        *adv = 3;
        return ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    if (!(c & 0x08)) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0xFFFD;
        uint32_t cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
                      ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        /* llama.cpp throws on these when re-encoding; we treat them as malformed */
        if (cp > 0x10FFFF) return 0xFFFD;
        *adv = 4;
        return cp;
    }
    return 0xFFFD;
}

size_t tok_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* utf8proc category -> llama.cpp flag (Cn is "undefined", Cc/Cf/Cs/Co are "control"). */
static const uint16_t category_flag[30] = {
    [UTF8PROC_CATEGORY_CN] = UF_UNDEF,
    [UTF8PROC_CATEGORY_LU] = UF_LETTER, [UTF8PROC_CATEGORY_LL] = UF_LETTER,
    [UTF8PROC_CATEGORY_LT] = UF_LETTER, [UTF8PROC_CATEGORY_LM] = UF_LETTER,
    [UTF8PROC_CATEGORY_LO] = UF_LETTER,
    [UTF8PROC_CATEGORY_MN] = UF_MARK, [UTF8PROC_CATEGORY_MC] = UF_MARK,
    [UTF8PROC_CATEGORY_ME] = UF_MARK,
    [UTF8PROC_CATEGORY_ND] = UF_NUMBER, [UTF8PROC_CATEGORY_NL] = UF_NUMBER,
    [UTF8PROC_CATEGORY_NO] = UF_NUMBER,
    [UTF8PROC_CATEGORY_PC] = UF_PUNCT, [UTF8PROC_CATEGORY_PD] = UF_PUNCT,
    [UTF8PROC_CATEGORY_PS] = UF_PUNCT, [UTF8PROC_CATEGORY_PE] = UF_PUNCT,
    [UTF8PROC_CATEGORY_PI] = UF_PUNCT, [UTF8PROC_CATEGORY_PF] = UF_PUNCT,
    [UTF8PROC_CATEGORY_PO] = UF_PUNCT,
    [UTF8PROC_CATEGORY_SM] = UF_SYMBOL, [UTF8PROC_CATEGORY_SC] = UF_SYMBOL,
    [UTF8PROC_CATEGORY_SK] = UF_SYMBOL, [UTF8PROC_CATEGORY_SO] = UF_SYMBOL,
    [UTF8PROC_CATEGORY_ZS] = UF_SEPARATOR, [UTF8PROC_CATEGORY_ZL] = UF_SEPARATOR,
    [UTF8PROC_CATEGORY_ZP] = UF_SEPARATOR,
    [UTF8PROC_CATEGORY_CC] = UF_CONTROL, [UTF8PROC_CATEGORY_CF] = UF_CONTROL,
    [UTF8PROC_CATEGORY_CS] = UF_CONTROL, [UTF8PROC_CATEGORY_CO] = UF_CONTROL,
};

/* Unicode White_Space, the set llama.cpp's \s means */
static bool is_space(uint32_t cp)
{
    if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
    if (cp < 0x85) return false;
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

/* ASCII is by far the common case: a table built from the same rules (checked by a test). */
static const uint16_t ascii_flags[128] = {
#define C UF_CONTROL
#define W (UF_CONTROL | UF_SPACE)
#define P UF_PUNCT
#define S UF_SYMBOL
#define N UF_NUMBER
#define L UF_LETTER
    C, C, C, C, C, C, C, C, C, W, W, W, W, W, C, C, /* 0x00 */
    C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, /* 0x10 */
    UF_SEPARATOR | UF_SPACE, P, P, P, S, P, P, P, P, P, P, S, P, P, P, P, /* 0x20 */
    N, N, N, N, N, N, N, N, N, N, P, P, S, S, S, P, /* 0x30 */
    P, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, /* 0x40 */
    L, L, L, L, L, L, L, L, L, L, L, P, P, P, S, P, /* 0x50 */
    S, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, /* 0x60 */
    L, L, L, L, L, L, L, L, L, L, L, P, S, P, S, C, /* 0x70 */
#undef C
#undef W
#undef P
#undef S
#undef N
#undef L
};

uint16_t tok_cpt_flags(uint32_t cp)
{
    if (cp < 128) return ascii_flags[cp];
    if (cp > 0x10FFFF) return UF_UNDEF;
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
    uint16_t f = (p->category < 30) ? category_flag[p->category] : UF_UNDEF;
    if (is_space(cp)) f |= UF_SPACE;
    return f;
}

uint32_t tok_cpt_tolower(uint32_t cp)
{
    if (cp < 128) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp > 0x10FFFF) return cp;
    return (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
}

uint32_t tok_cpt_nfd_first(uint32_t cp)
{
    if (cp < 0xC0 || cp > 0x10FFFF) return cp;
    utf8proc_int32_t buf[8];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, 8, UTF8PROC_DECOMPOSE,
                                                 &boundclass);
    return n > 0 ? (uint32_t)buf[0] : cp;
}

hearth_status tok_decode_all(const char *text, size_t len, uint32_t **cpts, size_t *n,
                             hearth_error *err)
{
    uint32_t *c = malloc((len ? len : 1) * sizeof *c);
    if (!c) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory decoding %zu bytes", len);
    const uint8_t *s = (const uint8_t *)text;
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        size_t adv;
        c[k++] = tok_utf8_decode(s + i, len - i, &adv);
        i += adv;
    }
    *cpts = c;
    *n = k;
    return HEARTH_OK;
}
