/* test_gguf.c — the GGUF reader: every fixture parses; typed getters; a corpus of malformed
 * files, each with its specific message; random bit flips and truncations never crash. */
#include "testutil.h"

#include <dirent.h>

#include "gguf/gguf.h"
#include "gguf_blob.h"

/* ---- a small valid file with every value type, built with recorded field offsets --------- */

enum { MINI_KV = 18, MINI_T = 3 };

typedef struct mini {
    blob b;
    size_t off_version, off_n_tensors, off_n_kv;
    size_t off_key[MINI_KV];   /* key length field */
    size_t off_vtype[MINI_KV]; /* value type field */
    size_t off_value[MINI_KV]; /* value (first byte after the type) */
    size_t off_tname[MINI_T];  /* name length field */
    size_t off_ndims[MINI_T], off_ne[MINI_T], off_ttype[MINI_T], off_toff[MINI_T];
    size_t data_start, end; /* end: last byte of tensor data (no trailing padding) */
} mini;

static void kv_begin(mini *m, int i, const char *key, uint32_t type)
{
    m->off_key[i] = m->b.len;
    blob_str(&m->b, key);
    m->off_vtype[i] = m->b.len;
    blob_u32(&m->b, type);
    m->off_value[i] = m->b.len;
}

static void tensor_info(mini *m, int i, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type,
                        uint64_t offset)
{
    m->off_tname[i] = m->b.len;
    blob_str(&m->b, name);
    m->off_ndims[i] = m->b.len;
    blob_u32(&m->b, n_dims);
    m->off_ne[i] = m->b.len;
    for (uint32_t d = 0; d < n_dims; d++) blob_u64(&m->b, (uint64_t)ne[d]);
    m->off_ttype[i] = m->b.len;
    blob_u32(&m->b, type);
    m->off_toff[i] = m->b.len;
    blob_u64(&m->b, offset);
}

/* kv index of each value in the mini file */
enum {
    K_ARCH, K_ALIGN, K_U8, K_I8, K_U16, K_I16, K_U32, K_I32, K_F32, K_BOOL, K_U64, K_I64, K_F64,
    K_ARR_I32, K_ARR_STR, K_NESTED, K_ARR_BOOL, K_STR
};

static void mini_build(mini *m)
{
    memset(m, 0, sizeof *m);
    blob *b = &m->b;
    blob_put(b, "GGUF", 4);
    m->off_version = b->len;
    blob_u32(b, 3);
    m->off_n_tensors = b->len;
    blob_u64(b, MINI_T);
    m->off_n_kv = b->len;
    blob_u64(b, MINI_KV);
    kv_begin(m, K_ARCH, "general.architecture", HEARTH_GGUF_STRING);
    blob_str(b, "llama");
    kv_begin(m, K_ALIGN, "general.alignment", HEARTH_GGUF_UINT32);
    blob_u32(b, 32);
    kv_begin(m, K_U8, "t.u8", HEARTH_GGUF_UINT8);
    blob_u8(b, 200);
    kv_begin(m, K_I8, "t.i8", HEARTH_GGUF_INT8);
    blob_u8(b, (uint8_t)-5);
    kv_begin(m, K_U16, "t.u16", HEARTH_GGUF_UINT16);
    blob_le(b, 60000, 2);
    kv_begin(m, K_I16, "t.i16", HEARTH_GGUF_INT16);
    blob_le(b, (uint16_t)-30000, 2);
    kv_begin(m, K_U32, "t.u32", HEARTH_GGUF_UINT32);
    blob_u32(b, 4000000000u);
    kv_begin(m, K_I32, "t.i32", HEARTH_GGUF_INT32);
    blob_u32(b, (uint32_t)-2000000000);
    kv_begin(m, K_F32, "t.f32", HEARTH_GGUF_FLOAT32);
    blob_u32(b, 0x3fc00000u); /* 1.5 */
    kv_begin(m, K_BOOL, "t.bool", HEARTH_GGUF_BOOL);
    blob_u8(b, 1);
    kv_begin(m, K_U64, "t.u64", HEARTH_GGUF_UINT64);
    blob_u64(b, 1ull << 40);
    kv_begin(m, K_I64, "t.i64", HEARTH_GGUF_INT64);
    blob_u64(b, (uint64_t)-(1ll << 40));
    kv_begin(m, K_F64, "t.f64", HEARTH_GGUF_FLOAT64);
    blob_u64(b, 0x4002000000000000ull); /* 2.25 */
    kv_begin(m, K_ARR_I32, "t.arr_i32", HEARTH_GGUF_ARRAY);
    blob_u32(b, HEARTH_GGUF_INT32);
    blob_u64(b, 3);
    blob_u32(b, 1);
    blob_u32(b, (uint32_t)-2);
    blob_u32(b, 3);
    kv_begin(m, K_ARR_STR, "t.arr_str", HEARTH_GGUF_ARRAY);
    blob_u32(b, HEARTH_GGUF_STRING);
    blob_u64(b, 3);
    blob_str(b, "a");
    blob_str(b, "bc");
    blob_str(b, "");
    kv_begin(m, K_NESTED, "t.nested", HEARTH_GGUF_ARRAY);
    blob_u32(b, HEARTH_GGUF_ARRAY); /* [[u16 1, 2], [u16 3]] */
    blob_u64(b, 2);
    blob_u32(b, HEARTH_GGUF_UINT16);
    blob_u64(b, 2);
    blob_le(b, 1, 2);
    blob_le(b, 2, 2);
    blob_u32(b, HEARTH_GGUF_UINT16);
    blob_u64(b, 1);
    blob_le(b, 3, 2);
    kv_begin(m, K_ARR_BOOL, "t.arr_bool", HEARTH_GGUF_ARRAY);
    blob_u32(b, HEARTH_GGUF_BOOL);
    blob_u64(b, 2);
    blob_u8(b, 1);
    blob_u8(b, 0);
    kv_begin(m, K_STR, "t.str", HEARTH_GGUF_STRING);
    blob_str(b, "hello");

    const int64_t ne_a[] = {8, 2}, ne_b[] = {32}, ne_c[] = {2, 2, 2, 2};
    tensor_info(m, 0, "a", 2, ne_a, HEARTH_TYPE_F32, 0);  /* 64 bytes at 0    */
    tensor_info(m, 1, "b", 1, ne_b, HEARTH_TYPE_Q8_0, 64); /* 34 bytes at 64   */
    tensor_info(m, 2, "c", 4, ne_c, HEARTH_TYPE_F16, 128); /* 32 bytes at 128  */
    blob_pad(b, 32);
    m->data_start = b->len;
    for (int i = 0; i < 160; i++) blob_u8(b, (uint8_t)i);
    m->end = b->len;
}

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

