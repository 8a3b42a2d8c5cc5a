/*
 * grammar_match.c — the pushdown matcher behind grammar-constrained decoding.
 *
 * A parse position is a stack of element positions (what to match next, then where to return).
 * Stacks are hash-consed as linked frames (pos, parent), so equal stacks have equal ids and a
 * stack costs one node per frame no matter how many states share it. A matcher state is the
 * sorted set of stacks alive after the bytes so far (every top is a character class; stack 0,
 * the empty stack, means "a complete value"), plus a partial UTF-8 character when a token ended
 * inside one. States are interned too, and each keeps a 256-entry table of its byte
 * transitions, filled on first use: after warm-up, following a token's bytes or walking the
 * vocabulary trie is a table lookup per byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sample/grammar.h"

#define MAX_STACKS_PER_STATE 8192
#define MAX_NODES (1u << 24)
#define MAX_STATES (1u << 20)
#define UNKNOWN GSTATE_UNKNOWN

typedef struct snode {
    uint32_t pos, parent;
    uint32_t mc;    /* fewest tokens that surely empty this stack (grammar_check.c) */
    uint32_t stamp; /* closure dedup: == m->stamp_now when already expanded this round */
} snode;

typedef struct gstate {
    uint32_t off, n;    /* stack ids: m->pool[off .. off+n), sorted */
    uint32_t partial;   /* bits of a UTF-8 character begun but not finished */
    uint8_t need, have; /* continuation bytes still needed / already seen */
    bool accepting, done;
    int32_t need_tokens;
    int32_t *next;      /* 256 byte transitions, UNKNOWN until computed */
    uint64_t *mask;     /* cached allowed-token set (grammar_mask.c) */
    int32_t max_need;
    int32_t base;       /* the state with the same stacks and no partial character */
    int32_t memo_next;  /* on a base state: the state after any character that exactly */
    uint64_t memo_sig;  /* the stacks in memo_sig accept (bit k = stack k), if memo_valid */
    bool memo_valid;
} gstate;

struct gmatch {
    const gram *g;
    snode *nodes;
    uint32_t n_nodes, cap_nodes;
    uint32_t *node_hash, node_hash_cap;   /* node id + 1, 0 = empty slot */
    uint32_t stamp_now;
    gstate *states;
    uint32_t n_states, cap_states;
    uint32_t *state_hash, state_hash_cap; /* state id + 1 */
    uint32_t *pool, n_pool, cap_pool;
    uint32_t *work, n_work, cap_work;     /* closure work list */
    uint32_t *out, n_out, cap_out;        /* closure result */
    uint32_t *ids, cap_ids;               /* copy of a state's stacks while stepping */
    char error[256];
};

static uint32_t mix(uint32_t h, uint32_t v)
{
    v *= 0xcc9e2d51u;
    v = (v << 15) | (v >> 17);
    h ^= v * 0x1b873593u;
    h = (h << 13) | (h >> 19);
    return h * 5 + 0xe6546b64u;
}

static bool node_rehash(gmatch *m, uint32_t cap)
{
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h) return false;
    for (uint32_t id = 1; id < m->n_nodes; id++) {
        uint32_t i = mix(m->nodes[id].pos, m->nodes[id].parent) & (cap - 1);
        while (h[i]) i = (i + 1) & (cap - 1);
        h[i] = id + 1;
    }
    free(m->node_hash);
    m->node_hash = h;
    m->node_hash_cap = cap;
    return true;
}

static void fail_mem(gmatch *m)
{
    if (!m->error[0]) snprintf(m->error, sizeof m->error, "grammar: out of memory for the matcher");
}

/* The stack "match pos next, then continue with parent"; a finished alternative is just its
 * parent, so no node points at GE_END. UINT32_MAX when out of memory or too many. */
