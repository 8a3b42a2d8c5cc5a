/*
 * tokenizer — text <-> token ids for the vocabularies GGUF models carry, reproducing
 * llama.cpp's llama_tokenize / llama_detokenize exactly (ids, pieces and clean-up rules):
 *   - SentencePiece (tokenizer.ggml.model = "llama"): score-driven merges, byte fallback;
 *   - byte-level BPE ("gpt2"): merge ranks, GPT-2 byte mapping, the pre-tokenizer regexes
 *     selected by tokenizer.ggml.pre;
 *   - WordPiece ("bert"): BERT's basic tokenizer, then greedy longest match.
 * A hearth_vocab is read-only after loading and may be used from many threads at once.
 */
#ifndef HEARTH_TOKENIZER_H
#define HEARTH_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "gguf/gguf.h"

typedef struct hearth_vocab hearth_vocab;

typedef enum hearth_vocab_type {
    HEARTH_VOCAB_SPM = 1, /* "llama" */
    HEARTH_VOCAB_BPE = 2, /* "gpt2"  */
    HEARTH_VOCAB_WPM = 3  /* "bert"  */
} hearth_vocab_type;

/* Token attributes (bit flags; same meanings as llama.cpp's llama_token_attr). */
enum {
    HEARTH_TOKEN_ATTR_UNKNOWN = 1 << 0,
    HEARTH_TOKEN_ATTR_UNUSED = 1 << 1,
    HEARTH_TOKEN_ATTR_NORMAL = 1 << 2,
    HEARTH_TOKEN_ATTR_CONTROL = 1 << 3,
    HEARTH_TOKEN_ATTR_USER_DEFINED = 1 << 4,
    HEARTH_TOKEN_ATTR_BYTE = 1 << 5,
    HEARTH_TOKEN_ATTR_LSTRIP = 1 << 7,
    HEARTH_TOKEN_ATTR_RSTRIP = 1 << 8
};

/* Reads the tokenizer.ggml.* keys of g and builds the vocabulary. Strict: array lengths must
 * agree, ids must be in range, merges well-formed, token texts unique; an unknown
 * tokenizer.ggml.model or (for BPE) tokenizer.ggml.pre is HEARTH_ERR_UNSUPPORTED naming it.
 * The vocabulary copies what it needs: g may be closed afterwards. */
hearth_status hearth_vocab_load(const hearth_gguf *g, hearth_vocab **out, hearth_error *err);
void hearth_vocab_free(hearth_vocab *v);

hearth_vocab_type hearth_vocab_type_of(const hearth_vocab *v);
const char *hearth_vocab_model_name(const hearth_vocab *v); /* "llama", "gpt2", "bert" */
const char *hearth_vocab_pre_name(const hearth_vocab *v);   /* tokenizer.ggml.pre or ""  */
int32_t hearth_vocab_n_tokens(const hearth_vocab *v);
/* Text as stored (NUL-terminated), NULL when id is out of range. */
const char *hearth_vocab_token_text(const hearth_vocab *v, hearth_token id, size_t *len);
float hearth_vocab_token_score(const hearth_vocab *v, hearth_token id);
uint32_t hearth_vocab_token_attr(const hearth_vocab *v, hearth_token id); /* 0 if out of range */
hearth_token hearth_vocab_bos(const hearth_vocab *v);
hearth_token hearth_vocab_eos(const hearth_vocab *v);
hearth_token hearth_vocab_eot(const hearth_vocab *v);
hearth_token hearth_vocab_unk(const hearth_vocab *v);
hearth_token hearth_vocab_sep(const hearth_vocab *v);
hearth_token hearth_vocab_pad(const hearth_vocab *v);
hearth_token hearth_vocab_nl(const hearth_vocab *v);
bool hearth_vocab_add_bos(const hearth_vocab *v);
bool hearth_vocab_add_eos(const hearth_vocab *v);
bool hearth_vocab_is_eog(const hearth_vocab *v, hearth_token id);
bool hearth_vocab_is_control(const hearth_vocab *v, hearth_token id);
/* The id of a token whose text is exactly s[0..len), or HEARTH_TOKEN_NULL. */
hearth_token hearth_vocab_find(const hearth_vocab *v, const char *s, size_t len);

/* Tokenizes text[0..len) (any bytes; invalid UTF-8 never fails). add_special: BOS/EOS/SEP as
 * the vocabulary says; parse_special: control/user-defined token text becomes that token
 * (user-defined tokens are always recognized, as in llama.cpp). *out is malloc'd (free it);
 * it is non-NULL even for zero tokens. Fails only on out-of-memory. */
hearth_status hearth_vocab_tokenize(const hearth_vocab *v, const char *text, size_t len,
                                    bool add_special, bool parse_special, hearth_token **out,
                                    size_t *n_out, hearth_error *err);

/* The bytes of one token (llama_token_to_piece with lstrip 0). special: render control and
 * unknown tokens' text instead of nothing. Returns the length and sets *piece (not
 * NUL-terminated, owned by v); 0 for an out-of-range id. */
size_t hearth_vocab_piece(const hearth_vocab *v, hearth_token id, bool special, const char **piece);

/* llama_detokenize: writes at most cap bytes; returns the full length (which may exceed cap,
 * then the caller retries with a larger buffer). remove_special drops a leading BOS / trailing
 * EOS the vocabulary adds; unparse_special renders control tokens. Out-of-range ids render
 * as nothing. */
size_t hearth_vocab_detokenize(const hearth_vocab *v, const hearth_token *tokens, size_t n,
                               char *buf, size_t cap, bool remove_special, bool unparse_special);

/* Incremental detokenization for streaming (state: hearth_detok_state in hearth.h, zeroed
 * first): bytes of a UTF-8 sequence split across tokens are held back until the sequence is
 * complete (or proves invalid). Appends token's piece; writes the bytes now complete to buf. Returns bytes written, or
 * minus the size needed (state unchanged) when cap is too small. */
int32_t hearth_vocab_detok_push(const hearth_vocab *v, hearth_detok_state *s, hearth_token id,
                                bool special, char *buf, int32_t cap);
/* Emits whatever is still held (an incomplete sequence at end of stream) as raw bytes. */
int32_t hearth_vocab_detok_flush(hearth_detok_state *s, char *buf, int32_t cap);

/* Tokenizer benchmark (`hearth bench --tokenize`, tests/tools/tokenizer_bench): a
 * deterministic English + code corpus of about `bytes` bytes (malloc'd; NULL if out of
 * memory), and the best of `reps` passes over it in ~4 KB calls on this thread. */
typedef struct hearth_tokbench_result {
    double mb_per_s, seconds; /* best pass */
    size_t bytes;
    uint64_t tokens;
    uint64_t ids_hash; /* FNV-1a over all ids, to compare tokenizers on the whole corpus */
} hearth_tokbench_result;

char *hearth_tokbench_corpus(size_t bytes, size_t *len);
hearth_status hearth_tokbench_run(const hearth_vocab *v, const char *text, size_t len, int reps,
                                  hearth_tokbench_result *out, hearth_error *err);

#endif
