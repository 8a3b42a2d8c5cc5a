/*
 * vocab.c — building a hearth_vocab from a GGUF file's tokenizer.ggml.* keys, with the same
 * defaults and token-attribute fix-ups llama.cpp applies at load time (they change which
 * text is recognized as a special token and which tokens end generation), but strict where
 * llama.cpp is lenient about malformed files.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "tokenizer/tok_internal.h"

/* tokenizer.ggml.token_type values */
enum { TT_UNDEFINED = 0, TT_NORMAL, TT_UNKNOWN, TT_CONTROL, TT_USER_DEFINED, TT_UNUSED, TT_BYTE };

static const uint16_t type_attr[7] = {
    [TT_UNDEFINED] = 0,
    [TT_NORMAL] = HEARTH_TOKEN_ATTR_NORMAL,
    [TT_UNKNOWN] = HEARTH_TOKEN_ATTR_UNKNOWN,
    [TT_CONTROL] = HEARTH_TOKEN_ATTR_CONTROL,
    [TT_USER_DEFINED] = HEARTH_TOKEN_ATTR_USER_DEFINED,
    [TT_UNUSED] = HEARTH_TOKEN_ATTR_UNUSED,
    [TT_BYTE] = HEARTH_TOKEN_ATTR_BYTE,
};

static const char *gguf_name(const hearth_gguf *g) { return hearth_gguf_path(g); }

/* Optional key: missing leaves *out alone; present with a wrong type is an error. */
static hearth_status opt_bool(const hearth_gguf *g, const char *key, bool *out, hearth_error *err)
{
    hearth_status st = hearth_gguf_get_bool(g, key, out, err);
    if (st == HEARTH_ERR_NOT_FOUND) {
        hearth_error_clear(err);
        return HEARTH_OK;
    }
    return st;
}

static hearth_status opt_id(const hearth_vocab *v, const hearth_gguf *g, const char *key,
                            hearth_token *id, bool required_in_range, hearth_error *err)
{
    uint32_t x;
    hearth_status st = hearth_gguf_get_u32(g, key, &x, err);
    if (st == HEARTH_ERR_NOT_FOUND) {
        hearth_error_clear(err);
        return HEARTH_OK;
    }
    if (st) return st;
    if (x >= (uint32_t)v->n_tokens) {
        if (required_in_range)
            return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %s: expected a token id below %d, found %u",
                               gguf_name(g), key, v->n_tokens, x);
        hearth_warn("%s: %s = %u is outside the vocabulary (%d tokens); ignored", gguf_name(g),
                    key, x, v->n_tokens);
        return HEARTH_OK;
    }
    *id = (hearth_token)x;
    return HEARTH_OK;
}

/* An optional array with one entry per token, of element type t1 or t2; NULL when absent. */
static hearth_status per_token_array(const hearth_gguf *g, const char *key, hearth_gguf_vtype t1,
                                     hearth_gguf_vtype t2, uint64_t n, const hearth_gguf_value **out,
                                     hearth_error *err)
{
    const hearth_gguf_value *a = hearth_gguf_get(g, key);
    *out = NULL;
    if (!a) return HEARTH_OK;
    if (a->type != HEARTH_GGUF_ARRAY || (a->v.arr.type != t1 && a->v.arr.type != t2))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %s: expected an array of %s%s%s", gguf_name(g), key,
                           hearth_gguf_vtype_name(t1), t1 != t2 ? " or " : "", t1 != t2 ? hearth_gguf_vtype_name(t2) : "");
    if (a->v.arr.n != n)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %s: expected %llu entries (one per token), found %llu",
                           gguf_name(g), key, (unsigned long long)n, (unsigned long long)a->v.arr.n);
    *out = a;
    return HEARTH_OK;
}

