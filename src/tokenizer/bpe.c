/*
 * bpe.c — byte-level BPE (GPT-2 style) as llama.cpp runs it: pre-tokenize into words, map
 * each byte to its GPT-2 "printable" character, then repeatedly merge the adjacent pair with
 * the lowest merge rank (ties: leftmost). Symbols carry token ids, so a merge costs one
 * integer-pair lookup instead of hashing strings.
 */
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

static void build_gpt2_map(hearth_vocab *v)
{
    int n = 0;
    for (int b = 0; b < 256; b++) {
        bool self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        uint32_t cp = self ? (uint32_t)b : 256u + (uint32_t)n++;
        v->gpt2_char_len[b] = (uint8_t)tok_utf8_encode(cp, v->gpt2_char[b]);
    }
    for (int b = 0; b < 256; b++) {
        v->gpt2_char_id[b] = tok_find(v, v->gpt2_char[b], v->gpt2_char_len[b]);
        char one = (char)b;
        v->raw_byte_id[b] = tok_find(v, &one, 1);
    }
}

static hearth_status rule_index(tok_rulemap *m, hearth_error *err)
{
    size_t cap = 16;
    while (cap < m->n * 2) cap *= 2;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory for merges");
    m->mask = cap - 1;
    for (size_t r = 0; r < m->n; r++) {
        size_t i = (size_t)tok_hash(m->rules[r].text, m->rules[r].len) & m->mask;
        bool dup = false;
        while (m->slots[i] && !dup) {
            const tok_rule *o = &m->rules[m->slots[i] - 1];
            dup = o->len == m->rules[r].len && !memcmp(o->text, m->rules[r].text, o->len);
            if (!dup) i = (i + 1) & m->mask;
        }
        if (!dup) m->slots[i] = (int32_t)r + 1;
    }
    return HEARTH_OK;
}

hearth_status tok_bpe_load(hearth_vocab *v, const hearth_gguf *g, hearth_error *err)
{
    build_gpt2_map(v);
    const hearth_gguf_value *mv;
    hearth_status st = hearth_gguf_get_arr(g, "tokenizer.ggml.merges", HEARTH_GGUF_STRING, &mv, err);
    if (st == HEARTH_ERR_NOT_FOUND)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: tokenizer.ggml.merges: missing (a gpt2 vocabulary needs merges)",
                           hearth_gguf_path(g));
    if (st) return st;
    uint64_t n = mv->v.arr.n;
    if (n > (1u << 26))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: tokenizer.ggml.merges: %llu rules is too many",
                           hearth_gguf_path(g), (unsigned long long)n);
    if (!tok_pairmap_init(&v->merges, (size_t)n))
        return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory for %llu merges", (unsigned long long)n);
    char *cat = malloc((size_t)v->max_token_len * 2 + 2);
    if (!cat) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    for (uint64_t r = 0; r < n; r++) {
        const hearth_gguf_str *s = &mv->v.arr.strs[r];
        const char *sp = s->len > 1 ? memchr(s->s + 1, ' ', (size_t)s->len - 1) : NULL;
        if (!sp || sp == s->s + s->len - 1) {
            free(cat);
            return hearth_fail(err, HEARTH_ERR_FORMAT,
                               "%s: tokenizer.ggml.merges[%llu]: expected 'LEFT RIGHT', found '%.60s'",
                               hearth_gguf_path(g), (unsigned long long)r, s->s);
        }
        size_t la = (size_t)(sp - s->s), lb = (size_t)s->len - la - 1;
        hearth_token a = tok_find(v, s->s, la), b = tok_find(v, sp + 1, lb);
        if (a >= 0 && b >= 0) {
            hearth_token m = HEARTH_TOKEN_NULL;
            if (la + lb <= (size_t)v->max_token_len) {
                memcpy(cat, s->s, la);
                memcpy(cat + la, sp + 1, lb);
                m = tok_find(v, cat, la + lb);
            }
            tok_pairmap_put(&v->merges, a, b, (int32_t)r, m);
            continue;
        }
        /* a side that is no token can only meet symbols that are no tokens: keep by text */
        tok_rulemap *sm = &v->slow_rules;
        if ((sm->n & (sm->n - 1)) == 0) {
            tok_rule *p = realloc(sm->rules, (sm->n ? sm->n * 2 : 8) * sizeof *p);
            if (!p) {
                free(cat);
                return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory for merges");
            }
            sm->rules = p;
        }
        sm->rules[sm->n++] = (tok_rule){.text = s->s, .len = (uint32_t)s->len, .split = (uint32_t)la, .rank = (int32_t)r};
    }
    free(cat);
    if (v->slow_rules.n) {
        /* the rule texts point into the GGUF metadata: copy them, the vocab outlives g */
        size_t total = 0;
        for (size_t i = 0; i < v->slow_rules.n; i++) total += v->slow_rules.rules[i].len;
        char *arena = malloc(total + 1);
        if (!arena) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory for merges");
        size_t off = 0;
        for (size_t i = 0; i < v->slow_rules.n; i++) {
            memcpy(arena + off, v->slow_rules.rules[i].text, v->slow_rules.rules[i].len);
            v->slow_rules.rules[i].text = arena + off;
            off += v->slow_rules.rules[i].len;
        }
        if ((st = rule_index(&v->slow_rules, err))) {
            free(arena);
            return st;
        }
        v->slow_rules.rules[0].text = arena; /* rules[0] owns the arena (freed in tok_bpe_free) */
    }
    return HEARTH_OK;
}

