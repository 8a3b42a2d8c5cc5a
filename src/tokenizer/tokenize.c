/*
 * tokenize.c — the tokenize entry point: cut the text at special-token occurrences (llama.cpp's
 * tokenizer_st_partition: longest special texts first, each claiming its non-overlapping
 * occurrences left to right), run the vocabulary's algorithm on the text in between, and add
 * BOS/EOS/SEP by the vocabulary's rules.
 */
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

static int cmp_len_desc(const hearth_vocab *v, hearth_token x, hearth_token y)
{
    uint32_t lx = v->text_len[x], ly = v->text_len[y];
    if (lx != ly) return lx > ly ? -1 : 1;
    return (x > y) - (x < y);
}

/* A merge sort: stable, and needs no global comparator state as qsort would. */
static void sort_specials(const hearth_vocab *v, hearth_token *a, hearth_token *tmp, int32_t n)
{
    if (n < 2) return;
    int32_t h = n / 2;
    sort_specials(v, a, tmp, h);
    sort_specials(v, a + h, tmp, n - h);
    int32_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = cmp_len_desc(v, a[j], a[i]) < 0 ? a[j++] : a[i++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, (size_t)n * sizeof *a);
}

hearth_status tok_build_specials(hearth_vocab *v, hearth_error *err)
{
    const uint16_t mask = HEARTH_TOKEN_ATTR_CONTROL | HEARTH_TOKEN_ATTR_USER_DEFINED | HEARTH_TOKEN_ATTR_UNKNOWN;
    int32_t n = 0;
    size_t bytes = 0;
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (v->attr[id] & mask) n++, bytes += v->text_len[id];
    v->specials = malloc(((size_t)n + 1) * sizeof *v->specials);
    hearth_token *tmp = malloc(((size_t)n + 1) * sizeof *tmp);
    v->trie = malloc((bytes + 1) * sizeof *v->trie);
    if (!v->specials || !tmp || !v->trie) {
        free(tmp);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory for special tokens");
    }
    n = 0;
    for (int32_t id = 0; id < v->n_tokens; id++)
        if (v->attr[id] & mask) v->specials[n++] = id;
    sort_specials(v, v->specials, tmp, n);
    free(tmp);
    v->n_specials = n;

    /* a byte trie over the special texts finds which of them occur in a text in one pass */
    for (int b = 0; b < 256; b++) v->trie_root[b] = -1;
    v->n_trie = 0;
    for (int32_t s = 0; s < n; s++) {
        const uint8_t *t = (const uint8_t *)tok_text(v, v->specials[s]);
        uint32_t len = v->text_len[v->specials[s]];
        int32_t *link = &v->trie_root[t[0]];
        int32_t node = -1;
        for (uint32_t i = 0; i < len; i++) {
            node = *link;
            while (node >= 0 && v->trie[node].byte != t[i]) node = v->trie[node].sibling;
            if (node < 0) {
                node = v->n_trie++;
                v->trie[node] = (tok_trie_node){.child = -1, .sibling = *link, .special = -1, .byte = t[i]};
                *link = node;
            }
            if (i + 1 < len) link = &v->trie[node].child;
        }
        if (v->trie[node].special < 0) v->trie[node].special = s;
    }
    return HEARTH_OK;
}

typedef struct frag {
    size_t off, len;    /* raw text range (len > 0) when token < 0 */
    hearth_token token; /* >= 0: a special token                  */
} frag;

typedef struct frag_list {
    frag *v;
    size_t n, cap;
} frag_list;

static bool frag_push(frag_list *l, frag f)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        frag *p = realloc(l->v, cap * sizeof *p);
        if (!p) return false;
        l->v = p, l->cap = cap;
    }
    l->v[l->n++] = f;
    return true;
}

static bool c_isspace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Splits every raw fragment at the occurrences of one special token. */
static bool split_on(const hearth_vocab *v, const char *text, hearth_token id, frag_list *in, frag_list *out)
{
    const char *t = tok_text(v, id);
    size_t tl = v->text_len[id];
    uint16_t attr = v->attr[id];
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        frag f = in->v[i];
        if (f.token >= 0 || f.len < tl) {
            if (!frag_push(out, f)) return false;
            continue;
        }
        size_t off = f.off, len = f.len;
        while (len > 0) {
            const char *m = memmem(text + off, len, t, tl);
            if (!m) break;
            size_t pos = (size_t)(m - text);
            size_t left = pos - off;
            if (attr & HEARTH_TOKEN_ATTR_LSTRIP)
                while (left > 0 && c_isspace(text[off + left - 1])) left--;
            if (left > 0 && !frag_push(out, (frag){off, left, -1})) return false;
            if (!frag_push(out, (frag){0, 0, id})) return false;
            size_t roff = pos + tl, rlen = off + len - roff;
            if (attr & HEARTH_TOKEN_ATTR_RSTRIP)
                while (rlen > 0 && c_isspace(text[roff])) roff++, rlen--;
            off = roff, len = rlen;
        }
        if (len > 0 && !frag_push(out, (frag){off, len, -1})) return false;
    }
    return true;
}

