/* test_gguf.c — the GGUF reader: every fixture parses; typed getters; a corpus of malformed
 * files, each with its specific message; random bit flips and truncations never crash. */
#include "testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "gguf_corpus.h"

/* Parses a private exact-size copy so ASan sees any read past the end. */
static hearth_status parse_copy(const uint8_t *p, size_t n, hearth_gguf **g, hearth_error *err)
{
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    if (n) memcpy(copy, p, n);
    hearth_status st = hearth_gguf_parse(copy, n, "mini.gguf", g, err);
    if (st == HEARTH_OK) {
        /* every tensor must lie inside the buffer it came from */
        for (int64_t i = 0; i < hearth_gguf_n_tensors(*g); i++) {
            const hearth_gguf_tensor *t = hearth_gguf_tensor_at(*g, i);
            if (t->size) {
                assert_true((const uint8_t *)t->data >= copy);
                assert_true((const uint8_t *)t->data + t->size <= copy + n);
            }
        }
        hearth_gguf_close(*g);
        *g = NULL;
    }
    free(copy);
    return st;
}

static void expect_fail(const blob *b, size_t n, const char *substring)
{
    hearth_gguf *g = NULL;
    hearth_error err = {0};
    hearth_status st = parse_copy(b->p, n, &g, &err);
    if (st == HEARTH_OK) fail_msg("expected failure containing '%s', but the file parsed", substring);
    if (!strstr(err.message, substring)) fail_msg("expected '%s' in: %s", substring, err.message);
    assert_int_equal(strncmp(err.message, "mini.gguf: ", 11), 0);
    assert_null(strchr(err.message, '\n'));
}

