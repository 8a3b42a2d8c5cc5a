/*
 * synth_vocab.c — the synthetic SentencePiece vocabulary `hearth synth` writes when no real
 * vocab is given: <unk> <s> </s>, the 256 byte-fallback tokens <0x00>..<0xFF>, then pieces
 * with decreasing scores — "▁", single characters, prefixes of common English words (with
 * and without the ▁ word marker, so SentencePiece merges build whole words), and as many
 * generated letter pieces as the vocab size needs. The same layout as the fixtures' models.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "model/synth.h"

#define WORD_MARK "\xe2\x96\x81" /* U+2581, SentencePiece's word-start marker */

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_BYTE = 6 };

static const char *const words[] = {
    "the", "of", "and", "to", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
    "as", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "word", "but", "what",
    "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how",
    "said", "an", "each", "she", "which", "do", "their", "time", "if", "will", "way", "about", "many",
    "then", "them", "write", "would", "like", "so", "these", "her", "long", "make", "thing", "see",
    "him", "two", "has", "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no",
    "most", "people", "my", "over", "know", "water", "than", "call", "first", "who", "may", "down",
    "side", "been", "now", "find", "any", "new", "work", "part", "take", "get", "place", "made",
    "live", "where", "after", "back", "little", "only", "round", "man", "year", "came", "show",
    "every", "good", "me", "give", "our", "under", "name", "very", "through", "just", "form",
    "sentence", "great", "think", "say", "help", "low", "line", "differ", "turn", "cause", "much",
    "mean", "before", "move", "right", "boy", "old", "too", "same", "tell", "does", "set", "three",
    "want", "air", "well", "also", "play", "small", "end", "put", "home", "read", "hand", "port",
    "large", "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow", "act",
    "why", "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try",
    "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth", "father",
    "story", "model", "local", "agent", "hearth", "fire", "token", "data", "file", "code", "test",
};

static const char *const phi3_specials[] = {"<|endoftext|>", "<|assistant|>", "<|end|>", "<|system|>", "<|user|>"};

typedef struct vocab {
    char **tok;
    float *score;
    int32_t *type;
    int64_t n, cap;
    float next_score;
} vocab;

