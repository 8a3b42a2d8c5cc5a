/* gbnf_text.h — a growable string for writing GBNF, and escaping code points into it. Used by
 * the JSON-Schema compiler (schema.c) and its regex translator (schema_regex.c). */
#ifndef HEARTH_GBNF_TEXT_H
#define HEARTH_GBNF_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef struct gbuf {
    char *s;
    size_t n, cap;
    bool oom;
} gbuf;

void gbuf_printf(gbuf *b, const char *fmt, ...) HEARTH_PRINTF(2, 3);
void gbuf_put(gbuf *b, const char *s, size_t n);
/* cp written so that it means itself inside "..." and inside [...]. */
void gbuf_char(gbuf *b, uint32_t cp);
/* A GBNF literal matching the UTF-8 text exactly: "..." with escapes. */
void gbuf_literal(gbuf *b, const char *text, size_t n);
/* Decodes one UTF-8 character (0 bytes when invalid). */
int gbnf_utf8(const char *s, size_t n, uint32_t *cp);

/* The body of a GBNF rule matching the inside of a JSON string (between the quotes, escaped as
 * JSON needs) whose decoded characters match the ECMA-style regex `pattern`. Unanchored
 * patterns allow any characters around the match. Returns false and fills err. `jchar` names
 * the rule for one arbitrary JSON string character. */
bool schema_regex_to_gbnf(const char *pattern, gbuf *out, const char *jchar, hearth_error *err);

#endif