static hearth_status read_tokens(hearth_vocab *v, const hearth_gguf *g, hearth_error *err)
{
    const hearth_gguf_value *toks, *scores = NULL, *types = NULL;
    hearth_status st = hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &toks, err);
    if (st == HEARTH_ERR_NOT_FOUND)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: tokenizer.ggml.tokens: missing (no vocabulary)", gguf_name(g));
    if (st) return st;
    uint64_t n = toks->v.arr.n;
    if (n == 0 || n > (1u << 24))
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: tokenizer.ggml.tokens: expected 1 to 16777216 tokens, found %llu",
                           gguf_name(g), (unsigned long long)n);
    v->n_tokens = (int32_t)n;

    if ((st = per_token_array(g, "tokenizer.ggml.scores", HEARTH_GGUF_FLOAT32, HEARTH_GGUF_INT32, n, &scores, err)) ||
        (st = per_token_array(g, "tokenizer.ggml.token_type", HEARTH_GGUF_INT32, HEARTH_GGUF_INT32, n, &types, err)))
        return st;

    size_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t len = toks->v.arr.strs[i].len;
        if (len > 4096)
            return hearth_fail(err, HEARTH_ERR_FORMAT,
                               "%s: tokenizer.ggml.tokens[%llu]: expected at most 4096 bytes, found %llu",
                               gguf_name(g), (unsigned long long)i, (unsigned long long)len);
        total += (len ? len : 24) + 1;
    }
    v->text_arena = malloc(total);
    v->text_off = malloc(n * sizeof *v->text_off);
    v->text_len = malloc(n * sizeof *v->text_len);
    v->score = calloc(n, sizeof *v->score);
    v->attr = malloc(n * sizeof *v->attr);
    if (!v->text_arena || !v->text_off || !v->text_len || !v->score || !v->attr)
        return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory for %llu tokens", gguf_name(g),
                           (unsigned long long)n);
    size_t off = 0;
    for (uint64_t i = 0; i < n; i++) {
        const hearth_gguf_str *s = &toks->v.arr.strs[i];
        size_t len;
        if (s->len == 0) { /* llama.cpp's stand-in text, so lookups stay unique */
            len = (size_t)snprintf(v->text_arena + off, 24, "[EMPTY_%llu]", (unsigned long long)i);
        } else {
            len = (size_t)s->len;
            memcpy(v->text_arena + off, s->s, len);
        }
        v->text_arena[off + len] = '\0';
        v->text_off[i] = (uint32_t)off;
        v->text_len[i] = (uint32_t)len;
        off += len + 1;
        if ((int32_t)len > v->max_token_len) v->max_token_len = (int32_t)len;
        if (scores) {
            if (scores->v.arr.type == HEARTH_GGUF_FLOAT32)
                v->score[i] = ((const float *)scores->v.arr.data)[i];
            else
                v->score[i] = (float)((const int32_t *)scores->v.arr.data)[i];
        }
        v->attr[i] = HEARTH_TOKEN_ATTR_NORMAL;
        if (types) {
            int32_t t = ((const int32_t *)types->v.arr.data)[i];
            if (t < 0 || t > TT_BYTE)
                return hearth_fail(err, HEARTH_ERR_FORMAT,
                                   "%s: tokenizer.ggml.token_type[%llu]: expected 0..6, found %d",
                                   gguf_name(g), (unsigned long long)i, t);
            v->attr[i] = type_attr[t];
        }
    }
    return tok_strmap_build(v, err) ? hearth_fail_wrap(err, "%s", gguf_name(g)) : HEARTH_OK;
}

static hearth_status set_type_defaults(hearth_vocab *v, const hearth_gguf *g, hearth_error *err)
{
    const char *model;
    hearth_status st = hearth_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (st == HEARTH_ERR_NOT_FOUND)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: tokenizer.ggml.model: missing (no vocabulary)", gguf_name(g));
    if (st) return st;
    const char *pre = NULL;
    st = hearth_gguf_get_str(g, "tokenizer.ggml.pre", &pre, err);
    if (st == HEARTH_ERR_NOT_FOUND) {
        hearth_error_clear(err);
        pre = "";
    } else if (st) {
        return st;
    }
    snprintf(v->pre, sizeof v->pre, "%s", pre);

    /* llama.cpp's defaults for each tokenizer family (keys below may override them) */
    v->eot = v->eom = v->sep = v->pad = v->mask = HEARTH_TOKEN_NULL;
    v->fim_pre = v->fim_suf = v->fim_mid = v->fim_pad = v->fim_rep = v->fim_sep = HEARTH_TOKEN_NULL;
    v->escape_whitespaces = true;
    if (!strcmp(model, "llama")) {
        v->type = HEARTH_VOCAB_SPM;
        v->bos = 1, v->eos = 2, v->unk = 0;
        v->add_space_prefix = true, v->add_bos = true;
    } else if (!strcmp(model, "bert")) {
        v->type = HEARTH_VOCAB_WPM;
        v->bos = 101, v->eos = HEARTH_TOKEN_NULL, v->unk = 100, v->sep = 102, v->pad = 0, v->mask = 103;
        v->add_bos = true, v->add_sep = true, v->clean_spaces = true;
    } else if (!strcmp(model, "gpt2")) {
        v->type = HEARTH_VOCAB_BPE;
        v->bos = 11, v->eos = 11, v->unk = HEARTH_TOKEN_NULL;
        v->escape_whitespaces = false, v->clean_spaces = true;
        if ((st = tok_pretok_new(v->pre, &v->pretok, &v->clean_spaces, &v->ignore_merges, &v->add_bos, err)))
            return hearth_fail_wrap(err, "%s: tokenizer.ggml.pre", gguf_name(g));
    } else {
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED,
                           "%s: tokenizer.ggml.model: '%.40s' is not supported (expected llama, gpt2 or bert)",
                           gguf_name(g), model);
    }
    snprintf(v->model, sizeof v->model, "%s", model);
    if ((st = opt_bool(g, "tokenizer.ggml.add_space_prefix", &v->add_space_prefix, err))) return st;
    return HEARTH_OK;
}

