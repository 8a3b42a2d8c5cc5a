/*
 * gguf_read.c — parsing and validating a GGUF file (v2/v3, little-endian) held in memory.
 *
 * Everything read from the file is distrusted: every length and count is checked against the
 * bytes that remain before it is used, so a hostile count fails with a message instead of
 * asking for gigabytes; sizes are computed with overflow checks; nested arrays recurse at most
 * GGUF_MAX_ARRAY_DEPTH levels. Allocations grow with what was actually parsed, never with
 * what a header claims.
 *
 * Messages are built inside out: the innermost check writes "FIELD: expected X, found Y" and
 * each level above prefixes where it was ("kv[3] 'general.name'", "element 7"), and the top
 * adds the path, giving one line "PATH: kv[3] 'general.name': string length: expected ...".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf_internal.h"

typedef struct reader {
    const uint8_t *p;
    size_t pos, size;
    gguf_arena *arena;
    hearth_error *err;
} reader;

/* Smallest encodings, used to bound counts before anything is allocated. */
#define MIN_STRING_BYTES 8                       /* u64 length, empty string                 */
#define MIN_ARRAY_BYTES 12                       /* u32 element type + u64 count             */
#define MIN_KV_BYTES (8 + 1 + 4 + 1)             /* 1-byte key, type, 1-byte value           */
#define MIN_TENSOR_INFO_BYTES (8 + 1 + 4 + 8 + 4 + 8) /* 1-byte name, 1 dim, type, offset    */

static size_t left(const reader *r) { return r->size - r->pos; }

static hearth_status truncated(reader *r, const char *field, size_t need)
{
    return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                       "%s: expected %zu bytes at offset %zu, found %zu (file truncated)", field,
                       need, r->pos, left(r));
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static hearth_status rd_uint(reader *r, int n, const char *field, uint64_t *out)
{
    *out = 0;
    if (left(r) < (size_t)n) return truncated(r, field, (size_t)n);
    *out = le(r->p + r->pos, n);
    r->pos += (size_t)n;
    return HEARTH_OK;
}

static hearth_status rd_u32(reader *r, const char *field, uint32_t *out)
{
    uint64_t v = 0;
    hearth_status st = rd_uint(r, 4, field, &v);
    *out = (uint32_t)v;
    return st;
}

static hearth_status nomem(reader *r, const char *what)
{
    if (r->arena->over_limit)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "%s: expected metadata of at most %zu MiB once expanded, found more",
                           what, GGUF_MAX_METADATA_BYTES >> 20);
    return hearth_fail(r->err, HEARTH_ERR_NOMEM, "%s: out of memory", what);
}

/* A u64-length-prefixed string, copied NUL-terminated into the arena. */
static hearth_status rd_string(reader *r, const char *field, hearth_gguf_str *out)
{
    uint64_t len = 0;
    hearth_status st = rd_uint(r, 8, field, &len);
    if (st) return st;
    if (len > left(r))
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "%s: expected a length of at most %zu (the bytes left in the file), found %llu",
                           field, left(r), (unsigned long long)len);
    char *s = gguf_arena_alloc(r->arena, (size_t)len + 1, 1);
    if (!s) return nomem(r, field);
    memcpy(s, r->p + r->pos, (size_t)len);
    s[len] = '\0';
    r->pos += (size_t)len;
    out->s = s;
    out->len = len;
    return HEARTH_OK;
}

/* Keys and tensor names are looked up as C strings, so they must be non-empty, NUL-free and
 * bounded; otherwise "a\0b" and "a\0c" would collide. */
static hearth_status check_name(reader *r, const char *field, const hearth_gguf_str *s, size_t max)
{
    if (s->len == 0)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "%s: expected a non-empty name, found length 0", field);
    if (s->len > max)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "%s: expected at most %zu bytes, found %llu", field,
                           max, (unsigned long long)s->len);
    if (memchr(s->s, '\0', (size_t)s->len))
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "%s: expected no NUL bytes in the name, found one", field);
    return HEARTH_OK;
}

