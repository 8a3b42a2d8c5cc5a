/* test_gguf_write.c — the GGUF writer: round trips through the reader, byte-identical
 * rewrites of llama.cpp-written fixtures, streaming in odd pieces, and misuse errors. */
#include "testutil.h"

#include <dirent.h>
#include <unistd.h>

#include "gguf/gguf.h"

static hearth_error err;

#define OK(call)                                                                                   \
    do {                                                                                           \
        if ((call) != HEARTH_OK) fail_msg("%s: %s", #call, err.message);                           \
    } while (0)

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hearth-test-gguf-write-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)))
            if (e->d_name[0] != '.') {
                snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

static const char *tmp_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

/* A writer holding every kind of value and a few tensors; data[i] gets tensor i's bytes. */
static hearth_gguf_writer *sample(void *data[4])
{
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    assert_non_null(w);
    OK(hearth_gguf_set_str(w, "general.architecture", "llama", &err));
    OK(hearth_gguf_set_u32(w, "k.u32", 4000000000u, &err));
    OK(hearth_gguf_set_i32(w, "k.i32", -7, &err));
    OK(hearth_gguf_set_u64(w, "k.u64", 1ull << 50, &err));
    OK(hearth_gguf_set_f32(w, "k.f32", 0.25f, &err));
    OK(hearth_gguf_set_bool(w, "k.bool", true, &err));
    const float scores[] = {0.5f, -1.0f, 3.0f};
    OK(hearth_gguf_set_arr(w, "k.scores", HEARTH_GGUF_FLOAT32, scores, 3, &err));
    const uint8_t bools[] = {0, 1, 1};
    OK(hearth_gguf_set_arr(w, "k.bools", HEARTH_GGUF_BOOL, bools, 3, &err));
    const int16_t i16[] = {-1, 2};
    OK(hearth_gguf_set_arr(w, "k.i16", HEARTH_GGUF_INT16, i16, 2, &err));
    const char *strs[] = {"<unk>", "", "h\xc3\xa9llo"};
    OK(hearth_gguf_set_arr_str(w, "k.strs", strs, 3, &err));
    OK(hearth_gguf_set_arr(w, "k.empty", HEARTH_GGUF_UINT64, NULL, 0, &err));
    /* nested array: [[1,2],[3]] of u8 */
    const uint8_t a0[] = {1, 2}, a1[] = {3};
    hearth_gguf_value items[2] = {
        {.type = HEARTH_GGUF_ARRAY, .v.arr = {.type = HEARTH_GGUF_UINT8, .n = 2, .data = a0}},
        {.type = HEARTH_GGUF_ARRAY, .v.arr = {.type = HEARTH_GGUF_UINT8, .n = 1, .data = a1}},
    };
    hearth_gguf_value nested = {.type = HEARTH_GGUF_ARRAY, .v.arr = {.type = HEARTH_GGUF_ARRAY, .n = 2, .items = items}};
    OK(hearth_gguf_set_value(w, "k.nested", &nested, &err));
    hearth_gguf_value f64 = {.type = HEARTH_GGUF_FLOAT64, .v.f64 = 1e300};
    OK(hearth_gguf_set_value(w, "k.f64", &f64, &err));
    hearth_gguf_value i8 = {.type = HEARTH_GGUF_INT8, .v.i64 = -128};
    OK(hearth_gguf_set_value(w, "k.i8", &i8, &err));

    const int64_t ne_a[] = {64, 3}, ne_b[] = {32, 1, 1, 1}, ne_c[] = {8, 0}, ne_d[] = {4, 1, 2};
    OK(hearth_gguf_add_tensor(w, "a", HEARTH_TYPE_Q8_0, 2, ne_a, &err)); /* 6 blocks: 204 bytes */
    OK(hearth_gguf_add_tensor(w, "b", HEARTH_TYPE_F32, 4, ne_b, &err));  /* written with n_dims 1 */
    OK(hearth_gguf_add_tensor(w, "c", HEARTH_TYPE_F16, 2, ne_c, &err));  /* empty */
    OK(hearth_gguf_add_tensor(w, "d", HEARTH_TYPE_BF16, 3, ne_d, &err)); /* 16 bytes */
    const size_t sizes[] = {204, 128, 0, 16};
    for (int i = 0; i < 4; i++) {
        data[i] = malloc(sizes[i] ? sizes[i] : 1);
        assert_non_null(data[i]);
        for (size_t j = 0; j < sizes[i]; j++) ((uint8_t *)data[i])[j] = (uint8_t)(j * 7 + (size_t)i);
    }
    return w;
}

static void check_sample(const hearth_gguf *g, void *data[4])
{
    assert_int_equal(hearth_gguf_version(g), 3);
    assert_int_equal(hearth_gguf_n_kv(g), 14);
    assert_string_equal(hearth_gguf_kv_at(g, 0)->key.s, "general.architecture"); /* order kept */
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    float f;
    bool b;
    OK(hearth_gguf_get_u32(g, "k.u32", &u32, &err));
    assert_int_equal(u32, 4000000000u);
    OK(hearth_gguf_get_i32(g, "k.i32", &i32, &err));
    assert_int_equal(i32, -7);
    OK(hearth_gguf_get_u64(g, "k.u64", &u64, &err));
    assert_int_equal(u64, 1ull << 50);
    OK(hearth_gguf_get_f32(g, "k.f32", &f, &err));
    assert_true(f == 0.25f);
    OK(hearth_gguf_get_bool(g, "k.bool", &b, &err));
    assert_true(b);
    assert_true(hearth_gguf_get(g, "k.f64")->v.f64 == 1e300);
    assert_int_equal(hearth_gguf_get(g, "k.i8")->type, HEARTH_GGUF_INT8);
    assert_int_equal(hearth_gguf_get(g, "k.i8")->v.i64, -128);
    const hearth_gguf_value *v;
    OK(hearth_gguf_get_arr(g, "k.scores", HEARTH_GGUF_FLOAT32, &v, &err));
    assert_true(((const float *)v->v.arr.data)[1] == -1.0f);
    OK(hearth_gguf_get_arr(g, "k.bools", HEARTH_GGUF_BOOL, &v, &err));
    assert_int_equal(((const uint8_t *)v->v.arr.data)[2], 1);
    OK(hearth_gguf_get_arr(g, "k.i16", HEARTH_GGUF_INT16, &v, &err));
    assert_int_equal(((const int16_t *)v->v.arr.data)[0], -1);
    OK(hearth_gguf_get_arr(g, "k.strs", HEARTH_GGUF_STRING, &v, &err));
    assert_string_equal(v->v.arr.strs[2].s, "h\xc3\xa9llo");
    assert_int_equal(v->v.arr.strs[1].len, 0);
    OK(hearth_gguf_get_arr(g, "k.empty", HEARTH_GGUF_UINT64, &v, &err));
    assert_int_equal(v->v.arr.n, 0);
    OK(hearth_gguf_get_arr(g, "k.nested", HEARTH_GGUF_ARRAY, &v, &err));
    assert_int_equal(v->v.arr.items[0].v.arr.n, 2);
    assert_int_equal(((const uint8_t *)v->v.arr.items[1].v.arr.data)[0], 3);

    assert_int_equal(hearth_gguf_n_tensors(g), 4);
    const char *names[] = {"a", "b", "c", "d"};
    const size_t sizes[] = {204, 128, 0, 16};
    const uint32_t dims[] = {2, 1, 2, 3};
    const uint64_t offsets[] = {0, 224, 352, 352}; /* padded running sums, like ggml */
    for (int i = 0; i < 4; i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        assert_string_equal(t->name.s, names[i]);
        assert_int_equal(t->size, sizes[i]);
        assert_int_equal(t->n_dims, dims[i]);
        assert_int_equal(t->offset, offsets[i]);
        if (sizes[i]) assert_memory_equal(t->data, data[i], sizes[i]);
    }
    /* the file ends with the last tensor's padding */
    assert_int_equal(hearth_gguf_file_size(g), hearth_gguf_data_offset(g) + 384);
}

static void test_round_trip(void **state)
{
    (void)state;
    void *data[4];
    hearth_gguf_writer *w = sample(data);
    void *buf;
    size_t len;
    OK(hearth_gguf_writer_to_buffer(w, (const void *const *)data, &buf, &len, &err));
    hearth_gguf_writer_free(w);
    hearth_gguf *g;
    OK(hearth_gguf_parse(buf, len, "buffer", &g, &err));
    check_sample(g, data);
    hearth_gguf_close(g);

    /* the streamed file, fed in odd pieces, has the same bytes */
    for (int i = 0; i < 4; i++) free(data[i]);
    w = sample(data);
    const char *path = tmp_path("stream.gguf");
    OK(hearth_gguf_writer_begin(w, path, &err));
    assert_int_equal(access(path, F_OK), -1); /* nothing at the path until finish */
    const size_t sizes[] = {204, 128, 0, 16};
    for (int i = 0; i < 4; i++)
        for (size_t at = 0; at < sizes[i]; at += 13)
            OK(hearth_gguf_writer_write(w, (uint8_t *)data[i] + at, HEARTH_MIN((size_t)13, sizes[i] - at), &err));
    OK(hearth_gguf_writer_finish(w, &err));
    hearth_gguf_writer_free(w);
    char *file;
    size_t flen;
    OK(hearth_read_file(path, 1 << 20, &file, &flen, &err));
    assert_int_equal(flen, len);
    assert_memory_equal(file, buf, len);
    free(file);
    OK(hearth_gguf_open(path, &g, &err));
    check_sample(g, data);
    hearth_gguf_close(g);
    free(buf);
    for (int i = 0; i < 4; i++) free(data[i]);
}

/* Rewriting a file llama.cpp's writer produced gives the same bytes: same layout rules. */
static void rewrite_identical(const char *rel)
{
    hearth_gguf *g;
    OK(hearth_gguf_open(fixture_path(rel), &g, &err));
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    for (int64_t i = 0; i < hearth_gguf_n_kv(g); i++) {
        const hearth_gguf_kv *kv = hearth_gguf_kv_at(g, i);
        OK(hearth_gguf_set_value(w, kv->key.s, &kv->value, &err));
    }
    int64_t n = hearth_gguf_n_tensors(g);
    const void **data = calloc((size_t)(n ? n : 1), sizeof *data);
    assert_non_null(data);
    for (int64_t i = 0; i < n; i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(g, i);
        OK(hearth_gguf_add_tensor(w, t->name.s, t->type, t->n_dims, t->ne, &err));
        data[i] = t->data;
    }
    void *buf;
    size_t len;
    OK(hearth_gguf_writer_to_buffer(w, data, &buf, &len, &err));
    char *orig;
    size_t olen;
    OK(hearth_read_file(fixture_path(rel), 64u << 20, &orig, &olen, &err));
    if (len != olen) fail_msg("%s: rewritten %zu bytes, original %zu", rel, len, olen);
    assert_memory_equal(buf, orig, len);
    free(orig);
    free(buf);
    free(data);
    hearth_gguf_writer_free(w);
    hearth_gguf_close(g);
}

static void test_rewrite_fixtures(void **state)
{
    (void)state;
    const char *files[] = {"models/qwen3-q4_k.gguf", "models/phi3-q4_0.gguf", "models/bert-f16.gguf",
                           "models/qwen2-q5_k.gguf", "models/llama-q4_0-gqa.gguf", "vocab/mistral.gguf",
                           "real/stories260K/stories260K.gguf"};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(files); i++) rewrite_identical(files[i]);
}