/* ---- the malformed corpus: one change to the valid mini file per case ------------------- */

typedef struct corruption {
    const char *what;
    void (*apply)(mini *m, size_t *len); /* patches m->b in place; may shorten *len */
    const char *expect;
} corruption;

#define PATCH(name, stmt)                                                                          \
    static void name(mini *m, size_t *len)                                                         \
    {                                                                                              \
        (void)len;                                                                                 \
        stmt;                                                                                      \
    }

PATCH(bad_magic, m->b.p[0] = 'X')
PATCH(version0, blob_patch(&m->b, m->off_version, 0, 4))
PATCH(version1, blob_patch(&m->b, m->off_version, 1, 4))
PATCH(version4, blob_patch(&m->b, m->off_version, 4, 4))
PATCH(version_be, blob_patch(&m->b, m->off_version, 0x03000000, 4))
PATCH(ntensors_huge, blob_patch(&m->b, m->off_n_tensors, 1ull << 40, 8))
PATCH(nkv_huge, blob_patch(&m->b, m->off_n_kv, UINT64_MAX, 8))
PATCH(nkv_too_few, blob_patch(&m->b, m->off_n_kv, MINI_KV - 1, 8))
PATCH(empty_file, *len = 0)
PATCH(cut_in_magic, *len = 3)
PATCH(cut_in_version, *len = 6)
PATCH(cut_in_ntensors, *len = 12)
PATCH(cut_in_nkv, *len = 20)
PATCH(key_len_huge, blob_patch(&m->b, m->off_key[0], 1ull << 62, 8))
PATCH(key_len_zero, blob_patch(&m->b, m->off_key[0], 0, 8))
PATCH(key_nul, m->b.p[m->off_key[0] + 8 + 3] = 0)
PATCH(vtype_invalid, blob_patch(&m->b, m->off_vtype[K_ARCH], 13, 4))
PATCH(vtype_huge, blob_patch(&m->b, m->off_vtype[K_ARCH], 0x80000000u, 4))
PATCH(arr_elem_invalid, blob_patch(&m->b, m->off_value[K_ARR_I32], 99, 4))
PATCH(arr_len_huge, blob_patch(&m->b, m->off_value[K_ARR_I32] + 4, 1ull << 62, 8))
PATCH(arr_str_len_huge, blob_patch(&m->b, m->off_value[K_ARR_STR] + 4, 1ull << 40, 8))
PATCH(nested_len_huge, blob_patch(&m->b, m->off_value[K_NESTED] + 4, UINT64_MAX, 8))
PATCH(nested_inner_invalid, blob_patch(&m->b, m->off_value[K_NESTED] + 12, 42, 4))
PATCH(str_len_huge, blob_patch(&m->b, m->off_value[K_STR], UINT64_MAX, 8))
PATCH(str_in_arr_len_huge, blob_patch(&m->b, m->off_value[K_ARR_STR] + 12, 1ull << 50, 8))
PATCH(bool_two, m->b.p[m->off_value[K_BOOL]] = 2)
PATCH(bool_arr_two, m->b.p[m->off_value[K_ARR_BOOL] + 13] = 0xff)
PATCH(align_zero, blob_patch(&m->b, m->off_value[K_ALIGN], 0, 4))
PATCH(align_npot, blob_patch(&m->b, m->off_value[K_ALIGN], 48, 4))
PATCH(align_type, blob_patch(&m->b, m->off_vtype[K_ALIGN], HEARTH_GGUF_INT32, 4))
PATCH(dup_key, m->b.p[m->off_key[K_I8] + 8 + 2] = 'u')
PATCH(dup_tensor, m->b.p[m->off_tname[1] + 8] = 'a')
PATCH(tname_len_huge, blob_patch(&m->b, m->off_tname[0], 1ull << 33, 8))
PATCH(tname_empty, blob_patch(&m->b, m->off_tname[0], 0, 8))
PATCH(ndims0, blob_patch(&m->b, m->off_ndims[0], 0, 4))
PATCH(ndims5, blob_patch(&m->b, m->off_ndims[2], 5, 4))
PATCH(ne_negative, blob_patch(&m->b, m->off_ne[0] + 8, (uint64_t)-2, 8))
PATCH(ne_product_overflow, for (int d = 0; d < 4; d++) blob_patch(&m->b, m->off_ne[2] + 8 * (size_t)d, 1ull << 20, 8))
PATCH(size_overflow, blob_patch(&m->b, m->off_ne[0], 1ull << 61, 8); blob_patch(&m->b, m->off_ne[0] + 8, 2, 8))
PATCH(ttype_removed, blob_patch(&m->b, m->off_ttype[0], 4, 4)) /* Q4_2 was removed from ggml */
PATCH(ttype_huge, blob_patch(&m->b, m->off_ttype[1], 1000, 4))
PATCH(ne0_not_block, blob_patch(&m->b, m->off_ne[1], 33, 8))
PATCH(offset_misaligned, blob_patch(&m->b, m->off_toff[1], 65, 8))
PATCH(offset_past_eof, blob_patch(&m->b, m->off_toff[2], 1ull << 40, 8))
PATCH(offset_wraps, blob_patch(&m->b, m->off_toff[2], UINT64_MAX - 31, 8))
PATCH(overlap, blob_patch(&m->b, m->off_toff[2], 64, 8))
PATCH(overlap_reordered, blob_patch(&m->b, m->off_toff[0], 96, 8); blob_patch(&m->b, m->off_toff[2], 0, 8))
PATCH(cut_in_data, *len = m->data_start + 140)
PATCH(cut_before_data, *len = m->data_start - 1)
PATCH(cut_in_tensor_info, *len = m->off_ne[1] + 3)
PATCH(cut_in_kv_value, *len = m->off_value[K_U64] + 5)

