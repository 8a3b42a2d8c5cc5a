/* vocab.c — the sampler's and grammars' view of a vocabulary: each token's bytes and whether it
 * ends generation. Built from explicit pieces here (tests), from a model in grammar_model.c. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sample/sample.h"

sample_vocab *sample_vocab_new(int32_t n_vocab, const char *const *pieces, const int32_t *lens,
                               const uint8_t *eog, hearth_error *err)
{
    if (n_vocab <= 0 || !pieces) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "vocabulary: %d tokens", n_vocab);
        return NULL;
    }
    size_t total = 0;
    for (int32_t t = 0; t < n_vocab; t++) {
        size_t len = lens ? (size_t)(lens[t] > 0 ? lens[t] : 0) : (pieces[t] ? strlen(pieces[t]) : 0);
        if (!hearth_size_add(total, len, &total) || total > UINT32_MAX) {
            hearth_fail(err, HEARTH_ERR_INVALID_ARG, "vocabulary: pieces larger than 4 GiB");
            return NULL;
        }
    }
    sample_vocab *v = calloc(1, sizeof *v);
    if (v) {
        v->bytes = malloc(total ? total : 1);
        v->off = malloc(((size_t)n_vocab + 1) * sizeof *v->off);
        v->eog = calloc((size_t)n_vocab, 1);
    }
    if (!v || !v->bytes || !v->off || !v->eog) {
        sample_vocab_free(v);
        hearth_fail(err, HEARTH_ERR_NOMEM, "vocabulary: out of memory");
        return NULL;
    }
    v->n_vocab = n_vocab;
    uint32_t at = 0;
    for (int32_t t = 0; t < n_vocab; t++) {
        size_t len = lens ? (size_t)(lens[t] > 0 ? lens[t] : 0) : (pieces[t] ? strlen(pieces[t]) : 0);
        v->off[t] = at;
        if (len) memcpy(v->bytes + at, pieces[t], len);
        at += (uint32_t)len;
        v->eog[t] = eog ? eog[t] != 0 : 0;
    }
    v->off[n_vocab] = at;
    return v;
}

void sample_vocab_free(sample_vocab *v)
{
    if (!v) return;
    sample_trie_free(v->trie);
    free(v->bytes);
    free(v->off);
    free(v->eog);
    free(v);
}
