/* jinja_parse.c — tokens to AST, by recursive descent with Jinja2's operator precedence:
 *   cond-expr < or < and < not < comparisons < + - < ~ < * / // % < ** < unary < postfix,
 * with filters (`|f`) and tests (`is t`) binding to a unary operand. Unknown filters, tests
 * and tags are rejected here, at parse time, with their position; nesting is bounded so a
 * hostile template cannot exhaust the C stack. */
#include <string.h>

#include "chat/jinja_internal.h"

typedef struct parser {
    const jtoks *t;
    size_t i;
    jarena *a;
    jerr *e;
    int depth, max_depth;
    int loops; /* enclosing for loops, for break/continue */
} parser;

static const jtok *peek(parser *p) { return &p->t->v[p->i]; }
static const jtok *peek2(parser *p) { return &p->t->v[p->i + 1 < p->t->n ? p->i + 1 : p->i]; }
static const jtok *next(parser *p)
{
    const jtok *t = &p->t->v[p->i];
    if (t->kind != TK_EOF) p->i++;
    return t;
}

static _Noreturn void perr(parser *p, const jtok *t, const char *fmt, const char *arg)
{
    jfail(p->e, HEARTH_ERR_FORMAT, t->line, t->col, fmt, arg ? arg : "");
}

static const char *tok_desc(const jtok *t)
{
    switch (t->kind) {
    case TK_EOF: return "end of template";
    case TK_TEXT: return "text";
    case TK_VAR_BEGIN: return "'{{'";
    case TK_VAR_END: return "'}}'";
    case TK_BLOCK_BEGIN: return "'{%'";
    case TK_BLOCK_END: return "'%}'";
    case TK_STRING: return "a string";
    case TK_INT: case TK_FLOAT: return "a number";
    case TK_NAME: case TK_OP: return t->text;
    }
    return "?";
}

static bool is_op(const jtok *t, const char *op) { return t->kind == TK_OP && !strcmp(t->text, op); }
static bool is_name(const jtok *t, const char *n) { return t->kind == TK_NAME && !strcmp(t->text, n); }

static void expect_op(parser *p, const char *op)
{
    const jtok *t = peek(p);
    if (!is_op(t, op)) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected '%s', found ", op);
        jfail(p->e, HEARTH_ERR_FORMAT, t->line, t->col, "%s%s", msg, tok_desc(t));
    }
    next(p);
}

static const char *expect_name(parser *p)
{
    const jtok *t = peek(p);
    if (t->kind != TK_NAME) perr(p, t, "expected a name, found %s", tok_desc(t));
    next(p);
    return t->text;
}

static void expect_end(parser *p)
{
    const jtok *t = peek(p);
    if (t->kind != TK_BLOCK_END) perr(p, t, "expected '%%}', found %s", tok_desc(t));
    next(p);
}

static jnode *node(parser *p, jnode_kind kind, const jtok *at)
{
    jnode *n = ja_alloc(p->a, p->e, sizeof *n);
    n->kind = kind;
    n->line = at->line;
    n->col = at->col;
    return n;
}

static void push(parser *p, jnodes *v, jnode *n)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        jnode **nv = ja_alloc(p->a, p->e, cap * sizeof *nv);
        if (v->n) memcpy(nv, v->v, v->n * sizeof *nv);
        v->v = nv;
        v->cap = cap;
    }
    v->v[v->n++] = n;
}

static void enter(parser *p, const jtok *t)
{
    if (++p->depth > p->max_depth)
        jfail(p->e, HEARTH_ERR_FORMAT, t->line, t->col, "template nests deeper than %d levels",
              p->max_depth);
}

static jnode *parse_expr(parser *p);
static jnode *parse_logic(parser *p, bool is_or);
static jnode *parse_unary(parser *p, bool with_filter);

/* Call arguments after '(' up to ')': positional into n->args, keyword into kwnames/kwvals. */
static void parse_args(parser *p, jnode *n)
{
    size_t cap = 0;
    while (!is_op(peek(p), ")")) {
        const jtok *t = peek(p);
        if (is_op(t, "*") || is_op(t, "**")) perr(p, t, "unsupported feature: %s-arguments", t->text);
        if (t->kind == TK_NAME && is_op(peek2(p), "=")) {
            next(p);
            next(p);
            if (n->kwvals.n == cap) {
                cap = cap ? cap * 2 : 4;
                const char **kn = ja_alloc(p->a, p->e, cap * sizeof *kn);
                if (n->kwvals.n) memcpy(kn, n->kwnames, n->kwvals.n * sizeof *kn);
                n->kwnames = kn;
            }
            n->kwnames[n->kwvals.n] = t->text;
            push(p, &n->kwvals, parse_expr(p));
        } else {
            if (n->kwvals.n) perr(p, t, "positional argument after keyword argument%s", NULL);
            push(p, &n->args, parse_expr(p));
        }
        if (!is_op(peek(p), ",")) break;
        next(p);
    }
    expect_op(p, ")");
}

