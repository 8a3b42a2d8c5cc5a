/*
 * grammar.h — the inside of grammar-constrained decoding.
 *
 *   GBNF text --grammar_parse.c--> gram (rules of element sequences; repetition desugared)
 *            --grammar_check.c--> checked: no undefined rules, every rule can finish, no
 *                                 recursion that grows the stack without consuming input;
 *                                 min_from[] = fewest tokens that surely finish from any position
 *   gram --grammar_match.c--> a pushdown matcher over code points, fed bytes: its states are
 *                             interned sets of interned stacks, with memoized byte transitions
 *   states x vocabulary trie --grammar_mask.c--> allowed-token bitsets, cached per state
 */
#ifndef HEARTH_GRAMMAR_H
#define HEARTH_GRAMMAR_H

#include <stdbool.h>
#include <stdint.h>

#include "hearth.h"
#include "sample/sample.h"

enum { GE_END = 0, GE_CHARS = 1, GE_RULE = 2 };

typedef struct gelem {
    uint32_t type;   /* GE_* */
    uint32_t value;  /* charset index (GE_CHARS) or rule index (GE_RULE) */
} gelem;

typedef struct grange { uint32_t lo, hi; } grange; /* inclusive code point range */

typedef struct gcharset { uint32_t first, n; } gcharset; /* sorted disjoint ranges */

typedef struct grule {
    char *name;
    uint32_t first_alt, n_alts; /* alts[first_alt .. +n_alts) are element positions */
} grule;

typedef struct gram {
    gelem *elems;     /* every alternative's elements, each alternative ended by GE_END */
    uint32_t n_elems;
    uint32_t *alts;
    uint32_t n_alts;
    grule *rules;
    uint32_t n_rules;
    grange *ranges;
    uint32_t n_ranges;
    gcharset *sets;
    uint32_t n_sets;
    uint32_t root;
    uint32_t *min_from; /* per element position: fewest tokens (bytes) to reach the GE_END */
} gram;

#define GRAM_INF 0x3fffffffu

/* grammar_parse.c: parses GBNF and runs grammar_check. NULL and err (with line:col). */
gram *gram_parse(const char *text, const char *root_rule, hearth_error *err);
void gram_free(gram *g);
bool gram_set_has(const gram *g, uint32_t set, uint32_t cp);
/* grammar_check.c */
hearth_status gram_check(gram *g, hearth_error *err);

/* ---- matcher (grammar_match.c) ---- */

#define GSTATE_DEAD (-1)

typedef struct gmatch gmatch;

gmatch *gmatch_new(const gram *g, hearth_error *err);
void gmatch_free(gmatch *m);
/* The start state, or GSTATE_DEAD with err filled (a grammar too ambiguous to expand). */
int32_t gmatch_start(gmatch *m, hearth_error *err);
/* One byte of output; GSTATE_DEAD when it cannot continue any parse. Memoized. */
int32_t gmatch_step(gmatch *m, int32_t state, uint8_t byte);
/* The state's 256 memoized transitions (GSTATE_UNKNOWN until computed by gmatch_step); the
 * array never moves, so a walk may keep the pointer. NULL when out of memory. */
#define GSTATE_UNKNOWN (-2)
int32_t *gmatch_table(gmatch *m, int32_t state);
int32_t gmatch_feed(gmatch *m, int32_t state, const char *bytes, size_t len);
bool gmatch_accepting(const gmatch *m, int32_t state);  /* a complete value has been matched */
bool gmatch_done(const gmatch *m, int32_t state);       /* accepting and nothing may follow */
/* Fewest tokens still needed to finish: characters left on the cheapest parse, +1 for the
 * end-of-generation token when the finished state is not done. 0 when done. */
int32_t gmatch_need(const gmatch *m, int32_t state);
/* Set when the matcher gave up (a state too large); reported by the mask code. */
const char *gmatch_error(const gmatch *m);
int32_t gmatch_n_states(const gmatch *m);
/* Per-state slots the mask code uses for its cache. */
uint64_t **gmatch_mask_slot(gmatch *m, int32_t state);
int32_t *gmatch_max_need_slot(gmatch *m, int32_t state);
/* Drops every cached mask (memory cap). */
void gmatch_drop_masks(gmatch *m);

/* ---- the public hearth_grammar (grammar_mask.c) ---- */

/* The vocabulary's bytes as a trie in preorder, for one linear walk per mask. Built once per
 * vocabulary (sample_vocab.trie) and shared by every grammar on it. */
struct sample_trie {
    uint32_t n_nodes;
    uint8_t *node_byte;
    uint16_t *node_depth;
    uint32_t *node_end;      /* index just past the node's subtree */
    uint32_t *node_tok;      /* tokens ending at node i: tok_list[node_tok[i] .. node_tok[i+1]) */
    int32_t *tok_list;
    int32_t *eog_list;
    int32_t n_eog;
    uint32_t max_depth;
};

struct hearth_grammar {
    gram *g;
    gmatch *m;
    int32_t start;           /* the matcher state before any output */
    sample_vocab *vocab;
    bool own_vocab;
    const sample_trie *trie;
    int32_t *walk;           /* state per depth during a walk */
    int32_t **walk_tab;      /* and its transition table */
    uint64_t *scratch_mask;  /* budgeted masks are not cached */
    size_t mask_words;
    size_t cached_masks;
};

/* The allowed-token bitset in `state` (EOG tokens included when accepting). budget > 0: only
 * tokens after which the value can be finished in budget-1 more tokens. NULL + err when no
 * token is allowed. *n_allowed gets the count when not NULL. */
const uint64_t *grammar_mask(hearth_grammar *gr, int32_t state, int32_t budget,
                             hearth_error *err);
/* Advances by one chosen token; GSTATE_DEAD if the token is not allowed there. EOG tokens keep
 * an accepting state. */
int32_t grammar_accept(hearth_grammar *gr, int32_t state, hearth_token token);

#endif
