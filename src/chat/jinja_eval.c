/* jinja_eval.c — walks the AST: statements write to the current output buffer, expressions
 * return values. Every node costs one step of the budget and one level of depth, so runaway
 * loops and recursion end in a clean error. Scoping follows Jinja: a for loop and a macro body
 * get their own scope (which is why templates need namespace()), `if` does not. */
#include <stdlib.h>
#include <string.h>

#include "chat/jinja_internal.h"

struct jinja_template {
    jarena arena;
    jnode *root;
    jinja_options opt;
};

void jinja_default_options(jinja_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->trim_blocks = true;
    opt->lstrip_blocks = true;
    opt->max_steps = 10000000;
    opt->max_output = 16u << 20;
    opt->max_memory = 256u << 20;
    opt->max_depth = 200;
    opt->max_call_depth = 100;
}

static jv eval(jctx *c, const jnode *n, jscope *s);
static void exec(jctx *c, const jnodes *body, jscope *s);

static void step(jctx *c, const jnode *n)
{
    c->line = n->line;
    c->col = n->col;
    if (++c->steps > c->opt->max_steps)
        jrt_fail(c, "rendering exceeded its budget of %llu steps (runaway loop?)",
                 (unsigned long long)c->opt->max_steps);
}

static jscope *scope_new(jctx *c, jscope *parent)
{
    jscope *s = ja_alloc(&c->arena, &c->e, sizeof *s);
    s->parent = parent;
    return s;
}

static bool lookup(const jscope *s, const char *name, jv *out)
{
    for (; s; s = s->parent)
        for (size_t i = s->n; i-- > 0;)
            if (!strcmp(s->names[i], name)) {
                *out = s->vals[i];
                return true;
            }
    return false;
}

static const char *undef_msg(jctx *c, const char *fmt, const char *name)
{
    jbuf b = {0};
    jbuf_printf(c, &b, fmt, name);
    return b.data;
}

static void eval_args(jctx *c, const jnode *n, jscope *s, jv **args, jv **kwv)
{
    *args = n->args.n ? ja_alloc(&c->arena, &c->e, n->args.n * sizeof(jv)) : NULL;
    *kwv = n->kwvals.n ? ja_alloc(&c->arena, &c->e, n->kwvals.n * sizeof(jv)) : NULL;
    for (size_t i = 0; i < n->args.n; i++) (*args)[i] = eval(c, n->args.v[i], s);
    for (size_t i = 0; i < n->kwvals.n; i++) (*kwv)[i] = eval(c, n->kwvals.v[i], s);
}

static jv capture(jctx *c, const jnodes *body, jscope *s)
{
    jbuf buf = {0}, *saved = c->out;
    c->out = &buf;
    exec(c, body, s);
    c->out = saved;
    return jbuf_to_str(c, &buf);
}

static jv call_macro(jctx *c, const jmacro *m, jv *args, size_t nargs, const char **kwn,
                     jv *kwv, size_t nkw, jv caller)
{
    if (++c->call_depth > c->opt->max_call_depth)
        jrt_fail(c, "macro calls nest deeper than %d (infinite recursion?)", c->opt->max_call_depth);
    const jnode *def = m->def;
    jscope *s = scope_new(c, m->closure);
    jv varargs = jv_list(c, 0), kwargs = jv_dict(c, 0);
    for (size_t i = 0; i < def->n_names; i++) {
        jv v;
        bool found = false;
        for (size_t k = 0; k < nkw; k++)
            if (!strcmp(kwn[k], def->names[i])) {
                v = kwv[k];
                found = true;
            }
        if (!found && i < nargs) {
            v = args[i];
            found = true;
        }
        if (!found) {
            const jnode *dflt = def->args.v[i];
            v = dflt ? eval(c, dflt, s) : jv_undef(undef_msg(c, "parameter '%s' was not given", def->names[i]));
        }
        jscope_set(c, s, def->names[i], v);
    }
    for (size_t i = def->n_names; i < nargs; i++) jv_list_push(c, varargs.u.l, args[i]);
    varargs.u.l->tuple = true;
    for (size_t k = 0; k < nkw; k++) {
        bool is_param = false;
        for (size_t i = 0; i < def->n_names; i++) is_param |= !strcmp(kwn[k], def->names[i]);
        if (!is_param) jv_dict_set(c, kwargs.u.d, kwn[k], strlen(kwn[k]), kwv[k]);
    }
    jscope_set(c, s, "varargs", varargs);
    jscope_set(c, s, "kwargs", kwargs);
    if (caller.kind == JV_MACRO) jscope_set(c, s, "caller", caller);
    int saved_ctl = c->loop_ctl;
    jv out = capture(c, &def->body, s);
    c->loop_ctl = saved_ctl;
    c->call_depth--;
    return out;
}

