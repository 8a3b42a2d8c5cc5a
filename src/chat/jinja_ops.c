/* jinja_ops.c — what values mean: truthiness, equality, ordering, str()/repr(), arithmetic,
 * membership, attribute and item access, slicing and iteration, each as Python (and so
 * Jinja2) defines it. Strings are UTF-8 but index and count in code points like Python's. */
#include <math.h>
#include <string.h>

#include "chat/jinja_internal.h"

static bool is_num(jv v) { return v.kind == JV_INT || v.kind == JV_FLOAT || v.kind == JV_BOOL; }
static double num_f(jv v) { return v.kind == JV_FLOAT ? v.u.f : v.kind == JV_INT ? (double)v.u.i : v.u.b; }
static int64_t num_i(jv v) { return v.kind == JV_INT ? v.u.i : v.u.b; }

static _Noreturn void fail_undef(jctx *c, jv v)
{
    jrt_fail(c, "%s", v.u.undef ? v.u.undef : "undefined value");
}

bool jv_truthy(jv v)
{
    switch (v.kind) {
    case JV_UNDEF: case JV_NONE: return false;
    case JV_BOOL: return v.u.b;
    case JV_INT: return v.u.i != 0;
    case JV_FLOAT: return v.u.f != 0.0;
    case JV_STR: return v.u.s->len > 0;
    case JV_LIST: return v.u.l->n > 0;
    case JV_DICT: return v.u.d->n > 0;
    default: return true;
    }
}

/* Containers may contain themselves (l.append(l)): past this depth two values are unequal
 * rather than compared forever. */
#define EQUAL_MAX_DEPTH 256

static bool equal_at(jv a, jv b, int depth);

bool jv_equal(jv a, jv b) { return equal_at(a, b, 0); }

static bool equal_at(jv a, jv b, int depth)
{
    if (depth > EQUAL_MAX_DEPTH) return false;
    if (is_num(a) && is_num(b)) {
        if (a.kind == JV_FLOAT || b.kind == JV_FLOAT) return num_f(a) == num_f(b);
        return num_i(a) == num_i(b);
    }
    if (a.kind != b.kind) return false;
    switch (a.kind) {
    case JV_UNDEF: case JV_NONE: return true;
    case JV_STR: return a.u.s->len == b.u.s->len && !memcmp(a.u.s->data, b.u.s->data, a.u.s->len);
    case JV_LIST:
        if (a.u.l == b.u.l) return true;
        if (a.u.l->n != b.u.l->n) return false;
        for (size_t i = 0; i < a.u.l->n; i++)
            if (!equal_at(a.u.l->items[i], b.u.l->items[i], depth + 1)) return false;
        return true;
    case JV_DICT:
        if (a.u.d->n != b.u.d->n) return false;
        for (size_t i = 0; i < a.u.d->n; i++) {
            jv *o = jv_dict_get(b.u.d, a.u.d->keys[i]->data, a.u.d->keys[i]->len);
            if (!o || !equal_at(a.u.d->vals[i], *o, depth + 1)) return false;
        }
        return true;
    case JV_NS: return a.u.d == b.u.d;
    case JV_MACRO: return a.u.m == b.u.m;
    case JV_FUNC: return a.u.fn == b.u.fn;
    case JV_LOOP: return a.u.loop == b.u.loop;
    default: return false;
    }
}