static jnode *parse_primary(parser *p)
{
    const jtok *t = peek(p);
    enter(p, t);
    jnode *n;
    if (t->kind == TK_NAME) {
        next(p);
        n = node(p, E_CONST, t);
        const char *s = t->text;
        if (!strcmp(s, "true") || !strcmp(s, "True")) n->value = jv_bool(true);
        else if (!strcmp(s, "false") || !strcmp(s, "False")) n->value = jv_bool(false);
        else if (!strcmp(s, "none") || !strcmp(s, "None")) n->value = jv_none();
        else {
            n->kind = E_NAME;
            n->name = s;
        }
    } else if (t->kind == TK_STRING) {
        /* adjacent literals concatenate: "a" "b" */
        size_t len = 0, k = p->i;
        while (p->t->v[k].kind == TK_STRING) len += p->t->v[k++].len;
        jstr *s = jstr_new(p->a, p->e, "", 0);
        if (k > p->i + 1) {
            s = ja_alloc(p->a, p->e, sizeof(jstr) + len + 1);
            s->len = 0;
            while (peek(p)->kind == TK_STRING) {
                const jtok *st = next(p);
                memcpy(s->data + s->len, st->text, st->len);
                s->len += st->len;
            }
            s->data[s->len] = 0;
        } else {
            next(p);
            s = jstr_new(p->a, p->e, t->text, t->len);
        }
        n = node(p, E_CONST, t);
        n->value.kind = JV_STR;
        n->value.u.s = s;
    } else if (t->kind == TK_INT || t->kind == TK_FLOAT) {
        next(p);
        n = node(p, E_CONST, t);
        n->value = t->kind == TK_INT ? jv_int(t->ival) : jv_float(t->fval);
    } else if (is_op(t, "(")) {
        next(p);
        if (is_op(peek(p), ")")) {
            next(p);
            n = node(p, E_TUPLE, t);
        } else {
            n = parse_expr(p);
            if (is_op(peek(p), ",")) {
                jnode *tu = node(p, E_TUPLE, t);
                push(p, &tu->args, n);
                while (is_op(peek(p), ",")) {
                    next(p);
                    if (is_op(peek(p), ")")) break;
                    push(p, &tu->args, parse_expr(p));
                }
                n = tu;
            }
            expect_op(p, ")");
        }
    } else if (is_op(t, "[")) {
        next(p);
        n = node(p, E_LIST, t);
        while (!is_op(peek(p), "]")) {
            push(p, &n->args, parse_expr(p));
            if (!is_op(peek(p), ",")) break;
            next(p);
        }
        expect_op(p, "]");
    } else if (is_op(t, "{")) {
        next(p);
        n = node(p, E_DICT, t);
        while (!is_op(peek(p), "}")) {
            push(p, &n->args, parse_expr(p));
            expect_op(p, ":");
            push(p, &n->args, parse_expr(p));
            if (!is_op(peek(p), ",")) break;
            next(p);
        }
        expect_op(p, "}");
    } else {
        perr(p, t, "unexpected %s in expression", tok_desc(t));
    }
    p->depth--;
    return n;
}

