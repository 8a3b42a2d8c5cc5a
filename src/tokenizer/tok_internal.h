/*
 * tok_internal.h — what the tokenizer's files share: the hearth_vocab object, the string and
 * pair hash maps, the token output buffer, Unicode helpers and the per-algorithm entry points.
 * Not for use outside src/tokenizer/.
 */
#ifndef HEARTH_TOK_INTERNAL_H
#define HEARTH_TOK_INTERNAL_H

#include <string.h>

#include "tokenizer/tokenizer.h"

/* ---- growable id buffer ---------------------------------------------------------------- */
typedef struct tok_buf {
    hearth_token *v;
    size_t n, cap;
    bool oom; /* an append failed; the caller reports HEARTH_ERR_NOMEM */
} tok_buf;

bool tok_buf_grow(tok_buf *b, size_t need);
static inline void tok_push(tok_buf *b, hearth_token id)
{
    if (b->n == b->cap && !tok_buf_grow(b, b->n + 1)) return;
    b->v[b->n++] = id;
}

/* ---- merge candidates: a binary min-heap on (key, left) -------------------------------- */
/* SentencePiece priorities come from scores (best first), BPE priorities are merge ranks;
 * ties go to the leftmost pair, as in llama.cpp. */
typedef struct tok_bigram {
    uint64_t key; /* priority << 32 | left: one compare orders by priority, then leftmost */
    int32_t aux;  /* SPM: the right symbol; BPE: the merged token id */
    uint32_t size;
} tok_bigram;

/* Priority of a SentencePiece merge: higher scores first (-0 == +0, as float compares). */
static inline uint32_t tok_score_priority(float score)
{
    uint32_t u;
    if (score == 0.0f) score = 0.0f;
    memcpy(&u, &score, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u); /* order-preserving as unsigned */
    return ~u;
}
static inline uint64_t tok_bigram_key(uint32_t priority, int32_t left)
{
    return ((uint64_t)priority << 32) | (uint32_t)left;
}

typedef struct tok_heap {
    tok_bigram *v;
    size_t n, cap;
} tok_heap;

bool tok_heap_push(tok_heap *h, tok_bigram x); /* false when out of memory */
tok_bigram tok_heap_pop(tok_heap *h);          /* h->n must be > 0 */

/* ---- hashing ----------------------------------------------------------------------------- */
uint64_t tok_hash(const void *p, size_t n);

/* Token text -> id. Open addressing; texts live in the vocab. One slot is one cache line's
 * eighth: the id and a tag (hash bits + text length) that rejects almost every mismatch
 * without touching the text. */
typedef struct tok_slot {
    uint32_t id1; /* id + 1; 0 = empty */
    uint32_t tag;
} tok_slot;

typedef struct tok_strmap {
    tok_slot *slots;
    size_t mask;
} tok_strmap;

/* Merge rule (left id, right id) -> rank and merged id. */
typedef struct tok_pairmap {
    uint64_t *keys; /* (left << 32 | right) + 1; 0 = empty */
    uint64_t *vals; /* rank << 32 | (uint32_t)merged_id      */
    size_t mask;
} tok_pairmap;

/* Merge rules whose sides are not both tokens, keyed by their "A B" text (rare; slow path). */
typedef struct tok_rule {
    const char *text; /* "A B" */
    uint32_t len, split; /* A = text[0..split), B = text[split+1..len) */
    int32_t rank;
} tok_rule;

typedef struct tok_rulemap {
    tok_rule *rules;
    size_t n;
    int32_t *slots; /* index + 1 */
    size_t mask;
} tok_rulemap;

/* ---- Unicode (llama.cpp's definitions: categories from UnicodeData, its \s set) --------- */
enum {
    UF_UNDEF = 0x01,
    UF_NUMBER = 0x02,
    UF_LETTER = 0x04,
    UF_SEPARATOR = 0x08,
    UF_MARK = 0x10,
    UF_PUNCT = 0x20,
    UF_SYMBOL = 0x40,
    UF_CONTROL = 0x80,
    UF_CATEGORIES = 0xFF,
    UF_SPACE = 0x100
};

/* Decodes one code point starting at s[0] (n >= 1 bytes available) exactly as llama.cpp's
 * unicode_cpts_from_utf8: malformed input yields U+FFFD and consumes one byte. */
uint32_t tok_utf8_decode(const uint8_t *s, size_t n, size_t *adv);
/* Encodes cp (< 0x110000) into out; returns 1..4. */
size_t tok_utf8_encode(uint32_t cp, char *out);
/* Length of the UTF-8 sequence a lead byte announces (llama.cpp's unicode_len_utf8). */
static inline size_t tok_utf8_len(uint8_t c)
{
    static const uint8_t lookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return lookup[c >> 4];
}
uint16_t tok_cpt_flags(uint32_t cp);
uint32_t tok_cpt_tolower(uint32_t cp);
uint32_t tok_cpt_nfd_first(uint32_t cp); /* first code point of the canonical decomposition */