int jv_compare(jctx *c, jv a, jv b)
{
    if (is_num(a) && is_num(b)) {
        if (a.kind == JV_FLOAT || b.kind == JV_FLOAT) {
            double x = num_f(a), y = num_f(b);
            return x < y ? -1 : x > y;
        }
        int64_t x = num_i(a), y = num_i(b);
        return x < y ? -1 : x > y;
    }
    if (a.kind == JV_STR && b.kind == JV_STR) {
        size_t n = HEARTH_MIN(a.u.s->len, b.u.s->len);
        int r = memcmp(a.u.s->data, b.u.s->data, n);
        if (r) return r < 0 ? -1 : 1;
        return a.u.s->len < b.u.s->len ? -1 : a.u.s->len > b.u.s->len;
    }
    if (a.kind == JV_LIST && b.kind == JV_LIST) {
        if (a.u.l == b.u.l) return 0;
        if (++c->depth > c->opt->max_depth * 4) jrt_fail(c, "comparison nests too deeply");
        size_t n = HEARTH_MIN(a.u.l->n, b.u.l->n);
        for (size_t i = 0; i < n; i++) {
            int r = jv_compare(c, a.u.l->items[i], b.u.l->items[i]);
            if (r) {
                c->depth--;
                return r;
            }
        }
        c->depth--;
        return a.u.l->n < b.u.l->n ? -1 : a.u.l->n > b.u.l->n;
    }
    if (a.kind == JV_UNDEF) fail_undef(c, a);
    if (b.kind == JV_UNDEF) fail_undef(c, b);
    jrt_fail(c, "cannot compare a %s with a %s", jv_type_name(a), jv_type_name(b));
}

static void repr_str(jctx *c, jbuf *b, const jstr *s)
{
    bool has_sq = memchr(s->data, '\'', s->len) != NULL, has_dq = memchr(s->data, '"', s->len) != NULL;
    char q = has_sq && !has_dq ? '"' : '\'';
    jbuf_put(c, b, &q, 1);
    for (size_t i = 0; i < s->len; i++) {
        unsigned char ch = (unsigned char)s->data[i];
        if (ch == '\\' || ch == (unsigned char)q) {
            char e[2] = {'\\', (char)ch};
            jbuf_put(c, b, e, 2);
        } else if (ch == '\n') jbuf_puts(c, b, "\\n");
        else if (ch == '\r') jbuf_puts(c, b, "\\r");
        else if (ch == '\t') jbuf_puts(c, b, "\\t");
        else if (ch < 0x20 || ch == 0x7f) jbuf_printf(c, b, "\\x%02x", ch);
        else jbuf_put(c, b, (const char *)&ch, 1);
    }
    jbuf_put(c, b, &q, 1);
}

void jv_repr(jctx *c, jbuf *b, jv v, int depth)
{
    if (depth > c->opt->max_depth) jrt_fail(c, "value nests deeper than %d levels", c->opt->max_depth);
    switch (v.kind) {
    case JV_STR: repr_str(c, b, v.u.s); break;
    case JV_LIST:
        jbuf_puts(c, b, v.u.l->tuple ? "(" : "[");
        for (size_t i = 0; i < v.u.l->n; i++) {
            if (i) jbuf_puts(c, b, ", ");
            jv_repr(c, b, v.u.l->items[i], depth + 1);
        }
        jbuf_puts(c, b, v.u.l->tuple ? (v.u.l->n == 1 ? ",)" : ")") : "]");
        break;
    case JV_DICT:
        jbuf_puts(c, b, "{");
        for (size_t i = 0; i < v.u.d->n; i++) {
            if (i) jbuf_puts(c, b, ", ");
            repr_str(c, b, v.u.d->keys[i]);
            jbuf_puts(c, b, ": ");
            jv_repr(c, b, v.u.d->vals[i], depth + 1);
        }
        jbuf_puts(c, b, "}");
        break;
    case JV_UNDEF: jbuf_puts(c, b, "Undefined"); break;
    default: jv_write(c, b, v);
    }
}

void jv_write(jctx *c, jbuf *b, jv v)
{
    switch (v.kind) {
    case JV_UNDEF: break;
    case JV_NONE: jbuf_puts(c, b, "None"); break;
    case JV_BOOL: jbuf_puts(c, b, v.u.b ? "True" : "False"); break;
    case JV_INT: jbuf_printf(c, b, "%lld", (long long)v.u.i); break;
    case JV_FLOAT: jv_write_float(b, c, v.u.f); break;
    case JV_STR: jbuf_put(c, b, v.u.s->data, v.u.s->len); break;
    case JV_LIST: case JV_DICT: jv_repr(c, b, v, 0); break;
    case JV_NS: jbuf_puts(c, b, "<Namespace>"); break;
    case JV_MACRO: jbuf_printf(c, b, "<Macro '%s'>", v.u.m->name); break;
    case JV_FUNC: jbuf_puts(c, b, "<built-in function>"); break;
    case JV_LOOP: jbuf_puts(c, b, "<LoopContext>"); break;
    }
}