static void test_mini_valid(void **state)
{
    (void)state;
    mini m;
    mini_build(&m);
    hearth_gguf *g = NULL;
    hearth_error err = {0};
    assert_int_equal(hearth_gguf_parse(m.b.p, m.b.len, "mini.gguf", &g, &err), HEARTH_OK);
    assert_int_equal(hearth_gguf_version(g), 3);
    assert_int_equal(hearth_gguf_n_kv(g), MINI_KV);
    assert_int_equal(hearth_gguf_n_tensors(g), MINI_T);
    assert_int_equal(hearth_gguf_alignment(g), 32);
    assert_int_equal(hearth_gguf_data_offset(g), m.data_start);

    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    float f;
    bool bl;
    const char *s;
    assert_int_equal(hearth_gguf_get_u32(g, "t.u8", &u32, &err), HEARTH_OK);
    assert_int_equal(u32, 200);
    assert_int_equal(hearth_gguf_get_u32(g, "t.u16", &u32, &err), HEARTH_OK);
    assert_int_equal(u32, 60000);
    assert_int_equal(hearth_gguf_get_u32(g, "t.u32", &u32, &err), HEARTH_OK);
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(hearth_gguf_get_i32(g, "t.i8", &i32, &err), HEARTH_OK);
    assert_int_equal(i32, -5);
    assert_int_equal(hearth_gguf_get_i32(g, "t.i16", &i32, &err), HEARTH_OK);
    assert_int_equal(i32, -30000);
    assert_int_equal(hearth_gguf_get_i32(g, "t.i32", &i32, &err), HEARTH_OK);
    assert_int_equal(i32, -2000000000);
    assert_int_equal(hearth_gguf_get_u64(g, "t.u64", &u64, &err), HEARTH_OK);
    assert_int_equal(u64, 1ull << 40);
    assert_int_equal(hearth_gguf_get(g, "t.i64")->v.i64, -(1ll << 40));
    assert_int_equal(hearth_gguf_get_f32(g, "t.f32", &f, &err), HEARTH_OK);
    assert_true(f == 1.5f);
    assert_int_equal(hearth_gguf_get_f32(g, "t.f64", &f, &err), HEARTH_OK);
    assert_true(f == 2.25f);
    assert_int_equal(hearth_gguf_get_bool(g, "t.bool", &bl, &err), HEARTH_OK);
    assert_true(bl);
    assert_int_equal(hearth_gguf_get_str(g, "t.str", &s, &err), HEARTH_OK);
    assert_string_equal(s, "hello");

    /* range and type errors name the key, the expected and the found */
    assert_int_equal(hearth_gguf_get_i32(g, "t.u32", &i32, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "mini.gguf: t.u32: expected i32"));
    assert_int_equal(hearth_gguf_get_u32(g, "t.i8", &u32, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "found -5"));
    assert_int_equal(hearth_gguf_get_u32(g, "t.u64", &u32, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "at most 4294967295"));
    assert_int_equal(hearth_gguf_get_u64(g, "t.i64", &u64, &err), HEARTH_ERR_FORMAT);
    assert_int_equal(hearth_gguf_get_u32(g, "t.str", &u32, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "t.str: expected u32, found string"));
    assert_int_equal(hearth_gguf_get_str(g, "t.arr_str", &s, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "expected string, found array of string"));
    assert_int_equal(hearth_gguf_get_bool(g, "t.u8", &bl, &err), HEARTH_ERR_FORMAT);
    assert_int_equal(hearth_gguf_get_f32(g, "t.u8", &f, &err), HEARTH_ERR_FORMAT);
    assert_int_equal(hearth_gguf_get_u32(g, "no.such.key", &u32, &err), HEARTH_ERR_NOT_FOUND);
    assert_non_null(strstr(err.message, "no.such.key"));
    assert_null(hearth_gguf_get(g, "t.u"));
    assert_null(hearth_gguf_get(g, ""));

    const hearth_gguf_value *v;
    assert_int_equal(hearth_gguf_get_arr(g, "t.arr_i32", HEARTH_GGUF_INT32, &v, &err), HEARTH_OK);
    assert_int_equal(v->v.arr.n, 3);
    assert_int_equal(((const int32_t *)v->v.arr.data)[1], -2);
    assert_int_equal((uintptr_t)v->v.arr.data % 8, 0);
    assert_int_equal(hearth_gguf_get_arr(g, "t.arr_i32", HEARTH_GGUF_UINT32, &v, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "expected array of u32, found array of i32"));
    assert_int_equal(hearth_gguf_get_arr(g, "t.arr_str", HEARTH_GGUF_STRING, &v, &err), HEARTH_OK);
    assert_int_equal(v->v.arr.n, 3);
    assert_string_equal(v->v.arr.strs[1].s, "bc");
    assert_int_equal(v->v.arr.strs[2].len, 0);
    assert_string_equal(v->v.arr.strs[2].s, "");
    assert_int_equal(hearth_gguf_get_arr(g, "t.nested", HEARTH_GGUF_ARRAY, &v, &err), HEARTH_OK);
    assert_int_equal(v->v.arr.n, 2);
    assert_int_equal(v->v.arr.items[0].v.arr.type, HEARTH_GGUF_UINT16);
    assert_int_equal(v->v.arr.items[0].v.arr.n, 2);
    assert_int_equal(((const uint16_t *)v->v.arr.items[0].v.arr.data)[1], 2);
    assert_int_equal(((const uint16_t *)v->v.arr.items[1].v.arr.data)[0], 3);
    assert_int_equal(hearth_gguf_get_arr(g, "t.arr_bool", HEARTH_GGUF_BOOL, &v, &err), HEARTH_OK);
    assert_int_equal(((const uint8_t *)v->v.arr.data)[0], 1);

    const hearth_gguf_kv *kv = hearth_gguf_kv_at(g, K_U16);
    assert_string_equal(kv->key.s, "t.u16");
    assert_null(hearth_gguf_kv_at(g, MINI_KV));
    assert_null(hearth_gguf_kv_at(g, -1));

    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "c");
    assert_non_null(t);
    assert_int_equal(t->type, HEARTH_TYPE_F16);
    assert_int_equal(t->n_dims, 4);
    assert_int_equal(t->size, 32);
    assert_ptr_equal(t->data, m.b.p + m.data_start + 128);
    t = hearth_gguf_find_tensor(g, "a");
    assert_int_equal(t->ne[0], 8);
    assert_int_equal(t->ne[1], 2);
    assert_int_equal(t->ne[2], 1);
    assert_int_equal(t->ne[3], 1);
    assert_int_equal(hearth_gguf_find_tensor(g, "b")->size, 34);
    assert_null(hearth_gguf_find_tensor(g, "d"));
    assert_null(hearth_gguf_tensor_at(g, 3));
    hearth_gguf_close(g);

    /* v2 has the same layout for little-endian files */
    blob_patch(&m.b, m.off_version, 2, 4);
    assert_int_equal(hearth_gguf_parse(m.b.p, m.b.len, "mini.gguf", &g, &err), HEARTH_OK);
    assert_int_equal(hearth_gguf_version(g), 2);
    hearth_gguf_close(g);
    blob_free(&m.b);
}

