/* jinja_value.c — the engine's arena, error unwinding, value constructors, output buffers
 * and the UTF-8 helpers Python string semantics need (lengths and slices count code points). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat/jinja_internal.h"

struct jarena_chunk {
    jarena_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

#define JA_CHUNK 65536

void *ja_alloc(jarena *a, jerr *e, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0) size = 16;
    if (a->limit && (size > a->limit || a->used > a->limit - size))
        jfail(e, HEARTH_ERR_NOMEM, 0, 0, "template needs more than %zu bytes of memory",
              a->limit);
    jarena_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        size_t csize = size > JA_CHUNK / 4 ? size : JA_CHUNK;
        c = malloc(sizeof *c + csize);
        if (!c) jfail(e, HEARTH_ERR_NOMEM, 0, 0, "out of memory (%zu bytes)", size);
        c->size = csize;
        c->used = 0;
        if (size > JA_CHUNK / 4 && a->head) { /* big block: keep the current chunk in front */
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += size;
    a->used += size;
    memset(p, 0, size);
    return p;
}

void ja_free_all(jarena *a)
{
    jarena_chunk *c = a->head;
    while (c) {
        jarena_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->used = 0;
}

_Noreturn void jfail(jerr *e, hearth_status status, int line, int col, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        hearth_fail(e->err, status, "template line %d, col %d: %s", line, col, msg);
    else
        hearth_fail(e->err, status, "template: %s", msg);
    longjmp(e->jump, 1);
}

_Noreturn void jrt_fail(jctx *c, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jfail(&c->e, HEARTH_ERR_FORMAT, c->line, c->col, "%s", msg);
}

jv jv_undef(const char *why) { jv v = {.kind = JV_UNDEF}; v.u.undef = why; return v; }
jv jv_none(void) { jv v = {.kind = JV_NONE}; return v; }
jv jv_bool(bool b) { jv v = {.kind = JV_BOOL}; v.u.b = b; return v; }
jv jv_int(int64_t i) { jv v = {.kind = JV_INT}; v.u.i = i; return v; }
jv jv_float(double f) { jv v = {.kind = JV_FLOAT}; v.u.f = f; return v; }

jstr *jstr_new(jarena *a, jerr *e, const char *s, size_t len)
{
    size_t size;
    if (!hearth_size_add(sizeof(jstr) + 1, len, &size))
        jfail(e, HEARTH_ERR_NOMEM, 0, 0, "string too long");
    jstr *js = ja_alloc(a, e, size);
    js->len = len;
    if (len) memcpy(js->data, s, len);
    js->data[len] = 0;
    return js;
}

jv jv_str(jctx *c, const char *s, size_t len)
{
    jv v = {.kind = JV_STR};
    v.u.s = jstr_new(&c->arena, &c->e, s, len);
    return v;
}

jv jv_cstr(jctx *c, const char *s) { return jv_str(c, s, strlen(s)); }

jv jv_list(jctx *c, size_t cap)
{
    jv v = {.kind = JV_LIST};
    v.u.l = ja_alloc(&c->arena, &c->e, sizeof(jlist));
    if (cap) {
        size_t bytes;
        if (!hearth_size_mul(cap, sizeof(jv), &bytes)) jrt_fail(c, "list too long");
        v.u.l->items = ja_alloc(&c->arena, &c->e, bytes);
        v.u.l->cap = cap;
    }
    return v;
}

void jv_list_push(jctx *c, jlist *l, jv v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8, bytes;
        if (!hearth_size_mul(cap, sizeof(jv), &bytes)) jrt_fail(c, "list too long");
        jv *items = ja_alloc(&c->arena, &c->e, bytes);
        if (l->n) memcpy(items, l->items, l->n * sizeof(jv));
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n++] = v;
}

jv jv_dict(jctx *c, size_t cap)
{
    jv v = {.kind = JV_DICT};
    v.u.d = ja_alloc(&c->arena, &c->e, sizeof(jdict));
    (void)cap;
    return v;
}

jv *jv_dict_get(const jdict *d, const char *key, size_t klen)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->keys[i]->len == klen && !memcmp(d->keys[i]->data, key, klen)) return &d->vals[i];
    return NULL;
}