jv jv_to_string(jctx *c, jv v)
{
    if (v.kind == JV_STR) return v;
    jbuf b = {0};
    jv_write(c, &b, v);
    return jbuf_to_str(c, &b);
}

static jv concat_str(jctx *c, const jstr *a, const jstr *b)
{
    size_t n;
    if (!hearth_size_add(a->len, b->len, &n)) jrt_fail(c, "string too long");
    jv r = {.kind = JV_STR};
    r.u.s = ja_alloc(&c->arena, &c->e, sizeof(jstr) + n + 1);
    r.u.s->len = n;
    memcpy(r.u.s->data, a->data, a->len);
    memcpy(r.u.s->data + a->len, b->data, b->len);
    r.u.s->data[n] = 0;
    return r;
}

static jv repeat(jctx *c, jv seq, int64_t times)
{
    if (times < 0) times = 0;
    if (seq.kind == JV_STR) {
        size_t n;
        if (!hearth_size_mul(seq.u.s->len, (size_t)times, &n) || n > c->arena.limit)
            jrt_fail(c, "string repetition too large");
        jv r = {.kind = JV_STR};
        r.u.s = ja_alloc(&c->arena, &c->e, sizeof(jstr) + n + 1);
        r.u.s->len = n;
        for (int64_t i = 0; i < times; i++) memcpy(r.u.s->data + i * seq.u.s->len, seq.u.s->data, seq.u.s->len);
        r.u.s->data[n] = 0;
        return r;
    }
    size_t n;
    if (!hearth_size_mul(seq.u.l->n, (size_t)times, &n) || n > c->arena.limit / sizeof(jv))
        jrt_fail(c, "list repetition too large");
    jv r = jv_list(c, n);
    for (int64_t i = 0; i < times; i++)
        for (size_t k = 0; k < seq.u.l->n; k++) jv_list_push(c, r.u.l, seq.u.l->items[k]);
    return r;
}

static const char *const OP_NAMES[] = {"+", "-", "*", "/", "//", "%", "**", "~",
                                       "==", "!=", "<", "<=", ">", ">=", "in", "not in"};

static jv arith(jctx *c, int op, jv a, jv b)
{
    if (a.kind == JV_FLOAT || b.kind == JV_FLOAT || op == OP_DIV) {
        double x = num_f(a), y = num_f(b);
        switch (op) {
        case OP_ADD: return jv_float(x + y);
        case OP_SUB: return jv_float(x - y);
        case OP_MUL: return jv_float(x * y);
        case OP_DIV:
            if (y == 0) jrt_fail(c, "division by zero");
            return jv_float(x / y);
        case OP_FLOORDIV:
            if (y == 0) jrt_fail(c, "division by zero");
            return jv_float(floor(x / y));
        case OP_MOD: {
            if (y == 0) jrt_fail(c, "modulo by zero");
            double m = fmod(x, y);
            if (m != 0 && ((m < 0) != (y < 0))) m += y;
            return jv_float(m);
        }
        case OP_POW: return jv_float(pow(x, y));
        }
    }
    int64_t x = num_i(a), y = num_i(b), r;
    switch (op) {
    case OP_ADD: if (__builtin_add_overflow(x, y, &r)) break; return jv_int(r);
    case OP_SUB: if (__builtin_sub_overflow(x, y, &r)) break; return jv_int(r);
    case OP_MUL: if (__builtin_mul_overflow(x, y, &r)) break; return jv_int(r);
    case OP_FLOORDIV:
    case OP_MOD: {
        if (y == 0) jrt_fail(c, op == OP_MOD ? "modulo by zero" : "division by zero");
        if (x == INT64_MIN && y == -1) break;
        int64_t q = x / y, m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) {
            q--;
            m += y;
        }
        return jv_int(op == OP_MOD ? m : q);
    }
    case OP_POW: {
        if (y < 0) return jv_float(pow((double)x, (double)y));
        int64_t acc = 1, base = x;
        bool ovf = false;
        while (y > 0) {
            if (y & 1) ovf |= __builtin_mul_overflow(acc, base, &acc);
            y >>= 1;
            if (y) ovf |= __builtin_mul_overflow(base, base, &base);
        }
        if (ovf) break;
        return jv_int(acc);
    }
    }
    jrt_fail(c, "integer overflow in '%s'", OP_NAMES[op]);
}