static void test_corpus(void **state)
{
    (void)state;
    size_t n = HEARTH_ARRAY_LEN(corpus);
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        mini m;
        mini_build(&m);
        size_t len = m.b.len;
        corpus[i].apply(&m, &len);
        print_message("corruption: %s\n", corpus[i].what);
        expect_fail(&m.b, len, corpus[i].expect);
        blob_free(&m.b);
    }
}

/* Empty tensors (some ne == 0) are accepted, as ggml accepts them; their size is 0. */
static void test_empty_tensor(void **state)
{
    (void)state;
    mini m;
    mini_build(&m);
    blob_patch(&m.b, m.off_ne[0] + 8, 0, 8);
    hearth_gguf *g;
    hearth_error err = {0};
    assert_int_equal(hearth_gguf_parse(m.b.p, m.b.len, "mini.gguf", &g, &err), HEARTH_OK);
    assert_int_equal(hearth_gguf_find_tensor(g, "a")->size, 0);
    hearth_gguf_close(g);
    blob_free(&m.b);
}

/* Every strict prefix of the file that cuts into required bytes fails cleanly. */
static void test_every_truncation(void **state)
{
    (void)state;
    mini m;
    mini_build(&m);
    for (size_t cut = 0; cut < m.end; cut++) {
        hearth_gguf *g = NULL;
        hearth_error err = {0};
        hearth_status st = parse_copy(m.b.p, cut, &g, &err);
        if (st != HEARTH_ERR_FORMAT) fail_msg("cut at %zu: status %d (%s)", cut, st, err.message);
        assert_int_equal(strncmp(err.message, "mini.gguf: ", 11), 0);
    }
    blob_free(&m.b);
}

/* ---- files built from scratch: one value of each type, cut short ------------------------ */

static void one_kv(blob *b, uint32_t type)
{
    blob_header(b, 3, 0, 1);
    blob_str(b, "test.key.long");
    blob_u32(b, type);
    switch (type) {
    case HEARTH_GGUF_STRING: blob_str(b, "hello"); break;
    case HEARTH_GGUF_ARRAY:
        blob_u32(b, HEARTH_GGUF_UINT32);
        blob_u64(b, 2);
        blob_u32(b, 7);
        blob_u32(b, 8);
        break;
    case HEARTH_GGUF_BOOL: blob_u8(b, 1); break;
    default:
        for (int i = 0; i < 8; i++) blob_u8(b, 1); /* the reader takes what it needs */
        break;
    }
}