/* Marks (in seen[], one byte per specials[] index) the special tokens that occur in text. */
static int32_t find_candidates(const hearth_vocab *v, const char *text, size_t len, bool parse_special,
                               uint8_t *seen)
{
    int32_t count = 0;
    const uint16_t skip = parse_special ? 0 : (HEARTH_TOKEN_ATTR_CONTROL | HEARTH_TOKEN_ATTR_UNKNOWN);
    for (size_t i = 0; i < len; i++) {
        int32_t node = v->trie_root[(uint8_t)text[i]];
        for (size_t j = i; node >= 0;) {
            int32_t s = v->trie[node].special;
            if (s >= 0 && !seen[s] && !(v->attr[v->specials[s]] & skip)) seen[s] = 1, count++;
            if (++j >= len) break;
            node = v->trie[node].child;
            while (node >= 0 && v->trie[node].byte != (uint8_t)text[j]) node = v->trie[node].sibling;
        }
    }
    return count;
}

static hearth_status encode_text(const hearth_vocab *v, const char *text, size_t len, bool space_before,
                                 tok_buf *out, hearth_error *err)
{
    if (v->type == HEARTH_VOCAB_BPE) return tok_bpe_encode(v, text, len, out, err);
    if (v->type == HEARTH_VOCAB_WPM) return tok_wpm_encode(v, text, len, out, err);
    /* SentencePiece: optional leading space, then every ' ' becomes U+2581 */
    size_t spaces = space_before ? 1 : 0;
    for (size_t i = 0; i < len; i++) spaces += text[i] == ' ';
    size_t n = len + 2 * spaces + (space_before ? 1 : 0);
    char *buf = malloc(n ? n : 1);
    if (!buf) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    size_t k = 0;
    if (space_before) memcpy(buf, "\xe2\x96\x81", 3), k = 3;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == ' ') memcpy(buf + k, "\xe2\x96\x81", 3), k += 3;
        else buf[k++] = text[i];
    }
    tok_spm_encode(v, buf, k, out);
    free(buf);
    return HEARTH_OK;
}

hearth_status hearth_vocab_tokenize(const hearth_vocab *v, const char *text, size_t len,
                                    bool add_special, bool parse_special, hearth_token **out,
                                    size_t *n_out, hearth_error *err)
{
    *out = NULL;
    *n_out = 0;
    tok_buf ids = {0};
    frag_list a = {0}, b = {0};
    uint8_t *seen = NULL;
    hearth_status st = HEARTH_OK;
    if (!tok_buf_grow(&ids, (len < (1u << 22) ? len : (1u << 22)) / 3 + 8)) goto oom; /* grows as needed */
    if (len > 0 && !frag_push(&a, (frag){0, len, -1})) goto oom;
    if (len > 0 && v->n_specials > 0) {
        if (!(seen = calloc((size_t)v->n_specials, 1))) goto oom;
        if (find_candidates(v, text, len, parse_special, seen) > 0) {
            for (int32_t s = 0; s < v->n_specials; s++) {
                if (!seen[s]) continue;
                if (!split_on(v, text, v->specials[s], &a, &b)) goto oom;
                frag_list t = a;
                a = b, b = t;
            }
        }
    }

    bool bos = add_special && (v->type == HEARTH_VOCAB_WPM || v->add_bos) && v->bos >= 0;
    if (bos) tok_push(&ids, v->bos);
    bool prev_special = true; /* SentencePiece: a space prefix at the start and after specials */
    for (size_t i = 0; i < a.n && !st; i++) {
        if (a.v[i].token >= 0) {
            tok_push(&ids, a.v[i].token);
            prev_special = true;
            continue;
        }
        st = encode_text(v, text + a.v[i].off, a.v[i].len, v->add_space_prefix && prev_special, &ids, err);
        prev_special = false;
    }
    if (!st && add_special) {
        if (v->type == HEARTH_VOCAB_WPM) tok_push(&ids, v->sep);
        else if (v->add_eos && v->eos >= 0) tok_push(&ids, v->eos);
    }
    if (st) goto done;
    if (ids.oom) goto oom;
    *out = ids.v;
    *n_out = ids.n;
    ids.v = NULL;
    goto done;
oom:
    st = hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory tokenizing %zu bytes", len);
done:
    free(ids.v);
    free(a.v);
    free(b.v);
    free(seen);
    return st;
}