static size_t scalar_width(hearth_gguf_vtype t)
{
    switch (t) {
    case HEARTH_GGUF_UINT8: case HEARTH_GGUF_INT8: case HEARTH_GGUF_BOOL: return 1;
    case HEARTH_GGUF_UINT16: case HEARTH_GGUF_INT16: return 2;
    case HEARTH_GGUF_UINT32: case HEARTH_GGUF_INT32: case HEARTH_GGUF_FLOAT32: return 4;
    case HEARTH_GGUF_UINT64: case HEARTH_GGUF_INT64: case HEARTH_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static hearth_status rd_vtype(reader *r, const char *field, hearth_gguf_vtype *out)
{
    uint32_t t = 0;
    hearth_status st = rd_u32(r, field, &t);
    if (st) return st;
    if (t >= HEARTH_GGUF_VTYPE_COUNT)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "%s: expected a value type 0..%d, found %u", field,
                           HEARTH_GGUF_VTYPE_COUNT - 1, t);
    *out = (hearth_gguf_vtype)t;
    return HEARTH_OK;
}

static int64_t sign_extend(uint64_t v, size_t width)
{
    unsigned shift = (unsigned)(64 - 8 * width);
    return (int64_t)(v << shift) >> shift;
}

static double float_of(uint64_t bits, size_t width)
{
    if (width == 4) {
        union { uint32_t u; float f; } c = {.u = (uint32_t)bits};
        return c.f;
    }
    union { uint64_t u; double d; } c = {.u = bits};
    return c.d;
}

/* A scalar of type t (width bytes, already read as bits) widened into v. */
static hearth_status set_scalar(reader *r, hearth_gguf_vtype t, uint64_t bits, hearth_gguf_value *v)
{
    size_t w = scalar_width(t);
    switch (t) {
    case HEARTH_GGUF_UINT8: case HEARTH_GGUF_UINT16: case HEARTH_GGUF_UINT32: case HEARTH_GGUF_UINT64:
        v->v.u64 = bits;
        break;
    case HEARTH_GGUF_INT8: case HEARTH_GGUF_INT16: case HEARTH_GGUF_INT32: case HEARTH_GGUF_INT64:
        v->v.i64 = sign_extend(bits, w);
        break;
    case HEARTH_GGUF_FLOAT32: case HEARTH_GGUF_FLOAT64:
        v->v.f64 = float_of(bits, w);
        break;
    case HEARTH_GGUF_BOOL:
        /* Strict: ggml stores bool as one byte and would read 2 as "true"; a byte other than
         * 0/1 means the file is not what it claims to be. */
        if (bits > 1)
            return hearth_fail(r->err, HEARTH_ERR_FORMAT, "bool: expected 0 or 1, found %llu",
                               (unsigned long long)bits);
        v->v.b = bits == 1;
        break;
    default:
        return hearth_fail(r->err, HEARTH_ERR_INTERNAL, "set_scalar: not a scalar type %d", (int)t);
    }
    return HEARTH_OK;
}

static hearth_status rd_value(reader *r, hearth_gguf_vtype t, int depth, hearth_gguf_value *v);

static hearth_status rd_array(reader *r, int depth, hearth_gguf_value *v)
{
    if (depth >= GGUF_MAX_ARRAY_DEPTH)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "array: expected nesting depth at most %d, found deeper",
                           GGUF_MAX_ARRAY_DEPTH);
    hearth_gguf_vtype et = HEARTH_GGUF_UINT8;
    uint64_t n = 0;
    hearth_status st = rd_vtype(r, "array element type", &et);
    if (!st) st = rd_uint(r, 8, "array length", &n);
    if (st) return st;
    v->v.arr.type = et;
    v->v.arr.n = n;
    size_t w = scalar_width(et);
    size_t min = w ? w : et == HEARTH_GGUF_STRING ? MIN_STRING_BYTES : MIN_ARRAY_BYTES;
    if (n > left(r) / min)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "array length: expected at most %zu %s elements (the bytes left in the file), found %llu",
                           left(r) / min, hearth_gguf_vtype_name(et), (unsigned long long)n);
    if (w) {
        size_t bytes = (size_t)n * w; /* cannot overflow: n * w <= left(r) */
        void *data = gguf_arena_alloc(r->arena, bytes ? bytes : 1, 8);
        if (!data) return nomem(r, "array");
        memcpy(data, r->p + r->pos, bytes);
        if (et == HEARTH_GGUF_BOOL) {
            const uint8_t *b = data;
            for (size_t i = 0; i < n; i++)
                if (b[i] > 1)
                    return hearth_fail(r->err, HEARTH_ERR_FORMAT, "element %zu: bool: expected 0 or 1, found %u",
                                       i, b[i]);
        }
        r->pos += bytes;
        v->v.arr.data = data;
        return HEARTH_OK;
    }
    if (et == HEARTH_GGUF_STRING) {
        hearth_gguf_str *strs = gguf_arena_alloc(r->arena, n ? (size_t)n * sizeof *strs : 1, 8);
        if (!strs) return nomem(r, "array");
        for (uint64_t i = 0; i < n; i++) {
            st = rd_string(r, "string length", &strs[i]);
            if (st) return hearth_fail_wrap(r->err, "element %llu", (unsigned long long)i);
        }
        v->v.arr.strs = strs;
        return HEARTH_OK;
    }
    /* nested arrays: each item is a full array value */
    hearth_gguf_value *items = gguf_arena_alloc(r->arena, n ? (size_t)n * sizeof *items : 1, 8);
    if (!items) return nomem(r, "array");
    for (uint64_t i = 0; i < n; i++) {
        memset(&items[i], 0, sizeof items[i]);
        items[i].type = HEARTH_GGUF_ARRAY;
        st = rd_array(r, depth + 1, &items[i]);
        if (st) return hearth_fail_wrap(r->err, "element %llu", (unsigned long long)i);
    }
    v->v.arr.items = items;
    return HEARTH_OK;
}