static jv call_value(jctx *c, const jnode *n, jv fn, jv *args, size_t nargs, const char **kwn,
                     jv *kwv, size_t nkw, jv caller)
{
    c->line = n->line;
    c->col = n->col;
    switch (fn.kind) {
    case JV_MACRO: return call_macro(c, fn.u.m, args, nargs, kwn, kwv, nkw, caller);
    case JV_FUNC: return jinja_call_global(c, fn.u.fn, args, nargs, kwn, kwv, nkw);
    case JV_UNDEF:
        if (n->a->kind == E_NAME) jrt_fail(c, "unknown function '%s'", n->a->name);
        jrt_fail(c, "%s", fn.u.undef ? fn.u.undef : "call of an undefined value");
    default: jrt_fail(c, "a %s is not callable", jv_type_name(fn));
    }
}

static jv eval_call(jctx *c, const jnode *n, jscope *s, jv caller)
{
    jv *args, *kwv;
    const jnode *callee = n->a;
    if (callee->kind == E_ATTR) {
        jv obj = eval(c, callee->a, s);
        eval_args(c, n, s, &args, &kwv);
        c->line = n->line;
        c->col = n->col;
        jv out;
        if (jinja_call_method(c, obj, callee->name, args, n->args.n, n->kwnames, kwv,
                              n->kwvals.n, &out))
            return out;
        jv fn = jv_getattr(c, obj, callee->name);
        if (fn.kind == JV_UNDEF)
            jrt_fail(c, "a %s has no method '%s'", jv_type_name(obj), callee->name);
        return call_value(c, n, fn, args, n->args.n, n->kwnames, kwv, n->kwvals.n, caller);
    }
    jv fn = eval(c, callee, s);
    eval_args(c, n, s, &args, &kwv);
    return call_value(c, n, fn, args, n->args.n, n->kwnames, kwv, n->kwvals.n, caller);
}

/* A filter node applied to `base` (used by {% filter %} blocks, where the chain starts with
 * a node whose operand is the captured body). */
static jv eval_filter(jctx *c, const jnode *n, jscope *s, const jv *base)
{
    jv v = n->a ? (n->a->kind == E_FILTER && base ? eval_filter(c, n->a, s, base) : eval(c, n->a, s))
                : *base;
    jv *args, *kwv;
    eval_args(c, n, s, &args, &kwv);
    c->line = n->line;
    c->col = n->col;
    return jinja_apply_filter(c, n->name, v, args, n->args.n, n->kwnames, kwv, n->kwvals.n);
}

