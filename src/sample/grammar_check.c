/*
 * grammar_check.c — rejects grammars the matcher could not run, before any token is sampled:
 *   - a rule that can never finish (every alternative needs itself, or an empty class):
 *     sampling with it would reach a state no token can leave;
 *   - recursion that reaches the same rule again without consuming input and with something
 *     left to match afterwards (left recursion): the matcher's stacks would grow forever.
 *     Recursion in tail position (x ::= y x | ...) is fine: it replaces the frame.
 * and computes min_from[]: from each position, the fewest tokens that surely finish the
 * alternative (a character counts its UTF-8 bytes), which the token budget uses to guarantee a
 * complete value.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sample/grammar.h"

static uint32_t elem_min(const gram *g, const uint32_t *rule_min, gelem e)
{
    if (e.type == GE_CHARS) {
        /* a character costs the UTF-8 bytes of the class's smallest code point: with byte
         * tokens in the vocabulary that many tokens always suffice (the token budget needs an
         * upper bound on tokens, not characters) */
        if (!g->sets[e.value].n) return GRAM_INF;
        uint32_t cp = g->ranges[g->sets[e.value].first].lo;
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }
    if (e.type == GE_RULE) return rule_min[e.value];
    return 0;
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
    uint32_t s = a + b;
    return s >= GRAM_INF || s < a ? GRAM_INF : s;
}

typedef struct edge { uint32_t to; bool tail; } edge;

typedef struct tarjan {
    const gram *g;
    edge *edges;
    uint32_t *edge_first; /* edges of rule r: edges[edge_first[r] .. edge_first[r+1]) */
    uint32_t *index, *low, *stack, *comp;
    bool *on_stack;
    uint32_t next_index, sp, n_comp;
} tarjan;

static void strongconnect(tarjan *T, uint32_t v)
{
    T->index[v] = T->low[v] = ++T->next_index;
    T->stack[T->sp++] = v;
    T->on_stack[v] = true;
    for (uint32_t i = T->edge_first[v]; i < T->edge_first[v + 1]; i++) {
        uint32_t w = T->edges[i].to;
        if (!T->index[w]) {
            strongconnect(T, w);
            if (T->low[w] < T->low[v]) T->low[v] = T->low[w];
        } else if (T->on_stack[w] && T->index[w] < T->low[v]) {
            T->low[v] = T->index[w];
        }
    }
    if (T->low[v] == T->index[v]) {
        uint32_t w;
        do {
            w = T->stack[--T->sp];
            T->on_stack[w] = false;
            T->comp[w] = T->n_comp;
        } while (w != v);
        T->n_comp++;
    }
}

/* Rules reachable from the root, so unused rules cannot make a grammar fail. */
static bool *reachable_rules(const gram *g)
{
    bool *seen = calloc(g->n_rules, 1);
    uint32_t *work = malloc(g->n_rules * sizeof *work);
    if (!seen || !work) { free(seen); free(work); return NULL; }
    uint32_t n = 0;
    seen[g->root] = true;
    work[n++] = g->root;
    while (n) {
        const grule *R = &g->rules[work[--n]];
        for (uint32_t a = 0; a < R->n_alts; a++)
            for (uint32_t p = g->alts[R->first_alt + a]; g->elems[p].type != GE_END; p++)
                if (g->elems[p].type == GE_RULE && !seen[g->elems[p].value]) {
                    seen[g->elems[p].value] = true;
                    work[n++] = g->elems[p].value;
                }
    }
    free(work);
    return seen;
}

