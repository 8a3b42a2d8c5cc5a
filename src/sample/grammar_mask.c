/*
 * grammar_mask.c — which tokens may come next, fast on 150k-token vocabularies.
 *
 * The vocabulary's token bytes are laid out once as a trie in preorder (sorted pieces: each
 * new piece adds the nodes past its common prefix with the previous one). A mask is one
 * linear pass over that array carrying the matcher state per depth: a node whose byte kills
 * the parse skips its whole subtree (node_end), so "inside a JSON number" touches a few
 * hundred nodes, and "inside a string" touches the live part of the trie once per distinct
 * matcher state — the result is cached on the state, and a string's characters all lead back
 * to the same state. Byte steps are memoized by the matcher, so a pass is table lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sample/grammar.h"

#define MASK_CACHE_BYTES ((size_t)128 << 20)

typedef struct piece_ref { const uint8_t *p; uint32_t len; int32_t tok; } piece_ref;

static int cmp_piece(const void *a, const void *b)
{
    const piece_ref *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->tok < y->tok ? -1 : x->tok > y->tok;
}

void sample_trie_free(sample_trie *t)
{
    if (!t) return;
    free(t->node_byte);
    free(t->node_depth);
    free(t->node_end);
    free(t->node_tok);
    free(t->tok_list);
    free(t->eog_list);
    free(t);
}

static sample_trie *build_trie(const sample_vocab *v, hearth_error *err)
{
    int32_t n = v->n_vocab, n_pieces = 0, n_eog = 0;
    sample_trie *t = calloc(1, sizeof *t);
    piece_ref *refs = malloc((size_t)(n ? n : 1) * sizeof *refs);
    uint32_t *open = malloc(65537 * sizeof *open);
    size_t max_nodes = (size_t)v->off[n] + 1;
    if (t) {
        t->eog_list = malloc((size_t)(n ? n : 1) * sizeof *t->eog_list);
        t->tok_list = malloc((size_t)(n ? n : 1) * sizeof *t->tok_list);
        t->node_byte = malloc(max_nodes);
        t->node_depth = malloc(max_nodes * sizeof *t->node_depth);
        t->node_end = malloc(max_nodes * sizeof *t->node_end);
        t->node_tok = malloc((max_nodes + 1) * sizeof *t->node_tok);
    }
    if (!t || !refs || !open || !t->eog_list || !t->tok_list || !t->node_byte || !t->node_depth || !t->node_end ||
        !t->node_tok) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory for the token trie");
        sample_trie_free(t);
        t = NULL;
        goto out;
    }
    for (int32_t k = 0; k < n; k++) {
        uint32_t len = (uint32_t)sample_vocab_len(v, k);
        if (v->eog[k]) t->eog_list[n_eog++] = k;
        else if (len > 0 && len <= 65535) refs[n_pieces++] = (piece_ref){(const uint8_t *)v->bytes + v->off[k], len, k};
        /* empty pieces (control tokens) can never continue a constrained output */
    }
    t->n_eog = n_eog;
    qsort(refs, (size_t)n_pieces, sizeof *refs, cmp_piece);
    uint32_t n_nodes = 1, n_open = 1, n_tok = 0;
    t->node_byte[0] = 0;
    t->node_depth[0] = 0;
    t->node_tok[0] = 0;
    open[0] = 0;
    for (int32_t i = 0; i < n_pieces; i++) {
        uint32_t lcp = 0;
        if (i > 0) {
            uint32_t lim = HEARTH_MIN(refs[i].len, refs[i - 1].len);
            while (lcp < lim && refs[i].p[lcp] == refs[i - 1].p[lcp]) lcp++;
        }
        while (n_open > lcp + 1) t->node_end[open[--n_open]] = n_nodes; /* close deeper nodes */
        for (uint32_t d = lcp; d < refs[i].len; d++) {
            t->node_byte[n_nodes] = refs[i].p[d];
            t->node_depth[n_nodes] = (uint16_t)(d + 1);
            t->node_tok[n_nodes] = n_tok;
            open[n_open++] = n_nodes++;
        }
        t->tok_list[n_tok++] = refs[i].tok; /* ends at the newest node (duplicates too) */
        if (refs[i].len > t->max_depth) t->max_depth = refs[i].len;
    }
    while (n_open > 0) t->node_end[open[--n_open]] = n_nodes;
    t->node_tok[n_nodes] = n_tok;
    t->n_nodes = n_nodes;
out:
    free(refs);
    free(open);
    return t;
}

hearth_grammar *sample_grammar_new(sample_vocab *vocab, bool take_vocab, const char *gbnf,
                                   const char *root_rule, hearth_error *err)
{
    hearth_grammar *gr = calloc(1, sizeof *gr);
    if (!gr) {
        if (take_vocab) sample_vocab_free(vocab);
        hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory");
        return NULL;
    }
    gr->vocab = vocab;
    gr->own_vocab = take_vocab;
    if (!vocab) { hearth_fail(err, HEARTH_ERR_INVALID_ARG, "grammar: no vocabulary"); goto fail; }
    gr->g = gram_parse(gbnf, root_rule, err);
    if (!gr->g) goto fail;
    gr->m = gmatch_new(gr->g, err);
    if (!gr->m) goto fail;
    gr->start = gmatch_start(gr->m, err);
    if (gr->start < 0) goto fail;
    if (!vocab->trie && !(vocab->trie = build_trie(vocab, err))) goto fail;
    gr->trie = vocab->trie;
    gr->mask_words = ((size_t)vocab->n_vocab + 63) / 64;
    gr->walk = malloc(((size_t)gr->trie->max_depth + 1) * sizeof *gr->walk);
    gr->walk_tab = malloc(((size_t)gr->trie->max_depth + 1) * sizeof *gr->walk_tab);
    gr->scratch_mask = malloc(gr->mask_words * sizeof *gr->scratch_mask);
    if (!gr->walk || !gr->walk_tab || !gr->scratch_mask) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory");
        goto fail;
    }
    return gr;