static hearth_status read_special_ids(hearth_vocab *v, const hearth_gguf *g, hearth_error *err)
{
    /* defaults that fall outside this vocabulary are dropped, as llama.cpp does */
    hearth_token *defaults[] = {&v->bos, &v->eos, &v->unk, &v->sep, &v->pad, &v->mask};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(defaults); i++)
        if (*defaults[i] >= v->n_tokens) *defaults[i] = HEARTH_TOKEN_NULL;
    static const struct {
        const char *key;
        size_t field;
        bool strict;
    } keys[] = {
        {"tokenizer.ggml.bos_token_id", offsetof(hearth_vocab, bos), true},
        {"tokenizer.ggml.eos_token_id", offsetof(hearth_vocab, eos), true},
        {"tokenizer.ggml.eot_token_id", offsetof(hearth_vocab, eot), true},
        {"tokenizer.ggml.eom_token_id", offsetof(hearth_vocab, eom), true},
        {"tokenizer.ggml.unknown_token_id", offsetof(hearth_vocab, unk), true},
        {"tokenizer.ggml.seperator_token_id", offsetof(hearth_vocab, sep), true},
        {"tokenizer.ggml.padding_token_id", offsetof(hearth_vocab, pad), false},
        {"tokenizer.ggml.mask_token_id", offsetof(hearth_vocab, mask), false},
        {"tokenizer.ggml.fim_pre_token_id", offsetof(hearth_vocab, fim_pre), false},
        {"tokenizer.ggml.fim_suf_token_id", offsetof(hearth_vocab, fim_suf), false},
        {"tokenizer.ggml.fim_mid_token_id", offsetof(hearth_vocab, fim_mid), false},
        {"tokenizer.ggml.fim_pad_token_id", offsetof(hearth_vocab, fim_pad), false},
        {"tokenizer.ggml.fim_rep_token_id", offsetof(hearth_vocab, fim_rep), false},
        {"tokenizer.ggml.fim_sep_token_id", offsetof(hearth_vocab, fim_sep), false},
        {"tokenizer.ggml.prefix_token_id", offsetof(hearth_vocab, fim_pre), false},
        {"tokenizer.ggml.suffix_token_id", offsetof(hearth_vocab, fim_suf), false},
        {"tokenizer.ggml.middle_token_id", offsetof(hearth_vocab, fim_mid), false},
    };
    hearth_status st;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(keys); i++) {
        hearth_token *id = (hearth_token *)((char *)v + keys[i].field);
        if ((st = opt_id(v, g, keys[i].key, id, keys[i].strict, err))) return st;
    }
    if ((st = opt_bool(g, "tokenizer.ggml.add_bos_token", &v->add_bos, err)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_eos_token", &v->add_eos, err)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_sep_token", &v->add_sep, err)))
        return st;
    if ((st = opt_bool(g, "tokenizer.ggml.normalizer.lowercase", &v->lowercase, err))) return st;
    v->strip_accents = v->lowercase;
    if ((st = opt_bool(g, "tokenizer.ggml.normalizer.strip_accents", &v->strip_accents, err))) return st;
    /* tokenizing must be able to add what the flags promise */
    if (v->type == HEARTH_VOCAB_WPM && (v->bos < 0 || v->sep < 0))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: a bert vocabulary needs [CLS] (bos) and [SEP] token ids",
                           gguf_name(g));
    if (v->type != HEARTH_VOCAB_WPM && ((v->add_bos && v->bos < 0) || (v->add_eos && v->eos < 0)))
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: tokenizer.ggml.add_%s_token is true but the vocabulary has no %s token",
                           gguf_name(g), v->add_bos && v->bos < 0 ? "bos" : "eos",
                           v->add_bos && v->bos < 0 ? "BOS" : "EOS");
    return HEARTH_OK;
}

