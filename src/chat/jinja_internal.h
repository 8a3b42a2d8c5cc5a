/*
 * jinja_internal.h — what the pieces of the Jinja engine share: the arena every parse and every
 * render allocates from, runtime values, the token and AST shapes, and the error path.
 *
 * Memory: a parse owns one arena (tokens are transient, the AST lives as long as the template);
 * a render owns another that holds every value it creates and is freed in one go at the end.
 * That is why values carry no reference counts and why errors can unwind with longjmp: nothing
 * outside an arena needs freeing on the way out. The arena also enforces the memory limit.
 */
#ifndef HEARTH_JINJA_INTERNAL_H
#define HEARTH_JINJA_INTERNAL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "chat/jinja.h"

/* ---- arena ---------------------------------------------------------------------------- */

typedef struct jarena_chunk jarena_chunk;
typedef struct jarena {
    jarena_chunk *head;
    size_t used;  /* bytes handed out, all chunks */
    size_t limit; /* 0: none */
} jarena;

/* Where errors go: the message, and the jump back to the entry point (parse or render). */
typedef struct jerr {
    jmp_buf jump;
    hearth_error *err;
} jerr;

void *ja_alloc(jarena *a, jerr *e, size_t size); /* zeroed; longjmps when over the limit */
void ja_free_all(jarena *a);
_Noreturn void jfail(jerr *e, hearth_status status, int line, int col, const char *fmt, ...)
    HEARTH_PRINTF(5, 6);

/* ---- values --------------------------------------------------------------------------- */

typedef enum jv_kind {
    JV_UNDEF, JV_NONE, JV_BOOL, JV_INT, JV_FLOAT, JV_STR, JV_LIST, JV_DICT, JV_NS,
    JV_MACRO, JV_FUNC, JV_LOOP
} jv_kind;

typedef struct jstr { size_t len; char data[]; } jstr;   /* UTF-8, NUL-terminated */
typedef struct jlist jlist;
typedef struct jdict jdict;
typedef struct jmacro jmacro;
typedef struct jloop jloop;

/* Built-in global functions (a JV_FUNC value names one of these). */
typedef enum jfunc_id { JF_RANGE, JF_NAMESPACE, JF_RAISE, JF_STRFTIME, JF_DICT } jfunc_id;

typedef struct jv {
    jv_kind kind;
    union {
        bool b;
        int64_t i;
        double f;
        jstr *s;
        jlist *l;
        jdict *d;        /* JV_DICT and JV_NS */
        jmacro *m;
        jfunc_id fn;
        jloop *loop;
        const char *undef; /* JV_UNDEF: why it is undefined ("'x' is undefined"), for errors */
    } u;
} jv;

struct jlist { size_t n, cap; jv *items; bool tuple; /* prints as (a, b) */ };
struct jdict { size_t n, cap; jstr **keys; jv *vals; };

/* ---- tokens and AST ------------------------------------------------------------------- */

typedef enum jtok_kind {
    TK_EOF, TK_TEXT, TK_VAR_BEGIN, TK_VAR_END, TK_BLOCK_BEGIN, TK_BLOCK_END,
    TK_NAME, TK_STRING, TK_INT, TK_FLOAT, TK_OP
} jtok_kind;

typedef struct jtok {
    jtok_kind kind;
    int line, col;
    const char *text; /* TEXT/NAME/STRING/OP: NUL-terminated (arena) */
    size_t len;       /* TEXT/STRING: byte length (strings may hold NUL) */
    int64_t ival;
    double fval;
} jtok;

typedef struct jtoks { jtok *v; size_t n, cap; } jtoks;

void jinja_lex(const char *src, size_t len, const jinja_options *opt, jarena *a, jerr *e,
               jtoks *out);

typedef enum jnode_kind {
    /* statements */
    N_TEXT, N_OUTPUT, N_IF, N_FOR, N_SET, N_SET_BLOCK, N_MACRO, N_CALL_BLOCK, N_FILTER_BLOCK,
    N_BREAK, N_CONTINUE, N_DO,
    /* expressions */
    E_CONST, E_NAME, E_LIST, E_TUPLE, E_DICT, E_ATTR, E_ITEM, E_SLICE, E_CALL, E_FILTER, E_TEST,
    E_NOT, E_NEG, E_POS, E_BINARY, E_AND, E_OR, E_COMPARE, E_COND
} jnode_kind;

/* Binary and comparison operators (E_BINARY / E_COMPARE op field). */
typedef enum jop {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW, OP_CONCAT,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_NOTIN
} jop;

typedef struct jnode jnode;
typedef struct jnodes { jnode **v; size_t n, cap; } jnodes;

struct jnode {
    jnode_kind kind;
    int op;            /* jop, or for E_TEST: negated */
    int line, col;
    const char *name;  /* E_NAME/E_ATTR/E_FILTER/E_TEST/N_MACRO/N_FILTER_BLOCK; N_SET: ns attr */
    jnode *a, *b, *c;  /* operands; N_IF/N_FOR: a = condition/iterable, b = loop filter */
    jnodes args;       /* call/filter/test positional args; list/tuple/dict items (k,v pairs);
                          E_COMPARE operands; N_MACRO parameter defaults (NULL = none) */
    jnodes kwvals;     /* keyword argument values */
    const char **kwnames;
    const char **names; /* N_FOR/N_SET targets, N_MACRO/N_CALL_BLOCK parameter names */
    size_t n_names;
    int *ops;           /* E_COMPARE: operator per link */
    jnodes body, orelse;
    jv value;           /* E_CONST; N_TEXT (a string) */
};