static jnode *parse_postfix(parser *p, jnode *n)
{
    for (;;) {
        const jtok *t = peek(p);
        if (is_op(t, ".")) {
            next(p);
            const jtok *a = next(p);
            if (a->kind == TK_NAME) {
                jnode *m = node(p, E_ATTR, t);
                m->a = n;
                m->name = a->text;
                n = m;
            } else if (a->kind == TK_INT) {
                jnode *m = node(p, E_ITEM, t);
                m->a = n;
                m->b = node(p, E_CONST, a);
                m->b->value = jv_int(a->ival);
                n = m;
            } else {
                perr(p, a, "expected an attribute name after '.', found %s", tok_desc(a));
            }
        } else if (is_op(t, "[")) {
            next(p);
            jnode *lo = NULL, *hi = NULL, *step = NULL;
            bool slice = false;
            if (!is_op(peek(p), ":")) lo = parse_expr(p);
            if (is_op(peek(p), ":")) {
                slice = true;
                next(p);
                if (!is_op(peek(p), ":") && !is_op(peek(p), "]")) hi = parse_expr(p);
                if (is_op(peek(p), ":")) {
                    next(p);
                    if (!is_op(peek(p), "]")) step = parse_expr(p);
                }
            }
            if (is_op(peek(p), ",")) perr(p, peek(p), "unsupported feature: tuple subscripts%s", NULL);
            expect_op(p, "]");
            jnode *m = node(p, slice ? E_SLICE : E_ITEM, t);
            m->a = n;
            m->b = lo;
            if (slice) {
                m->c = hi;
                push(p, &m->args, step);
            }
            n = m;
        } else if (is_op(t, "(")) {
            next(p);
            jnode *m = node(p, E_CALL, t);
            m->a = n;
            parse_args(p, m);
            n = m;
        } else {
            return n;
        }
    }
}

/* Whether the token can start the bare argument of a test (`x is divisibleby 3`). */
static bool starts_test_arg(const jtok *t)
{
    if (t->kind == TK_STRING || t->kind == TK_INT || t->kind == TK_FLOAT) return true;
    if (is_op(t, "[") || is_op(t, "{") || is_op(t, "-")) return true;
    if (t->kind != TK_NAME) return false;
    static const char *const stop[] = {"else", "or", "and", "if", "not", "in", "is", NULL};
    for (int i = 0; stop[i]; i++)
        if (!strcmp(t->text, stop[i])) return false;
    return true;
}

/* NAME [(args)] of a filter applied to operand. */
static jnode *parse_filter_call(parser *p, jnode *operand)
{
    const jtok *nt = peek(p);
    jnode *f = node(p, E_FILTER, nt);
    f->name = expect_name(p);
    if (!jinja_filter_known(f->name)) perr(p, nt, "unknown filter '%s'", f->name);
    f->a = operand;
    if (is_op(peek(p), "(")) {
        next(p);
        parse_args(p, f);
    }
    return f;
}

static jnode *parse_filter_expr(parser *p, jnode *n)
{
    for (;;) {
        const jtok *t = peek(p);
        if (is_op(t, "|")) {
            next(p);
            n = parse_filter_call(p, n);
        } else if (is_name(t, "is")) {
            next(p);
            jnode *f = node(p, E_TEST, t);
            if (is_name(peek(p), "not")) {
                next(p);
                f->op = 1;
            }
            const jtok *nt = peek(p);
            const char *name;
            if (nt->kind == TK_NAME) name = expect_name(p);
            else if (is_op(nt, "==") || is_op(nt, "!=") || is_op(nt, "<") || is_op(nt, ">") ||
                     is_op(nt, "<=") || is_op(nt, ">="))
                name = next(p)->text;
            else
                perr(p, nt, "expected a test name after 'is', found %s", tok_desc(nt));
            if (!jinja_test_known(name)) perr(p, nt, "unknown test '%s'", name);
            f->a = n;
            f->name = name;
            if (is_op(peek(p), "(")) {
                next(p);
                parse_args(p, f);
            } else if (starts_test_arg(peek(p))) {
                push(p, &f->args, parse_unary(p, false));
            }
            n = f;
        } else if (is_op(t, "(")) {
            n = parse_postfix(p, n);
        } else {
            return n;
        }
    }
}

static jnode *parse_unary(parser *p, bool with_filter)
{
    const jtok *t = peek(p);
    enter(p, t);
    jnode *n;
    if (is_op(t, "-") || is_op(t, "+")) {
        next(p);
        n = node(p, is_op(t, "-") ? E_NEG : E_POS, t);
        n->a = parse_unary(p, false);
    } else {
        n = parse_primary(p);
    }
    n = parse_postfix(p, n);
    if (with_filter) n = parse_filter_expr(p, n);
    p->depth--;
    return n;
}

static jnode *binary(parser *p, const jtok *t, int op, jnode *l, jnode *r)
{
    jnode *n = node(p, E_BINARY, t);
    n->op = op;
    n->a = l;
    n->b = r;
    return n;
}

/* The arithmetic levels, loosest first (Jinja: math1, concat, math2, pow); each is
 * left-associative over the next. */