/* The first of these texts present in the vocabulary, or NULL_TOKEN; marks it control. */
static hearth_token detect(hearth_vocab *v, const char *const *texts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hearth_token id = tok_find(v, texts[i], strlen(texts[i]));
        if (id >= 0) {
            v->attr[id] |= HEARTH_TOKEN_ATTR_CONTROL;
            return id;
        }
    }
    return HEARTH_TOKEN_NULL;
}

#define DETECT(field, ...)                                                      \
    do {                                                                        \
        static const char *const texts_[] = {__VA_ARGS__};                      \
        if (v->field < 0) v->field = detect(v, texts_, HEARTH_ARRAY_LEN(texts_)); \
    } while (0)

static void set_eog(hearth_vocab *v, hearth_token id, bool on)
{
    if (id < 0 || id >= v->n_tokens) return;
    if (on) v->eog[id >> 3] |= (uint8_t)(1u << (id & 7));
    else v->eog[id >> 3] &= (uint8_t)~(1u << (id & 7));
}

/* llama.cpp recognizes special tokens by their text when the converter did not name them;
 * the chosen tokens become control tokens, which changes how text containing them parses. */
static hearth_status detect_specials(hearth_vocab *v, hearth_error *err)
{
    DETECT(eot, "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
           "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>",
           "<end_of_utterance>");
    DETECT(eom, "<|eom_id|>");
    DETECT(fim_pre, "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\357\275\234fim\342\226\201begin\357\275\234>",
           "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>");
    DETECT(fim_suf, "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\357\275\234fim\342\226\201hole\357\275\234>",
           "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>");
    DETECT(fim_mid, "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\357\275\234fim\342\226\201end\357\275\234>",
           "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>");
    DETECT(fim_pad, "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]");
    DETECT(fim_rep, "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>");
    DETECT(fim_sep, "<|file_sep|>");

    /* control tokens named "unused..." are unused */
    for (int32_t id = 0; id < v->n_tokens; id++)
        if ((v->attr[id] & HEARTH_TOKEN_ATTR_CONTROL) && strstr(tok_text(v, id), "unused"))
            v->attr[id] |= HEARTH_TOKEN_ATTR_UNUSED;

    v->eog = calloc(((size_t)v->n_tokens + 7) / 8, 1);
    if (!v->eog) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    set_eog(v, v->fim_pad, true);
    set_eog(v, v->fim_rep, true);
    set_eog(v, v->fim_sep, true);
    static const char *const eog_texts[] = {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<\357\275\234end\342\226\201of\342\226\201sentence\357\275\234>", "[e~["};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(eog_texts); i++) {
        hearth_token id = tok_find(v, eog_texts[i], strlen(eog_texts[i]));
        if (id < 0) continue;
        set_eog(v, id, true);
        v->attr[id] |= HEARTH_TOKEN_ATTR_CONTROL;
    }
    static const char *const render_always[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(render_always); i++) {
        hearth_token id = tok_find(v, render_always[i], strlen(render_always[i]));
        if (id >= 0) v->attr[id] = HEARTH_TOKEN_ATTR_USER_DEFINED;
    }
    set_eog(v, v->eos, true);
    set_eog(v, v->eot, true);
    set_eog(v, v->eom, true);

    /* gpt-oss / solar-open: <|end|> does not end generation when <|return|>+<|call|> exist */
    hearth_token ret = tok_find(v, "<|return|>", 10), call = tok_find(v, "<|call|>", 8);
    hearth_token calls = tok_find(v, "<|calls|>", 9), flush = tok_find(v, "<|flush|>", 9);
    hearth_token end = tok_find(v, "<|end|>", 7);
    if (end >= 0 && hearth_vocab_is_eog(v, end) &&
        ((ret >= 0 && hearth_vocab_is_eog(v, ret) && ((call >= 0 && hearth_vocab_is_eog(v, call)) ||
                                                       (calls >= 0 && hearth_vocab_is_eog(v, calls)))) ||
         (flush >= 0 && hearth_vocab_is_eog(v, flush) &&
          ((call >= 0 && hearth_vocab_is_eog(v, call)) || (calls >= 0 && hearth_vocab_is_eog(v, calls)))))) {
        set_eog(v, end, false);
        v->attr[end] = HEARTH_TOKEN_ATTR_USER_DEFINED;
    }
    /* gemma4 / paddleocr: </s> is ordinary text when <|tool_response> exists */
    hearth_token tr = tok_find(v, "<|tool_response>", 16), s_end = tok_find(v, "</s>", 4);
    if (tr >= 0 && s_end >= 0 && hearth_vocab_is_eog(v, tr) && hearth_vocab_is_eog(v, s_end)) {
        set_eog(v, s_end, false);
        v->attr[s_end] = HEARTH_TOKEN_ATTR_NORMAL;
    }
    return HEARTH_OK;
}

static bool contains_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (!strncasecmp(s, needle, n)) return true;
    return false;
}

/* Per-model strip attributes llama.cpp sets after building its caches (they only affect
 * whitespace next to special tokens while tokenizing). */
static hearth_status model_attrs(hearth_vocab *v, const hearth_gguf *g, hearth_error *err)
{
    const hearth_gguf_value *nv = hearth_gguf_get(g, "general.name");
    const hearth_gguf_value *av = hearth_gguf_get(g, "general.architecture");
    const char *name = nv && nv->type == HEARTH_GGUF_STRING ? nv->v.str.s : "";
    const char *arch = av && av->type == HEARTH_GGUF_STRING ? av->v.str.s : "";
    if (strstr(v->pre, "jina-v2-de") || strstr(v->pre, "jina-v2-es") || strstr(v->pre, "jina-v2-code") ||
        strstr(arch, "nomic-bert-moe") || strstr(arch, "jina-bert-v3")) {
        hearth_token m = tok_find(v, "<mask>", 6);
        if (m >= 0) v->attr[m] |= HEARTH_TOKEN_ATTR_LSTRIP;
    } else if (contains_ci(name, "phi-3") || contains_ci(name, "phi3")) {
        for (int32_t i = 0; i < v->n_specials; i++) v->attr[v->specials[i]] |= HEARTH_TOKEN_ATTR_RSTRIP;
        static const char *const need[] = {"</s>", "<unk>", "<s>", "<|endoftext|>"};
        for (size_t i = 0; i < HEARTH_ARRAY_LEN(need); i++) {
            hearth_token id = tok_find(v, need[i], strlen(need[i]));
            if (id < 0)
                return hearth_fail(err, HEARTH_ERR_FORMAT,
                                   "%s: a Phi-3 model (general.name '%.60s') needs the token '%s' in its vocabulary",
                                   gguf_name(g), name, need[i]);
            if (i == 0) v->attr[id] |= HEARTH_TOKEN_ATTR_RSTRIP;
            else v->attr[id] &= (uint16_t)~HEARTH_TOKEN_ATTR_RSTRIP;
        }
    } else if (contains_ci(name, "modern-bert")) {
        hearth_token m = tok_find(v, "[MASK]", 6);
        if (m >= 0) v->attr[m] |= HEARTH_TOKEN_ATTR_LSTRIP;
    }
    return HEARTH_OK;
}

static hearth_status find_newline(hearth_vocab *v, hearth_error *err)
{
    if (v->type == HEARTH_VOCAB_SPM) {
        v->nl = v->byte_token['\n'] >= 0 ? v->byte_token['\n'] : v->pad;
    } else if (v->type == HEARTH_VOCAB_WPM) {
        v->nl = v->pad;
    } else {
        hearth_token *ids;
        size_t n;
        hearth_status st = hearth_vocab_tokenize(v, "\n", 1, false, false, &ids, &n, err);
        if (st) return st;
        v->nl = n ? ids[0] : v->pad;
        free(ids);
    }
    return HEARTH_OK;
}

hearth_status tok_vocab_set_pre(hearth_vocab *v, const char *pre, hearth_error *err)
{
    if (v->type != HEARTH_VOCAB_BPE)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "only a gpt2 vocabulary has a pre-tokenizer");
    tok_pretok *p;
    bool add_bos = v->add_bos;
    hearth_status st = tok_pretok_new(pre, &p, &v->clean_spaces, &v->ignore_merges, &add_bos, err);
    if (st) return st;
    tok_pretok_free(v->pretok);
    v->pretok = p;
    snprintf(v->pre, sizeof v->pre, "%s", pre);
    return HEARTH_OK;
}