static uint32_t node(gmatch *m, uint32_t pos, uint32_t parent)
{
    if (m->g->elems[pos].type == GE_END) return parent;
    uint32_t i = mix(pos, parent) & (m->node_hash_cap - 1);
    for (; m->node_hash[i]; i = (i + 1) & (m->node_hash_cap - 1)) {
        const snode *n = &m->nodes[m->node_hash[i] - 1];
        if (n->pos == pos && n->parent == parent) return m->node_hash[i] - 1;
    }
    if (m->n_nodes >= MAX_NODES || !sample_grow((void **)&m->nodes, &m->cap_nodes, m->n_nodes + 1, sizeof *m->nodes)) {
        fail_mem(m);
        return UINT32_MAX;
    }
    uint32_t id = m->n_nodes++;
    uint32_t mc = m->g->min_from[pos] + m->nodes[parent].mc;
    m->nodes[id] = (snode){pos, parent, mc > GRAM_INF ? GRAM_INF : mc, 0};
    m->node_hash[i] = id + 1;
    if (m->n_nodes * 2 > m->node_hash_cap && !node_rehash(m, m->node_hash_cap * 2)) {
        fail_mem(m);
        return UINT32_MAX;
    }
    return id;
}

/* ---- closure: expand stacks until every top is a character class ---- */

static bool push_work(gmatch *m, uint32_t id)
{
    if (id == UINT32_MAX) return false;
    if (!sample_grow((void **)&m->work, &m->cap_work, m->n_work + 1, sizeof *m->work)) {
        fail_mem(m);
        return false;
    }
    m->work[m->n_work++] = id;
    return true;
}

static void begin_closure(gmatch *m)
{
    m->n_out = 0;
    m->n_work = 0;
    if (++m->stamp_now == 0) { /* wrapped around: forget old stamps */
        for (uint32_t i = 0; i < m->n_nodes; i++) m->nodes[i].stamp = 0;
        m->stamp_now = 1;
    }
}

/* Expands the work list into m->out. Each stack is expanded once per round (stamps), which
 * also ends the loops that tail recursion through empty alternatives would make. */
static bool closure(gmatch *m)
{
    const gram *g = m->g;
    while (m->n_work) {
        uint32_t id = m->work[--m->n_work];
        if (m->nodes[id].stamp == m->stamp_now) continue;
        m->nodes[id].stamp = m->stamp_now;
        uint32_t pos = m->nodes[id].pos, parent = m->nodes[id].parent;
        if (id != 0 && g->elems[pos].type == GE_RULE) {
            uint32_t cont = node(m, pos + 1, parent);
            if (cont == UINT32_MAX) return false;
            const grule *R = &g->rules[g->elems[pos].value];
            for (uint32_t a = 0; a < R->n_alts; a++)
                if (!push_work(m, node(m, g->alts[R->first_alt + a], cont))) return false;
            continue;
        }
        if (m->n_out >= MAX_STACKS_PER_STATE) {
            snprintf(m->error, sizeof m->error,
                     "grammar: more than %d parses alive at once; the grammar is too ambiguous", MAX_STACKS_PER_STATE);
            return false;
        }
        if (!sample_grow((void **)&m->out, &m->cap_out, m->n_out + 1, sizeof *m->out)) {
            fail_mem(m);
            return false;
        }
        m->out[m->n_out++] = id;
    }
    return true;
}

/* ---- states ---- */

static uint32_t state_key(const uint32_t *ids, uint32_t n, uint32_t partial, uint8_t need, uint8_t have)
{
    uint32_t h = mix(mix(partial, need), have);
    for (uint32_t i = 0; i < n; i++) h = mix(h, ids[i]);
    return h;
}

static bool state_rehash(gmatch *m, uint32_t cap)
{
    uint32_t *h = calloc(cap, sizeof *h);
    if (!h) return false;
    for (uint32_t s = 0; s < m->n_states; s++) {
        const gstate *st = &m->states[s];
        uint32_t i = state_key(m->pool + st->off, st->n, st->partial, st->need, st->have) & (cap - 1);
        while (h[i]) i = (i + 1) & (cap - 1);
        h[i] = s + 1;
    }
    free(m->state_hash);
    m->state_hash = h;
    m->state_hash_cap = cap;
    return true;
}