static const struct { const char *tok[4]; int op[4]; } LEVELS[] = {
    {{"+", "-"}, {OP_ADD, OP_SUB}},
    {{"~"}, {OP_CONCAT}},
    {{"*", "/", "//", "%"}, {OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD}},
    {{"**"}, {OP_POW}},
};

static jnode *parse_arith(parser *p, size_t level)
{
    if (level == sizeof LEVELS / sizeof LEVELS[0]) return parse_unary(p, true);
    jnode *n = parse_arith(p, level + 1);
    for (;;) {
        const jtok *t = peek(p);
        int op = -1;
        for (int k = 0; k < 4 && LEVELS[level].tok[k]; k++)
            if (is_op(t, LEVELS[level].tok[k])) op = LEVELS[level].op[k];
        if (op < 0) return n;
        next(p);
        n = binary(p, t, op, n, parse_arith(p, level + 1));
    }
}

static jnode *parse_compare(parser *p)
{
    const jtok *start = peek(p);
    jnode *first = parse_arith(p, 0), *cmp = NULL;
    size_t cap = 0;
    for (;;) {
        const jtok *t = peek(p);
        int op = is_op(t, "==") ? OP_EQ : is_op(t, "!=") ? OP_NE : is_op(t, "<") ? OP_LT
               : is_op(t, "<=") ? OP_LE : is_op(t, ">") ? OP_GT : is_op(t, ">=") ? OP_GE
               : is_name(t, "in") ? OP_IN : -1;
        if (op < 0 && is_name(t, "not") && is_name(peek2(p), "in")) {
            op = OP_NOTIN;
            next(p);
        }
        if (op < 0) break;
        next(p);
        if (!cmp) {
            cmp = node(p, E_COMPARE, start);
            push(p, &cmp->args, first);
        }
        if (cmp->args.n - 1 == cap) {
            cap = cap ? cap * 2 : 2;
            int *ops = ja_alloc(p->a, p->e, cap * sizeof(int));
            if (cmp->args.n > 1) memcpy(ops, cmp->ops, (cmp->args.n - 1) * sizeof(int));
            cmp->ops = ops;
        }
        cmp->ops[cmp->args.n - 1] = op;
        push(p, &cmp->args, parse_arith(p, 0));
    }
    return cmp ? cmp : first;
}

static jnode *parse_not(parser *p)
{
    const jtok *t = peek(p);
    if (is_name(t, "not")) {
        next(p);
        enter(p, t);
        jnode *n = node(p, E_NOT, t);
        n->a = parse_not(p);
        p->depth--;
        return n;
    }
    return parse_compare(p);
}

/* `a or b` binds looser than `a and b`, which binds looser than `not a`. */
static jnode *parse_logic(parser *p, bool is_or)
{
    jnode *n = is_or ? parse_logic(p, false) : parse_not(p);
    while (is_name(peek(p), is_or ? "or" : "and")) {
        const jtok *t = next(p);
        jnode *m = node(p, is_or ? E_OR : E_AND, t);
        m->a = n;
        m->b = is_or ? parse_logic(p, false) : parse_not(p);
        n = m;
    }
    return n;
}

static jnode *parse_expr(parser *p)
{
    const jtok *t = peek(p);
    enter(p, t);
    jnode *n = parse_logic(p, true);
    while (is_name(peek(p), "if")) {
        const jtok *it = next(p);
        jnode *c = node(p, E_COND, it);
        c->a = parse_logic(p, true); /* condition */
        c->b = n;           /* value when true */
        if (is_name(peek(p), "else")) {
            next(p);
            c->c = parse_expr(p);
        }
        n = c;
    }
    p->depth--;
    return n;
}

/* ---- statements ----------------------------------------------------------------------- */

static void parse_body(parser *p, jnodes *body, const char *const *ends, const jtok *opener);

/* Target names: "a" or "a, b" or "(a, b)". */
static void parse_targets(parser *p, jnode *n)
{
    bool paren = is_op(peek(p), "(");
    if (paren) next(p);
    size_t cap = 4;
    n->names = ja_alloc(p->a, p->e, cap * sizeof(char *));
    for (;;) {
        if (n->n_names == cap) {
            const char **nn = ja_alloc(p->a, p->e, 2 * cap * sizeof(char *));
            memcpy(nn, n->names, cap * sizeof(char *));
            n->names = nn;
            cap *= 2;
        }
        n->names[n->n_names++] = expect_name(p);
        if (!is_op(peek(p), ",")) break;
        next(p);
    }
    if (paren) expect_op(p, ")");
}

