/* jinja_lex.c — template text to tokens. Whitespace control lives here: `{%-`/`-%}` strip
 * all whitespace on that side, trim_blocks drops the newline after a block or comment tag,
 * lstrip_blocks drops the spaces/tabs before a block or comment tag that starts its line
 * (`{%+` turns that off for one tag), and one trailing newline of the template is dropped —
 * the configuration Hugging Face uses for chat templates. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja_internal.h"

typedef struct lexer {
    const char *src;
    size_t len, pos;
    size_t lc_off; /* line/col are known up to this offset */
    int line, col;
    const jinja_options *opt;
    jarena *a;
    jerr *e;
    jtoks *out;
} lexer;

static void linecol(lexer *L, size_t off, int *line, int *col)
{
    if (off < L->lc_off) { /* rare: recount from the start */
        L->lc_off = 0;
        L->line = 1;
        L->col = 1;
    }
    for (; L->lc_off < off; L->lc_off++) {
        unsigned char ch = (unsigned char)L->src[L->lc_off];
        if (ch == '\n') {
            L->line++;
            L->col = 1;
        } else if ((ch & 0xC0) != 0x80) {
            L->col++;
        }
    }
    *line = L->line;
    *col = L->col;
}

static _Noreturn void lex_fail(lexer *L, size_t off, const char *msg, const char *arg)
{
    int line, col;
    linecol(L, off, &line, &col);
    jfail(L->e, HEARTH_ERR_FORMAT, line, col, "%s%s", msg, arg ? arg : "");
}

static jtok *push(lexer *L, jtok_kind kind, size_t off)
{
    jtoks *t = L->out;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        jtok *v = ja_alloc(L->a, L->e, cap * sizeof(jtok));
        if (t->n) memcpy(v, t->v, t->n * sizeof(jtok));
        t->v = v;
        t->cap = cap;
    }
    jtok *tk = &t->v[t->n++];
    memset(tk, 0, sizeof *tk);
    tk->kind = kind;
    linecol(L, off, &tk->line, &tk->col);
    return tk;
}

