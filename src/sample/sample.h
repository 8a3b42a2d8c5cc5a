/*
 * sample — turning logits into tokens: the sampler chain, grammar / JSON-Schema constraints,
 * confidence signals, voting and the generation loop.
 *
 * The public half is include/hearth.h ("Sampling" and the sections after it). This header is
 * the module's inside: the vocabulary view the sampler and grammars work on (so both can be
 * tested on a synthetic vocabulary without a model), and the constructors that take one.
 */
#ifndef HEARTH_SAMPLE_H
#define HEARTH_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "hearth.h"

/* Every token's bytes (hearth_token_to_piece with special=false: control tokens are empty) and
 * whether it ends generation. One pool, owned. */
typedef struct sample_trie sample_trie;

typedef struct sample_vocab {
    int32_t n_vocab;
    char *bytes;       /* all pieces back to back */
    uint32_t *off;     /* n_vocab + 1 offsets into bytes */
    uint8_t *eog;      /* 1 = end-of-generation token */
    sample_trie *trie; /* built by the first grammar that needs it (grammar_mask.c) */
} sample_vocab;

/* Builds a vocabulary from explicit pieces (tests, tools). lens may be NULL (NUL-terminated
 * pieces); eog may be NULL. */
sample_vocab *sample_vocab_new(int32_t n_vocab, const char *const *pieces, const int32_t *lens,
                               const uint8_t *eog, hearth_error *err);
/* From a loaded model, through the public API. */
sample_vocab *sample_vocab_from_model(const hearth_model *model, hearth_error *err);
void sample_vocab_free(sample_vocab *v);
void sample_trie_free(sample_trie *t);
static inline int32_t sample_vocab_len(const sample_vocab *v, int32_t t)
{
    return (int32_t)(v->off[t + 1] - v->off[t]);
}

/* Grows *p (an array of elem-byte items with *cap slots) to hold need items, doubling. */
static inline bool sample_grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap) return true;
    uint32_t nc = *cap ? *cap : 8;
    while (nc < need) nc *= 2;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q) return false;
    *p = q;
    *cap = nc;
    return true;
}

/* A sampler over n_vocab logits with no model behind it (tests, tools). */
hearth_sampler *sample_sampler_new_n(int32_t n_vocab, const hearth_sampler_params *params,
                                     hearth_error *err);

/* hearth_sampler_sample as three steps, so the samplers of parallel samples can draw on several
 * threads. sample_begin (budget check, the grammar's mask for the current state copied into the
 * sampler) and sample_end (advances the grammar, penalty window and budget) touch the grammar,
 * which samplers may share: call them on one thread. sample_draw touches only its sampler and
 * reads the logits: distinct samplers may draw at the same time. On failure (false /
 * HEARTH_TOKEN_NULL) hearth_sampler_error says why. */
bool sample_begin(hearth_sampler *sm);
hearth_token sample_draw(hearth_sampler *sm, const float *logits, hearth_sample *out);
hearth_token sample_end(hearth_sampler *sm, hearth_token token);

/* A grammar over an explicit vocabulary. The grammar keeps `vocab` (borrowed unless
 * take_vocab, in which case it frees it). */
hearth_grammar *sample_grammar_new(sample_vocab *vocab, bool take_vocab, const char *gbnf,
                                   const char *root_rule, hearth_error *err);

/* Stop strings: the length of text[0..len) that is safe to show, given that a stop string may
 * still begin in the held-back tail. *hit is set to the offset of the first complete stop
 * string (then the safe length equals it), or -1. */
size_t sample_stop_scan(const char *text, size_t len, const char *const *stop, int32_t n_stop,
                        ptrdiff_t *hit);

#endif
