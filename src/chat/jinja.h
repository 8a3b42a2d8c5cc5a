/*
 * jinja.h — hearth's own Jinja2 engine, the subset chat templates use.
 *
 * A template is parsed once (lexer -> parser -> AST) and rendered any number of times with a
 * JSON object of variables. Semantics follow Python Jinja2 as Hugging Face transformers
 * configures it (trim_blocks and lstrip_blocks on, one trailing newline dropped, loop controls,
 * a `tojson` that writes like Python's json.dumps with ensure_ascii=False).
 *
 * Hostile templates are bounded: nesting depth, macro recursion, evaluation steps, memory and
 * output size all have limits, and crossing one is a clean error, never a hang or a crash.
 * Every error names the template position "line L, col C".
 */
#ifndef HEARTH_JINJA_H
#define HEARTH_JINJA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hearth.h"

typedef struct jinja_options {
    bool trim_blocks;        /* drop the first newline after a block tag (default true)   */
    bool lstrip_blocks;      /* strip spaces/tabs before a block tag on its line (true)    */
    uint64_t max_steps;      /* evaluation steps (default 20,000,000)                      */
    size_t max_output;       /* bytes of rendered output (default 16 MiB)                  */
    size_t max_memory;       /* bytes of values created while rendering (default 256 MiB)  */
    int max_depth;           /* nesting of expressions/blocks (default 200)               */
    int max_call_depth;      /* nested macro calls (default 100)                          */
    int64_t now;             /* strftime_now()'s clock, seconds since epoch; 0 = real time  */
} jinja_options;

void jinja_default_options(jinja_options *opt);

typedef struct jinja_template jinja_template;

/* Parses template text (UTF-8). opt may be NULL for the defaults (copied). */
jinja_template *jinja_parse(const char *src, size_t len, const jinja_options *opt,
                            hearth_error *err);
void jinja_free(jinja_template *t);

/* Renders with `vars` (a JSON object; NULL = none). *out is malloc'd and NUL-terminated;
 * *out_len (may be NULL) receives its length. On error *out is NULL. */
hearth_status jinja_render(const jinja_template *t, const json_t *vars, char **out,
                           size_t *out_len, hearth_error *err);

/* Parse + render in one call. */
hearth_status jinja_render_text(const char *src, size_t len, const json_t *vars,
                                const jinja_options *opt, char **out, size_t *out_len,
                                hearth_error *err);

#endif