static void parse_params(parser *p, jnode *n)
{
    expect_op(p, "(");
    size_t cap = 8;
    n->names = ja_alloc(p->a, p->e, cap * sizeof(char *));
    while (!is_op(peek(p), ")")) {
        if (n->n_names == cap) {
            const char **nn = ja_alloc(p->a, p->e, 2 * cap * sizeof(char *));
            memcpy(nn, n->names, cap * sizeof(char *));
            n->names = nn;
            cap *= 2;
        }
        n->names[n->n_names++] = expect_name(p);
        jnode *dflt = NULL;
        if (is_op(peek(p), "=")) {
            next(p);
            dflt = parse_expr(p);
        }
        push(p, &n->args, dflt);
        if (!is_op(peek(p), ",")) break;
        next(p);
    }
    expect_op(p, ")");
}

static const jtok *end_tag(parser *p) { return &p->t->v[p->i - 1]; }

static jnode *parse_stmt(parser *p, const jtok *open)
{
    const jtok *t = peek(p);
    if (t->kind != TK_NAME) perr(p, t, "expected a tag name, found %s", tok_desc(t));
    const char *kw = t->text;
    next(p);
    jnode *n;
    if (!strcmp(kw, "if")) {
        /* elif chains are built in a loop, not by recursion, so their length is not nesting */
        n = node(p, N_IF, t);
        jnode *cur = n;
        static const char *const ends[] = {"elif", "else", "endif", NULL};
        static const char *const endif[] = {"endif", NULL};
        for (;;) {
            cur->a = parse_expr(p);
            expect_end(p);
            parse_body(p, &cur->body, ends, open);
            const jtok *e = end_tag(p);
            if (strcmp(e->text, "elif")) break;
            jnode *next_if = node(p, N_IF, e);
            push(p, &cur->orelse, next_if);
            cur = next_if;
        }
        if (!strcmp(end_tag(p)->text, "else")) {
            expect_end(p);
            parse_body(p, &cur->orelse, endif, open);
        }
        expect_end(p);
    } else if (!strcmp(kw, "for")) {
        n = node(p, N_FOR, t);
        parse_targets(p, n);
        if (!is_name(peek(p), "in")) perr(p, peek(p), "expected 'in' in for loop, found %s", tok_desc(peek(p)));
        next(p);
        n->a = parse_logic(p, true);
        if (is_name(peek(p), "if")) {
            next(p);
            n->b = parse_logic(p, true);
        }
        if (is_name(peek(p), "recursive")) perr(p, peek(p), "unsupported feature: recursive loops%s", NULL);
        expect_end(p);
        static const char *const ends[] = {"else", "endfor", NULL};
        p->loops++;
        parse_body(p, &n->body, ends, open);
        p->loops--;
        if (!strcmp(end_tag(p)->text, "else")) {
            expect_end(p);
            static const char *const endfor[] = {"endfor", NULL};
            parse_body(p, &n->orelse, endfor, open);
        }
        expect_end(p);
    } else if (!strcmp(kw, "set")) {
        n = node(p, N_SET, t);
        if (peek(p)->kind == TK_NAME && is_op(peek2(p), ".")) { /* set ns.attr = value */
            n->names = ja_alloc(p->a, p->e, sizeof(char *));
            n->names[0] = expect_name(p);
            n->n_names = 1;
            next(p);
            n->name = expect_name(p);
        } else {
            parse_targets(p, n);
        }
        if (is_op(peek(p), "=")) {
            next(p);
            n->a = parse_expr(p);
            if (is_op(peek(p), ",")) { /* set a, b = 1, 2 */
                jnode *tu = node(p, E_TUPLE, peek(p));
                push(p, &tu->args, n->a);
                while (is_op(peek(p), ",")) {
                    next(p);
                    push(p, &tu->args, parse_expr(p));
                }
                n->a = tu;
            }
            expect_end(p);
        } else {
            if (n->name || n->n_names != 1) perr(p, peek(p), "block set needs one plain name%s", NULL);
            n->kind = N_SET_BLOCK;
            if (is_op(peek(p), "|")) perr(p, peek(p), "unsupported feature: filtered block set%s", NULL);
            expect_end(p);
            static const char *const ends[] = {"endset", NULL};
            parse_body(p, &n->body, ends, open);
            expect_end(p);
        }
    } else if (!strcmp(kw, "macro")) {
        n = node(p, N_MACRO, t);
        n->name = expect_name(p);
        parse_params(p, n);
        expect_end(p);
        static const char *const ends[] = {"endmacro", NULL};
        int loops = p->loops;
        p->loops = 0;
        parse_body(p, &n->body, ends, open);
        p->loops = loops;
        if (peek(p)->kind == TK_NAME) next(p); /* {% endmacro name %} */
        expect_end(p);
    } else if (!strcmp(kw, "call")) {
        n = node(p, N_CALL_BLOCK, t);
        if (is_op(peek(p), "(")) parse_params(p, n);
        n->a = parse_expr(p);
        if (n->a->kind != E_CALL) perr(p, t, "'call' needs a macro call%s", NULL);
        expect_end(p);
        static const char *const ends[] = {"endcall", NULL};
        parse_body(p, &n->body, ends, open);
        expect_end(p);
    } else if (!strcmp(kw, "filter")) {
        n = node(p, N_FILTER_BLOCK, t);
        /* the first filter's operand is NULL: it applies to the captured body */
        n->a = parse_filter_expr(p, parse_filter_call(p, NULL));
        expect_end(p);
        static const char *const ends[] = {"endfilter", NULL};
        parse_body(p, &n->body, ends, open);
        expect_end(p);
    } else if (!strcmp(kw, "break") || !strcmp(kw, "continue")) {
        if (!p->loops) perr(p, t, "'%s' outside a for loop", kw);
        n = node(p, kw[0] == 'b' ? N_BREAK : N_CONTINUE, t);
        expect_end(p);
    } else if (!strcmp(kw, "do")) {
        n = node(p, N_DO, t);
        n->a = parse_expr(p);
        expect_end(p);
    } else if (!strcmp(kw, "generation")) { /* transformers' marker: renders its body */
        n = node(p, N_IF, t);
        n->a = node(p, E_CONST, t);
        n->a->value = jv_bool(true);
        expect_end(p);
        static const char *const ends[] = {"endgeneration", NULL};
        parse_body(p, &n->body, ends, open);
        expect_end(p);
    } else {
        perr(p, t, "unsupported tag '%s'", kw);
    }
    return n;
}

