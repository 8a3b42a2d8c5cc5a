/* test_tokenizer_robust.c — hostile input never crashes, valid text round-trips, streaming
 * detokenization never splits a character, and malformed vocabularies are refused with a
 * message naming the field. */
#include <pthread.h>
#include <utf8proc.h>

#include "gguf_blob.h"
#include "testutil.h"
#include "tokenizer/tok_internal.h"

static const char *const vocabs[] = {"mistral", "gemma3", "llama3", "qwen3", "bert"};
static hearth_vocab *loaded[5];

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < 5; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "vocab/%s.gguf", vocabs[i]);
        hearth_error err = {0};
        hearth_gguf *g = NULL;
        if (hearth_gguf_open(fixture_path(rel), &g, &err) || hearth_vocab_load(g, &loaded[i], &err)) {
            fprintf(stderr, "%s: %s\n", rel, err.message);
            return -1;
        }
        hearth_gguf_close(g);
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < 5; i++) hearth_vocab_free(loaded[i]);
    return 0;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void test_random_bytes(void **state)
{
    (void)state;
    char text[300];
    char *out = malloc(1 << 16);
    for (size_t vi = 0; vi < 5; vi++) {
        for (int iter = 0; iter < 150; iter++) {
            size_t len = next_rand() % sizeof text;
            for (size_t i = 0; i < len; i++) {
                uint32_t r = next_rand();
                /* bias toward bytes that make (and break) UTF-8 sequences and special text */
                if ((r & 3) == 0) text[i] = (char)(0x80 + (r >> 8) % 0x80);
                else if ((r & 3) == 1) text[i] = "<|>[]s /"[(r >> 8) % 8];
                else text[i] = (char)(r >> 8);
            }
            for (int mode = 0; mode < 4; mode++) {
                hearth_token *ids;
                size_t n;
                hearth_error err = {0};
                assert_int_equal(hearth_vocab_tokenize(loaded[vi], text, len, mode & 1, mode & 2, &ids, &n, &err),
                                 HEARTH_OK);
                for (size_t k = 0; k < n; k++) assert_true(ids[k] >= 0 && ids[k] < loaded[vi]->n_tokens);
                size_t got = hearth_vocab_detokenize(loaded[vi], ids, n, out, 1 << 16, mode & 1, mode & 2);
                assert_true(got <= (1 << 16));
                free(ids);
            }
        }
        /* out-of-range ids are skipped, not read */
        hearth_token bad[] = {-5, loaded[vi]->n_tokens, INT32_MAX, 0};
        assert_true(hearth_vocab_detokenize(loaded[vi], bad, 4, out, 1 << 16, false, true) < (1 << 16));
    }
    free(out);
}

/* A random valid UTF-8 string from a mix of scripts. avoid: characters a vocabulary's
 * clean-up or normalization legitimately changes. */
static size_t random_text(char *buf, size_t max_cps, bool no_cleanup_chars)
{
    static const uint32_t ranges[][2] = {
        {0x20, 0x7E}, {0x61, 0x7A}, {0x61, 0x7A}, {0x30, 0x39}, {0xC0, 0x17F}, {0x391, 0x3C9},
        {0x410, 0x44F}, {0x4E00, 0x4FFF}, {0x3040, 0x309F}, {0x1F600, 0x1F64F}, {0xAC00, 0xAD00}, {0x9, 0xA},
    };
    size_t n = 1 + next_rand() % max_cps, k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = next_rand() % HEARTH_ARRAY_LEN(ranges);
        uint32_t cp = ranges[r][0] + next_rand() % (ranges[r][1] - ranges[r][0] + 1);
        if (no_cleanup_chars && (cp == '?' || cp == '!' || cp == '.' || cp == ',' || cp == '\'')) cp = 'x';
        k += tok_utf8_encode(cp, buf + k);
    }
    return k;
}