static hearth_status rd_value(reader *r, hearth_gguf_vtype t, int depth, hearth_gguf_value *v)
{
    memset(v, 0, sizeof *v);
    v->type = t;
    if (t == HEARTH_GGUF_STRING) return rd_string(r, "string length", &v->v.str);
    if (t == HEARTH_GGUF_ARRAY) return rd_array(r, depth, v);
    size_t w = scalar_width(t);
    uint64_t bits;
    hearth_status st = rd_uint(r, (int)w, hearth_gguf_vtype_name(t), &bits);
    if (st) return st;
    return set_scalar(r, t, bits, v);
}

/* Grows a malloc'd array by doubling so memory tracks entries actually parsed; the growth
 * counts against the arena's limit. */
static bool grow(gguf_arena *a, void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need) n *= 2;
    size_t bytes;
    if (!hearth_size_mul(n, elem, &bytes) || !gguf_arena_charge(a, bytes - *cap * elem)) return false;
    void *p = realloc(*arr, bytes);
    if (!p) return false;
    *arr = p;
    *cap = n;
    return true;
}

static hearth_status rd_header(hearth_gguf *g, reader *r, uint64_t *n_tensors, uint64_t *n_kv)
{
    uint32_t magic;
    hearth_status st = rd_u32(r, "header magic", &magic);
    if (st) return st;
    if (magic != HEARTH_GGUF_MAGIC)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "header magic: expected \"GGUF\" (47 47 55 46), found %02x %02x %02x %02x (not a GGUF file)",
                           r->p[0], r->p[1], r->p[2], r->p[3]);
    st = rd_u32(r, "header version", &g->version);
    if (st) return st;
    if (g->version != 2 && g->version != 3) {
        uint32_t v = g->version;
        if ((v & 0xffff) == 0 && (__builtin_bswap32(v) == 2 || __builtin_bswap32(v) == 3))
            return hearth_fail(r->err, HEARTH_ERR_UNSUPPORTED,
                               "header version: expected 2 or 3, found %u (a big-endian GGUF; only little-endian is supported)",
                               __builtin_bswap32(v));
        return hearth_fail(r->err, v == 1 ? HEARTH_ERR_UNSUPPORTED : HEARTH_ERR_FORMAT,
                           "header version: expected 2 or 3, found %u%s", v,
                           v == 1 ? " (GGUFv1 is obsolete; reconvert the model)" : "");
    }
    st = rd_uint(r, 8, "header n_tensors", n_tensors);
    if (!st) st = rd_uint(r, 8, "header n_kv", n_kv);
    if (st) return st;
    size_t max_t = left(r) / MIN_TENSOR_INFO_BYTES;
    if (*n_tensors > max_t)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "header n_tensors: expected at most %zu (what the remaining %zu bytes can hold), found %llu",
                           max_t, left(r), (unsigned long long)*n_tensors);
    size_t room = left(r) - (size_t)*n_tensors * MIN_TENSOR_INFO_BYTES;
    if (*n_kv > room / MIN_KV_BYTES)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "header n_kv: expected at most %zu (what the remaining %zu bytes can hold), found %llu",
                           room / MIN_KV_BYTES, left(r), (unsigned long long)*n_kv);
    return HEARTH_OK;
}

