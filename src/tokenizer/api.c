/*
 * api.c — the "Vocabulary and tokenization" section of include/hearth.h, on top of the
 * model's hearth_vocab. Buffer conventions follow llama.h: a too-small buffer returns minus
 * the size needed and the call can be repeated.
 */
#include <limits.h>
#include <stdlib.h>

#include "model/model.h"
#include "tokenizer/tok_internal.h"

static const hearth_vocab *vocab_of(const hearth_model *m) { return m ? hearth_model_vocab(m) : NULL; }

int32_t hearth_vocab_size(const hearth_model *model)
{
    const hearth_vocab *v = vocab_of(model);
    return v ? v->n_tokens : 0;
}

hearth_token hearth_token_bos(const hearth_model *model)
{
    const hearth_vocab *v = vocab_of(model);
    return v ? v->bos : HEARTH_TOKEN_NULL;
}

hearth_token hearth_token_eos(const hearth_model *model)
{
    const hearth_vocab *v = vocab_of(model);
    return v ? v->eos : HEARTH_TOKEN_NULL;
}

hearth_token hearth_token_eot(const hearth_model *model)
{
    const hearth_vocab *v = vocab_of(model);
    return v ? v->eot : HEARTH_TOKEN_NULL;
}

bool hearth_token_is_eog(const hearth_model *model, hearth_token token)
{
    const hearth_vocab *v = vocab_of(model);
    return v && hearth_vocab_is_eog(v, token);
}

bool hearth_token_is_control(const hearth_model *model, hearth_token token)
{
    const hearth_vocab *v = vocab_of(model);
    return v && hearth_vocab_is_control(v, token);
}

const char *hearth_token_text(const hearth_model *model, hearth_token token)
{
    const hearth_vocab *v = vocab_of(model);
    return v ? hearth_vocab_token_text(v, token, NULL) : NULL;
}

int32_t hearth_tokenize(const hearth_model *model, const char *text, int32_t len, hearth_token *tokens,
                        int32_t n_max, bool add_special, bool parse_special)
{
    const hearth_vocab *v = vocab_of(model);
    if (!v || len < 0 || (len > 0 && !text)) return 0;
    hearth_token *ids;
    size_t n;
    if (hearth_vocab_tokenize(v, text, (size_t)len, add_special, parse_special, &ids, &n, NULL)) return INT32_MIN;
    int32_t r;
    if (n > (size_t)INT32_MAX) {
        r = INT32_MIN;
    } else if (n > (size_t)(n_max > 0 ? n_max : 0) || (n && !tokens)) {
        r = -(int32_t)n;
    } else {
        memcpy(tokens, ids, n * sizeof *ids);
        r = (int32_t)n;
    }
    free(ids);
    return r;
}

int32_t hearth_token_to_piece(const hearth_model *model, hearth_token token, char *buf, int32_t buf_size,
                              bool special)
{
    const hearth_vocab *v = vocab_of(model);
    if (!v) return 0;
    const char *p;
    size_t n = hearth_vocab_piece(v, token, special, &p);
    if (n > (size_t)(buf_size > 0 ? buf_size : 0) || (n && !buf)) return -(int32_t)n;
    memcpy(buf, p, n);
    return (int32_t)n;
}

int32_t hearth_detokenize(const hearth_model *model, const hearth_token *tokens, int32_t n_tokens, char *buf,
                          int32_t buf_size, bool remove_special, bool unparse_special)
{
    const hearth_vocab *v = vocab_of(model);
    if (!v || n_tokens <= 0 || !tokens) return 0;
    size_t cap = (size_t)(buf_size > 0 && buf ? buf_size : 0);
    size_t n = hearth_vocab_detokenize(v, tokens, (size_t)n_tokens, buf, cap, remove_special, unparse_special);
    if (n > (size_t)INT32_MAX) return INT32_MIN;
    return n > cap ? -(int32_t)n : (int32_t)n;
}

int32_t hearth_detok_stream(const hearth_model *model, hearth_detok_state *state, hearth_token token, char *buf,
                            int32_t buf_size, bool special)
{
    const hearth_vocab *v = vocab_of(model);
    if (!v || !state) return 0;
    return hearth_vocab_detok_push(v, state, token, special, buf, buf ? buf_size : 0);
}

int32_t hearth_detok_flush(hearth_detok_state *state, char *buf, int32_t buf_size)
{
    if (!state) return 0;
    return hearth_vocab_detok_flush(state, buf, buf ? buf_size : 0);
}