static void test_round_trip(void **state)
{
    (void)state;
    char text[1024], out[8192];
    for (size_t vi = 0; vi < 5; vi++) {
        hearth_vocab *v = loaded[vi];
        for (int iter = 0; iter < 120; iter++) {
            size_t len = random_text(text, 200, v->clean_spaces);
            hearth_token *ids, *ids2;
            size_t n, n2;
            hearth_error err = {0};
            assert_int_equal(hearth_vocab_tokenize(v, text, len, false, false, &ids, &n, &err), HEARTH_OK);
            size_t got = hearth_vocab_detokenize(v, ids, n, out, sizeof out, false, false);
            assert_true(got <= sizeof out);
            if (v->type == HEARTH_VOCAB_WPM) {
                /* WordPiece is lossy (case, accents, spacing): its output must be a fixed point */
                assert_int_equal(hearth_vocab_tokenize(v, out, got, false, false, &ids2, &n2, &err), HEARTH_OK);
                bool unk = false;
                for (size_t k = 0; k < n; k++) unk |= ids[k] == v->unk;
                if (!unk) {
                    assert_int_equal(n2, n);
                    assert_memory_equal(ids2, ids, n * sizeof *ids);
                }
                free(ids2);
            } else {
                if (got != len || memcmp(out, text, len))
                    fprintf(stderr, "%s: '%.*s' came back as '%.*s'\n", vocabs[vi], (int)len, text, (int)got, out);
                assert_int_equal(got, len);
                assert_memory_equal(out, text, len);
            }
            free(ids);
        }
    }
}

static bool complete_utf8(const char *s, size_t n)
{
    utf8proc_int32_t c;
    for (size_t i = 0; i < n;) {
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(n - i), &c);
        if (k <= 0) return false;
        i += (size_t)k;
    }
    return true;
}

static void test_stream(void **state)
{
    (void)state;
    /* emoji and rare CJK fall back to byte tokens in the SentencePiece vocabularies */
    static const char text[] = "Grüße 🤖🧠 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 漢字かな 🇺🇳 done";
    for (size_t vi = 0; vi < 4; vi++) {
        hearth_vocab *v = loaded[vi];
        hearth_token *ids;
        size_t n;
        hearth_error err = {0};
        assert_int_equal(hearth_vocab_tokenize(v, text, sizeof text - 1, false, false, &ids, &n, &err), HEARTH_OK);
        char all[512], chunk[64];
        size_t total = 0, pieces = 0;
        hearth_detok_state s = {0};
        for (size_t k = 0; k < n; k++) {
            int32_t w = hearth_vocab_detok_push(v, &s, ids[k], false, chunk, sizeof chunk);
            assert_true(w >= 0);
            assert_true(complete_utf8(chunk, (size_t)w));
            memcpy(all + total, chunk, (size_t)w);
            total += (size_t)w;
            const char *p;
            pieces += hearth_vocab_piece(v, ids[k], false, &p);
        }
        int32_t w = hearth_vocab_detok_flush(&s, chunk, sizeof chunk);
        assert_int_equal(w, 0);
        assert_int_equal(total, pieces);
        const char *body = all;
        if (v->add_space_prefix && total && all[0] == ' ') body++, total--;
        assert_int_equal(total, sizeof text - 1);
        assert_memory_equal(body, text, total);
        free(ids);
    }
    /* a too-small buffer leaves the state alone; flush emits an unfinished sequence raw */
    hearth_vocab *m = loaded[0];
    hearth_detok_state s = {0};
    char buf[8];
    assert_int_equal(hearth_vocab_detok_push(m, &s, m->byte_token[0xF0], false, buf, sizeof buf), 0);
    assert_int_equal(hearth_vocab_detok_push(m, &s, m->byte_token[0x9F], false, buf, sizeof buf), 0);
    assert_int_equal(s.n_pending, 2);
    hearth_token hello = tok_find(m, "\xe2\x96\x81the", 6);
    assert_true(hello >= 0);
    assert_int_equal(hearth_vocab_detok_push(m, &s, hello, false, buf, 3), -6);
    assert_int_equal(s.n_pending, 2);
    assert_int_equal(hearth_vocab_detok_push(m, &s, hello, false, buf, sizeof buf), 6);
    assert_memory_equal(buf, "\xf0\x9f the", 6);
    assert_int_equal(hearth_vocab_detok_push(m, &s, m->byte_token[0xE2], false, buf, sizeof buf), 0);
    assert_int_equal(hearth_vocab_detok_flush(&s, buf, sizeof buf), 1);
    assert_int_equal((uint8_t)buf[0], 0xE2);
}