static jv eval(jctx *c, const jnode *n, jscope *s)
{
    step(c, n);
    if (++c->depth > c->opt->max_depth * 4)
        jrt_fail(c, "evaluation nests deeper than %d levels", c->opt->max_depth * 4);
    jv r;
    switch (n->kind) {
    case E_CONST: r = n->value; break;
    case E_NAME:
        if (!lookup(s, n->name, &r)) r = jv_undef(undef_msg(c, "'%s' is undefined", n->name));
        break;
    case E_LIST:
    case E_TUPLE:
        r = jv_list(c, n->args.n);
        for (size_t i = 0; i < n->args.n; i++) jv_list_push(c, r.u.l, eval(c, n->args.v[i], s));
        r.u.l->tuple = n->kind == E_TUPLE;
        break;
    case E_DICT:
        r = jv_dict(c, n->args.n / 2);
        for (size_t i = 0; i + 1 < n->args.n; i += 2) {
            jv k = eval(c, n->args.v[i], s), v = eval(c, n->args.v[i + 1], s);
            if (k.kind != JV_STR) jrt_fail(c, "dict keys must be strings, not %s", jv_type_name(k));
            jv_dict_set(c, r.u.d, k.u.s->data, k.u.s->len, v);
        }
        break;
    case E_ATTR: {
        jv obj = eval(c, n->a, s);
        step(c, n);
        r = jv_getattr(c, obj, n->name);
        break;
    }
    case E_ITEM: {
        jv obj = eval(c, n->a, s), key = eval(c, n->b, s);
        step(c, n);
        r = jv_getitem(c, obj, key);
        break;
    }
    case E_SLICE: {
        jv obj = eval(c, n->a, s);
        jv lo = n->b ? eval(c, n->b, s) : jv_none();
        jv hi = n->c ? eval(c, n->c, s) : jv_none();
        jv st = n->args.v[0] ? eval(c, n->args.v[0], s) : jv_none();
        step(c, n);
        r = jv_slice(c, obj, lo, hi, st);
        break;
    }
    case E_CALL: r = eval_call(c, n, s, jv_undef(NULL)); break;
    case E_FILTER: r = eval_filter(c, n, s, NULL); break;
    case E_TEST: {
        jv v = eval(c, n->a, s), *args, *kwv;
        eval_args(c, n, s, &args, &kwv);
        step(c, n);
        r = jv_bool(jinja_apply_test(c, n->name, v, args, n->args.n) != (n->op != 0));
        break;
    }
    case E_NOT: r = jv_bool(!jv_truthy(eval(c, n->a, s))); break;
    case E_NEG:
    case E_POS: {
        jv v = eval(c, n->a, s);
        step(c, n);
        if (v.kind == JV_BOOL) v = jv_int(v.u.b);
        if (v.kind == JV_INT) {
            if (n->kind == E_NEG && v.u.i == INT64_MIN) jrt_fail(c, "integer overflow");
            r = jv_int(n->kind == E_NEG ? -v.u.i : v.u.i);
        } else if (v.kind == JV_FLOAT) {
            r = jv_float(n->kind == E_NEG ? -v.u.f : v.u.f);
        } else {
            jrt_fail(c, "bad operand type for unary %c: %s", n->kind == E_NEG ? '-' : '+',
                     jv_type_name(v));
        }
        break;
    }
    case E_BINARY: {
        jv a = eval(c, n->a, s), b = eval(c, n->b, s);
        step(c, n);
        r = jv_binary(c, n->op, a, b);
        break;
    }
    case E_AND:
        r = eval(c, n->a, s);
        if (jv_truthy(r)) r = eval(c, n->b, s);
        break;
    case E_OR:
        r = eval(c, n->a, s);
        if (!jv_truthy(r)) r = eval(c, n->b, s);
        break;
    case E_COMPARE: {
        jv left = eval(c, n->args.v[0], s);
        r = jv_bool(true);
        for (size_t i = 1; i < n->args.n; i++) {
            jv right = eval(c, n->args.v[i], s);
            step(c, n);
            r = jv_binary(c, n->ops[i - 1], left, right);
            if (!jv_truthy(r)) break;
            left = right;
        }
        break;
    }
    case E_COND:
        if (jv_truthy(eval(c, n->a, s))) r = eval(c, n->b, s);
        else r = n->c ? eval(c, n->c, s) : jv_undef("conditional expression without else");
        break;
    default: jrt_fail(c, "internal error: statement where an expression belongs");
    }
    c->depth--;
    return r;
}

static void assign(jctx *c, const jnode *n, jscope *s, jv v)
{
    if (n->n_names == 1) {
        jscope_set(c, s, n->names[0], v);
        return;
    }
    if (v.kind != JV_LIST) jrt_fail(c, "cannot unpack a %s into %zu names", jv_type_name(v), n->n_names);
    if (v.u.l->n != n->n_names)
        jrt_fail(c, "cannot unpack %zu values into %zu names", v.u.l->n, n->n_names);
    for (size_t i = 0; i < n->n_names; i++) jscope_set(c, s, n->names[i], v.u.l->items[i]);
}

