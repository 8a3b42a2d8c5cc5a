/*
 * detok.c — tokens back to bytes: each token's piece (computed once at load, as llama.cpp
 * caches them), whole-sequence detokenization with llama.cpp's leading-space and clean-up
 * rules, and a streaming form that never splits a UTF-8 character across two outputs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* GPT-2 byte-level decoding of one token text; unmappable characters are spelled out as
 * llama.cpp does ("[UNK_BYTE_0x..." + the token text + "]"). Returns bytes written to out
 * (which must hold len * (len + 24) + 64 bytes). */
static size_t gpt2_decode(const int16_t *rev, const char *text, size_t len, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        size_t adv;
        uint32_t cp = tok_utf8_decode((const uint8_t *)text + i, len - i, &adv);
        i += adv;
        int byte = cp < 512 ? rev[cp] : -1;
        if (byte >= 0) {
            out[k++] = (char)byte;
            continue;
        }
        char u[4];
        size_t un = tok_utf8_encode(cp, u);
        k += (size_t)sprintf(out + k, "[UNK_BYTE_0x");
        for (size_t j = 0; j < un; j++) k += (size_t)sprintf(out + k, "%02x", (uint8_t)u[j]);
        memcpy(out + k, text, len);
        k += len;
        out[k++] = ']';
    }
    return k;
}

static size_t unescape_spaces(const char *text, size_t len, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i < len;) {
        if (i + 3 <= len && !memcmp(text + i, "\xe2\x96\x81", 3)) {
            out[k++] = ' ';
            i += 3;
        } else {
            out[k++] = text[i++];
        }
    }
    return k;
}

static size_t build_piece(const hearth_vocab *v, const int16_t *rev, hearth_token id, char *out)
{
    const char *text = tok_text(v, id);
    size_t len = v->text_len[id];
    uint16_t attr = v->attr[id];
    if (attr & (HEARTH_TOKEN_ATTR_UNKNOWN | HEARTH_TOKEN_ATTR_CONTROL | HEARTH_TOKEN_ATTR_USER_DEFINED)) {
        memcpy(out, text, len);
        return len;
    }
    if (attr & HEARTH_TOKEN_ATTR_NORMAL) {
        if (v->type == HEARTH_VOCAB_BPE && !v->escape_whitespaces) return gpt2_decode(rev, text, len, out);
        return unescape_spaces(text, len, out);
    }
    if (attr & HEARTH_TOKEN_ATTR_BYTE) { /* "<0xXX>" */
        if (v->type == HEARTH_VOCAB_WPM) return 0;
        int hi = len >= 5 ? hexval(text[3]) : -1, lo = len >= 5 ? hexval(text[4]) : -1;
        if (hi < 0) return 0;
        out[0] = (char)(lo < 0 ? hi : hi * 16 + lo);
        return 1;
    }
    return 0;
}

hearth_status tok_build_pieces(hearth_vocab *v, hearth_error *err)
{
    size_t total = 0, maxlen = 0;
    for (int32_t id = 0; id < v->n_tokens; id++) {
        /* worst case: every character spelled out as [UNK_BYTE_0x........<text>] */
        size_t len = v->text_len[id], bound = len * (len + 24) + 64;
        total += 2 * len + 1;
        if (bound > maxlen) maxlen = bound;
    }
    /* code point -> byte, inverting the GPT-2 byte-to-unicode table (all below U+0200) */
    int16_t rev[512];
    for (int i = 0; i < 512; i++) rev[i] = -1;
    for (int b = 0; b < 256 && v->type == HEARTH_VOCAB_BPE; b++) {
        size_t adv;
        uint32_t cp = tok_utf8_decode((const uint8_t *)v->gpt2_char[b], v->gpt2_char_len[b], &adv);
        if (cp < 512) rev[cp] = (int16_t)b;
    }
    char *tmp = malloc(maxlen);
    v->piece_off = malloc((size_t)v->n_tokens * sizeof *v->piece_off);
    v->piece_len = malloc((size_t)v->n_tokens * sizeof *v->piece_len);
    size_t cap = total + 64, used = 0;
    v->piece_arena = malloc(cap);
    if (!tmp || !v->piece_off || !v->piece_len || !v->piece_arena) goto oom;
    for (int32_t id = 0; id < v->n_tokens; id++) {
        size_t n = build_piece(v, rev, id, tmp);
        if (used + n > cap) {
            while (used + n > cap) cap *= 2;
            char *p = realloc(v->piece_arena, cap);
            if (!p) goto oom;
            v->piece_arena = p;
        }
        memcpy(v->piece_arena + used, tmp, n);
        v->piece_off[id] = (uint32_t)used;
        v->piece_len[id] = (uint32_t)n;
        used += n;
    }
    free(tmp);
    return HEARTH_OK;
oom:
    free(tmp);
    return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory for token pieces");
}

