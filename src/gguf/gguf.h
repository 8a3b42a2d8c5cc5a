/*
 * gguf — reading (and writing) GGUF files, the model format of llama.cpp and Ollama.
 *
 * Reader contract: hearth_gguf_open maps the file and validates ALL of it before returning:
 * magic, version (2 or 3), counts, every key and value (all 13 value types, nested arrays),
 * string lengths, general.alignment, every tensor info (name, dims, type, offset), and that
 * every tensor's bytes lie inside the file, aligned, without overlap or duplicate names.
 * Arithmetic on sizes read from the file is overflow-checked. Any problem gives
 * HEARTH_ERR_FORMAT with one line "PATH: FIELD: what was expected, what was found"
 * (HEARTH_ERR_UNSUPPORTED for GGUFv1 and big-endian files, HEARTH_ERR_IO when the file
 * cannot be opened or mapped).
 *
 * Rules beyond ggml's own reader, chosen strict: keys and tensor names must be non-empty
 * and NUL-free (keys at most 65535 bytes, tensor names at most 63 like ggml); a bool byte
 * must be 0 or 1; n_dims must be 1..4; nested arrays (which ggml refuses) are read up to 8
 * levels deep; expanded metadata may take at most 1 GiB. Like ggml: a dimension of 0 is
 * allowed (an empty tensor), ne[0] must be a multiple of the type's block size, unknown
 * or removed type ids are refused. Tensor data may be in any order, but aligned, inside the
 * file and not overlapping (ggml additionally requires the exact order it writes).
 *
 * Metadata (keys, strings, arrays) is copied into memory owned by the hearth_gguf, strings
 * NUL-terminated, scalar arrays aligned; tensor data stays in the mapping (never copied).
 */
#ifndef HEARTH_GGUF_H
#define HEARTH_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "kernels/types.h"

#define HEARTH_GGUF_MAGIC 0x46554747u /* "GGUF" little-endian */
#define HEARTH_GGUF_DEFAULT_ALIGNMENT 32
#define HEARTH_GGUF_MAX_DIMS 4

typedef enum hearth_gguf_vtype {
    HEARTH_GGUF_UINT8 = 0,
    HEARTH_GGUF_INT8 = 1,
    HEARTH_GGUF_UINT16 = 2,
    HEARTH_GGUF_INT16 = 3,
    HEARTH_GGUF_UINT32 = 4,
    HEARTH_GGUF_INT32 = 5,
    HEARTH_GGUF_FLOAT32 = 6,
    HEARTH_GGUF_BOOL = 7,
    HEARTH_GGUF_STRING = 8,
    HEARTH_GGUF_ARRAY = 9,
    HEARTH_GGUF_UINT64 = 10,
    HEARTH_GGUF_INT64 = 11,
    HEARTH_GGUF_FLOAT64 = 12,
    HEARTH_GGUF_VTYPE_COUNT
} hearth_gguf_vtype;

typedef struct hearth_gguf_str {
    const char *s; /* NUL-terminated copy; len is authoritative (may contain NUL bytes) */
    uint64_t len;
} hearth_gguf_str;

typedef struct hearth_gguf_value hearth_gguf_value;
struct hearth_gguf_value {
    hearth_gguf_vtype type;
    union {
        uint64_t u64; /* UINT8/16/32/64 widened */
        int64_t i64;  /* INT8/16/32/64 widened  */
        double f64;   /* FLOAT32/64 widened     */
        bool b;
        hearth_gguf_str str;
        struct {
            hearth_gguf_vtype type;  /* element type                                       */
            uint64_t n;              /* element count                                      */
            const void *data;        /* scalar elements: aligned copy in the file's width   */
            const hearth_gguf_str *strs;       /* STRING elements                          */
            const hearth_gguf_value *items;    /* ARRAY elements (nested arrays)           */
        } arr;
    } v;
};

typedef struct hearth_gguf_kv {
    hearth_gguf_str key;
    hearth_gguf_value value;
} hearth_gguf_kv;

