/* grammar_model.c — grammars for a loaded model: its vocabulary through the public API. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "sample/grammar.h"

sample_vocab *sample_vocab_from_model(const hearth_model *model, hearth_error *err)
{
    if (!model) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "grammar: no model");
        return NULL;
    }
    int32_t n = hearth_vocab_size(model);
    if (n <= 0) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "grammar: the model has no vocabulary");
        return NULL;
    }
    char **pieces = calloc((size_t)n, sizeof *pieces);
    int32_t *lens = calloc((size_t)n, sizeof *lens);
    uint8_t *eog = calloc((size_t)n, 1);
    sample_vocab *v = NULL;
    char buf[256];
    if (!pieces || !lens || !eog) goto oom;
    for (int32_t t = 0; t < n; t++) {
        int32_t len = hearth_token_to_piece(model, t, buf, (int32_t)sizeof buf, false);
        if (len < 0) { /* longer than buf: ask again with the size it needs */
            pieces[t] = malloc((size_t)-len);
            if (!pieces[t]) goto oom;
            len = hearth_token_to_piece(model, t, pieces[t], -len, false);
            if (len < 0) len = 0;
        } else {
            pieces[t] = malloc(len ? (size_t)len : 1);
            if (!pieces[t]) goto oom;
            memcpy(pieces[t], buf, (size_t)len);
        }
        lens[t] = len;
        eog[t] = hearth_token_is_eog(model, t);
    }
    v = sample_vocab_new(n, (const char *const *)pieces, lens, eog, err);
    goto out;
oom:
    hearth_fail(err, HEARTH_ERR_NOMEM, "grammar: out of memory reading the vocabulary");
out:
    for (int32_t t = 0; pieces && t < n; t++) free(pieces[t]);
    free(pieces);
    free(lens);
    free(eog);
    return v;
}

hearth_grammar *hearth_grammar_new(const hearth_model *model, const char *gbnf, const char *root_rule,
                                   hearth_error *err)
{
    sample_vocab *v = sample_vocab_from_model(model, err);
    if (!v) return NULL;
    return sample_grammar_new(v, true, gbnf, root_rule, err);
}

hearth_grammar *hearth_grammar_new_json_schema(const hearth_model *model, const char *schema, hearth_error *err)
{
    char *gbnf = hearth_json_schema_to_gbnf(schema, err);
    if (!gbnf) return NULL;
    hearth_grammar *g = hearth_grammar_new(model, gbnf, "root", err);
    if (!g) hearth_fail_wrap(err, "JSON schema");
    free(gbnf);
    return g;
}