static void exec_for(jctx *c, const jnode *n, jscope *outer)
{
    jv seq = eval(c, n->a, outer);
    jlist *items = jv_iterate(c, seq);
    jscope *s = scope_new(c, outer);
    if (n->b) { /* {% for x in xs if cond %}: filter first, so loop.length counts the kept */
        jv kept = jv_list(c, 0);
        for (size_t i = 0; i < items->n; i++) {
            step(c, n);
            assign(c, n, s, items->items[i]);
            if (jv_truthy(eval(c, n->b, s))) jv_list_push(c, kept.u.l, items->items[i]);
        }
        items = kept.u.l;
    }
    jloop *st = ja_alloc(&c->arena, &c->e, sizeof *st);
    jv loopv = {.kind = JV_LOOP};
    loopv.u.loop = st;
    size_t count = items->n;
    st->length = count;
    for (size_t i = 0; i < count; i++) {
        step(c, n);
        st->index0 = i;
        st->has_prev = i > 0;
        st->has_next = i + 1 < count;
        if (st->has_prev) st->prev = items->items[i - 1];
        if (st->has_next) st->next = items->items[i + 1];
        assign(c, n, s, items->items[i]);
        jscope_set(c, s, "loop", loopv);
        exec(c, &n->body, s);
        if (c->loop_ctl == 1) {
            c->loop_ctl = 0;
            break;
        }
        c->loop_ctl = 0;
    }
    if (count == 0) exec(c, &n->orelse, outer);
}

static void exec(jctx *c, const jnodes *body, jscope *s)
{
    if (++c->depth > c->opt->max_depth * 4)
        jrt_fail(c, "evaluation nests deeper than %d levels", c->opt->max_depth * 4);
    for (size_t i = 0; i < body->n && !c->loop_ctl; i++) {
        const jnode *n = body->v[i];
        step(c, n);
        switch (n->kind) {
        case N_TEXT: jbuf_put(c, c->out, n->value.u.s->data, n->value.u.s->len); break;
        case N_OUTPUT: {
            jv v = eval(c, n->a, s);
            c->line = n->line;
            c->col = n->col;
            jv_write(c, c->out, v);
            break;
        }
        case N_IF:
            if (!n->a || jv_truthy(eval(c, n->a, s))) exec(c, &n->body, s);
            else exec(c, &n->orelse, s);
            break;
        case N_FOR: exec_for(c, n, s); break;
        case N_SET: {
            jv v = eval(c, n->a, s);
            if (n->name) {
                jv ns;
                if (!lookup(s, n->names[0], &ns)) jrt_fail(c, "'%s' is undefined", n->names[0]);
                if (ns.kind != JV_NS)
                    jrt_fail(c, "cannot assign attribute '%s' on a %s (only a namespace)", n->name,
                             jv_type_name(ns));
                jv_dict_set(c, ns.u.d, n->name, strlen(n->name), v);
            } else {
                assign(c, n, s, v);
            }
            break;
        }
        case N_SET_BLOCK: jscope_set(c, s, n->names[0], capture(c, &n->body, s)); break;
        case N_MACRO: {
            jmacro *m = ja_alloc(&c->arena, &c->e, sizeof *m);
            m->def = n;
            m->closure = s;
            m->name = n->name;
            jv v = {.kind = JV_MACRO};
            v.u.m = m;
            jscope_set(c, s, n->name, v);
            break;
        }
        case N_CALL_BLOCK: {
            jmacro *m = ja_alloc(&c->arena, &c->e, sizeof *m);
            m->def = n;
            m->closure = s;
            m->name = "caller";
            jv caller = {.kind = JV_MACRO};
            caller.u.m = m;
            jv_write(c, c->out, eval_call(c, n->a, s, caller));
            break;
        }
        case N_FILTER_BLOCK: {
            jv body_str = capture(c, &n->body, s);
            jv_write(c, c->out, eval_filter(c, n->a, s, &body_str));
            break;
        }
        case N_BREAK: c->loop_ctl = 1; break;
        case N_CONTINUE: c->loop_ctl = 2; break;
        case N_DO: eval(c, n->a, s); break;
        default: jrt_fail(c, "internal error: expression where a statement belongs");
        }
    }
    c->depth--;
}