static void test_ascii_flags(void **state)
{
    (void)state;
    /* the ASCII fast path must agree with the general rule */
    for (uint32_t c = 0; c < 128; c++) {
        const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)c);
        uint16_t f = tok_cpt_flags(c) & UF_CATEGORIES;
        switch (p->category) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: assert_int_equal(f, UF_LETTER); break;
        case UTF8PROC_CATEGORY_ND: assert_int_equal(f, UF_NUMBER); break;
        case UTF8PROC_CATEGORY_CC: assert_int_equal(f, UF_CONTROL); break;
        case UTF8PROC_CATEGORY_ZS: assert_int_equal(f, UF_SEPARATOR); break;
        case UTF8PROC_CATEGORY_SM: case UTF8PROC_CATEGORY_SC: case UTF8PROC_CATEGORY_SK:
            assert_int_equal(f, UF_SYMBOL); break;
        default: assert_int_equal(f, UF_PUNCT); break;
        }
        assert_int_equal(!!(tok_cpt_flags(c) & UF_SPACE), c == ' ' || (c >= 9 && c <= 13));
    }
    /* llama.cpp's lenient decoding: stray and truncated bytes are U+FFFD, one byte each */
    size_t adv;
    assert_int_equal(tok_utf8_decode((const uint8_t *)"\x80", 1, &adv), 0xFFFD);
    assert_int_equal(adv, 1);
    assert_int_equal(tok_utf8_decode((const uint8_t *)"\xe2\x82", 2, &adv), 0xFFFD);
    assert_int_equal(adv, 1);
    assert_int_equal(tok_utf8_decode((const uint8_t *)"\xc0\x80", 2, &adv), 0); /* overlong passes */
    assert_int_equal(adv, 2);
    assert_int_equal(tok_utf8_decode((const uint8_t *)"\xf7\xbf\xbf\xbf", 4, &adv), 0xFFFD);
}

/* A vocabulary is read-only after loading: threads tokenizing at once get what one thread gets. */
typedef struct thread_job {
    const hearth_vocab *v;
    const char *text;
    size_t len;
    uint64_t hash;
} thread_job;