jv jv_binary(jctx *c, int op, jv a, jv b)
{
    switch (op) {
    case OP_EQ: return jv_bool(jv_equal(a, b));
    case OP_NE: return jv_bool(!jv_equal(a, b));
    case OP_LT: return jv_bool(jv_compare(c, a, b) < 0);
    case OP_LE: return jv_bool(jv_compare(c, a, b) <= 0);
    case OP_GT: return jv_bool(jv_compare(c, a, b) > 0);
    case OP_GE: return jv_bool(jv_compare(c, a, b) >= 0);
    case OP_IN: return jv_bool(jv_contains(c, b, a));
    case OP_NOTIN: return jv_bool(!jv_contains(c, b, a));
    case OP_CONCAT: {
        jv x = jv_to_string(c, a), y = jv_to_string(c, b);
        return concat_str(c, x.u.s, y.u.s);
    }
    }
    if (a.kind == JV_UNDEF) fail_undef(c, a);
    if (b.kind == JV_UNDEF) fail_undef(c, b);
    if (is_num(a) && is_num(b)) return arith(c, op, a, b);
    if (op == OP_ADD && a.kind == JV_STR && b.kind == JV_STR) return concat_str(c, a.u.s, b.u.s);
    if (op == OP_ADD && a.kind == JV_LIST && b.kind == JV_LIST) {
        jv r = jv_list(c, a.u.l->n + b.u.l->n);
        for (size_t i = 0; i < a.u.l->n; i++) jv_list_push(c, r.u.l, a.u.l->items[i]);
        for (size_t i = 0; i < b.u.l->n; i++) jv_list_push(c, r.u.l, b.u.l->items[i]);
        return r;
    }
    if (op == OP_MUL && (a.kind == JV_STR || a.kind == JV_LIST) && (b.kind == JV_INT || b.kind == JV_BOOL))
        return repeat(c, a, num_i(b));
    if (op == OP_MUL && (b.kind == JV_STR || b.kind == JV_LIST) && (a.kind == JV_INT || a.kind == JV_BOOL))
        return repeat(c, b, num_i(a));
    if (op == OP_MOD && a.kind == JV_STR) {
        if (b.kind == JV_LIST && b.u.l->tuple) return jinja_percent_format(c, a, b.u.l->items, b.u.l->n, NULL);
        if (b.kind == JV_DICT) return jinja_percent_format(c, a, &b, 1, b.u.d);
        return jinja_percent_format(c, a, &b, 1, NULL);
    }
    jrt_fail(c, "unsupported operand types for %s: %s and %s", OP_NAMES[op], jv_type_name(a),
             jv_type_name(b));
}

