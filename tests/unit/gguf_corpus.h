/* gguf_corpus.h — a small valid GGUF file with every value type, built with the offset of
 * each field recorded, and the malformed-GGUF corpus: one change to it per case, each with the
 * message substring the reader must give. Shared by tests/unit/test_gguf.c and
 * tests/tools/gguf_corpus.c (which writes the corpus to files for the CLI test).
 * Header-only (static inline) because each test binary or tool is one .c file. */
#ifndef HEARTH_TEST_GGUF_CORPUS_H
#define HEARTH_TEST_GGUF_CORPUS_H

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

static inline void kv_begin(mini *m, int i, const char *key, uint32_t type)
{
    m->off_key[i] = m->b.len;
    blob_str(&m->b, key);
    m->off_vtype[i] = m->b.len;
    blob_u32(&m->b, type);
    m->off_value[i] = m->b.len;
}

static inline void tensor_info(mini *m, int i, const char *name, uint32_t n_dims, const int64_t *ne, uint32_t type,
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

static inline void mini_build(mini *m)
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

#endif