void jv_dict_set(jctx *c, jdict *d, const char *key, size_t klen, jv v)
{
    jv *slot = jv_dict_get(d, key, klen);
    if (slot) {
        *slot = v;
        return;
    }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8, kb, vb;
        if (!hearth_size_mul(cap, sizeof(jstr *), &kb) || !hearth_size_mul(cap, sizeof(jv), &vb))
            jrt_fail(c, "dict too large");
        jstr **keys = ja_alloc(&c->arena, &c->e, kb);
        jv *vals = ja_alloc(&c->arena, &c->e, vb);
        if (d->n) {
            memcpy(keys, d->keys, d->n * sizeof(jstr *));
            memcpy(vals, d->vals, d->n * sizeof(jv));
        }
        d->keys = keys;
        d->vals = vals;
        d->cap = cap;
    }
    d->keys[d->n] = jstr_new(&c->arena, &c->e, key, klen);
    d->vals[d->n++] = v;
}

const char *jv_type_name(jv v)
{
    switch (v.kind) {
    case JV_UNDEF: return "undefined";
    case JV_NONE: return "none";
    case JV_BOOL: return "bool";
    case JV_INT: return "int";
    case JV_FLOAT: return "float";
    case JV_STR: return "string";
    case JV_LIST: return "list";
    case JV_DICT: return "dict";
    case JV_NS: return "namespace";
    case JV_MACRO: return "macro";
    case JV_FUNC: return "function";
    case JV_LOOP: return "loop";
    }
    return "?";
}

void jbuf_put(jctx *c, jbuf *b, const char *s, size_t len)
{
    if (!len) return;
    if (b == c->out && c->opt->max_output && (b->len + len > c->opt->max_output))
        jrt_fail(c, "output exceeds the limit of %zu bytes", c->opt->max_output);
    if (b->cap - b->len < len + 1) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < len + 1) {
            if (cap > SIZE_MAX / 2) jrt_fail(c, "string too long");
            cap *= 2;
        }
        char *d = ja_alloc(&c->arena, &c->e, cap);
        if (b->len) memcpy(d, b->data, b->len);
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, len);
    b->len += len;
    b->data[b->len] = 0;
}

void jbuf_puts(jctx *c, jbuf *b, const char *s) { jbuf_put(c, b, s, strlen(s)); }

void jbuf_printf(jctx *c, jbuf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) jbuf_put(c, b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

jv jbuf_to_str(jctx *c, jbuf *b) { return jv_str(c, b->data ? b->data : "", b->len); }

size_t utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t utf8_offset(const char *s, size_t len, size_t cp)
{
    size_t i = 0;
    while (i < len && cp > 0) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        cp--;
    }
    return i;
}

/* Python's str.isspace() for the code point at s[i]; *w receives its byte width. */
bool jinja_is_space_at(const char *s, size_t len, size_t i, size_t *w)
{
    unsigned char ch = (unsigned char)s[i];
    *w = 1;
    if (ch < 0x80) return ch == ' ' || (ch >= 0x09 && ch <= 0x0d) || (ch >= 0x1c && ch <= 0x1f);
    uint32_t cp = 0;
    if ((ch & 0xE0) == 0xC0 && i + 1 < len) {
        cp = ((ch & 0x1Fu) << 6) | (s[i + 1] & 0x3F);
        *w = 2;
    } else if ((ch & 0xF0) == 0xE0 && i + 2 < len) {
        cp = ((ch & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3F);
        *w = 3;
    } else {
        *w = (ch & 0xF8) == 0xF0 ? 4 : 1;
        if (i + *w > len) *w = len - i;
        return false;
    }
    return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

void jscope_set(jctx *c, jscope *s, const char *name, jv v)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name)) {
            s->vals[i] = v;
            return;
        }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        const char **names = ja_alloc(&c->arena, &c->e, cap * sizeof(char *));
        jv *vals = ja_alloc(&c->arena, &c->e, cap * sizeof(jv));
        if (s->n) {
            memcpy(names, s->names, s->n * sizeof(char *));
            memcpy(vals, s->vals, s->n * sizeof(jv));
        }
        s->names = names;
        s->vals = vals;
        s->cap = cap;
    }
    s->names[s->n] = name;
    s->vals[s->n++] = v;
}

jv jarg(jv *args, size_t nargs, size_t pos, const char **kwn, jv *kwv, size_t nkw,
        const char *name, jv dflt)
{
    for (size_t i = 0; i < nkw; i++)
        if (name && !strcmp(kwn[i], name)) return kwv[i];
    if (pos < nargs) return args[pos];
    return dflt;
}