bool jv_contains(jctx *c, jv container, jv item)
{
    switch (container.kind) {
    case JV_STR:
        if (item.kind != JV_STR) jrt_fail(c, "'in <string>' needs a string on the left, not a %s", jv_type_name(item));
        if (!item.u.s->len) return true;
        return memmem(container.u.s->data, container.u.s->len, item.u.s->data, item.u.s->len) != NULL;
    case JV_LIST:
        for (size_t i = 0; i < container.u.l->n; i++)
            if (jv_equal(container.u.l->items[i], item)) return true;
        return false;
    case JV_DICT:
    case JV_NS:
        return item.kind == JV_STR && jv_dict_get(container.u.d, item.u.s->data, item.u.s->len);
    case JV_UNDEF: return false;
    default: jrt_fail(c, "argument of type %s is not iterable", jv_type_name(container));
    }
}

static jv no_attr(jctx *c, jv obj, const char *name)
{
    jbuf b = {0};
    jbuf_printf(c, &b, "'%s object' has no attribute '", jv_type_name(obj));
    jbuf_puts(c, &b, name);
    jbuf_puts(c, &b, "'");
    return jv_undef(b.data);
}

jv jv_getattr(jctx *c, jv obj, const char *name)
{
    switch (obj.kind) {
    case JV_UNDEF: fail_undef(c, obj);
    case JV_DICT:
    case JV_NS: {
        jv *v = jv_dict_get(obj.u.d, name, strlen(name));
        return v ? *v : no_attr(c, obj, name);
    }
    case JV_LOOP: {
        const jloop *l = obj.u.loop;
        if (!strcmp(name, "index")) return jv_int((int64_t)l->index0 + 1);
        if (!strcmp(name, "index0")) return jv_int((int64_t)l->index0);
        if (!strcmp(name, "revindex")) return jv_int((int64_t)(l->length - l->index0));
        if (!strcmp(name, "revindex0")) return jv_int((int64_t)(l->length - l->index0 - 1));
        if (!strcmp(name, "first")) return jv_bool(l->index0 == 0);
        if (!strcmp(name, "last")) return jv_bool(l->index0 + 1 == l->length);
        if (!strcmp(name, "length")) return jv_int((int64_t)l->length);
        if (!strcmp(name, "depth")) return jv_int(1);
        if (!strcmp(name, "depth0")) return jv_int(0);
        if (!strcmp(name, "previtem")) return l->has_prev ? l->prev : jv_undef("there is no previous item");
        if (!strcmp(name, "nextitem")) return l->has_next ? l->next : jv_undef("there is no next item");
        return no_attr(c, obj, name);
    }
    default: return no_attr(c, obj, name);
    }
}

jv jv_getitem(jctx *c, jv obj, jv key)
{
    if (obj.kind == JV_UNDEF) fail_undef(c, obj);
    if (key.kind == JV_BOOL) key = jv_int(key.u.b);
    if ((obj.kind == JV_LIST || obj.kind == JV_STR) && key.kind == JV_INT) {
        int64_t n = obj.kind == JV_LIST ? (int64_t)obj.u.l->n : (int64_t)utf8_count(obj.u.s->data, obj.u.s->len);
        int64_t i = key.u.i < 0 ? key.u.i + n : key.u.i;
        if (i < 0 || i >= n) return jv_undef("index out of range");
        if (obj.kind == JV_LIST) return obj.u.l->items[i];
        size_t a = utf8_offset(obj.u.s->data, obj.u.s->len, (size_t)i);
        size_t b = utf8_offset(obj.u.s->data, obj.u.s->len, (size_t)i + 1);
        return jv_str(c, obj.u.s->data + a, b - a);
    }
    if ((obj.kind == JV_DICT || obj.kind == JV_NS) && key.kind == JV_STR) {
        jv *v = jv_dict_get(obj.u.d, key.u.s->data, key.u.s->len);
        if (v) return *v;
        jbuf b = {0};
        jbuf_puts(c, &b, "'dict object' has no key '");
        jbuf_put(c, &b, key.u.s->data, key.u.s->len);
        jbuf_puts(c, &b, "'");
        return jv_undef(b.data);
    }
    if (key.kind == JV_STR) return jv_getattr(c, obj, key.u.s->data);
    return jv_undef("item not found"); /* Python: a lookup that fails is undefined, not an error */
}