static const corruption corpus[] = {
    {"bad magic", bad_magic, "header magic: expected \"GGUF\" (47 47 55 46), found 58 47 55 46"},
    {"version 0", version0, "header version: expected 2 or 3, found 0"},
    {"version 1", version1, "header version: expected 2 or 3, found 1 (GGUFv1 is obsolete"},
    {"version 4", version4, "header version: expected 2 or 3, found 4"},
    {"big-endian", version_be, "found 3 (a big-endian GGUF"},
    {"n_tensors huge", ntensors_huge, "header n_tensors: expected at most"},
    {"n_kv huge", nkv_huge, "header n_kv: expected at most"},
    {"n_kv one short", nkv_too_few, "tensor[0] 't.str': n_dims: expected 1..4, found 8"},
    {"empty file", empty_file, "header magic: expected 4 bytes at offset 0, found 0 (file truncated)"},
    {"cut in magic", cut_in_magic, "header magic: expected 4 bytes at offset 0, found 3"},
    {"cut in version", cut_in_version, "header version: expected 4 bytes at offset 4, found 2"},
    {"cut in n_tensors", cut_in_ntensors, "header n_tensors: expected 8 bytes at offset 8, found 4"},
    {"cut in n_kv", cut_in_nkv, "header n_kv: expected 8 bytes at offset 16, found 4"},
    {"key length huge", key_len_huge, "kv[0]: key length: expected a length of at most"},
    {"key length zero", key_len_zero, "kv[0]: key: expected a non-empty name, found length 0"},
    {"key with NUL", key_nul, "kv[0]: key: expected no NUL bytes"},
    {"value type 13", vtype_invalid, "kv[0] 'general.architecture': value type: expected a value type 0..12, found 13"},
    {"value type huge", vtype_huge, "value type: expected a value type 0..12, found 2147483648"},
    {"array of invalid type", arr_elem_invalid, "'t.arr_i32': array element type: expected a value type 0..12, found 99"},
    {"array length huge", arr_len_huge, "'t.arr_i32': array length: expected at most"},
    {"string array length huge", arr_str_len_huge, "'t.arr_str': array length: expected at most"},
    {"nested array length huge", nested_len_huge, "'t.nested': array length: expected at most"},
    {"nested array invalid inner type", nested_inner_invalid, "'t.nested': element 0: array element type: expected a value type 0..12, found 42"},
    {"string length overflow", str_len_huge, "'t.str': string length: expected a length of at most"},
    {"string in array too long", str_in_arr_len_huge, "'t.arr_str': element 0: string length: expected a length of at most"},
    {"bool 2", bool_two, "'t.bool': bool: expected 0 or 1, found 2"},
    {"bool array 255", bool_arr_two, "'t.arr_bool': element 1: bool: expected 0 or 1, found 255"},
    {"alignment 0", align_zero, "general.alignment: expected a non-zero power of two, found 0"},
    {"alignment 48", align_npot, "general.alignment: expected a non-zero power of two, found 48"},
    {"alignment i32", align_type, "general.alignment: expected type u32, found i32"},
    {"duplicate key", dup_key, "kv[3] 't.u8': key: expected a unique key, found a duplicate of kv[2]"},
    {"duplicate tensor", dup_tensor, "tensor[1] 'a': name: expected a unique name, found a duplicate of tensor[0]"},
    {"tensor name length huge", tname_len_huge, "tensor[0]: name length: expected a length of at most"},
    {"tensor name empty", tname_empty, "tensor[0]: name: expected a non-empty name"},
    {"n_dims 0", ndims0, "tensor[0] 'a': n_dims: expected 1..4, found 0"},
    {"n_dims 5", ndims5, "tensor[2] 'c': n_dims: expected 1..4, found 5"},
    {"ne negative", ne_negative, "tensor[0] 'a': ne[1]: expected a count >= 0, found -2"},
    {"ne product overflow", ne_product_overflow, "tensor[2] 'c': ne: expected an element count that fits in 64 bits"},
    {"size overflow", size_overflow, "tensor[0] 'a': size: expected a byte count that fits in memory"},
    {"removed tensor type", ttype_removed, "tensor[0] 'a': type: expected a known ggml tensor type, found 4"},
    {"tensor type huge", ttype_huge, "tensor[1] 'b': type: expected a known ggml tensor type, found 1000"},
    {"ne[0] not a block multiple", ne0_not_block, "tensor[1] 'b': ne[0]: expected a multiple of Q8_0's block size 32, found 33"},
    {"offset misaligned", offset_misaligned, "tensor[1] 'b': offset: expected a multiple of the alignment 32, found 65"},
    {"offset past end", offset_past_eof, "tensor[2] 'c': data: expected 32 bytes at data offset 1099511627776"},
    {"offset wraps around", offset_wraps, "tensor[2] 'c': data: expected 32 bytes"},
    {"overlapping tensors", overlap, "tensor[2] 'c': offset: expected at least 98 (past the end of tensor[1] 'b'), found 64 (overlapping data)"},
    {"overlap out of order", overlap_reordered, "tensor[0] 'a': offset: expected at least 98 (past the end of tensor[1] 'b'), found 96"},
    {"cut in tensor data", cut_in_data, "tensor[2] 'c': data: expected 32 bytes at data offset 128 inside the 140-byte data section"},
    {"cut before data", cut_before_data, "tensor[0] 'a': data: expected 64 bytes at data offset 0 inside the 0-byte data section"},
    {"cut in tensor info", cut_in_tensor_info, "header n_tensors: expected at most 1 (what the 57 bytes after the metadata can hold), found 3"},
    {"cut in the metadata", cut_in_kv_value, "header n_kv: expected at most 11 (what the remaining 254 bytes can hold), found 18"},
};

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

static void damage_rounds(uint8_t *buf, size_t len, size_t hot, int rounds, int *parsed)
{
    hearth_error err = {0};
    for (int r = 0; r < rounds; r++) {
        int flips = 1 + (int)(rng() % 4);
        size_t at[4];
        uint8_t old[4];
        for (int f = 0; f < flips; f++) {
            at[f] = (size_t)(rng() % hot);
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
    damage_rounds(buf, m.b.len, m.b.len, 3000, &parsed);
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
    hearth_gguf_close(g);
    damage_rounds((uint8_t *)file, len, hot, 2000, &parsed);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