hearth_status hearth_vocab_load(const hearth_gguf *g, hearth_vocab **out, hearth_error *err)
{
    *out = NULL;
    hearth_vocab *v = calloc(1, sizeof *v);
    if (!v) return hearth_fail(err, HEARTH_ERR_NOMEM, "tokenizer: out of memory");
    hearth_status st;
    if ((st = set_type_defaults(v, g, err)) || (st = read_tokens(v, g, err))) goto fail;
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        v->byte_token[b] = tok_find(v, hex, 6);
        if (v->byte_token[b] < 0) {
            char one = (char)b;
            v->byte_token[b] = tok_find(v, &one, 1);
        }
    }
    if (v->type == HEARTH_VOCAB_BPE && (st = tok_bpe_load(v, g, err))) goto fail;
    if ((st = read_special_ids(v, g, err)) || (st = detect_specials(v, err)) ||
        (st = tok_build_specials(v, err)) || (st = tok_build_pieces(v, err)) ||
        (st = model_attrs(v, g, err)) || (st = find_newline(v, err)))
        goto fail;
    *out = v;
    return HEARTH_OK;
fail:
    hearth_vocab_free(v);
    return st;
}

void hearth_vocab_free(hearth_vocab *v)
{
    if (!v) return;
    free(v->text_arena);
    free(v->text_off);
    free(v->text_len);
    free(v->score);
    free(v->attr);
    free(v->map.slots);
    free(v->piece_arena);
    free(v->piece_off);
    free(v->piece_len);
    free(v->eog);
    free(v->specials);
    free(v->trie);
    tok_pretok_free(v->pretok);
    tok_bpe_free(v);
    free(v);
}