size_t hearth_vocab_piece(const hearth_vocab *v, hearth_token id, bool special, const char **piece)
{
    *piece = "";
    if (id < 0 || id >= v->n_tokens) return 0;
    if (!special && (v->attr[id] & (HEARTH_TOKEN_ATTR_UNKNOWN | HEARTH_TOKEN_ATTR_CONTROL))) return 0;
    *piece = v->piece_arena + v->piece_off[id];
    return v->piece_len[id];
}

/* llama.cpp's clean_up_tokenization: " ?" " !" " ." " ," lose the space, a lone " ' " loses
 * both, and " 's" " 'm" " 're" " 've" lose the space. Works in place; returns the new length. */
static size_t clean_spaces(char *t, size_t total)
{
    size_t n = total ? 1 : 0;
    for (size_t i = 1; i < total; i++) {
        char x = t[i];
        if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) n--;
        t[n++] = x;
    }
    total = n;
    n = total ? 1 : 0;
    for (size_t i = 1; i < total; i++) {
        char x = t[i];
        if (x == '\'' && i + 1 < total && t[i - 1] == ' ' && t[i + 1] == ' ') {
            n--;
            t[++i] = '\0';
        }
        t[n++] = x;
    }
    total = n;
    n = total ? 1 : 0;
    for (size_t i = 1; i < total; i++) {
        char x = t[i];
        if (t[i - 1] == ' ' && x == '\'' && i + 1 < total) {
            char x1 = t[i + 1];
            if (x1 == 's' || x1 == 'm') n--;
            else if (i + 2 < total && ((x1 == 'r' && t[i + 2] == 'e') || (x1 == 'v' && t[i + 2] == 'e'))) n--;
        }
        t[n++] = x;
    }
    return n;
}

size_t hearth_vocab_detokenize(const hearth_vocab *v, const hearth_token *tokens, size_t n,
                               char *buf, size_t cap, bool remove_special, bool unparse_special)
{
    bool remove_space = v->add_space_prefix;
    if (remove_special && v->add_bos && n > 0 && tokens[0] == v->bos) {
        remove_space = false;
        tokens++, n--;
    }
    if (remove_special && v->add_eos && n > 0 && tokens[n - 1] == v->eos) n--;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p;
        size_t pl = hearth_vocab_piece(v, tokens[i], unparse_special, &p);
        if (remove_space && pl > 0 && p[0] == ' ') p++, pl--;
        remove_space = false;
        if (total + pl <= cap) memcpy(buf + total, p, pl);
        total += pl;
    }
    if (total > cap || !v->clean_spaces) return total;
    return clean_spaces(buf, total);
}

/* Bytes at the end of p[0..n) that start a UTF-8 sequence still missing continuation bytes. */
static size_t incomplete_tail(const uint8_t *p, size_t n)
{
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        uint8_t c = p[n - back];
        if ((c & 0xC0) == 0x80) continue; /* continuation: keep looking for the lead */
        size_t need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

int32_t hearth_vocab_detok_push(const hearth_vocab *v, hearth_detok_state *s, hearth_token id,
                                bool special, char *buf, int32_t cap)
{
    const char *p;
    size_t pl = hearth_vocab_piece(v, id, special, &p);
    size_t np = s->n_pending > 0 && s->n_pending <= 4 ? (size_t)s->n_pending : 0;
    size_t total = np + pl;
    /* the held-back tail of pending + piece (at most 3 bytes) */
    uint8_t last[8];
    size_t nl = 0;
    for (size_t i = total > 3 ? total - 3 : 0; i < total; i++)
        last[nl++] = i < np ? s->pending[i] : (uint8_t)p[i - np];
    size_t hold = incomplete_tail(last, nl);
    size_t emit = total - hold;
    if (emit > (size_t)(cap > 0 ? cap : 0)) return -(int32_t)emit;
    for (size_t i = 0; i < emit; i++) buf[i] = (char)(i < np ? s->pending[i] : (uint8_t)p[i - np]);
    uint8_t keep[4];
    for (size_t i = 0; i < hold; i++) {
        size_t j = emit + i;
        keep[i] = j < np ? s->pending[j] : (uint8_t)p[j - np];
    }
    memcpy(s->pending, keep, hold);
    s->n_pending = (int32_t)hold;
    return (int32_t)emit;
}

int32_t hearth_vocab_detok_flush(hearth_detok_state *s, char *buf, int32_t cap)
{
    int32_t n = s->n_pending > 0 && s->n_pending <= 4 ? s->n_pending : 0;
    if (n > cap) return -n;
    memcpy(buf, s->pending, (size_t)n);
    s->n_pending = 0;
    return n;
}