typedef struct hearth_gguf_tensor {
    hearth_gguf_str name;
    uint32_t n_dims;
    int64_t ne[HEARTH_GGUF_MAX_DIMS]; /* elements per dim, ne[0] fastest; unused dims are 1 */
    hearth_type type;
    uint64_t offset;  /* from the start of the data section */
    size_t size;      /* bytes */
    const void *data; /* into the mapping */
} hearth_gguf_tensor;

typedef struct hearth_gguf hearth_gguf;

/* Maps and validates a file. */
hearth_status hearth_gguf_open(const char *path, hearth_gguf **out, hearth_error *err);
/* The same, for a model whose weights will be computed with: the page cache is steered to
 * 2 MB folios (hearth_mmap_open's for_compute). */
hearth_status hearth_gguf_open_weights(const char *path, hearth_gguf **out, hearth_error *err);
/* The same, with the file read into (huge-page) memory instead of mapped: hearth_mmap_read. */
hearth_status hearth_gguf_open_read(const char *path, hearth_gguf **out, hearth_error *err);
/* Validates a buffer the caller keeps alive (tests, fuzzing); `name` is used in messages. */
hearth_status hearth_gguf_parse(const void *data, size_t size, const char *name,
                                hearth_gguf **out, hearth_error *err);
void hearth_gguf_close(hearth_gguf *g);

const char *hearth_gguf_path(const hearth_gguf *g);
uint32_t hearth_gguf_version(const hearth_gguf *g);
size_t hearth_gguf_alignment(const hearth_gguf *g);
size_t hearth_gguf_file_size(const hearth_gguf *g);
size_t hearth_gguf_data_offset(const hearth_gguf *g); /* file offset of the (aligned) data section */

int64_t hearth_gguf_n_kv(const hearth_gguf *g);
const hearth_gguf_kv *hearth_gguf_kv_at(const hearth_gguf *g, int64_t i);
const hearth_gguf_value *hearth_gguf_get(const hearth_gguf *g, const char *key); /* NULL if absent */

/* Typed getters. Missing key: HEARTH_ERR_NOT_FOUND; wrong type or value out of range:
 * HEARTH_ERR_FORMAT naming the key, the expected and the found type. Integer getters accept
 * any integer type whose value fits. */
hearth_status hearth_gguf_get_u32(const hearth_gguf *g, const char *key, uint32_t *out, hearth_error *err);
hearth_status hearth_gguf_get_i32(const hearth_gguf *g, const char *key, int32_t *out, hearth_error *err);
hearth_status hearth_gguf_get_u64(const hearth_gguf *g, const char *key, uint64_t *out, hearth_error *err);
hearth_status hearth_gguf_get_f32(const hearth_gguf *g, const char *key, float *out, hearth_error *err);
hearth_status hearth_gguf_get_bool(const hearth_gguf *g, const char *key, bool *out, hearth_error *err);
hearth_status hearth_gguf_get_str(const hearth_gguf *g, const char *key, const char **out, hearth_error *err);
/* Array of a given element type; *n and *data (or strs for STRING) are filled. */
hearth_status hearth_gguf_get_arr(const hearth_gguf *g, const char *key, hearth_gguf_vtype elem,
                                  const hearth_gguf_value **out, hearth_error *err);

int64_t hearth_gguf_n_tensors(const hearth_gguf *g);
const hearth_gguf_tensor *hearth_gguf_tensor_at(const hearth_gguf *g, int64_t i);
const hearth_gguf_tensor *hearth_gguf_find_tensor(const hearth_gguf *g, const char *name); /* NULL if absent */

const char *hearth_gguf_vtype_name(hearth_gguf_vtype t);