static bool add(vocab *v, const char *s, int32_t type)
{
    if (v->n >= v->cap) return true; /* full: callers stop at the capacity */
    v->tok[v->n] = strdup(s);
    if (!v->tok[v->n]) return false;
    v->type[v->n] = type;
    v->score[v->n] = type == TT_NORMAL ? v->next_score-- : 0.0f;
    v->n++;
    return true;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* k >= 0 -> "aa", "ab", ..., "zz", "aaa", ... (bijective base 26, at least two letters) */
static void letters(int64_t k, char *out)
{
    char tmp[24];
    int n = 0;
    k += 26; /* skip the one-letter strings: they are pieces already */
    do {
        tmp[n++] = (char)('a' + k % 26);
        k = k / 26 - 1;
    } while (k >= 0 && n < 20);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

static bool build(vocab *v, const char *arch, int64_t n_vocab, bool *oom)
{
    bool phi3 = strcmp(arch, "phi3") == 0;
    int64_t n_special = phi3 ? (int64_t)HEARTH_ARRAY_LEN(phi3_specials) : 0;
    v->cap = n_vocab - n_special;
    v->next_score = -1.0f;
    *oom = true;
    if (!add(v, "<unk>", TT_UNKNOWN) || !add(v, "<s>", TT_CONTROL) || !add(v, "</s>", TT_CONTROL)) return false;
    char buf[64];
    for (int b = 0; b < 256; b++) {
        snprintf(buf, sizeof buf, "<0x%02X>", b);
        if (!add(v, buf, TT_BYTE)) return false;
    }
    if (!add(v, WORD_MARK, TT_NORMAL)) return false;
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()";
    for (const char *c = chars; *c; c++) {
        buf[0] = *c;
        buf[1] = '\0';
        if (!add(v, buf, TT_NORMAL)) return false;
    }
    /* word prefixes, deduplicated; remembered sorted so generated pieces can avoid them */
    size_t n_seen = 0, cap_seen = 2 * 2 * 16 * HEARTH_ARRAY_LEN(words);
    char **seen = malloc(cap_seen * sizeof *seen);
    if (!seen) return false;
    bool ok = true;
    for (size_t w = 0; ok && w < HEARTH_ARRAY_LEN(words) && v->n < v->cap; w++) {
        size_t len = strlen(words[w]);
        for (size_t l = 2; ok && l <= len; l++)
            for (int marked = 1; ok && marked >= 0 && v->n < v->cap; marked--) {
                snprintf(buf, sizeof buf, "%s%.*s", marked ? WORD_MARK : "", (int)l, words[w]);
                bool dup = false;
                for (size_t i = 0; i < n_seen && !dup; i++) dup = strcmp(seen[i], buf) == 0;
                if (dup) continue;
                ok = add(v, buf, TT_NORMAL);
                if (ok && n_seen < cap_seen) seen[n_seen++] = v->tok[v->n - 1];
            }
    }
    qsort(seen, n_seen, sizeof *seen, cmp_str);
    for (int64_t k = 0; ok && v->n < v->cap; k++) {
        char piece[32];
        letters(k, piece);
        for (int marked = 1; ok && marked >= 0 && v->n < v->cap; marked--) {
            snprintf(buf, sizeof buf, "%s%s", marked ? WORD_MARK : "", piece);
            const char *key = buf;
            if (bsearch(&key, seen, n_seen, sizeof *seen, cmp_str)) continue;
            ok = add(v, buf, TT_NORMAL);
        }
    }
    free(seen);
    if (!ok) return false;
    v->cap = n_vocab;
    for (int64_t i = 0; i < n_special; i++)
        if (!add(v, phi3_specials[i], TT_CONTROL)) return false;
    *oom = false;
    return true;
}

hearth_status synth_vocab_write(hearth_gguf_writer *w, const char *arch, int64_t n_vocab, hearth_error *err)
{
    if (n_vocab < 300 || n_vocab > (int64_t)1 << 24)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "--n-vocab: expected 300..16777216 for a synthetic vocab, found %lld",
                           (long long)n_vocab);
    vocab v = {0};
    v.tok = calloc((size_t)n_vocab, sizeof *v.tok);
    v.score = malloc((size_t)n_vocab * sizeof *v.score);
    v.type = malloc((size_t)n_vocab * sizeof *v.type);
    bool oom = true;
    hearth_status st = HEARTH_OK;
    if (!v.tok || !v.score || !v.type || !build(&v, arch, n_vocab, &oom) || v.n != n_vocab)
        st = hearth_fail(err, oom ? HEARTH_ERR_NOMEM : HEARTH_ERR_INTERNAL, "synthetic vocab: %s",
                         oom ? "out of memory" : "could not reach the requested size");
    if (!st) st = hearth_gguf_set_str(w, "tokenizer.ggml.model", "llama", err);
    if (!st) st = hearth_gguf_set_str(w, "tokenizer.ggml.pre", "default", err);
    if (!st) st = hearth_gguf_set_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v.tok, (uint64_t)n_vocab, err);
    if (!st) st = hearth_gguf_set_arr(w, "tokenizer.ggml.scores", HEARTH_GGUF_FLOAT32, v.score, (uint64_t)n_vocab, err);
    if (!st) st = hearth_gguf_set_arr(w, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32, v.type, (uint64_t)n_vocab, err);
    if (!st) st = hearth_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", 1, err);
    if (!st) st = hearth_gguf_set_u32(w, "tokenizer.ggml.eos_token_id", 2, err);
    if (!st) st = hearth_gguf_set_u32(w, "tokenizer.ggml.unknown_token_id", 0, err);
    if (!st) st = hearth_gguf_set_bool(w, "tokenizer.ggml.add_bos_token", true, err);
    if (!st) st = hearth_gguf_set_bool(w, "tokenizer.ggml.add_eos_token", false, err);
    if (v.tok)
        for (int64_t i = 0; i < v.n; i++) free(v.tok[i]);
    free(v.tok);
    free(v.score);
    free(v.type);
    return st;
}