/* ---- accessors ---------------------------------------------------------------------------- */

hearth_vocab_type hearth_vocab_type_of(const hearth_vocab *v) { return v->type; }
const char *hearth_vocab_model_name(const hearth_vocab *v) { return v->model; }
const char *hearth_vocab_pre_name(const hearth_vocab *v) { return v->pre; }
int32_t hearth_vocab_n_tokens(const hearth_vocab *v) { return v->n_tokens; }
hearth_token hearth_vocab_bos(const hearth_vocab *v) { return v->bos; }
hearth_token hearth_vocab_eos(const hearth_vocab *v) { return v->eos; }
hearth_token hearth_vocab_eot(const hearth_vocab *v) { return v->eot; }
hearth_token hearth_vocab_unk(const hearth_vocab *v) { return v->unk; }
hearth_token hearth_vocab_sep(const hearth_vocab *v) { return v->sep; }
hearth_token hearth_vocab_pad(const hearth_vocab *v) { return v->pad; }
hearth_token hearth_vocab_nl(const hearth_vocab *v) { return v->nl; }
bool hearth_vocab_add_bos(const hearth_vocab *v) { return v->add_bos; }
bool hearth_vocab_add_eos(const hearth_vocab *v) { return v->add_eos; }

const char *hearth_vocab_token_text(const hearth_vocab *v, hearth_token id, size_t *len)
{
    if (id < 0 || id >= v->n_tokens) return NULL;
    if (len) *len = v->text_len[id];
    return tok_text(v, id);
}

float hearth_vocab_token_score(const hearth_vocab *v, hearth_token id)
{
    return (id >= 0 && id < v->n_tokens) ? v->score[id] : 0.0f;
}

uint32_t hearth_vocab_token_attr(const hearth_vocab *v, hearth_token id)
{
    return (id >= 0 && id < v->n_tokens) ? v->attr[id] : 0;
}

bool hearth_vocab_is_eog(const hearth_vocab *v, hearth_token id)
{
    return id >= 0 && id < v->n_tokens && (v->eog[id >> 3] >> (id & 7) & 1);
}

bool hearth_vocab_is_control(const hearth_vocab *v, hearth_token id)
{
    return id >= 0 && id < v->n_tokens && (v->attr[id] & HEARTH_TOKEN_ATTR_CONTROL);
}

hearth_token hearth_vocab_find(const hearth_vocab *v, const char *s, size_t len) { return tok_find(v, s, len); }
