/*
 * spm.c — SentencePiece BPE as llama.cpp runs it: start from UTF-8 characters, repeatedly
 * merge the adjacent pair whose concatenation is the vocabulary token with the highest score
 * (ties: leftmost), and emit byte tokens for any piece that is not a token.
 */
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

typedef struct spm_sym {
    int32_t prev, next;
    uint32_t off, n; /* n == 0: merged into its left neighbour */
} spm_sym;

static bool try_add(const hearth_vocab *v, const char *text, const spm_sym *syms, int32_t left,
                    int32_t right, tok_heap *h)
{
    if (left < 0 || right < 0) return true;
    uint32_t size = syms[left].n + syms[right].n;
    hearth_token id = tok_find(v, text + syms[left].off, size);
    if (id < 0) return true;
    return tok_heap_push(h, (tok_bigram){.key = tok_bigram_key(tok_score_priority(v->score[id]), left), .aux = right,
                                         .size = size});
}

void tok_spm_encode(const hearth_vocab *v, const char *text, size_t len, tok_buf *out)
{
    if (!len) return;
    spm_sym *syms = malloc(len * sizeof *syms);
    tok_heap h = {0};
    if (!syms) {
        out->oom = true;
        return;
    }
    int32_t n = 0;
    for (size_t off = 0; off < len; n++) {
        size_t cl = tok_utf8_len((uint8_t)text[off]);
        if (cl > len - off) cl = len - off;
        syms[n] = (spm_sym){.prev = n - 1, .next = off + cl == len ? -1 : n + 1, .off = (uint32_t)off, .n = (uint32_t)cl};
        off += cl;
    }
    bool ok = true;
    for (int32_t i = 1; i < n && ok; i++) ok = try_add(v, text, syms, i - 1, i, &h);
    while (ok && h.n) {
        tok_bigram b = tok_heap_pop(&h);
        int32_t left = (int32_t)(uint32_t)b.key;
        spm_sym *l = &syms[left], *r = &syms[b.aux];
        if (!l->n || !r->n || l->n + r->n != b.size) continue; /* outdated */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = left;
        ok = try_add(v, text, syms, l->prev, left, &h) && try_add(v, text, syms, left, l->next, &h);
    }
    if (!ok) out->oom = true;
    for (int32_t i = 0; ok && i != -1; i = syms[i].next) {
        hearth_token id = tok_find(v, text + syms[i].off, syms[i].n);
        if (id >= 0) {
            tok_push(out, id);
            continue;
        }
        for (uint32_t j = 0; j < syms[i].n; j++) { /* byte fallback */
            hearth_token b = v->byte_token[(uint8_t)text[syms[i].off + j]];
            if (b >= 0) tok_push(out, b);
            else if (v->unk >= 0) tok_push(out, v->unk);
        }
    }
    free(syms);
    free(h.v);
}
