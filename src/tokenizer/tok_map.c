/*
 * tok_map.c — the hash tables behind token lookup (text -> id) and BPE merge ranks
 * ((left id, right id) -> rank), the merge-candidate heap and the growable id buffer. Tokenizing calls these once or
 * more per character, so they avoid allocation and compare a hash tag before any bytes.
 */
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

bool tok_buf_grow(tok_buf *b, size_t need)
{
    if (b->oom) return false;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    hearth_token *p = realloc(b->v, cap * sizeof *p);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->v = p;
    b->cap = cap;
    return true;
}

static inline bool before(const tok_bigram *a, const tok_bigram *b) { return a->key < b->key; }

bool tok_heap_push(tok_heap *h, tok_bigram x)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        tok_bigram *p = realloc(h->v, cap * sizeof *p);
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

tok_bigram tok_heap_pop(tok_heap *h)
{
    tok_bigram top = h->v[0], last = h->v[--h->n];
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

static inline uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t x = 0;
    memcpy(&x, p, n); /* little-endian hosts only matter here: the value is just hashed */
    return x;
}

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t tok_hash(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xA0761D6478BD642Full);
    while (n >= 8) {
        h = mix(h ^ load_le(p, 8), 0xE7037ED1A0B428DBull);
        p += 8;
        n -= 8;
    }
    if (n) h = mix(h ^ load_le(p, n), 0x8EBC6AF09C88C6E3ull);
    return mix(h, 0x589965CC75374CC3ull);
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

/* Hash bits above the slot index, with the low 13 bits replaced by the text length (token
 * texts are at most 4096 bytes): equal tags mean equal lengths. */
static inline uint32_t slot_tag(uint64_t h, size_t len) { return ((uint32_t)(h >> 32) & ~0x1FFFu) | ((uint32_t)len & 0x1FFFu); }

hearth_status tok_strmap_build(hearth_vocab *v, hearth_error *err)
{
    size_t cap = pow2_at_least((size_t)v->n_tokens * 2);
    v->map.slots = calloc(cap, sizeof *v->map.slots);
    if (!v->map.slots)
        return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory for the token index");
    v->map.mask = cap - 1;
    for (int32_t id = 0; id < v->n_tokens; id++) {
        const char *s = tok_text(v, id);
        size_t len = v->text_len[id];
        uint64_t h = tok_hash(s, len);
        size_t i = (size_t)h & v->map.mask;
        uint32_t tag = slot_tag(h, len);
        while (v->map.slots[i].id1) {
            uint32_t o = v->map.slots[i].id1 - 1;
            if (v->map.slots[i].tag == tag && v->text_len[o] == len && !memcmp(tok_text(v, (int32_t)o), s, len))
                return hearth_fail(err, HEARTH_ERR_FORMAT,
                                   "tokenizer.ggml.tokens[%d]: text duplicates token %u ('%.40s')",
                                   id, o, s);
            i = (i + 1) & v->map.mask;
        }
        v->map.slots[i] = (tok_slot){(uint32_t)id + 1, tag};
    }
    return HEARTH_OK;
}

hearth_token tok_find(const hearth_vocab *v, const char *s, size_t len)
{
    if (len > (size_t)v->max_token_len) return HEARTH_TOKEN_NULL; /* also keeps tags unambiguous */
    uint64_t h = tok_hash(s, len);
    size_t i = (size_t)h & v->map.mask;
    uint32_t tag = slot_tag(h, len);
    for (const tok_slot *sl; (sl = &v->map.slots[i])->id1; i = (i + 1) & v->map.mask)
        if (sl->tag == tag && !memcmp(tok_text(v, (int32_t)(sl->id1 - 1)), s, len)) return (hearth_token)(sl->id1 - 1);
    return HEARTH_TOKEN_NULL;
}

static inline size_t pair_slot(uint64_t key) { return (size_t)mix(key, 0x9E3779B97F4A7C15ull); }

bool tok_pairmap_init(tok_pairmap *m, size_t n)
{
    size_t cap = pow2_at_least(n * 2);
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->mask = cap - 1;
    return m->keys && m->vals;
}

void tok_pairmap_put(tok_pairmap *m, hearth_token a, hearth_token b, int32_t rank, hearth_token merged)
{
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t i = pair_slot(key) & m->mask;
    while (m->keys[i]) {
        if (m->keys[i] == key) return;
        i = (i + 1) & m->mask;
    }
    m->keys[i] = key;
    m->vals[i] = ((uint64_t)(uint32_t)rank << 32) | (uint32_t)merged;
}

bool tok_pairmap_get(const tok_pairmap *m, hearth_token a, hearth_token b, int32_t *rank, hearth_token *merged)
{
    if (!m->keys) return false;
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    size_t i = pair_slot(key) & m->mask;
    for (uint64_t k; (k = m->keys[i]); i = (i + 1) & m->mask) {
        if (k == key) {
            *rank = (int32_t)(m->vals[i] >> 32);
            *merged = (hearth_token)(uint32_t)m->vals[i];
            return true;
        }
    }
    return false;
}