static void test_each_type_truncated(void **state)
{
    (void)state;
    static const size_t width[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    for (uint32_t t = 0; t < HEARTH_GGUF_VTYPE_COUNT; t++) {
        blob b = {0};
        one_kv(&b, t);
        size_t full = 24 + 8 + 13 + 4 + (width[t] ? width[t] : 0);
        if (t == HEARTH_GGUF_STRING) full = b.len;
        if (t == HEARTH_GGUF_ARRAY) full = b.len;
        /* the complete value parses */
        hearth_gguf *g = NULL;
        hearth_error err = {0};
        assert_int_equal(parse_copy(b.p, full, &g, &err), HEARTH_OK);
        char want[160];
        if (t == HEARTH_GGUF_STRING)
            snprintf(want, sizeof want, "'test.key.long': string length: expected a length of at most 4");
        else if (t == HEARTH_GGUF_ARRAY)
            snprintf(want, sizeof want, "'test.key.long': array length: expected at most 1 u32 elements");
        else
            snprintf(want, sizeof want, "'test.key.long': %s: expected %zu bytes", hearth_gguf_vtype_name((hearth_gguf_vtype)t),
                     width[t]);
        print_message("type %s\n", hearth_gguf_vtype_name((hearth_gguf_vtype)t));
        expect_fail(&b, full - 1, want);
        blob_free(&b);
    }
}

static void nested_bomb(blob *b, int depth)
{
    blob_header(b, 3, 0, 1);
    blob_str(b, "bomb");
    blob_u32(b, HEARTH_GGUF_ARRAY);
    for (int i = 0; i < depth; i++) {
        blob_u32(b, HEARTH_GGUF_ARRAY);
        blob_u64(b, 1);
    }
    blob_u32(b, HEARTH_GGUF_UINT8);
    blob_u64(b, 0);
}

static void test_hostile_shapes(void **state)
{
    (void)state;
    blob b = {0};
    nested_bomb(&b, 7); /* 8 levels in all: the limit */
    hearth_gguf *g = NULL;
    hearth_error err = {0};
    assert_int_equal(parse_copy(b.p, b.len, &g, &err), HEARTH_OK);
    blob_free(&b);
    nested_bomb(&b, 8);
    expect_fail(&b, b.len, "'bomb': element 0: element 0: element 0: element 0: element 0: element 0: element 0: "
                           "element 0: array: expected nesting depth at most 8");
    blob_free(&b);
    nested_bomb(&b, 100000); /* would overflow a naive recursive reader's stack */
    expect_fail(&b, b.len, "expected nesting depth at most 8");
    blob_free(&b);

    /* a key longer than the GGUF limit of 65535 bytes */
    blob_header(&b, 3, 0, 1);
    char *key = malloc(70001);
    assert_non_null(key);
    memset(key, 'k', 70000);
    key[70000] = 0;
    blob_str(&b, key);
    free(key);
    blob_u32(&b, HEARTH_GGUF_UINT8);
    blob_u8(&b, 1);
    expect_fail(&b, b.len, "kv[0]: key: expected at most 65535 bytes, found 70000");
    blob_free(&b);

    /* a tensor name longer than ggml's 63 bytes */
    blob_header(&b, 3, 1, 0);
    blob_str(&b, "blk.0.a.very.long.tensor.name.that.goes.on.and.on.past.the.limit");
    blob_u32(&b, 1);
    blob_u64(&b, 4);
    blob_u32(&b, HEARTH_TYPE_F32);
    blob_u64(&b, 0);
    blob_pad(&b, 32);
    blob_u64(&b, 0);
    blob_u64(&b, 0);
    expect_fail(&b, b.len, "tensor[0]: name: expected at most 63 bytes, found 64");
    blob_free(&b);

    /* a cut inside a tensor info that the count check cannot see coming */
    blob_header(&b, 3, 1, 0);
    blob_str(&b, "a.twenty.byte.name.x");
    blob_u32(&b, 4);
    for (int d = 0; d < 4; d++) blob_u64(&b, 1);
    expect_fail(&b, b.len - 3, "tensor[0] 'a.twenty.byte.name.x': ne[3]: expected 8 bytes at offset 80, found 5 (file truncated)");
    blob_free(&b);

    /* many empty arrays: bounded by the bytes each needs, not by the claimed count */
    blob_header(&b, 3, 0, 1);
    blob_str(&b, "many");
    blob_u32(&b, HEARTH_GGUF_ARRAY);
    blob_u32(&b, HEARTH_GGUF_ARRAY);
    blob_u64(&b, 1000);
    for (int i = 0; i < 999; i++) {
        blob_u32(&b, HEARTH_GGUF_INT8);
        blob_u64(&b, 0);
    }
    expect_fail(&b, b.len, "'many': array length: expected at most 999 array elements");
    blob_u32(&b, HEARTH_GGUF_INT8);
    blob_u64(&b, 0);
    assert_int_equal(parse_copy(b.p, b.len, &g, &err), HEARTH_OK);
    blob_free(&b);

    /* a vocab-only file may end right after its metadata (no data section at all) */
    blob_header(&b, 3, 0, 1);
    blob_str(&b, "general.architecture");
    blob_u32(&b, HEARTH_GGUF_STRING);
    blob_str(&b, "x");
    assert_int_equal(parse_copy(b.p, b.len, &g, &err), HEARTH_OK);
    blob_free(&b);
}

/* ---- random damage: parse or fail, never crash ------------------------------------------ */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Flips bits in buf[lo, hi) and parses; restores the bytes after each round. */
static void damage_rounds(uint8_t *buf, size_t len, size_t lo, size_t hi, int rounds, int *parsed)
{
    hearth_error err = {0};
    for (int r = 0; r < rounds; r++) {
        int flips = 1 + (int)(rng() % 4);
        size_t at[4];
        uint8_t old[4];
        for (int f = 0; f < flips; f++) {
            at[f] = lo + (size_t)(rng() % (hi - lo));
            old[f] = buf[at[f]];
            buf[at[f]] ^= (uint8_t)(1u << (rng() % 8));
            if (rng() % 4 == 0) buf[at[f]] = (uint8_t)rng(); /* sometimes a whole random byte */
        }
        hearth_gguf *g = NULL;
        hearth_status st = hearth_gguf_parse(buf, len, "fuzz.gguf", &g, &err);
        if (st == HEARTH_OK) {
            (*parsed)++;
            for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
                const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
                assert_true(t->size == 0 || ((const uint8_t *)t->data >= buf &&
                                             (const uint8_t *)t->data + t->size <= buf + len));
            }
            hearth_gguf_close(g);
        } else {
            assert_true(st == HEARTH_ERR_FORMAT || st == HEARTH_ERR_UNSUPPORTED);
            assert_int_equal(strncmp(err.message, "fuzz.gguf: ", 11), 0);
        }
        for (int f = flips - 1; f >= 0; f--) buf[at[f]] = old[f];
    }
}