jnode *jinja_parse_tokens(const jtoks *toks, int max_depth, jarena *a, jerr *e);
bool jinja_filter_known(const char *name);
bool jinja_test_known(const char *name);

/* ---- render state --------------------------------------------------------------------- */

typedef struct jbuf { char *data; size_t len, cap; } jbuf;

typedef struct jscope {
    struct jscope *parent;
    size_t n, cap;
    const char **names;
    jv *vals;
} jscope;

struct jmacro {
    const jnode *def;   /* N_MACRO or N_CALL_BLOCK */
    jscope *closure;
    const char *name;
};

struct jloop {
    size_t index0, length;
    jv prev, next;
    bool has_prev, has_next;
};

typedef struct jctx {
    jarena arena;
    jerr e;
    const jinja_options *opt;
    jbuf *out;          /* where output goes now (a capture redirects it) */
    uint64_t steps;
    int depth;          /* nested evaluation depth (C stack guard) */
    int call_depth;     /* nested macro calls */
    int loop_ctl;       /* 0, 1 = break, 2 = continue pending */
    int line, col;      /* position of the node being evaluated, for errors from helpers */
} jctx;

_Noreturn void jrt_fail(jctx *c, const char *fmt, ...) HEARTH_PRINTF(2, 3);

/* values */
jv jv_undef(const char *why);
jv jv_none(void);
jv jv_bool(bool b);
jv jv_int(int64_t i);
jv jv_float(double f);
jv jv_str(jctx *c, const char *s, size_t len);
jv jv_cstr(jctx *c, const char *s);
jstr *jstr_new(jarena *a, jerr *e, const char *s, size_t len);
jv jv_list(jctx *c, size_t cap);
void jv_list_push(jctx *c, jlist *l, jv v);
jv jv_dict(jctx *c, size_t cap);
void jv_dict_set(jctx *c, jdict *d, const char *key, size_t klen, jv v);
jv *jv_dict_get(const jdict *d, const char *key, size_t klen);
const char *jv_type_name(jv v);

/* buffers */
void jbuf_put(jctx *c, jbuf *b, const char *s, size_t len);
void jbuf_puts(jctx *c, jbuf *b, const char *s);
void jbuf_printf(jctx *c, jbuf *b, const char *fmt, ...) HEARTH_PRINTF(3, 4);
jv jbuf_to_str(jctx *c, jbuf *b);

/* UTF-8 helpers: code point count and byte offset of code point i (clamped to len). */
size_t utf8_count(const char *s, size_t len);
size_t utf8_offset(const char *s, size_t len, size_t cp);
bool jinja_is_space_at(const char *s, size_t len, size_t i, size_t *w);

/* semantics (jinja_ops.c) */
bool jv_truthy(jv v);
bool jv_equal(jv a, jv b);
int jv_compare(jctx *c, jv a, jv b); /* <0 0 >0, fails on incomparable types */
void jv_write(jctx *c, jbuf *b, jv v);       /* str(v) */
void jv_repr(jctx *c, jbuf *b, jv v, int depth);
jv jv_to_string(jctx *c, jv v);
jv jv_binary(jctx *c, int op, jv a, jv b);
bool jv_contains(jctx *c, jv container, jv item);
jv jv_getattr(jctx *c, jv obj, const char *name);
jv jv_getitem(jctx *c, jv obj, jv key);
jv jv_slice(jctx *c, jv obj, jv start, jv stop, jv step);
jlist *jv_iterate(jctx *c, jv v); /* list of items for a for loop / filter */
int64_t jv_length(jctx *c, jv v);

/* JSON (jinja_json.c) */
typedef struct json_t json_t;
jv jv_from_json(jctx *c, const json_t *j, int depth);
typedef struct jtojson_opts { int indent; bool ensure_ascii; bool sort_keys;
                              const char *item_sep, *key_sep; } jtojson_opts;
void jv_tojson(jctx *c, jbuf *b, jv v, const jtojson_opts *o, int depth);
void jv_write_float(jbuf *tmp, jctx *c, double f); /* Python repr of a float */

/* builtins (jinja_filters.c, jinja_methods.c) */
jv jinja_apply_filter(jctx *c, const char *name, jv v, jv *args, size_t nargs,
                      const char **kwn, jv *kwv, size_t nkw);
bool jinja_apply_test(jctx *c, const char *name, jv v, jv *args, size_t nargs);
/* Returns true and sets *out when obj has a method `name`. */
bool jinja_call_method(jctx *c, jv obj, const char *name, jv *args, size_t nargs,
                       const char **kwn, jv *kwv, size_t nkw, jv *out);
jv jinja_call_global(jctx *c, jfunc_id fn, jv *args, size_t nargs, const char **kwn, jv *kwv,
                     size_t nkw);
void jinja_install_globals(jctx *c, jscope *root);
void jscope_set(jctx *c, jscope *s, const char *name, jv v);

/* Python string formatting (jinja_format.c): fmt % args (named: the mapping of %(key)s,
 * or NULL) and fmt.format(*args, **kwargs). */
jv jinja_percent_format(jctx *c, jv fmt, jv *args, size_t nargs, const jdict *named);
jv jinja_brace_format(jctx *c, jv fmt, jv *args, size_t nargs, const char **kwn, jv *kwv, size_t nkw);

/* keyword lookup: value of kwarg `name`, else positional args[pos] if present, else dflt */
jv jarg(jv *args, size_t nargs, size_t pos, const char **kwn, jv *kwv, size_t nkw,
        const char *name, jv dflt);

#endif