static hearth_status rd_kvs(hearth_gguf *g, reader *r, uint64_t n_kv)
{
    size_t cap = 0;
    for (uint64_t i = 0; i < n_kv; i++) {
        if (!grow(r->arena, (void **)&g->kvs, &cap, (size_t)i + 1, sizeof *g->kvs)) return nomem(r, "metadata");
        hearth_gguf_kv *kv = &g->kvs[i];
        memset(kv, 0, sizeof *kv);
        hearth_status st = rd_string(r, "key length", &kv->key);
        if (!st) st = check_name(r, "key", &kv->key, GGUF_MAX_KEY_LEN);
        if (st) return hearth_fail_wrap(r->err, "kv[%llu]", (unsigned long long)i);
        g->n_kv = (int64_t)i + 1; /* the key is valid from here on: messages may name it */
        hearth_gguf_vtype t = HEARTH_GGUF_UINT8;
        st = rd_vtype(r, "value type", &t);
        if (!st) st = rd_value(r, t, 0, &kv->value);
        if (st) return hearth_fail_wrap(r->err, "kv[%llu] '%s'", (unsigned long long)i, kv->key.s);
    }
    return HEARTH_OK;
}

/* Open addressing, capacity a power of two >= 2n; returns false on a duplicate name and sets
 * *dup_first / *dup_second to the two positions. */
static bool index_build(gguf_index *idx, const void *items, size_t n,
                        const hearth_gguf_str *(*name_of)(const void *, size_t), size_t *dup_first,
                        size_t *dup_second, bool *oom)
{
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    *oom = false;
    idx->slots = calloc(cap, sizeof *idx->slots);
    if (!idx->slots) {
        *oom = true;
        return false;
    }
    idx->mask = cap - 1;
    idx->count = n;
    for (size_t i = 0; i < n; i++) {
        const hearth_gguf_str *s = name_of(items, i);
        size_t h = (size_t)gguf_hash(s->s, (size_t)s->len) & idx->mask;
        while (idx->slots[h]) {
            const hearth_gguf_str *o = name_of(items, idx->slots[h] - 1);
            if (o->len == s->len && memcmp(o->s, s->s, (size_t)s->len) == 0) {
                *dup_first = idx->slots[h] - 1;
                *dup_second = i;
                return false;
            }
            h = (h + 1) & idx->mask;
        }
        idx->slots[h] = i + 1;
    }
    return true;
}

static hearth_status index_kvs(hearth_gguf *g, reader *r)
{
    size_t a, b;
    bool oom;
    if (index_build(&g->kv_index, g->kvs, (size_t)g->n_kv, gguf_kv_key, &a, &b, &oom)) return HEARTH_OK;
    if (oom) return nomem(r, "metadata index");
    return hearth_fail(r->err, HEARTH_ERR_FORMAT, "kv[%zu] '%s': key: expected a unique key, found a duplicate of kv[%zu]",
                       b, g->kvs[b].key.s, a);
}

static hearth_status rd_alignment(hearth_gguf *g, reader *r)
{
    g->alignment = HEARTH_GGUF_DEFAULT_ALIGNMENT;
    const hearth_gguf_value *v = hearth_gguf_get(g, "general.alignment");
    if (!v) return HEARTH_OK;
    if (v->type != HEARTH_GGUF_UINT32)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "general.alignment: expected type u32, found %s",
                           hearth_gguf_vtype_name(v->type));
    uint64_t a = v->v.u64;
    if (a == 0 || (a & (a - 1)) != 0)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "general.alignment: expected a non-zero power of two, found %llu", (unsigned long long)a);
    g->alignment = (size_t)a;
    return HEARTH_OK;
}