static void test_random_damage(void **state)
{
    (void)state;
    int parsed = 0;
    /* the mini file: flips anywhere in it, and random truncations of damaged copies */
    mini m;
    mini_build(&m);
    uint8_t *buf = malloc(m.b.len);
    assert_non_null(buf);
    memcpy(buf, m.b.p, m.b.len);
    damage_rounds(buf, m.b.len, 0, m.b.len, 3000, &parsed);
    hearth_error err = {0};
    for (int r = 0; r < 1000; r++) {
        size_t cut = (size_t)(rng() % m.b.len);
        uint8_t *c = malloc(cut ? cut : 1);
        assert_non_null(c);
        memcpy(c, m.b.p, cut);
        if (cut) c[rng() % cut] ^= (uint8_t)(1u << (rng() % 8));
        hearth_gguf *g = NULL;
        if (hearth_gguf_parse(c, cut, "fuzz.gguf", &g, &err) == HEARTH_OK) hearth_gguf_close(g);
        free(c);
    }
    free(buf);
    blob_free(&m.b);

    /* a real model: flips in its metadata and tensor infos (the data section is opaque) */
    const char *path = fixture_path("models/qwen3-bf16.gguf");
    char *file;
    size_t len;
    if (hearth_read_file(path, 64u << 20, &file, &len, &err) != HEARTH_OK) fail_msg("%s", err.message);
    hearth_gguf *g;
    assert_int_equal(hearth_gguf_parse(file, len, path, &g, &err), HEARTH_OK);
    size_t hot = hearth_gguf_data_offset(g);
    /* the tensor infos start with the first name's length; most flips elsewhere land in
     * the vocabulary, so the infos get rounds of their own */
    const hearth_gguf_tensor *t0 = hearth_gguf_tensor_at(g, 0);
    const char *first = memmem(file, hot, t0->name.s, (size_t)t0->name.len);
    assert_non_null(first);
    size_t infos = (size_t)(first - file) - 8, need = 0; /* need: the end of the last tensor's bytes */
    for (int64_t i = 0; i < hearth_gguf_n_tensors(g); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        need = HEARTH_MAX(need, hot + (size_t)t->offset + t->size);
    }
    hearth_gguf_close(g);
    damage_rounds((uint8_t *)file, len, 0, hot, 2000, &parsed);
    damage_rounds((uint8_t *)file, len, infos, hot, 2000, &parsed);
    /* truncated copies of exactly their length, most cut inside the metadata */
    for (int r = 0; r < 300; r++) {
        size_t cut = (size_t)(rng() % (r % 3 ? hot : need));
        hearth_gguf *t = NULL;
        hearth_status st = parse_copy((const uint8_t *)file, cut, &t, &err);
        if (st != HEARTH_ERR_FORMAT) fail_msg("cut at %zu of %zu: status %d (%s)", cut, len, st, err.message);
    }
    free(file);
    print_message("random damage: %d of the damaged files still parsed\n", parsed);
}

