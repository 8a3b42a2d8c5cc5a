/*
 * wpm.c — WordPiece (BERT) as llama.cpp runs it: a basic tokenizer (drop control characters,
 * optionally lowercase and strip accents by taking the first code point of each character's
 * canonical decomposition and dropping marks, split on whitespace, punctuation, ASCII symbols
 * and CJK ideographs), then greedy longest-match of "▁word" against the vocabulary. The GGUF
 * spells word-initial pieces with a leading U+2581 and continuations bare (no "##").
 */
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

static bool is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) ||
           (c >= 0x2B920 && c <= 0x2CEAF) || /* sic: Hugging Face's bound, which llama.cpp copies */
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Greedy longest match of one word ("▁" + word bytes); a word with an unmatched position
 * becomes [UNK] as a whole. */
static void match_word(const hearth_vocab *v, const char *w, size_t n, tok_buf *out)
{
    size_t mark = out->n;
    for (size_t i = 0; i < n;) {
        size_t j = i + (size_t)v->max_token_len + 1;
        if (j > n) j = n;
        hearth_token id = HEARTH_TOKEN_NULL;
        for (; j > i; j--)
            if ((id = tok_find(v, w + i, j - i)) >= 0) break;
        if (id < 0) {
            out->n = mark;
            break;
        }
        tok_push(out, id);
        i = j;
    }
    if (out->n == mark && v->unk >= 0) tok_push(out, v->unk);
}

hearth_status tok_wpm_encode(const hearth_vocab *v, const char *text, size_t len, tok_buf *out,
                             hearth_error *err)
{
    uint32_t *cpts;
    size_t n;
    hearth_status st = tok_decode_all(text, len, &cpts, &n, err);
    if (st) return st;
    char *word = malloc(n * 4 + 4);
    if (!word) {
        free(cpts);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    }
    memcpy(word, "\xe2\x96\x81", 3);
    size_t wl = 3; /* bytes in word, after the "▁" */
#define FLUSH()                                       \
    do {                                              \
        if (wl > 3) match_word(v, word, wl, out);     \
        wl = 3;                                       \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        uint32_t c = v->strip_accents ? tok_cpt_nfd_first(cpts[i]) : cpts[i];
        uint16_t f = tok_cpt_flags(c);
        if (f & UF_SPACE) {
            FLUSH();
            continue;
        }
        if (c == 0 || c == 0xFFFD || (f & UF_CONTROL)) continue;
        if (v->strip_accents && (f & UF_MARK)) continue;
        uint32_t lc = v->lowercase ? tok_cpt_tolower(c) : c;
        if ((f & UF_PUNCT) || (c < 0x7F && (f & UF_SYMBOL)) || is_cjk(c)) {
            FLUSH();
            wl += tok_utf8_encode(lc, word + wl);
            FLUSH();
        } else {
            wl += tok_utf8_encode(lc, word + wl);
        }
    }
    FLUSH();
#undef FLUSH
    free(word);
    free(cpts);
    return HEARTH_OK;
}