/* Decodes text into code points (FFFD for malformed bytes). *cpts is malloc'd. */
hearth_status tok_decode_all(const char *text, size_t len, uint32_t **cpts, size_t *n,
                             hearth_error *err);

/* ---- pre-tokenizer (BPE) ----------------------------------------------------------------- */
typedef struct tok_pretok tok_pretok;
/* Looks the pre-tokenizer name up; fills the vocab's BPE flags it implies. */
hearth_status tok_pretok_new(const char *pre, tok_pretok **out, bool *clean_spaces,
                             bool *ignore_merges, bool *add_bos, hearth_error *err);
void tok_pretok_free(tok_pretok *p);
/* Splits cpts[0..n) into words; writes word lengths (in code points) to *lens (malloc'd). */
hearth_status tok_pretok_split(const tok_pretok *p, const uint32_t *cpts, size_t n,
                               size_t **lens, size_t *n_lens, hearth_error *err);

/* ---- the vocabulary ---------------------------------------------------------------------- */
typedef struct tok_trie_node {
    int32_t child;   /* first child, -1 none */
    int32_t sibling; /* next sibling, -1 none */
    int32_t special; /* index into specials[] whose text ends here, -1 none */
    uint8_t byte;
} tok_trie_node;

struct hearth_vocab {
    hearth_vocab_type type;
    char model[16];
    char pre[64];
    int32_t n_tokens;

    char *text_arena;   /* all token texts, NUL-terminated */
    uint32_t *text_off; /* per token                        */
    uint32_t *text_len;
    float *score;
    uint16_t *attr;
    int32_t max_token_len;
    tok_strmap map;

    /* pieces for token_to_piece(special = true), built once */
    char *piece_arena;
    uint32_t *piece_off;
    uint32_t *piece_len;

    hearth_token bos, eos, eot, eom, unk, sep, pad, mask, nl;
    hearth_token fim_pre, fim_suf, fim_mid, fim_pad, fim_rep, fim_sep;
    bool add_bos, add_eos, add_sep, add_space_prefix, clean_spaces, ignore_merges;
    bool escape_whitespaces, lowercase, strip_accents;
    uint8_t *eog; /* bitset over ids */

    /* control / user-defined / unknown tokens, longest text first (llama.cpp's order) */
    hearth_token *specials;
    int32_t n_specials;
    tok_trie_node *trie;
    int32_t trie_root[256]; /* first-level nodes by byte, -1 none */
    int32_t n_trie;

    /* SPM: byte fallback token of each byte */
    hearth_token byte_token[256];

    /* BPE */
    tok_pretok *pretok;
    tok_pairmap merges;
    tok_rulemap slow_rules;
    char gpt2_char[256][3]; /* GPT-2 byte-to-unicode text of each byte */
    uint8_t gpt2_char_len[256];
    hearth_token gpt2_char_id[256]; /* id of the token whose text is gpt2_char[b] */
    hearth_token raw_byte_id[256];  /* id of the one-byte token text b             */
};

hearth_token tok_find(const hearth_vocab *v, const char *s, size_t len);
hearth_status tok_strmap_build(hearth_vocab *v, hearth_error *err);
bool tok_pairmap_init(tok_pairmap *m, size_t n);
/* Inserts unless present (the first rule for a pair keeps its rank, as in llama.cpp). */
void tok_pairmap_put(tok_pairmap *m, hearth_token a, hearth_token b, int32_t rank, hearth_token merged);
bool tok_pairmap_get(const tok_pairmap *m, hearth_token a, hearth_token b, int32_t *rank,
                     hearth_token *merged);
static inline const char *tok_text(const hearth_vocab *v, hearth_token id) { return v->text_arena + v->text_off[id]; }

/* Replaces a BPE vocabulary's pre-tokenizer (and the flags its name implies), as if
 * tokenizer.ggml.pre had said pre: lets tests run every pre-tokenizer over one real vocabulary.
 * Not for a vocabulary other threads are using. */
hearth_status tok_vocab_set_pre(hearth_vocab *v, const char *pre, hearth_error *err);

/* Algorithms: append the ids of one text fragment (no special tokens inside) to out. */
void tok_spm_encode(const hearth_vocab *v, const char *text, size_t len, tok_buf *out);
hearth_status tok_bpe_encode(const hearth_vocab *v, const char *text, size_t len, tok_buf *out,
                             hearth_error *err);
hearth_status tok_wpm_encode(const hearth_vocab *v, const char *text, size_t len, tok_buf *out,
                             hearth_error *err);

/* BPE tables (bpe.c) and pieces (detok.c), built by vocab.c while loading. */
hearth_status tok_bpe_load(hearth_vocab *v, const hearth_gguf *g, hearth_error *err);
void tok_bpe_free(hearth_vocab *v);
hearth_status tok_build_pieces(hearth_vocab *v, hearth_error *err);
hearth_status tok_build_specials(hearth_vocab *v, hearth_error *err);

#endif
