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

typedef struct spm_bigram {
    float score;
    int32_t left, right;
    uint32_t size;
} spm_bigram;

typedef struct spm_heap {
    spm_bigram *v;
    size_t n, cap;
} spm_heap;

/* a before b: higher score, then the leftmost pair */
static inline bool before(const spm_bigram *a, const spm_bigram *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static bool heap_push(spm_heap *h, spm_bigram x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        spm_bigram *p = realloc(h->v, cap * sizeof *p);
        if (!p) return false;
        h->v = p, h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&x, &h->v[parent])) break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = x;
    return true;
}

static spm_bigram heap_pop(spm_heap *h)
{
    spm_bigram top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && before(&h->v[c + 1], &h->v[c])) c++;
        if (!before(&h->v[c], &last)) break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n) h->v[i] = last;
    return top;
}

static bool try_add(const hearth_vocab *v, const char *text, const spm_sym *syms, int32_t left,
                    int32_t right, spm_heap *h)
{
    if (left < 0 || right < 0) return true;
    uint32_t size = syms[left].n + syms[right].n;
    hearth_token id = tok_find(v, text + syms[left].off, size);
    if (id < 0) return true;
    return heap_push(h, (spm_bigram){.score = v->score[id], .left = left, .right = right, .size = size});
}

void tok_spm_encode(const hearth_vocab *v, const char *text, size_t len, tok_buf *out)
{
    if (!len) return;
    spm_sym *syms = malloc(len * sizeof *syms);
    spm_heap h = {0};
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
        spm_bigram b = heap_pop(&h);
        spm_sym *l = &syms[b.left], *r = &syms[b.right];
        if (!l->n || !r->n || l->n + r->n != b.size) continue; /* outdated */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) syms[r->next].prev = b.left;
        ok = try_add(v, text, syms, l->prev, b.left, &h) && try_add(v, text, syms, b.left, l->next, &h);
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