static hearth_status rd_tensor_info(reader *r, uint64_t i, hearth_gguf_tensor *t)
{
    hearth_status st = rd_string(r, "name length", &t->name);
    if (!st) st = check_name(r, "name", &t->name, GGUF_MAX_TENSOR_NAME);
    if (st) return hearth_fail_wrap(r->err, "tensor[%llu]", (unsigned long long)i);
    uint32_t type;
    uint64_t ne;
    char field[32];
    st = rd_u32(r, "n_dims", &t->n_dims);
    if (st) goto fail;
    if (t->n_dims < 1 || t->n_dims > HEARTH_GGUF_MAX_DIMS) {
        st = hearth_fail(r->err, HEARTH_ERR_FORMAT, "n_dims: expected 1..%d, found %u", HEARTH_GGUF_MAX_DIMS, t->n_dims);
        goto fail;
    }
    for (int d = 0; d < HEARTH_GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        snprintf(field, sizeof field, "ne[%u]", d);
        st = rd_uint(r, 8, field, &ne);
        if (st) goto fail;
        if ((int64_t)ne < 0) {
            st = hearth_fail(r->err, HEARTH_ERR_FORMAT, "%s: expected a count >= 0, found %lld", field, (long long)ne);
            goto fail;
        }
        t->ne[d] = (int64_t)ne;
    }
    st = rd_u32(r, "type", &type);
    if (st) goto fail;
    if (!hearth_type_traits_of(type)->name) {
        st = hearth_fail(r->err, HEARTH_ERR_FORMAT, "type: expected a known ggml tensor type, found %u", type);
        goto fail;
    }
    t->type = (hearth_type)type;
    st = rd_uint(r, 8, "offset", &t->offset);
    if (st) goto fail;
    return HEARTH_OK;
fail:
    return hearth_fail_wrap(r->err, "tensor[%llu] '%s'", (unsigned long long)i, t->name.s);
}

/* Size in bytes of a tensor's data, or a failure naming what does not fit. */
static hearth_status tensor_size(reader *r, const hearth_gguf_tensor *t, size_t *out)
{
    const hearth_type_traits *tr = hearth_type_traits_of((uint32_t)t->type);
    if (t->ne[0] % tr->block_size != 0)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "ne[0]: expected a multiple of %s's block size %u, found %lld",
                           tr->name, tr->block_size, (long long)t->ne[0]);
    int64_t n = t->ne[0];
    for (int d = 1; d < HEARTH_GGUF_MAX_DIMS; d++)
        if (__builtin_mul_overflow(n, t->ne[d], &n))
            return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                               "ne: expected an element count that fits in 64 bits, found %lld x %lld x %lld x %lld",
                               (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
    /* hearth_row_size is 0 for ne[0] == 0 (an empty tensor, which ggml allows) and on overflow */
    size_t bytes = hearth_row_size(t->type, t->ne[0]);
    bool overflow = bytes == 0 && t->ne[0] != 0;
    for (int d = 1; d < HEARTH_GGUF_MAX_DIMS; d++) overflow |= !hearth_size_mul(bytes, (size_t)t->ne[d], &bytes);
    if (overflow)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT, "size: expected a byte count that fits in memory, found an overflow");
    *out = bytes;
    return HEARTH_OK;
}

static int cmp_offset(const void *a, const void *b, void *ctx)
{
    const hearth_gguf_tensor *t = ctx;
    uint64_t x = t[*(const size_t *)a].offset, y = t[*(const size_t *)b].offset;
    return x < y ? -1 : x > y;
}