/* ---- fixtures -------------------------------------------------------------------------- */

static int parse_dir(const char *rel)
{
    DIR *d = opendir(fixture_path(rel));
    if (!d) fail_msg("cannot open fixture dir %s", fixture_path(rel));
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 5, ".gguf") != 0) continue;
        char rel_file[512];
        snprintf(rel_file, sizeof rel_file, "%s/%s", rel, e->d_name);
        hearth_gguf *g;
        hearth_error err = {0};
        if (hearth_gguf_open(fixture_path(rel_file), &g, &err) != HEARTH_OK) fail_msg("%s", err.message);
        const char *arch;
        assert_int_equal(hearth_gguf_get_str(g, "general.architecture", &arch, &err), HEARTH_OK);
        const hearth_gguf_value *tokens;
        assert_int_equal(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &tokens, &err), HEARTH_OK);
        assert_true(tokens->v.arr.n > 0);
        hearth_gguf_close(g);
        n++;
    }
    closedir(d);
    return n;
}

static void test_fixtures_parse(void **state)
{
    (void)state;
    assert_int_equal(parse_dir("models"), 20);
    assert_int_equal(parse_dir("vocab"), 5);
    assert_int_equal(parse_dir("real/stories260K"), 1);
}

static void test_fixture_contents(void **state)
{
    (void)state;
    hearth_gguf *g;
    hearth_error err = {0};
    const char *path = fixture_path("models/qwen3-f32.gguf");
    assert_int_equal(hearth_gguf_open(path, &g, &err), HEARTH_OK);
    uint32_t v;
    assert_int_equal(hearth_gguf_get_u32(g, "qwen3.block_count", &v, &err), HEARTH_OK);
    assert_int_equal(v, 2);
    assert_int_equal(hearth_gguf_get_u32(g, "qwen3.attention.key_length", &v, &err), HEARTH_OK);
    assert_int_equal(v, 64);
    float f;
    assert_int_equal(hearth_gguf_get_f32(g, "qwen3.rope.freq_base", &f, &err), HEARTH_OK);
    assert_true(f == 1000000.0f);
    const hearth_gguf_value *tok;
    assert_int_equal(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &tok, &err), HEARTH_OK);
    assert_int_equal(tok->v.arr.n, 700);
    assert_string_equal(tok->v.arr.strs[1].s, "<s>");
    assert_string_equal(tok->v.arr.strs[3].s, "<0x00>");
    assert_int_equal(hearth_gguf_n_tensors(g), 24);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(g, "blk.1.attn_q.weight");
    assert_non_null(t);
    assert_int_equal(t->type, HEARTH_TYPE_F32);
    assert_int_equal(t->ne[0], 128);
    assert_int_equal(t->ne[1], 256);
    assert_int_equal(t->size, 128 * 256 * 4);
    assert_null(hearth_gguf_find_tensor(g, "output.weight")); /* tied */

    /* the mapped bytes are the file's bytes at data_offset + offset */
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    float first[4];
    assert_int_equal(fseek(fp, (long)(hearth_gguf_data_offset(g) + t->offset), SEEK_SET), 0);
    assert_int_equal(fread(first, sizeof first, 1, fp), 1);
    fclose(fp);
    assert_memory_equal(first, t->data, sizeof first);
    hearth_gguf_close(g);

    /* real vocab: 151936 tokens */
    assert_int_equal(hearth_gguf_open(fixture_path("vocab/qwen3.gguf"), &g, &err), HEARTH_OK);
    assert_int_equal(hearth_gguf_get_arr(g, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &tok, &err), HEARTH_OK);
    assert_true(tok->v.arr.n > 150000);
    hearth_gguf_close(g);

    /* a missing file and a directory are I/O errors */
    assert_int_equal(hearth_gguf_open("/nonexistent/x.gguf", &g, &err), HEARTH_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent/x.gguf"));
    assert_int_equal(hearth_gguf_open("/", &g, &err), HEARTH_ERR_IO);
    assert_int_equal(hearth_gguf_open_read("/nonexistent/x.gguf", &g, &err), HEARTH_ERR_IO);
    assert_int_equal(hearth_gguf_open_read("/", &g, &err), HEARTH_ERR_IO);
}