static void *tokenize_many(void *arg)
{
    thread_job *j = arg;
    j->hash = 1469598103934665603ull;
    for (int rep = 0; rep < 20; rep++) {
        hearth_token *ids;
        size_t n;
        hearth_error err = {0};
        if (hearth_vocab_tokenize(j->v, j->text, j->len, true, true, &ids, &n, &err)) return NULL;
        for (size_t k = 0; k < n; k++) j->hash = (j->hash ^ (uint32_t)ids[k]) * 1099511628211ull;
        free(ids);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    char text[2048];
    size_t len = random_text(text, 400, false);
    for (size_t vi = 0; vi < 5; vi++) {
        thread_job solo = {loaded[vi], text, len, 0}, jobs[4];
        tokenize_many(&solo);
        pthread_t th[4];
        for (int t = 0; t < 4; t++) {
            jobs[t] = (thread_job){loaded[vi], text, len, 0};
            assert_int_equal(pthread_create(&th[t], NULL, tokenize_many, &jobs[t]), 0);
        }
        for (int t = 0; t < 4; t++) {
            pthread_join(th[t], NULL);
            assert_true(jobs[t].hash == solo.hash);
        }
    }
}

/* The benchmark corpus is deterministic (bench/ compares runs and tokenizers on it). */
static void test_bench_corpus(void **state)
{
    (void)state;
    size_t n1, n2;
    char *a = hearth_tokbench_corpus(100000, &n1), *b = hearth_tokbench_corpus(100000, &n2);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(n1 >= 100000 && n1 < 104096);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_non_null(memmem(a, n1, "def ", 4));  /* code */
    assert_non_null(memmem(a, n1, "caf\xc3\xa9", 5)); /* prose with non-ASCII */
    hearth_tokbench_result r;
    hearth_error err = {0};
    assert_int_equal(hearth_tokbench_run(loaded[2], a, n1, 1, &r, &err), HEARTH_OK);
    assert_true(r.tokens > n1 / 8 && r.tokens < n1 / 2);
    assert_true(r.mb_per_s > 0);
    free(a);
    free(b);
}

/* ---- malformed vocabularies ---------------------------------------------------------------- */

typedef struct kv_spec {
    const char *model;      /* tokenizer.ggml.model, NULL: absent          */
    const char *pre;        /* tokenizer.ggml.pre, NULL: absent            */
    int n_tokens;           /* tokens written                              */
    bool dup;               /* make token 4 equal token 3                  */
    int n_scores;           /* -1: absent                                  */
    int n_types;            /* -1: absent                                  */
    int32_t bad_type;       /* written as token 5's type when nonzero      */
    int64_t bos;            /* -1: absent                                  */
    const char *merge;      /* one merge rule for gpt2, NULL: no merges key */
} kv_spec;

static void put_key(blob *b, const char *k, uint32_t type)
{
    blob_str(b, k);
    blob_u32(b, type);
}

static hearth_status load_spec(const kv_spec *s, hearth_error *err)
{
    blob b = {0};
    int n_kv = (s->model != NULL) + (s->pre != NULL) + (s->n_tokens >= 0) + (s->n_scores >= 0) +
               (s->n_types >= 0) + (s->bos >= 0) + (s->merge != NULL);
    blob_header(&b, 3, 0, (uint64_t)n_kv);
    if (s->model) put_key(&b, "tokenizer.ggml.model", 8), blob_str(&b, s->model);
    if (s->pre) put_key(&b, "tokenizer.ggml.pre", 8), blob_str(&b, s->pre);
    if (s->n_tokens >= 0) {
        put_key(&b, "tokenizer.ggml.tokens", 9);
        blob_u32(&b, 8);
        blob_u64(&b, (uint64_t)s->n_tokens);
        static const char *const words[] = {"<unk>", "<s>", "</s>", "a", "b", "ab", ("\xe2\x96\x81" "a"), "c"};
        for (int i = 0; i < s->n_tokens; i++) blob_str(&b, s->dup && i == 4 ? words[3] : words[i % 8]);
    }
    if (s->n_scores >= 0) {
        put_key(&b, "tokenizer.ggml.scores", 9);
        blob_u32(&b, 6);
        blob_u64(&b, (uint64_t)s->n_scores);
        for (int i = 0; i < s->n_scores; i++) blob_u32(&b, 0);
    }
    if (s->n_types >= 0) {
        put_key(&b, "tokenizer.ggml.token_type", 9);
        blob_u32(&b, 5);
        blob_u64(&b, (uint64_t)s->n_types);
        for (int i = 0; i < s->n_types; i++) blob_u32(&b, (uint32_t)(i == 5 && s->bad_type ? s->bad_type : i < 3 ? 3 : 1));
    }
    if (s->bos >= 0) put_key(&b, "tokenizer.ggml.bos_token_id", 4), blob_u32(&b, (uint32_t)s->bos);
    if (s->merge) {
        put_key(&b, "tokenizer.ggml.merges", 9);
        blob_u32(&b, 8);
        blob_u64(&b, 1);
        blob_str(&b, s->merge);
    }
    hearth_gguf *g = NULL;
    hearth_vocab *v = NULL;
    hearth_status st = hearth_gguf_parse(b.p, b.len, "t.gguf", &g, err);
    if (!st) st = hearth_vocab_load(g, &v, err);
    if (!st) {
        hearth_token *ids;
        size_t n;
        assert_int_equal(hearth_vocab_tokenize(v, "a ab b", 6, true, true, &ids, &n, err), HEARTH_OK);
        assert_true(n > 0);
        free(ids);
    }
    hearth_vocab_free(v);
    hearth_gguf_close(g);
    blob_free(&b);
    return st;
}

static void expect_fail(kv_spec s, hearth_status want, const char *needle)
{
    hearth_error err = {0};
    hearth_status st = load_spec(&s, &err);
    if (st != want || !strstr(err.message, needle))
        fprintf(stderr, "got %d '%s', wanted %d with '%s'\n", st, err.message, want, needle);
    assert_int_equal(st, want);
    assert_non_null(strstr(err.message, needle));
}

static void test_malformed(void **state)
{
    (void)state;
    const kv_spec ok = {"llama", "default", 8, false, 8, 8, 0, 1, NULL};
    hearth_error err = {0};
    assert_int_equal(load_spec(&ok, &err), HEARTH_OK);
    kv_spec s;
    s = ok, s.model = NULL;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.model: missing");
    s = ok, s.model = "t5";
    expect_fail(s, HEARTH_ERR_UNSUPPORTED, "'t5' is not supported");
    s = ok, s.n_tokens = -1;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.tokens: missing");
    s = ok, s.n_tokens = 0, s.n_scores = 0, s.n_types = 0;
    expect_fail(s, HEARTH_ERR_FORMAT, "found 0");
    s = ok, s.n_scores = 7;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.scores: expected 8 entries");
    s = ok, s.n_types = 9;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.token_type: expected 8 entries");
    s = ok, s.bad_type = 42;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.token_type[5]: expected 0..6, found 42");
    s = ok, s.bos = 8;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.bos_token_id: expected a token id below 8, found 8");
    s = ok, s.dup = true;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.tokens[4]: text duplicates token 3");
    const kv_spec bpe = {"gpt2", "gpt-2", 8, false, -1, 8, 0, 1, "a b"};
    assert_int_equal(load_spec(&bpe, &err), HEARTH_OK);
    s = bpe, s.pre = "nonsense-pre";
    expect_fail(s, HEARTH_ERR_UNSUPPORTED, "pre-tokenizer 'nonsense-pre' is not supported");
    s = bpe, s.merge = NULL;
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.merges: missing");
    s = bpe, s.merge = "ab";
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.merges[0]: expected 'LEFT RIGHT', found 'ab'");
    s = bpe, s.merge = "a ";
    expect_fail(s, HEARTH_ERR_FORMAT, "tokenizer.ggml.merges[0]");
    /* every pre-tokenizer we accept compiles and splits text */
    static const char *const pres[] = {"default", "llama-bpe", "dbrx", "deepseek-llm", "deepseek-coder",
                                       "deepseek-v3", "falcon", "gpt-2", "phi-2", "starcoder", "smollm", "qwen2",
                                       "qwen35", "poro-chat", "viking", "tekken", "chameleon", "gpt-4o",
                                       "seed-coder", "bailingmoe", "exaone-moe", "jais-2", "minicpm5", "youtu",
                                       "spark2_5", "laguna", "granite-embed-multi-97m", "refact", "command-r"};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(pres); i++) {
        s = bpe, s.pre = pres[i];
        if (load_spec(&s, &err) != HEARTH_OK) fprintf(stderr, "%s: %s\n", pres[i], err.message);
        assert_int_equal(load_spec(&s, &err), HEARTH_OK);
    }
}