static hearth_status check_overlap(hearth_gguf *g, reader *r)
{
    size_t n = (size_t)g->n_tensors;
    if (n < 2) return HEARTH_OK;
    size_t *order = malloc(n * sizeof *order);
    if (!order) return nomem(r, "tensor order");
    for (size_t i = 0; i < n; i++) order[i] = i;
    qsort_r(order, n, sizeof *order, cmp_offset, g->tensors);
    hearth_status st = HEARTH_OK;
    size_t prev = SIZE_MAX; /* last tensor with data */
    for (size_t k = 0; k < n && !st; k++) {
        const hearth_gguf_tensor *t = &g->tensors[order[k]];
        if (t->size == 0) continue;
        if (prev != SIZE_MAX) {
            const hearth_gguf_tensor *p = &g->tensors[prev];
            if (p->offset + p->size > t->offset) /* both were checked to lie inside the file */
                st = hearth_fail(r->err, HEARTH_ERR_FORMAT,
                                 "tensor[%zu] '%s': offset: expected at least %llu (past the end of tensor[%zu] '%s'), found %llu (overlapping data)",
                                 order[k], t->name.s, (unsigned long long)(p->offset + p->size), prev, p->name.s,
                                 (unsigned long long)t->offset);
        }
        prev = order[k];
    }
    free(order);
    return st;
}

static hearth_status rd_tensors(hearth_gguf *g, reader *r, uint64_t n_tensors)
{
    if (n_tensors > left(r) / MIN_TENSOR_INFO_BYTES)
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "header n_tensors: expected at most %zu (what the %zu bytes after the metadata can hold), found %llu",
                           left(r) / MIN_TENSOR_INFO_BYTES, left(r), (unsigned long long)n_tensors);
    size_t cap = 0;
    for (uint64_t i = 0; i < n_tensors; i++) {
        if (!grow(r->arena, (void **)&g->tensors, &cap, (size_t)i + 1, sizeof *g->tensors)) return nomem(r, "tensor infos");
        memset(&g->tensors[i], 0, sizeof g->tensors[i]);
        hearth_status st = rd_tensor_info(r, i, &g->tensors[i]);
        if (st) return st;
        g->n_tensors = (int64_t)i + 1;
    }
    size_t a, b;
    bool oom;
    if (!index_build(&g->tensor_index, g->tensors, (size_t)g->n_tensors, gguf_tensor_name, &a, &b, &oom)) {
        if (oom) return nomem(r, "tensor index");
        return hearth_fail(r->err, HEARTH_ERR_FORMAT,
                           "tensor[%zu] '%s': name: expected a unique name, found a duplicate of tensor[%zu]", b,
                           g->tensors[b].name.s, a);
    }

    /* The data section starts at the next multiple of the alignment. */
    size_t al = g->alignment;
    if (!hearth_size_add(r->pos, al - 1, &g->data_offset))
        return hearth_fail(r->err, HEARTH_ERR_INTERNAL, "data offset overflow");
    g->data_offset &= ~(al - 1);
    size_t data_size = g->data_offset <= g->size ? g->size - g->data_offset : 0;
    for (int64_t i = 0; i < g->n_tensors; i++) {
        hearth_gguf_tensor *t = &g->tensors[i];
        hearth_status st = tensor_size(r, t, &t->size);
        if (!st && t->offset % al != 0)
            st = hearth_fail(r->err, HEARTH_ERR_FORMAT, "offset: expected a multiple of the alignment %zu, found %llu", al,
                             (unsigned long long)t->offset);
        if (!st && (t->offset > data_size || t->size > data_size - t->offset))
            st = hearth_fail(r->err, HEARTH_ERR_FORMAT,
                             "data: expected %zu bytes at data offset %llu inside the %zu-byte data section, found the file ends first (truncated or bad offset)",
                             t->size, (unsigned long long)t->offset, data_size);
        if (st) return hearth_fail_wrap(r->err, "tensor[%lld] '%s'", (long long)i, t->name.s);
        /* an empty tensor may sit past the end of a file with no data section */
        t->data = t->size ? g->base + g->data_offset + t->offset : g->base;
    }
    return check_overlap(g, r);
}

hearth_status gguf_read_all(hearth_gguf *g, hearth_error *err)
{
    reader r = {.p = g->base, .pos = 0, .size = g->size, .arena = &g->arena, .err = err};
    uint64_t n_tensors = 0, n_kv = 0;
    hearth_status st = rd_header(g, &r, &n_tensors, &n_kv);
    if (!st) st = rd_kvs(g, &r, n_kv);
    if (!st) st = index_kvs(g, &r);
    if (!st) st = rd_alignment(g, &r);
    if (!st) st = rd_tensors(g, &r, n_tensors);
    if (st) return hearth_fail_wrap(err, "%s", g->path);
    return HEARTH_OK;
}