static const uint32_t MIN_CP[4] = {0, 0x80, 0x800, 0x10000};

/* The code points a partial UTF-8 character can still become. */
static void partial_range(uint32_t partial, uint8_t need, uint8_t have, uint32_t *lo, uint32_t *hi)
{
    *lo = partial << (6 * need);
    *hi = *lo | ((1u << (6 * need)) - 1);
    if (*lo < MIN_CP[have + need]) *lo = MIN_CP[have + need];
    if (*hi > 0x10ffff) *hi = 0x10ffff;
    if (*lo >= 0xd800 && *hi <= 0xdfff) *hi = 0, *lo = 1; /* only surrogates: nothing valid */
}

/* Could the stack's top class take a character in [lo, hi]? */
static bool stack_takes(const gmatch *m, uint32_t id, uint32_t lo, uint32_t hi)
{
    const gram *g = m->g;
    const gcharset *cs = &g->sets[g->elems[m->nodes[id].pos].value];
    for (uint32_t r = 0; r < cs->n; r++) {
        const grange *gr = &g->ranges[cs->first + r];
        if (gr->lo <= hi && gr->hi >= lo) return true;
    }
    return false;
}

/* Interns a state; ids sorted and unique, and not pointing into m->pool. */
static int32_t intern(gmatch *m, const uint32_t *ids, uint32_t n, uint32_t partial, uint8_t need, uint8_t have,
                      int32_t base)
{
    if (n == 0) return GSTATE_DEAD;
    uint32_t i = state_key(ids, n, partial, need, have) & (m->state_hash_cap - 1);
    for (; m->state_hash[i]; i = (i + 1) & (m->state_hash_cap - 1)) {
        const gstate *st = &m->states[m->state_hash[i] - 1];
        if (st->n == n && st->partial == partial && st->need == need && st->have == have &&
            !memcmp(m->pool + st->off, ids, n * sizeof *ids))
            return (int32_t)(m->state_hash[i] - 1);
    }
    if (m->n_states >= MAX_STATES || !sample_grow((void **)&m->states, &m->cap_states, m->n_states + 1, sizeof *m->states) ||
        !sample_grow((void **)&m->pool, &m->cap_pool, m->n_pool + n, sizeof *m->pool)) {
        fail_mem(m);
        return GSTATE_DEAD;
    }
    gstate *st = &m->states[m->n_states];
    *st = (gstate){.off = m->n_pool, .n = n, .partial = partial, .need = need, .have = have, .max_need = -1,
                   .base = base >= 0 ? base : (int32_t)m->n_states};
    memcpy(m->pool + m->n_pool, ids, n * sizeof *ids);
    m->n_pool += n;
    uint32_t best = GRAM_INF;
    if (need == 0) {
        for (uint32_t k = 0; k < n; k++)
            if (m->nodes[ids[k]].mc < best) best = m->nodes[ids[k]].mc;
    } else {
        /* inside a character: only stacks that can take it count, and finishing it costs the
         * bytes still missing (one token each at worst) instead of the class's usual cost */
        uint32_t lo, hi;
        partial_range(partial, need, have, &lo, &hi);
        for (uint32_t k = 0; k < n; k++) {
            const snode *sn = &m->nodes[ids[k]];
            if (ids[k] == 0 || !stack_takes(m, ids[k], lo, hi)) continue;
            uint32_t top = m->g->min_from[sn->pos] - m->g->min_from[sn->pos + 1];
            uint32_t mc = sn->mc - top + need;
            if (mc < best) best = mc;
        }
    }
    st->accepting = need == 0 && ids[0] == 0;
    st->done = st->accepting && n == 1;
    st->need_tokens = st->done ? 0 : (int32_t)(best + 1 < GRAM_INF ? best + 1 : GRAM_INF);
    m->state_hash[i] = m->n_states + 1;
    int32_t id = (int32_t)m->n_states++;
    if (m->n_states * 2 > m->state_hash_cap && !state_rehash(m, m->state_hash_cap * 2)) {
        fail_mem(m);
        return GSTATE_DEAD;
    }
    return id;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts m->out and interns it as a state with no partial character. */
static int32_t intern_out(gmatch *m)
{
    if (m->n_out > 1) qsort(m->out, m->n_out, sizeof *m->out, cmp_u32);
    return intern(m, m->out, m->n_out, 0, 0, 0, -1);
}

gmatch *gmatch_new(const gram *g, hearth_error *err)
{
    gmatch *m = calloc(1, sizeof *m);
    if (!m) goto oom;
    m->g = g;
    if (!sample_grow((void **)&m->nodes, &m->cap_nodes, 1, sizeof *m->nodes) || !node_rehash(m, 1024) ||
        !state_rehash(m, 256))
        goto oom;
    m->nodes[0] = (snode){0, 0, 0, 0}; /* the empty stack */
    m->n_nodes = 1;
    return m;
oom:
    gmatch_free(m);
    hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory");
    return NULL;
}

void gmatch_free(gmatch *m)
{
    if (!m) return;
    for (uint32_t s = 0; s < m->n_states; s++) {
        free(m->states[s].next);
        free(m->states[s].mask);
    }
    free(m->states);
    free(m->state_hash);
    free(m->pool);
    free(m->nodes);
    free(m->node_hash);
    free(m->work);
    free(m->out);
    free(m->ids);
    free(m);
}

int32_t gmatch_start(gmatch *m, hearth_error *err)
{
    begin_closure(m);
    uint32_t root = m->g->root;
    const grule *R = &m->g->rules[root];
    bool ok = true;
    for (uint32_t a = 0; ok && a < R->n_alts; a++) ok = push_work(m, node(m, m->g->alts[R->first_alt + a], 0));
    int32_t s = ok && closure(m) ? intern_out(m) : GSTATE_DEAD;
    if (s == GSTATE_DEAD) hearth_fail(err, HEARTH_ERR_FORMAT, "%s", m->error[0] ? m->error : "grammar: matches nothing");
    return s;
}

/* Could any stack of the state take a character in [lo, hi]? Prunes partial UTF-8. */
static bool range_viable(gmatch *m, const uint32_t *ids, uint32_t n, uint32_t lo, uint32_t hi)
{
    for (uint32_t k = 0; k < n; k++)
        if (ids[k] != 0 && stack_takes(m, ids[k], lo, hi)) return true;
    return false;
}

/* The state after character cp, from the stacks ids[0..n) of state `base`. The result depends
 * only on which stacks accept cp, so base remembers the last (accepting set -> state): inside a
 * JSON string every character but '"' and '\\' accepts alike, and the thousands of multi-byte
 * characters a trie walk completes cost one closure instead of one each. */
static int32_t advance_cp(gmatch *m, int32_t base, const uint32_t *ids, uint32_t n, uint32_t cp)
{
    uint64_t sig = 0;
    bool memo = n <= 64;
    for (uint32_t k = 0; memo && k < n; k++)
        if (ids[k] != 0 && gram_set_has(m->g, m->g->elems[m->nodes[ids[k]].pos].value, cp)) sig |= 1ull << k;
    if (memo && m->states[base].memo_valid && m->states[base].memo_sig == sig) return m->states[base].memo_next;
    begin_closure(m);
    for (uint32_t k = 0; k < n; k++) {
        if (ids[k] == 0) continue;
        const snode *sn = &m->nodes[ids[k]];
        if (memo ? !(sig >> k & 1) : !gram_set_has(m->g, m->g->elems[sn->pos].value, cp)) continue;
        if (!push_work(m, node(m, sn->pos + 1, m->nodes[ids[k]].parent))) return GSTATE_DEAD;
    }
    if (!closure(m)) return GSTATE_DEAD;
    int32_t t = intern_out(m);
    if (memo && !m->error[0]) { /* states[] may have moved */
        m->states[base].memo_sig = sig;
        m->states[base].memo_next = t;
        m->states[base].memo_valid = true;
    }
    return t;
}

static int32_t compute_step(gmatch *m, int32_t s, uint8_t b)
{
    gstate st = m->states[s];
    if (!sample_grow((void **)&m->ids, &m->cap_ids, st.n, sizeof *m->ids)) { fail_mem(m); return GSTATE_DEAD; }
    memcpy(m->ids, m->pool + st.off, st.n * sizeof *m->ids);
    uint32_t partial;
    uint8_t need, have;
    if (st.need) {
        if ((b & 0xc0) != 0x80) return GSTATE_DEAD;
        partial = (st.partial << 6) | (b & 0x3fu);
        need = (uint8_t)(st.need - 1);
        have = (uint8_t)(st.have + 1);
    } else if (b < 0x80) {
        return advance_cp(m, st.base, m->ids, st.n, b);
    } else {
        need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
        if (!need) return GSTATE_DEAD;
        partial = b & (0x3fu >> need);
        have = 0;
    }
    if (need == 0) {
        if (partial < MIN_CP[have] || partial > 0x10ffff || (partial >= 0xd800 && partial <= 0xdfff))
            return GSTATE_DEAD;
        return advance_cp(m, st.base, m->ids, st.n, partial);
    }
    uint32_t lo, hi;
    partial_range(partial, need, have, &lo, &hi);
    if (lo > hi || !range_viable(m, m->ids, st.n, lo, hi)) return GSTATE_DEAD;
    return intern(m, m->ids, st.n, partial, need, have, st.base);
}

int32_t *gmatch_table(gmatch *m, int32_t s)
{
    if (s < 0) return NULL;
    int32_t *next = m->states[s].next;
    if (!next) {
        next = malloc(256 * sizeof *next);
        if (!next) { fail_mem(m); return NULL; }
        for (int i = 0; i < 256; i++) next[i] = UNKNOWN;
        m->states[s].next = next;
    }
    return next;
}

int32_t gmatch_step(gmatch *m, int32_t s, uint8_t b)
{
    int32_t *next = gmatch_table(m, s);
    if (!next) return GSTATE_DEAD;
    if (next[b] != UNKNOWN) return next[b];
    int32_t t = compute_step(m, s, b);
    m->states[s].next[b] = t; /* states[] may have moved */
    return t;
}

int32_t gmatch_feed(gmatch *m, int32_t s, const char *bytes, size_t len)
{
    for (size_t i = 0; i < len && s >= 0; i++) s = gmatch_step(m, s, (uint8_t)bytes[i]);
    return s;
}

bool gmatch_accepting(const gmatch *m, int32_t s) { return s >= 0 && m->states[s].accepting; }
bool gmatch_done(const gmatch *m, int32_t s) { return s >= 0 && m->states[s].done; }
int32_t gmatch_need(const gmatch *m, int32_t s) { return s >= 0 ? m->states[s].need_tokens : (int32_t)GRAM_INF; }
const char *gmatch_error(const gmatch *m) { return m->error; }
int32_t gmatch_n_states(const gmatch *m) { return (int32_t)m->n_states; }
uint64_t **gmatch_mask_slot(gmatch *m, int32_t s) { return &m->states[s].mask; }
int32_t *gmatch_max_need_slot(gmatch *m, int32_t s) { return &m->states[s].max_need; }

void gmatch_drop_masks(gmatch *m)
{
    for (uint32_t s = 0; s < m->n_states; s++) {
        free(m->states[s].mask);
        m->states[s].mask = NULL;
        m->states[s].max_need = -1;
    }
}