static hearth_status check_recursion(gram *g, const uint32_t *rule_min, const bool *used, hearth_error *err)
{
    tarjan T = {.g = g};
    uint32_t n_edges = 0, n = g->n_rules;
    T.edge_first = calloc(n + 1, sizeof *T.edge_first);
    T.edges = malloc((g->n_elems + 1) * sizeof *T.edges);
    T.index = calloc(n, sizeof *T.index);
    T.low = calloc(n, sizeof *T.low);
    T.stack = calloc(n, sizeof *T.stack);
    T.comp = calloc(n, sizeof *T.comp);
    T.on_stack = calloc(n, 1);
    hearth_status st = HEARTH_OK;
    if (!T.edge_first || !T.edges || !T.index || !T.low || !T.stack || !T.comp || !T.on_stack) {
        st = hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory");
        goto out;
    }
    /* edge A -> B: B can be the first thing A matches (everything before it may be empty) */
    for (uint32_t r = 0; r < n; r++) {
        T.edge_first[r] = n_edges;
        const grule *R = &g->rules[r];
        for (uint32_t a = 0; used[r] && a < R->n_alts; a++) {
            for (uint32_t p = g->alts[R->first_alt + a]; g->elems[p].type != GE_END; p++) {
                gelem e = g->elems[p];
                if (e.type == GE_RULE) T.edges[n_edges++] = (edge){e.value, g->elems[p + 1].type == GE_END};
                if (elem_min(g, rule_min, e) != 0) break;
            }
        }
    }
    T.edge_first[n] = n_edges;
    for (uint32_t r = 0; r < n; r++)
        if (used[r] && !T.index[r]) strongconnect(&T, r);
    for (uint32_t r = 0; r < n && st == HEARTH_OK; r++)
        for (uint32_t i = T.edge_first[r]; i < T.edge_first[r + 1]; i++)
            if (!T.edges[i].tail && T.comp[T.edges[i].to] == T.comp[r]) {
                st = hearth_fail(err, HEARTH_ERR_FORMAT,
                                 "grammar: rule '%s' is left-recursive (it reaches itself through '%s' "
                                 "before matching any character); rewrite it with repetition",
                                 g->rules[r].name, g->rules[T.edges[i].to].name);
                break;
            }
out:
    free(T.edge_first);
    free(T.edges);
    free(T.index);
    free(T.low);
    free(T.stack);
    free(T.comp);
    free(T.on_stack);
    return st;
}

hearth_status gram_check(gram *g, hearth_error *err)
{
    uint32_t *rule_min = malloc((g->n_rules + 1) * sizeof *rule_min);
    bool *used = reachable_rules(g);
    g->min_from = malloc((g->n_elems + 1) * sizeof *g->min_from);
    hearth_status st = HEARTH_OK;
    if (!rule_min || !used || !g->min_from) {
        st = hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory");
        goto out;
    }
    for (uint32_t r = 0; r < g->n_rules; r++) rule_min[r] = GRAM_INF;
    /* Fixpoint: values only decrease. Helper rules are created inner-first, so few passes. */
    for (bool changed = true; changed;) {
        changed = false;
        for (uint32_t r = 0; r < g->n_rules; r++) {
            const grule *R = &g->rules[r];
            uint32_t best = GRAM_INF;
            for (uint32_t a = 0; a < R->n_alts; a++) {
                uint32_t sum = 0;
                for (uint32_t p = g->alts[R->first_alt + a]; g->elems[p].type != GE_END; p++)
                    sum = sat_add(sum, elem_min(g, rule_min, g->elems[p]));
                if (sum < best) best = sum;
            }
            if (best < rule_min[r]) { rule_min[r] = best; changed = true; }
        }
    }
    for (uint32_t r = 0; r < g->n_rules; r++)
        if (used[r] && rule_min[r] >= GRAM_INF) {
            st = hearth_fail(err, HEARTH_ERR_FORMAT,
                             "grammar: rule '%s' can never be completed (each alternative needs itself "
                             "or a character class that matches nothing)", g->rules[r].name);
            goto out;
        }
    for (uint32_t p = g->n_elems; p-- > 0;)
        g->min_from[p] = g->elems[p].type == GE_END ? 0 : sat_add(elem_min(g, rule_min, g->elems[p]), g->min_from[p + 1]);
    st = check_recursion(g, rule_min, used, err);
out:
    free(rule_min);
    free(used);
    return st;
}