/* A vocabulary from explicit parts: tokens (with lengths, NUL bytes allowed), their types and
 * merges (NULL: none). Returns it loaded, or NULL with err set. */
static hearth_vocab *custom_vocab(const char *model, const char *pre, const char *const *toks, const size_t *lens,
                                  const int32_t *types, int n, const char *const *merges, int n_merges,
                                  hearth_error *err)
{
    blob b = {0};
    blob_header(&b, 3, 0, (uint64_t)(3 + (pre != NULL) + (merges != NULL)));
    put_key(&b, "tokenizer.ggml.model", 8), blob_str(&b, model);
    if (pre) put_key(&b, "tokenizer.ggml.pre", 8), blob_str(&b, pre);
    put_key(&b, "tokenizer.ggml.tokens", 9);
    blob_u32(&b, 8);
    blob_u64(&b, (uint64_t)n);
    for (int i = 0; i < n; i++) blob_u64(&b, lens[i]), blob_put(&b, toks[i], lens[i]);
    put_key(&b, "tokenizer.ggml.token_type", 9);
    blob_u32(&b, 5);
    blob_u64(&b, (uint64_t)n);
    for (int i = 0; i < n; i++) blob_u32(&b, (uint32_t)types[i]);
    if (merges) {
        put_key(&b, "tokenizer.ggml.merges", 9);
        blob_u32(&b, 8);
        blob_u64(&b, (uint64_t)n_merges);
        for (int i = 0; i < n_merges; i++) blob_str(&b, merges[i]);
    }
    put_key(&b, "tokenizer.ggml.add_bos_token", 7), blob_u8(&b, 0);
    hearth_gguf *g = NULL;
    hearth_vocab *v = NULL;
    if (!hearth_gguf_parse(b.p, b.len, "hostile.gguf", &g, err)) hearth_vocab_load(g, &v, err);
    hearth_gguf_close(g);
    blob_free(&b);
    return v;
}

