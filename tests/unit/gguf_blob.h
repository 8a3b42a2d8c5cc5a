/* gguf_blob.h — building GGUF bytes by hand in tests, so corruptions can be placed exactly.
 * Header-only (static functions) because each test binary is one .c file. */
#ifndef HEARTH_TEST_GGUF_BLOB_H
#define HEARTH_TEST_GGUF_BLOB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct blob {
    uint8_t *p;
    size_t len, cap;
} blob;

static inline void blob_put(blob *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
}

static inline void blob_le(blob *b, uint64_t v, int n)
{
    uint8_t x[8];
    for (int i = 0; i < n; i++) x[i] = (uint8_t)(v >> (8 * i));
    blob_put(b, x, (size_t)n);
}
static inline void blob_u8(blob *b, uint8_t v) { blob_le(b, v, 1); }
static inline void blob_u32(blob *b, uint32_t v) { blob_le(b, v, 4); }
static inline void blob_u64(blob *b, uint64_t v) { blob_le(b, v, 8); }
static inline void blob_str(blob *b, const char *s)
{
    blob_u64(b, strlen(s));
    blob_put(b, s, strlen(s));
}
static inline void blob_pad(blob *b, size_t align)
{
    while (b->len % align) blob_u8(b, 0);
}
static inline void blob_header(blob *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv)
{
    blob_put(b, "GGUF", 4);
    blob_u32(b, version);
    blob_u64(b, n_tensors);
    blob_u64(b, n_kv);
}
/* Overwrites n little-endian bytes at offset. */
static inline void blob_patch(blob *b, size_t off, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) b->p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}
static inline void blob_free(blob *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

#endif