static bool valid_utf8(const char *s, size_t len, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        unsigned char b = p[i];
        size_t n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
        if (!n || i + n > len || (n == 2 && b < 0xC2) || (n == 4 && b > 0xF4)) {
            *bad = i;
            return false;
        }
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80) {
                *bad = i;
                return false;
            }
        uint32_t cp = n == 3 ? ((b & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) : 0;
        if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) {
            *bad = i;
            return false;
        }
        uint32_t cp4 = n == 4 ? ((b & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) : 0;
        if (n == 4 && (cp4 < 0x10000 || cp4 > 0x10FFFF)) {
            *bad = i;
            return false;
        }
        i += n;
    }
    return true;
}

jinja_template *jinja_parse(const char *src, size_t len, const jinja_options *opt,
                            hearth_error *err)
{
    size_t bad;
    if (!src) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "template: no text");
        return NULL;
    }
    if (!valid_utf8(src, len, &bad)) {
        int line = 1;
        for (size_t i = 0; i < bad; i++) line += src[i] == '\n';
        hearth_fail(err, HEARTH_ERR_FORMAT, "template line %d: invalid UTF-8 at byte %zu", line, bad);
        return NULL;
    }
    jinja_template *t = calloc(1, sizeof *t);
    jerr *e = calloc(1, sizeof *e);
    if (!t || !e) {
        free(t);
        free(e);
        hearth_fail(err, HEARTH_ERR_NOMEM, "template: out of memory");
        return NULL;
    }
    if (opt) t->opt = *opt;
    else jinja_default_options(&t->opt);
    t->arena.limit = t->opt.max_memory;
    e->err = err;
    if (setjmp(e->jump)) {
        ja_free_all(&t->arena);
        free(t);
        free(e);
        return NULL;
    }
    jtoks toks = {0};
    jinja_lex(src, len, &t->opt, &t->arena, e, &toks);
    t->root = jinja_parse_tokens(&toks, t->opt.max_depth, &t->arena, e);
    free(e);
    return t;
}

void jinja_free(jinja_template *t)
{
    if (!t) return;
    ja_free_all(&t->arena);
    free(t);
}

hearth_status jinja_render(const jinja_template *t, const json_t *vars, char **out,
                           size_t *out_len, hearth_error *err)
{
    *out = NULL;
    if (out_len) *out_len = 0;
    if (vars && !json_is_object(vars))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "template variables must be a JSON object");
    jctx *c = calloc(1, sizeof *c);
    jbuf *buf = calloc(1, sizeof *buf);
    if (!c || !buf) {
        free(c);
        free(buf);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "template: out of memory");
    }
    c->opt = &t->opt;
    c->arena.limit = t->opt.max_memory;
    c->e.err = err;
    c->out = buf;
    if (setjmp(c->e.jump)) {
        hearth_status st = err ? err->status : HEARTH_ERR_FORMAT;
        ja_free_all(&c->arena);
        free(c);
        free(buf);
        return st;
    }
    jscope *root = scope_new(c, NULL);
    jinja_install_globals(c, root);
    if (vars) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)vars, key, val) {
            jstr *name = jstr_new(&c->arena, &c->e, key, strlen(key));
            jscope_set(c, root, name->data, jv_from_json(c, val, 0));
        }
    }
    exec(c, &t->root->body, root);
    char *res = malloc(buf->len + 1);
    if (!res) jfail(&c->e, HEARTH_ERR_NOMEM, 0, 0, "out of memory for %zu bytes of output", buf->len);
    if (buf->len) memcpy(res, buf->data, buf->len);
    res[buf->len] = 0;
    *out = res;
    if (out_len) *out_len = buf->len;
    ja_free_all(&c->arena);
    free(c);
    free(buf);
    hearth_error_clear(err);
    return HEARTH_OK;
}

hearth_status jinja_render_text(const char *src, size_t len, const json_t *vars,
                                const jinja_options *opt, char **out, size_t *out_len,
                                hearth_error *err)
{
    *out = NULL;
    jinja_template *t = jinja_parse(src, len, opt, err);
    if (!t) return err ? err->status : HEARTH_ERR_FORMAT;
    hearth_status st = jinja_render(t, vars, out, out_len, err);
    jinja_free(t);
    return st;
}