/* ---- writing ----------------------------------------------------------------------------
 * Writes GGUF v3 exactly as ggml's gguf writer does, so llama.cpp loads the result: metadata
 * in the order it was set, tensor infos in the order tensors were added, each tensor's
 * offset the running sum of the padded sizes before it, zero padding to the alignment after
 * the tensor infos and after every tensor's data; n_dims drops trailing dimensions of 1
 * (ggml_n_dims). Tensor data is streamed, so files of any size need bounded memory:
 *
 *     w = hearth_gguf_writer_new();
 *     hearth_gguf_set_str(w, "general.architecture", "llama", &err); ...
 *     hearth_gguf_add_tensor(w, "token_embd.weight", HEARTH_TYPE_Q8_0, 2, ne, &err); ...
 *     hearth_gguf_writer_begin(w, path, &err);            // header, metadata, tensor infos
 *     hearth_gguf_writer_write(w, bytes, n, &err); ...     // all tensor data, in add order,
 *                                                          // in pieces of any size
 *     hearth_gguf_writer_finish(w, &err);                  // fsync, rename over path
 *     hearth_gguf_writer_free(w);                          // removes the temp file if unfinished
 *
 * The file appears at `path` only when finish succeeds (written to PATH.tmp.PID first).
 * Setting a key twice or adding a tensor name twice is HEARTH_ERR_INVALID_ARG. Setting
 * "general.alignment" (u32, a power of two) changes the alignment used. */
typedef struct hearth_gguf_writer hearth_gguf_writer;

hearth_gguf_writer *hearth_gguf_writer_new(void); /* NULL when out of memory */
void hearth_gguf_writer_free(hearth_gguf_writer *w);

hearth_status hearth_gguf_set_u32(hearth_gguf_writer *w, const char *key, uint32_t v, hearth_error *err);
hearth_status hearth_gguf_set_i32(hearth_gguf_writer *w, const char *key, int32_t v, hearth_error *err);
hearth_status hearth_gguf_set_u64(hearth_gguf_writer *w, const char *key, uint64_t v, hearth_error *err);
hearth_status hearth_gguf_set_f32(hearth_gguf_writer *w, const char *key, float v, hearth_error *err);
hearth_status hearth_gguf_set_bool(hearth_gguf_writer *w, const char *key, bool v, hearth_error *err);
hearth_status hearth_gguf_set_str(hearth_gguf_writer *w, const char *key, const char *v, hearth_error *err);
/* Scalar array: n elements of type elem in its file width (u8 ... f64, bool as 0/1 bytes). */
hearth_status hearth_gguf_set_arr(hearth_gguf_writer *w, const char *key, hearth_gguf_vtype elem,
                                  const void *data, uint64_t n, hearth_error *err);
hearth_status hearth_gguf_set_arr_str(hearth_gguf_writer *w, const char *key, const char *const *strs,
                                      uint64_t n, hearth_error *err);
/* Any value, deep-copied: e.g. a value read from another file (copying tokenizer.* keys). */
hearth_status hearth_gguf_set_value(hearth_gguf_writer *w, const char *key, const hearth_gguf_value *v,
                                    hearth_error *err);

/* Declares a tensor; ne[0] must be a multiple of the type's block size. */
hearth_status hearth_gguf_add_tensor(hearth_gguf_writer *w, const char *name, hearth_type type,
                                     uint32_t n_dims, const int64_t *ne, hearth_error *err);
/* Bytes of data the tensors declared so far need (without padding). */
uint64_t hearth_gguf_writer_data_size(const hearth_gguf_writer *w);

hearth_status hearth_gguf_writer_begin(hearth_gguf_writer *w, const char *path, hearth_error *err);
hearth_status hearth_gguf_writer_write(hearth_gguf_writer *w, const void *data, size_t n, hearth_error *err);
hearth_status hearth_gguf_writer_finish(hearth_gguf_writer *w, hearth_error *err);
/* Instead of begin/write/finish: the whole file in a malloc'd buffer (small files, tests).
 * tensor_data[i] holds tensor i's bytes. */
hearth_status hearth_gguf_writer_to_buffer(hearth_gguf_writer *w, const void *const *tensor_data,
                                           void **out, size_t *out_len, hearth_error *err);

#endif