static char *dup(lexer *L, const char *s, size_t n)
{
    char *d = ja_alloc(L->a, L->e, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static void put_utf8(char *d, size_t *n, uint32_t cp)
{
    if (cp < 0x80) {
        d[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        d[(*n)++] = (char)(0xC0 | (cp >> 6));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        d[(*n)++] = (char)(0xE0 | (cp >> 12));
        d[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        d[(*n)++] = (char)(0xF0 | (cp >> 18));
        d[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        d[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* A quoted string literal with Python escapes; L->pos is at the opening quote. */
static void lex_string(lexer *L)
{
    size_t start = L->pos;
    char q = L->src[L->pos++];
    char *d = ja_alloc(L->a, L->e, L->len - L->pos + 1); /* decoded is never longer */
    size_t n = 0;
    for (;;) {
        if (L->pos >= L->len) lex_fail(L, start, "unterminated string literal", NULL);
        char ch = L->src[L->pos++];
        if (ch == q) break;
        if (ch != '\\') {
            d[n++] = ch;
            continue;
        }
        if (L->pos >= L->len) lex_fail(L, start, "unterminated string literal", NULL);
        char esc = L->src[L->pos++];
        const char *simple = strchr("ntrbfv0'\"\\", esc);
        if (simple && esc) {
            static const char to[] = "\n\t\r\b\f\v\0'\"\\";
            d[n++] = to[simple - "ntrbfv0'\"\\"];
        } else if (esc == 'x' || esc == 'u' || esc == 'U') {
            int digits = esc == 'x' ? 2 : esc == 'u' ? 4 : 8;
            uint32_t cp = 0;
            for (int k = 0; k < digits; k++) {
                char h = L->pos < L->len ? L->src[L->pos] : 0;
                int v = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                      : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                if (v < 0) lex_fail(L, L->pos, "bad \\x/\\u escape in string literal", NULL);
                cp = cp * 16 + (uint32_t)v;
                L->pos++;
            }
            if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                lex_fail(L, L->pos, "escape is not a valid code point", NULL);
            put_utf8(d, &n, cp);
        } else { /* Python keeps unknown escapes as written */
            d[n++] = '\\';
            d[n++] = esc;
        }
    }
    jtok *t = push(L, TK_STRING, start);
    t->text = d;
    t->len = n;
    d[n] = 0;
}

static void lex_number(lexer *L)
{
    size_t start = L->pos;
    char buf[64];
    size_t n = 0;
    bool is_float = false;
    while (L->pos < L->len && (is_digit(L->src[L->pos]) || L->src[L->pos] == '_')) {
        if (L->src[L->pos] != '_' && n < sizeof buf - 1) buf[n++] = L->src[L->pos];
        L->pos++;
    }
    /* a fraction only when a digit follows the dot ("x.0.1" keeps attribute access) */
    bool after_dot = L->out->n && L->out->v[L->out->n - 1].kind == TK_OP &&
                     !strcmp(L->out->v[L->out->n - 1].text, ".");
    if (!after_dot && L->pos + 1 < L->len && L->src[L->pos] == '.' && is_digit(L->src[L->pos + 1])) {
        is_float = true;
        if (n < sizeof buf - 1) buf[n++] = '.';
        L->pos++;
        while (L->pos < L->len && (is_digit(L->src[L->pos]) || L->src[L->pos] == '_')) {
            if (L->src[L->pos] != '_' && n < sizeof buf - 1) buf[n++] = L->src[L->pos];
            L->pos++;
        }
    }
    if (!after_dot && L->pos < L->len && (L->src[L->pos] == 'e' || L->src[L->pos] == 'E')) {
        size_t p = L->pos + 1;
        if (p < L->len && (L->src[p] == '+' || L->src[p] == '-')) p++;
        if (p < L->len && is_digit(L->src[p])) {
            is_float = true;
            while (L->pos < p && n < sizeof buf - 1) buf[n++] = L->src[L->pos++];
            while (L->pos < L->len && is_digit(L->src[L->pos])) {
                if (n < sizeof buf - 1) buf[n++] = L->src[L->pos];
                L->pos++;
            }
        }
    }
    buf[n] = 0;
    if (n >= sizeof buf - 1) lex_fail(L, start, "number literal too long", NULL);
    jtok *t = push(L, is_float ? TK_FLOAT : TK_INT, start);
    if (is_float) {
        t->fval = strtod(buf, NULL);
    } else {
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno) lex_fail(L, start, "integer literal out of range: ", buf);
        t->ival = v;
    }
}

static const char *const OPS[] = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%",
                                  "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",",
                                  ".", ":", "|", NULL};

/* Tokens inside {{ }} or {% %} up to and including the close; returns '-' if the close was
 * "-%}" (strip whitespace after), '+' for "+%}" (no trim_blocks), else 0. */
static int lex_tag(lexer *L, bool is_block, size_t open_off)
{
    int depth = 0;
    for (;;) {
        while (L->pos < L->len && is_ws(L->src[L->pos])) L->pos++;
        if (L->pos >= L->len)
            lex_fail(L, open_off, is_block ? "unterminated '{%' tag" : "unterminated '{{' tag",
                     NULL);
        const char *p = L->src + L->pos;
        size_t left = L->len - L->pos;
        const char *close = is_block ? "%}" : "}}";
        bool dash = (p[0] == '-' || p[0] == '+') && left >= 3 && !memcmp(p + 1, close, 2);
        if ((dash || (left >= 2 && !memcmp(p, close, 2))) && (is_block || depth == 0)) {
            push(L, is_block ? TK_BLOCK_END : TK_VAR_END, L->pos);
            L->pos += dash ? 3 : 2;
            return dash ? p[0] : 0;
        }
        char ch = p[0];
        if (ch == '\'' || ch == '"') {
            lex_string(L);
        } else if (is_digit(ch)) {
            lex_number(L);
        } else if (is_name_start(ch)) {
            size_t s = L->pos;
            while (L->pos < L->len && (is_name_start(L->src[L->pos]) || is_digit(L->src[L->pos])))
                L->pos++;
            jtok *t = push(L, TK_NAME, s);
            t->text = dup(L, L->src + s, L->pos - s);
            t->len = L->pos - s;
        } else {
            size_t k = 0;
            for (; OPS[k]; k++)
                if (left >= strlen(OPS[k]) && !memcmp(p, OPS[k], strlen(OPS[k]))) break;
            if (!OPS[k]) {
                char what[8] = {ch, 0};
                lex_fail(L, L->pos, "unexpected character in tag: ", what);
            }
            if (ch == '{') depth++;
            if (ch == '}' && depth > 0) depth--;
            jtok *t = push(L, TK_OP, L->pos);
            t->text = OPS[k];
            L->pos += strlen(OPS[k]);
        }
    }
}

static void skip_ws(lexer *L)
{
    while (L->pos < L->len && is_ws(L->src[L->pos])) L->pos++;
}

static void trim_newline(lexer *L)
{
    if (!L->opt->trim_blocks) return;
    if (L->pos < L->len && L->src[L->pos] == '\n') L->pos++;
    else if (L->pos + 1 < L->len && L->src[L->pos] == '\r' && L->src[L->pos + 1] == '\n') L->pos += 2;
}

/* {% raw %} ... {% endraw %}: L->pos is just after "raw"'s closing tag. */
static void lex_raw(lexer *L, size_t open_off)
{
    size_t s = L->pos;
    for (size_t i = s; i + 1 < L->len; i++) {
        if (L->src[i] != '{' || L->src[i + 1] != '%') continue;
        size_t j = i + 2;
        bool strip_before = j < L->len && L->src[j] == '-';
        if (strip_before) j++;
        while (j < L->len && is_ws(L->src[j])) j++;
        if (L->len - j < 6 || memcmp(L->src + j, "endraw", 6)) continue;
        j += 6;
        while (j < L->len && is_ws(L->src[j])) j++;
        bool strip_after = j < L->len && L->src[j] == '-';
        if (strip_after) j++;
        if (L->len - j < 2 || memcmp(L->src + j, "%}", 2)) continue;
        size_t end = i;
        if (strip_before)
            while (end > s && is_ws(L->src[end - 1])) end--;
        if (end > s) {
            jtok *t = push(L, TK_TEXT, s);
            t->text = dup(L, L->src + s, end - s);
            t->len = end - s;
        }
        L->pos = j + 2;
        if (strip_after) skip_ws(L);
        else trim_newline(L);
        return;
    }
    lex_fail(L, open_off, "'{% raw %}' without '{% endraw %}'", NULL);
}

void jinja_lex(const char *src, size_t len, const jinja_options *opt, jarena *a, jerr *e,
               jtoks *out)
{
    lexer L = {.src = src, .len = len, .opt = opt, .a = a, .e = e, .out = out, .line = 1, .col = 1};
    if (L.len && src[L.len - 1] == '\n') L.len--; /* keep_trailing_newline = False */
    while (L.pos < L.len) {
        size_t j = L.pos;
        while (j + 1 < L.len &&
               !(src[j] == '{' && (src[j + 1] == '{' || src[j + 1] == '%' || src[j + 1] == '#')))
            j++;
        if (j + 1 >= L.len) j = L.len;
        size_t text_end = j;
        if (j < L.len) {
            char kind = src[j + 1], mod = j + 2 < L.len ? src[j + 2] : 0;
            if (mod == '-') {
                while (text_end > L.pos && is_ws(src[text_end - 1])) text_end--;
            } else if (opt->lstrip_blocks && kind != '{' && mod != '+') {
                size_t k = text_end;
                while (k > L.pos && (src[k - 1] == ' ' || src[k - 1] == '\t')) k--;
                if (k == 0 || src[k - 1] == '\n') text_end = k;
            }
        }
        if (text_end > L.pos) {
            jtok *t = push(&L, TK_TEXT, L.pos);
            t->text = dup(&L, src + L.pos, text_end - L.pos);
            t->len = text_end - L.pos;
        }
        if (j >= L.len) break;
        size_t open = j;
        char kind = src[j + 1];
        L.pos = j + 2;
        if (L.pos < L.len && (src[L.pos] == '-' || src[L.pos] == '+')) L.pos++;
        if (kind == '#') {
            size_t k = L.pos;
            while (k + 1 < L.len && !(src[k] == '#' && src[k + 1] == '}')) k++;
            if (k + 1 >= L.len) lex_fail(&L, open, "unterminated comment '{#'", NULL);
            bool strip = k > L.pos && src[k - 1] == '-';
            L.pos = k + 2;
            if (strip) skip_ws(&L);
            else trim_newline(&L);
            continue;
        }
        bool block = kind == '%';
        push(&L, block ? TK_BLOCK_BEGIN : TK_VAR_BEGIN, open);
        size_t first = out->n;
        int close = lex_tag(&L, block, open);
        if (block && out->n == first + 2 && out->v[first].kind == TK_NAME &&
            !strcmp(out->v[first].text, "raw")) {
            out->n -= 3; /* drop BEGIN raw END: the raw text replaces them */
            if (close == '-') skip_ws(&L);
            lex_raw(&L, open);
            continue;
        }
        if (close == '-') skip_ws(&L);
        else if (block && close != '+') trim_newline(&L);
    }
    push(&L, TK_EOF, L.len);
}