/* Read into memory instead of mapped: the same metadata and the same bytes of every tensor. */
static void test_open_read_equals_mapped(void **state)
{
    (void)state;
    const char *files[] = {"models/qwen3-q4_k.gguf", "models/llama-q4_0-gqa.gguf", "vocab/llama3.gguf"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        hearth_gguf *a, *b;
        hearth_error err;
        if (hearth_gguf_open(fixture_path(files[f]), &a, &err) != HEARTH_OK) fail_msg("%s", err.message);
        if (hearth_gguf_open_read(fixture_path(files[f]), &b, &err) != HEARTH_OK) fail_msg("%s", err.message);
        assert_int_equal(hearth_gguf_n_kv(a), hearth_gguf_n_kv(b));
        assert_int_equal(hearth_gguf_n_tensors(a), hearth_gguf_n_tensors(b));
        for (int64_t i = 0; i < hearth_gguf_n_tensors(a); i++) {
            const hearth_gguf_tensor *ta = hearth_gguf_tensor_at(a, i), *tb = hearth_gguf_tensor_at(b, i);
            assert_int_equal(ta->name.len, tb->name.len);
            assert_memory_equal(ta->name.s, tb->name.s, ta->name.len);
            assert_int_equal(ta->size, tb->size);
            assert_ptr_not_equal(ta->data, tb->data);
            assert_memory_equal(ta->data, tb->data, ta->size);
        }
        hearth_gguf_close(a);
        hearth_gguf_close(b);
    }
}

/* hearth_mmap_open on a file big enough for 2 MB pages, plain and then for_compute: the
 * mapping is 2 MB aligned (so the kernel can map whole 2 MB folios), every byte reads back
 * after the page cache was steered to 2 MB folios, and the file itself is untouched; a
 * 3-page file and an odd size too. */
static void test_mmap_large_file(void **state)
{
    (void)state;
    char path[] = "/tmp/hearth-test-mmap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const size_t sizes[] = {40u << 20, 3 * 4096, (33u << 20) + 123};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t size = sizes[s];
        uint32_t *pattern = malloc(size + 4);
        assert_non_null(pattern);
        for (size_t i = 0; i < size / 4 + 1; i++) pattern[i] = (uint32_t)(i * 2654435761u);
        assert_int_equal(ftruncate(fd, 0), 0);
        assert_int_equal(pwrite(fd, pattern, size, 0), (ssize_t)size);
        assert_int_equal(fsync(fd), 0);
        for (int round = 0; round < 2; round++) {
            hearth_mmap map;
            hearth_error err;
            if (hearth_mmap_open(path, round == 1, &map, &err) != HEARTH_OK) fail_msg("%s", err.message);
            assert_int_equal(map.size, size);
            if (size >= (2u << 20)) assert_int_equal((uintptr_t)map.data & ((2u << 20) - 1), 0);
            assert_memory_equal(map.data, pattern, size);
            hearth_mmap_close(&map);
        }
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, (off_t)size);
        free(pattern);
    }
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mini_valid),
        cmocka_unit_test(test_corpus),
        cmocka_unit_test(test_empty_tensor),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_each_type_truncated),
        cmocka_unit_test(test_hostile_shapes),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_fixtures_parse),
        cmocka_unit_test(test_fixture_contents),
        cmocka_unit_test(test_open_read_equals_mapped),
        cmocka_unit_test(test_mmap_large_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
