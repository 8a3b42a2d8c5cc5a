/*
 * gguf_internal.h — what the reader's files share: the hearth_gguf object, the metadata arena
 * and the name index. Not for use outside src/gguf/.
 */
#ifndef HEARTH_GGUF_INTERNAL_H
#define HEARTH_GGUF_INTERNAL_H

#include "gguf/gguf.h"

/* Limits beyond what GGUF itself states, each chosen so no real file comes near it while a
 * hostile file cannot use recursion or a huge name to hurt us. */
#define GGUF_MAX_ARRAY_DEPTH 8   /* arrays nested inside arrays, counting the outermost     */
#define GGUF_MAX_KEY_LEN 65535   /* the GGUF spec: keys are at most 2^16-1 bytes           */
#define GGUF_MAX_TENSOR_NAME 63  /* ggml's GGML_MAX_NAME (64) including the NUL            */
/* Memory the reader may spend on metadata once expanded (a 256k-token vocab needs ~20 MB);
 * bounds what a hostile file of many tiny nested arrays could make us allocate. */
#define GGUF_MAX_METADATA_BYTES ((size_t)1 << 30)

/* Bump allocator for the metadata copy: chunks freed together when the file is closed. */
typedef struct gguf_chunk gguf_chunk;
typedef struct gguf_arena {
    gguf_chunk *head;
    size_t next_size; /* size of the next ordinary chunk (grows geometrically) */
    size_t used;      /* bytes handed out, and charged by gguf_arena_charge           */
    size_t limit;     /* 0: none                                                      */
    bool over_limit;  /* an allocation failed because of the limit, not the system    */
} gguf_arena;

/* NULL when out of memory or over the limit (then over_limit is set). */
void *gguf_arena_alloc(gguf_arena *a, size_t size, size_t align);
/* Counts memory allocated elsewhere against the limit; false (over_limit set) if over. */
bool gguf_arena_charge(gguf_arena *a, size_t size);
void gguf_arena_free(gguf_arena *a);

/* Open-addressing index from a (name, len) to a position, for keys and tensor names. */
typedef struct gguf_index {
    size_t *slots; /* position + 1; 0 = empty */
    size_t mask;   /* capacity - 1 (capacity is a power of two) */
    size_t count;
} gguf_index;

uint64_t gguf_hash(const char *s, size_t len);
/* Name getters for the index: the key of kvs[i], the name of tensors[i]. */
const hearth_gguf_str *gguf_kv_key(const void *kvs, size_t i);
const hearth_gguf_str *gguf_tensor_name(const void *tensors, size_t i);

struct hearth_gguf {
    char *path;          /* name used in messages (the path for files)                   */
    hearth_mmap map;     /* the mapping when opened from a file; data NULL for a buffer  */
    const uint8_t *base; /* the whole file                                               */
    size_t size;
    uint32_t version;
    size_t alignment;
    size_t data_offset; /* start of the data section (aligned)                           */

    hearth_gguf_kv *kvs;
    int64_t n_kv;
    hearth_gguf_tensor *tensors;
    int64_t n_tensors;

    gguf_index kv_index, tensor_index;
    gguf_arena arena;
};

/* Parses and validates g->base[0..g->size); fills everything else in g. */
hearth_status gguf_read_all(hearth_gguf *g, hearth_error *err);

#endif