void tok_bpe_free(hearth_vocab *v)
{
    free(v->merges.keys);
    free(v->merges.vals);
    if (v->slow_rules.n) free((void *)v->slow_rules.rules[0].text);
    free(v->slow_rules.rules);
    free(v->slow_rules.slots);
}

/* ---- merging one word --------------------------------------------------------------------- */

typedef struct bpe_sym {
    int32_t prev, next;
    uint32_t off, n;    /* bytes of the encoded word; n == 0: merged away */
    hearth_token id;    /* token with this text, or -1                   */
} bpe_sym;

typedef struct bpe_work {
    char *word;     /* encoded word */
    size_t word_cap;
    bpe_sym *syms;
    size_t syms_cap;
    tok_heap heap;
    char *cat;      /* slow-path concatenation */
    bool oom;
} bpe_work;

static bool slow_rank(const hearth_vocab *v, bpe_work *w, const bpe_sym *l, const bpe_sym *r, int32_t *rank,
                      hearth_token *merged)
{
    const tok_rulemap *m = &v->slow_rules;
    if (!m->n) return false;
    size_t len = l->n + 1 + r->n;
    char *cat = realloc(w->cat, len);
    if (!cat) {
        w->oom = true;
        return false;
    }
    w->cat = cat;
    memcpy(cat, w->word + l->off, l->n);
    cat[l->n] = ' ';
    memcpy(cat + l->n + 1, w->word + r->off, r->n);
    for (size_t i = (size_t)tok_hash(cat, len) & m->mask; m->slots[i]; i = (i + 1) & m->mask) {
        const tok_rule *ru = &m->rules[m->slots[i] - 1];
        if (ru->len == len && !memcmp(ru->text, cat, len)) {
            *rank = ru->rank;
            memmove(cat + l->n, cat + l->n + 1, r->n);
            *merged = tok_find(v, cat, l->n + r->n);
            return true;
        }
    }
    return false;
}

static void add_bigram(const hearth_vocab *v, bpe_work *w, int32_t left, int32_t right)
{
    if (left < 0 || right < 0) return;
    const bpe_sym *l = &w->syms[left], *r = &w->syms[right];
    int32_t rank;
    hearth_token merged;
    bool found = (l->id >= 0 && r->id >= 0) ? tok_pairmap_get(&v->merges, l->id, r->id, &rank, &merged)
                                            : slow_rank(v, w, l, r, &rank, &merged);
    if (found && !tok_heap_push(&w->heap, (tok_bigram){.key = tok_bigram_key((uint32_t)rank, left), .aux = merged,
                                                       .size = l->n + r->n}))
        w->oom = true;
}