/* Parses nodes until a block tag whose name is in ends (consumed up to the name; the caller
 * reads the rest of that tag), or to the end of the template when ends is NULL. */
static void parse_body(parser *p, jnodes *body, const char *const *ends, const jtok *opener)
{
    enter(p, peek(p));
    for (;;) {
        const jtok *t = peek(p);
        if (t->kind == TK_EOF) {
            if (ends)
                jfail(p->e, HEARTH_ERR_FORMAT, opener->line, opener->col,
                      "'%s' tag is never closed (expected '%s' before the end of the template)",
                      opener[1].text ? opener[1].text : "?", ends[0]);
            break;
        }
        if (t->kind == TK_TEXT) {
            next(p);
            jnode *n = node(p, N_TEXT, t);
            n->value.kind = JV_STR;
            n->value.u.s = jstr_new(p->a, p->e, t->text, t->len);
            push(p, body, n);
        } else if (t->kind == TK_VAR_BEGIN) {
            next(p);
            jnode *n = node(p, N_OUTPUT, t);
            n->a = parse_expr(p);
            if (peek(p)->kind != TK_VAR_END)
                perr(p, peek(p), "expected '}}', found %s", tok_desc(peek(p)));
            next(p);
            push(p, body, n);
        } else if (t->kind == TK_BLOCK_BEGIN) {
            const jtok *name = peek2(p);
            if (name->kind == TK_NAME && ends) {
                for (int i = 0; ends[i]; i++)
                    if (!strcmp(name->text, ends[i])) {
                        p->i += 2;
                        p->depth--;
                        return;
                    }
            }
            if (name->kind == TK_NAME && (!strncmp(name->text, "end", 3) || !strcmp(name->text, "elif") ||
                                          !strcmp(name->text, "else")))
                perr(p, name, "unexpected '%s' tag", name->text);
            next(p);
            push(p, body, parse_stmt(p, t));
        } else {
            perr(p, t, "unexpected %s", tok_desc(t));
        }
    }
    p->depth--;
}

jnode *jinja_parse_tokens(const jtoks *toks, int max_depth, jarena *a, jerr *e)
{
    parser p = {.t = toks, .a = a, .e = e, .max_depth = max_depth};
    jnode *root = node(&p, N_IF, &toks->v[0]);
    root->a = NULL; /* the root: a body that always runs */
    parse_body(&p, &root->body, NULL, &toks->v[0]);
    return root;
}