static void expect(hearth_status got, hearth_status want, const char *substring)
{
    if (got != want) fail_msg("status %d, expected %d (%s)", got, want, err.message);
    if (!strstr(err.message, substring)) fail_msg("expected '%s' in: %s", substring, err.message);
}

static void test_misuse(void **state)
{
    (void)state;
    hearth_gguf_writer *w = hearth_gguf_writer_new();
    OK(hearth_gguf_set_u32(w, "a.b", 1, &err));
    expect(hearth_gguf_set_u32(w, "a.b", 2, &err), HEARTH_ERR_INVALID_ARG, "a.b: expected a new key");
    expect(hearth_gguf_set_u32(w, "", 2, &err), HEARTH_ERR_INVALID_ARG, "expected a non-empty name");
    expect(hearth_gguf_set_u32(w, "general.alignment", 24, &err), HEARTH_ERR_INVALID_ARG, "power of two");
    expect(hearth_gguf_set_i32(w, "general.alignment", 64, &err), HEARTH_ERR_INVALID_ARG, "power of two");
    const uint8_t bad_bool[] = {0, 2};
    expect(hearth_gguf_set_arr(w, "x.bools", HEARTH_GGUF_BOOL, bad_bool, 2, &err), HEARTH_ERR_INVALID_ARG,
           "element 1: bool: expected 0 or 1, found 2");
    expect(hearth_gguf_set_arr(w, "x.arr", HEARTH_GGUF_STRING, NULL, 0, &err), HEARTH_ERR_INVALID_ARG,
           "expected a scalar element type");
    const int64_t ne[] = {33, 2}, ok_ne[] = {32, 2};
    expect(hearth_gguf_add_tensor(w, "t", HEARTH_TYPE_Q4_0, 2, ne, &err), HEARTH_ERR_INVALID_ARG,
           "not a multiple of Q4_0's block size 32");
    expect(hearth_gguf_add_tensor(w, "t", (hearth_type)4, 2, ok_ne, &err), HEARTH_ERR_INVALID_ARG, "unknown tensor type 4");
    expect(hearth_gguf_add_tensor(w, "t", HEARTH_TYPE_F32, 0, ok_ne, &err), HEARTH_ERR_INVALID_ARG, "expected 1..4 dims");
    expect(hearth_gguf_add_tensor(w, "a.name.longer.than.sixty.three.bytes.is.refused.by.ggml.so.we.refuse", HEARTH_TYPE_F32, 2,
                                  ok_ne, &err),
           HEARTH_ERR_INVALID_ARG, "expected at most 63 bytes");
    OK(hearth_gguf_add_tensor(w, "t", HEARTH_TYPE_F32, 2, ok_ne, &err));
    expect(hearth_gguf_add_tensor(w, "t", HEARTH_TYPE_F32, 2, ok_ne, &err), HEARTH_ERR_INVALID_ARG, "t: expected a new tensor name");
    OK(hearth_gguf_set_u32(w, "general.alignment", 64, &err));
    assert_int_equal(hearth_gguf_writer_data_size(w), 256);

    /* finishing early leaves nothing behind */
    const char *path = tmp_path("early.gguf");
    OK(hearth_gguf_writer_begin(w, path, &err));
    expect(hearth_gguf_set_u32(w, "late.key", 1, &err), HEARTH_ERR_INVALID_ARG, "already being written");
    float row[32] = {0};
    OK(hearth_gguf_writer_write(w, row, sizeof row, &err));
    expect(hearth_gguf_writer_finish(w, &err), HEARTH_ERR_INVALID_ARG, "tensor 't' and 0 after it have no data yet");
    assert_int_equal(access(path, F_OK), -1);
    hearth_gguf_writer_free(w);

    /* too much data */
    w = hearth_gguf_writer_new();
    OK(hearth_gguf_add_tensor(w, "t", HEARTH_TYPE_F32, 2, ok_ne, &err));
    OK(hearth_gguf_writer_begin(w, path, &err));
    float big[65] = {0};
    expect(hearth_gguf_writer_write(w, big, sizeof big, &err), HEARTH_ERR_INVALID_ARG, "4 bytes more than the tensors need");
    hearth_gguf_writer_free(w);
    assert_int_equal(access(path, F_OK), -1);

    /* alignment 64 is honoured and recorded */
    w = hearth_gguf_writer_new();
    OK(hearth_gguf_set_u32(w, "general.alignment", 64, &err));
    OK(hearth_gguf_add_tensor(w, "t", HEARTH_TYPE_F32, 1, ok_ne, &err));
    OK(hearth_gguf_add_tensor(w, "u", HEARTH_TYPE_F32, 1, ok_ne, &err));
    const void *d[] = {big, big};
    void *buf;
    size_t len;
    OK(hearth_gguf_writer_to_buffer(w, d, &buf, &len, &err));
    hearth_gguf *g;
    OK(hearth_gguf_parse(buf, len, "buf", &g, &err));
    assert_int_equal(hearth_gguf_alignment(g), 64);
    assert_int_equal(hearth_gguf_data_offset(g) % 64, 0);
    assert_int_equal(hearth_gguf_find_tensor(g, "u")->offset, 128);
    hearth_gguf_close(g);
    free(buf);
    expect(hearth_gguf_writer_to_buffer(w, d, &buf, &len, &err), HEARTH_ERR_INVALID_ARG, "already written");
    hearth_gguf_writer_free(w);

    /* an unwritable place is an I/O error naming it */
    w = hearth_gguf_writer_new();
    expect(hearth_gguf_writer_begin(w, "/nonexistent-dir/x.gguf", &err), HEARTH_ERR_IO, "/nonexistent-dir/x.gguf");
    hearth_gguf_writer_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_rewrite_fixtures),
        cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