/* Encodes one pre-tokenized word (code points) and appends its ids. */
static void encode_word(const hearth_vocab *v, bpe_work *w, const uint32_t *cpts, size_t n, tok_buf *out)
{
    size_t need = n * 8;
    if (need > w->word_cap) {
        char *p = realloc(w->word, need);
        bpe_sym *s = realloc(w->syms, n * 4 * sizeof *s);
        if (p) w->word = p;
        if (s) w->syms = s;
        if (!p || !s) {
            w->oom = true;
            return;
        }
        w->word_cap = need;
    }
    /* code points -> UTF-8 -> one GPT-2 character (and one initial symbol) per byte */
    size_t len = 0;
    int32_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        char u[4];
        size_t ul = tok_utf8_encode(cpts[i], u);
        for (size_t j = 0; j < ul; j++) {
            uint8_t b = (uint8_t)u[j];
            w->syms[ns] = (bpe_sym){.prev = ns - 1, .next = ns + 1, .off = (uint32_t)len,
                                    .n = v->gpt2_char_len[b], .id = v->gpt2_char_id[b]};
            memcpy(w->word + len, v->gpt2_char[b], v->gpt2_char_len[b]);
            len += v->gpt2_char_len[b];
            ns++;
        }
    }
    if (!ns) return;
    w->syms[ns - 1].next = -1;
    if (v->ignore_merges) {
        hearth_token id = tok_find(v, w->word, len);
        if (id >= 0) {
            tok_push(out, id);
            return;
        }
    }
    w->heap.n = 0;
    for (int32_t i = 1; i < ns; i++) add_bigram(v, w, i - 1, i);
    while (w->heap.n && !w->oom) {
        tok_bigram b = tok_heap_pop(&w->heap);
        int32_t left = (int32_t)(uint32_t)b.key;
        bpe_sym *l = &w->syms[left];
        if (!l->n || l->next < 0) continue;
        bpe_sym *r = &w->syms[l->next];
        if (!r->n || l->n + r->n != b.size) continue; /* outdated */
        l->n += r->n;
        l->id = b.aux;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) w->syms[r->next].prev = left;
        add_bigram(v, w, l->prev, left);
        add_bigram(v, w, left, l->next);
    }
    for (int32_t i = 0; i != -1; i = w->syms[i].next) {
        const bpe_sym *s = &w->syms[i];
        if (s->id >= 0) {
            tok_push(out, s->id);
            continue;
        }
        /* llama.cpp then looks each byte of the encoded text up as a one-byte token */
        for (uint32_t j = 0; j < s->n; j++) {
            hearth_token id = v->raw_byte_id[(uint8_t)w->word[s->off + j]];
            if (id >= 0) tok_push(out, id);
        }
    }
}

hearth_status tok_bpe_encode(const hearth_vocab *v, const char *text, size_t len, tok_buf *out,
                             hearth_error *err)
{
    uint32_t *cpts = NULL;
    size_t n = 0, *lens = NULL, n_lens = 0;
    hearth_status st = tok_decode_all(text, len, &cpts, &n, err);
    if (!st) st = tok_pretok_split(v->pretok, cpts, n, &lens, &n_lens, err);
    bpe_work w = {0};
    size_t pos = 0;
    for (size_t i = 0; !st && i < n_lens && !w.oom; i++) {
        encode_word(v, &w, cpts + pos, lens[i], out);
        pos += lens[i];
    }
    if (!st && w.oom) st = hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    free(w.word);
    free(w.syms);
    free(w.heap.v);
    free(w.cat);
    free(cpts);
    free(lens);
    return st;
}