fail:
    hearth_grammar_free(gr);
    return NULL;
}

void hearth_grammar_free(hearth_grammar *gr)
{
    if (!gr) return;
    gmatch_free(gr->m);
    gram_free(gr->g);
    if (gr->own_vocab) sample_vocab_free(gr->vocab);
    free(gr->walk);
    free(gr->walk_tab);
    free(gr->scratch_mask);
    free(gr);
}

/* One pass over the trie. budget <= 0: no budget. Returns the number of allowed tokens and the
 * largest gmatch_need over them in *max_need. */
static int32_t walk_trie(hearth_grammar *gr, int32_t state, int32_t budget, uint64_t *mask, int32_t *max_need)
{
    memset(mask, 0, gr->mask_words * sizeof *mask);
    int32_t allowed = 0, worst = 0;
    int32_t limit = budget > 0 ? budget - 1 : INT32_MAX;
    gmatch *m = gr->m;
    const sample_trie *t = gr->trie;
    for (uint32_t d = 0; d <= t->max_depth; d++) gr->walk[d] = GSTATE_DEAD;
    gr->walk[0] = state;
    gr->walk_tab[0] = gmatch_table(m, state);
    if (!gr->walk_tab[0]) return 0;
    int32_t last_s = GSTATE_DEAD, last_need = 0; /* token nodes mostly end in one state */
    for (uint32_t i = 1; i < t->n_nodes;) {
        uint32_t d = t->node_depth[i];
        int32_t s = gr->walk_tab[d - 1][t->node_byte[i]]; /* memoized: one load */
        if (s == GSTATE_UNKNOWN) s = gmatch_step(m, gr->walk[d - 1], t->node_byte[i]);
        if (s < 0) { i = t->node_end[i]; continue; }
        if (t->node_end[i] > i + 1 && gr->walk[d] != s) { /* children read walk[d], walk_tab[d] */
            if (!(gr->walk_tab[d] = gmatch_table(m, s))) return 0;
            gr->walk[d] = s; /* tables never move: an equal state keeps its pointer */
        }
        uint32_t t0 = t->node_tok[i], t1 = t->node_tok[i + 1];
        if (t0 < t1) {
            if (s != last_s) {
                last_s = s;
                last_need = gmatch_need(m, s);
            }
            int32_t need = last_need;
            if (need <= limit) {
                for (uint32_t k = t0; k < t1; k++) {
                    int32_t tok = t->tok_list[k];
                    mask[tok >> 6] |= 1ull << (tok & 63);
                }
                allowed += (int32_t)(t1 - t0);
                if (need > worst) worst = need;
            }
        }
        i++;
    }
    if (gmatch_accepting(m, state))
        for (int32_t k = 0; k < t->n_eog; k++) {
            int32_t tok = t->eog_list[k];
            mask[tok >> 6] |= 1ull << (tok & 63);
            allowed++;
        }
    *max_need = worst;
    return allowed;
}

const uint64_t *grammar_mask(hearth_grammar *gr, int32_t state, int32_t budget, hearth_error *err)
{
    if (state < 0) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "grammar: the output already broke the grammar");
        return NULL;
    }
    uint64_t *mask = *gmatch_mask_slot(gr->m, state);
    int32_t max_need = *gmatch_max_need_slot(gr->m, state);
    int32_t allowed = 1;
    if (!mask) {
        size_t bytes = gr->mask_words * sizeof *mask;
        if ((gr->cached_masks + 1) * bytes > MASK_CACHE_BYTES) {
            gmatch_drop_masks(gr->m);
            gr->cached_masks = 0;
        }
        mask = malloc(bytes ? bytes : 1);
        if (!mask) {
            hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory for a token mask");
            return NULL;
        }
        allowed = walk_trie(gr, state, 0, mask, &max_need);
        if (gmatch_error(gr->m)[0]) {
            free(mask);
            hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "%s", gmatch_error(gr->m));
            return NULL;
        }
        *gmatch_mask_slot(gr->m, state) = mask; /* the matcher's state array may have moved */
        *gmatch_max_need_slot(gr->m, state) = max_need;
        gr->cached_masks++;
    }
    if (budget > 0 && max_need > budget - 1) {
        int32_t worst;
        allowed = walk_trie(gr, state, budget, gr->scratch_mask, &worst);
        mask = gr->scratch_mask;
        if (allowed == 0) {
            hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                        "grammar: %d more token(s) cannot finish the value (it needs at least %d); raise max tokens",
                        budget, gmatch_need(gr->m, state));
            return NULL;
        }
    }
    if (max_need == 0 && !gmatch_accepting(gr->m, state)) {
        /* the cached walk found nothing: check the mask really is empty */
        bool any = false;
        for (size_t w = 0; w < gr->mask_words && !any; w++) any = mask[w] != 0;
        allowed = any;
    }
    if (!allowed) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                    "grammar: no token of the vocabulary can continue the output here (the grammar "
                    "needs a character no token provides)");
        return NULL;
    }
    return mask;
}

int32_t grammar_accept(hearth_grammar *gr, int32_t state, hearth_token token)
{
    const sample_vocab *v = gr->vocab;
    if (state < 0 || token < 0 || token >= v->n_vocab) return GSTATE_DEAD;
    if (v->eog[token]) return gmatch_accepting(gr->m, state) ? state : GSTATE_DEAD;
    int32_t len = sample_vocab_len(v, token);
    if (len == 0) return GSTATE_DEAD;
    return gmatch_feed(gr->m, state, v->bytes + v->off[token], (size_t)len);
}