static void tokenize_everything(const hearth_vocab *v)
{
    char text[256], out[1 << 14];
    for (int iter = 0; iter < 200; iter++) {
        size_t len = next_rand() % sizeof text;
        for (size_t i = 0; i < len; i++) text[i] = "ab cd\0q<>|\xe2\x96\x81\xff"[next_rand() % 14];
        for (int mode = 0; mode < 4; mode++) {
            hearth_token *ids;
            size_t n;
            hearth_error err = {0};
            assert_int_equal(hearth_vocab_tokenize(v, text, len, mode & 1, mode & 2, &ids, &n, &err), HEARTH_OK);
            for (size_t k = 0; k < n; k++) assert_true(ids[k] >= 0 && ids[k] < v->n_tokens);
            assert_true(hearth_vocab_detokenize(v, ids, n, out, sizeof out, mode & 1, mode & 2) <= sizeof out);
            free(ids);
        }
    }
}

/* Odd but loadable vocabularies: NUL bytes inside tokens, an empty token, a 4096-byte control
 * token, a byte token with a malformed name, merges whose sides are not tokens. */
static void test_hostile_vocabs(void **state)
{
    (void)state;
    static char longest[4096];
    memset(longest, 'a', sizeof longest);
    const char *const toks[] = {"<unk>", "<s>", "</s>", "a\0b", "", longest, "<0xZZ>", "\xe2\x96\x81" "a", "ab", "a", "b"};
    const size_t lens[] = {5, 3, 4, 3, 0, 4096, 6, 4, 2, 1, 1};
    const int32_t types[] = {2, 3, 3, 1, 1, 3, 6, 1, 4, 1, 1};
    hearth_error err = {0};
    hearth_vocab *v = custom_vocab("llama", NULL, toks, lens, types, 11, NULL, 0, &err);
    if (!v) fprintf(stderr, "%s\n", err.message);
    assert_non_null(v);
    assert_int_equal(hearth_vocab_find(v, "[EMPTY_4]", 9), 4); /* llama.cpp's stand-in text */
    tokenize_everything(v);
    hearth_vocab_free(v);

    /* BPE whose rules mostly name no token: they go through the by-text slow path */
    const char *const btoks[] = {"a", "b", "ab", "\xc4\xa0", "<|x|>"};
    const size_t blens[] = {1, 1, 2, 2, 5};
    const int32_t btypes[] = {1, 1, 1, 1, 3};
    const char *const merges[] = {"a b", "c d", "cd q", "\xc4\xa0 a", "a a"};
    v = custom_vocab("gpt2", "qwen2", btoks, blens, btypes, 5, merges, 5, &err);
    if (!v) fprintf(stderr, "%s\n", err.message);
    assert_non_null(v);
    hearth_token *ids;
    size_t n;
    assert_int_equal(hearth_vocab_tokenize(v, "ab cdq<|x|>", 11, false, true, &ids, &n, &err), HEARTH_OK);
    assert_int_equal(n, 3); /* "ab", " " -> \xc4\xa0, "<|x|>"; c d q have no tokens and vanish */
    assert_int_equal(ids[0], 2);
    assert_int_equal(ids[1], 3);
    assert_int_equal(ids[2], 4);
    free(ids);
    tokenize_everything(v);
    hearth_vocab_free(v);
}

int main(void)
{
    (void)blob_pad;
    (void)blob_patch;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_bytes), cmocka_unit_test(test_round_trip), cmocka_unit_test(test_stream),
        cmocka_unit_test(test_ascii_flags), cmocka_unit_test(test_threads), cmocka_unit_test(test_bench_corpus),
        cmocka_unit_test(test_malformed), cmocka_unit_test(test_hostile_vocabs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