static int64_t slice_bound(jctx *c, jv v, int64_t n, int64_t dflt, int64_t step)
{
    if (v.kind == JV_NONE || v.kind == JV_UNDEF) return dflt;
    if (v.kind == JV_BOOL) v = jv_int(v.u.b);
    if (v.kind != JV_INT) jrt_fail(c, "slice indices must be integers, not %s", jv_type_name(v));
    int64_t i = v.u.i;
    if (i < 0) {
        i += n;
        if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
        i = step < 0 ? n - 1 : n;
    }
    return i;
}

jv jv_slice(jctx *c, jv obj, jv start, jv stop, jv stepv)
{
    if (obj.kind == JV_UNDEF) fail_undef(c, obj);
    if (obj.kind != JV_LIST && obj.kind != JV_STR) jrt_fail(c, "cannot slice a %s", jv_type_name(obj));
    int64_t step = 1;
    if (stepv.kind == JV_INT) step = stepv.u.i;
    else if (stepv.kind != JV_NONE && stepv.kind != JV_UNDEF)
        jrt_fail(c, "slice step must be an integer, not %s", jv_type_name(stepv));
    if (step == 0) jrt_fail(c, "slice step cannot be zero");
    if (step == INT64_MIN) step = -INT64_MAX;
    bool is_str = obj.kind == JV_STR;
    size_t *offs = NULL;
    int64_t n;
    if (is_str) {
        n = (int64_t)utf8_count(obj.u.s->data, obj.u.s->len);
        offs = ja_alloc(&c->arena, &c->e, ((size_t)n + 1) * sizeof(size_t));
        for (int64_t i = 0, off = 0; i <= n; i++) {
            offs[i] = (size_t)off;
            if (i < n) off = (int64_t)utf8_offset(obj.u.s->data + off, obj.u.s->len - (size_t)off, 1) + off;
        }
    } else {
        n = (int64_t)obj.u.l->n;
    }
    int64_t lo = slice_bound(c, start, n, step < 0 ? n - 1 : 0, step);
    int64_t hi = slice_bound(c, stop, n, step < 0 ? -1 : n, step);
    jbuf b = {0};
    jv out = is_str ? jv_none() : jv_list(c, 0);
    for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) {
        if (is_str) jbuf_put(c, &b, obj.u.s->data + offs[i], offs[i + 1] - offs[i]);
        else jv_list_push(c, out.u.l, obj.u.l->items[i]);
        if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    return is_str ? jbuf_to_str(c, &b) : out;
}

jlist *jv_iterate(jctx *c, jv v)
{
    switch (v.kind) {
    case JV_LIST: return v.u.l;
    case JV_DICT:
    case JV_NS: {
        jv l = jv_list(c, v.u.d->n);
        for (size_t i = 0; i < v.u.d->n; i++) {
            jv k = {.kind = JV_STR};
            k.u.s = v.u.d->keys[i];
            jv_list_push(c, l.u.l, k);
        }
        return l.u.l;
    }
    case JV_STR: {
        jv l = jv_list(c, 0);
        const char *s = v.u.s->data;
        size_t len = v.u.s->len;
        for (size_t i = 0; i < len;) {
            size_t w = utf8_offset(s + i, len - i, 1);
            jv_list_push(c, l.u.l, jv_str(c, s + i, w));
            i += w;
        }
        return l.u.l;
    }
    case JV_UNDEF: return jv_list(c, 0).u.l;
    default: jrt_fail(c, "a %s is not iterable", jv_type_name(v));
    }
}

int64_t jv_length(jctx *c, jv v)
{
    switch (v.kind) {
    case JV_STR: return (int64_t)utf8_count(v.u.s->data, v.u.s->len);
    case JV_LIST: return (int64_t)v.u.l->n;
    case JV_DICT: case JV_NS: return (int64_t)v.u.d->n;
    case JV_UNDEF: return 0;
    default: jrt_fail(c, "a %s has no length", jv_type_name(v));
    }
}
