/* gguf.c — opening and closing GGUF files, the metadata arena, lookups and typed getters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf_internal.h"

/* ---- arena ----------------------------------------------------------------------------- */

struct gguf_chunk {
    gguf_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* aligned for any scalar */
};

#define ARENA_FIRST_CHUNK (64 * 1024)
#define ARENA_MAX_CHUNK (8 * 1024 * 1024)

bool gguf_arena_charge(gguf_arena *a, size_t size)
{
    if (a->limit && (size > a->limit || a->used > a->limit - size)) {
        a->over_limit = true;
        return false;
    }
    a->used += size;
    return true;
}

void *gguf_arena_alloc(gguf_arena *a, size_t size, size_t align)
{
    if (!gguf_arena_charge(a, size)) return NULL;
    gguf_chunk *c = a->head;
    if (c) {
        size_t at = (c->used + align - 1) & ~(align - 1);
        if (at <= c->cap && size <= c->cap - at) {
            c->used = at + size;
            return (char *)c->data + at;
        }
    }
    /* A request bigger than an ordinary chunk gets a chunk of its own, placed behind the
     * current head so the head's free space stays usable. */
    if (!a->next_size) a->next_size = ARENA_FIRST_CHUNK;
    bool own = size > a->next_size / 4;
    size_t cap = own ? size : a->next_size, bytes;
    if (!hearth_size_add(cap, sizeof(gguf_chunk), &bytes)) return NULL;
    c = malloc(bytes);
    if (!c) return NULL;
    c->cap = cap;
    c->used = size;
    if (own && a->head) {
        c->next = a->head->next;
        a->head->next = c;
    } else {
        c->next = a->head;
        a->head = c;
        if (!own && a->next_size < ARENA_MAX_CHUNK) a->next_size *= 2;
    }
    return c->data;
}

void gguf_arena_free(gguf_arena *a)
{
    for (gguf_chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
    a->next_size = 0;
    a->used = 0;
}

/* FNV-1a: short keys, few of them; good enough and has no seed to manage. */
uint64_t gguf_hash(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

/* ---- open / close ---------------------------------------------------------------------- */

static hearth_status start(const char *name, hearth_gguf **out, hearth_error *err)
{
    *out = NULL;
    hearth_gguf *g = calloc(1, sizeof *g);
    if (g) g->path = strdup(name ? name : "(buffer)");
    if (!g || !g->path) {
        free(g);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", name ? name : "(buffer)");
    }
    g->arena.limit = GGUF_MAX_METADATA_BYTES;
    *out = g;
    return HEARTH_OK;
}

static hearth_status finish(hearth_gguf *g, hearth_gguf **out, hearth_error *err)
{
    hearth_status st = gguf_read_all(g, err);
    if (st) {
        hearth_gguf_close(g);
        return st;
    }
    *out = g;
    return HEARTH_OK;
}

typedef enum { OPEN_MAP, OPEN_MAP_WEIGHTS, OPEN_READ } open_mode;

static hearth_status open_file(const char *path, open_mode mode, hearth_gguf **out, hearth_error *err)
{
    hearth_gguf *g;
    hearth_status st = start(path, &g, err);
    if (st) return st;
    st = mode == OPEN_READ ? hearth_mmap_read(path, &g->map, err)
                           : hearth_mmap_open(path, mode == OPEN_MAP_WEIGHTS, &g->map, err);
    if (st) {
        hearth_gguf_close(g);
        return st;
    }
    g->base = g->map.data;
    g->size = g->map.size;
    return finish(g, out, err);
}

hearth_status hearth_gguf_open(const char *path, hearth_gguf **out, hearth_error *err)
{
    return open_file(path, OPEN_MAP, out, err);
}

hearth_status hearth_gguf_open_weights(const char *path, hearth_gguf **out, hearth_error *err)
{
    return open_file(path, OPEN_MAP_WEIGHTS, out, err);
}

hearth_status hearth_gguf_open_read(const char *path, hearth_gguf **out, hearth_error *err)
{
    return open_file(path, OPEN_READ, out, err);
}

hearth_status hearth_gguf_parse(const void *data, size_t size, const char *name, hearth_gguf **out,
                                hearth_error *err)
{
    hearth_gguf *g;
    hearth_status st = start(name, &g, err);
    if (st) return st;
    if (!data && size) {
        hearth_gguf_close(g);
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: NULL buffer", name ? name : "(buffer)");
    }
    static const uint8_t empty[1];
    g->base = data ? data : empty;
    g->size = size;
    return finish(g, out, err);
}

void hearth_gguf_close(hearth_gguf *g)
{
    if (!g) return;
    hearth_mmap_close(&g->map);
    gguf_arena_free(&g->arena);
    free(g->kv_index.slots);
    free(g->tensor_index.slots);
    free(g->kvs);
    free(g->tensors);
    free(g->path);
    free(g);
}

/* ---- accessors ------------------------------------------------------------------------- */

const char *hearth_gguf_path(const hearth_gguf *g) { return g->path; }
uint32_t hearth_gguf_version(const hearth_gguf *g) { return g->version; }
size_t hearth_gguf_alignment(const hearth_gguf *g) { return g->alignment; }
size_t hearth_gguf_file_size(const hearth_gguf *g) { return g->size; }
size_t hearth_gguf_data_offset(const hearth_gguf *g) { return g->data_offset; }
int64_t hearth_gguf_n_kv(const hearth_gguf *g) { return g->n_kv; }
int64_t hearth_gguf_n_tensors(const hearth_gguf *g) { return g->n_tensors; }

const hearth_gguf_kv *hearth_gguf_kv_at(const hearth_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_kv ? &g->kvs[i] : NULL;
}

const hearth_gguf_tensor *hearth_gguf_tensor_at(const hearth_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

/* Position of name in an index, or SIZE_MAX. */
static size_t index_find(const gguf_index *idx, const char *name, const hearth_gguf_str *(*name_of)(const void *, size_t),
                         const void *items)
{
    if (!idx->slots || !name) return SIZE_MAX;
    size_t len = strlen(name);
    for (size_t h = (size_t)gguf_hash(name, len) & idx->mask; idx->slots[h]; h = (h + 1) & idx->mask) {
        const hearth_gguf_str *s = name_of(items, idx->slots[h] - 1);
        if (s->len == len && memcmp(s->s, name, len) == 0) return idx->slots[h] - 1;
    }
    return SIZE_MAX;
}

const hearth_gguf_str *gguf_kv_key(const void *kvs, size_t i) { return &((const hearth_gguf_kv *)kvs)[i].key; }
const hearth_gguf_str *gguf_tensor_name(const void *tensors, size_t i)
{
    return &((const hearth_gguf_tensor *)tensors)[i].name;
}

const hearth_gguf_value *hearth_gguf_get(const hearth_gguf *g, const char *key)
{
    size_t i = index_find(&g->kv_index, key, gguf_kv_key, g->kvs);
    return i == SIZE_MAX ? NULL : &g->kvs[i].value;
}

const hearth_gguf_tensor *hearth_gguf_find_tensor(const hearth_gguf *g, const char *name)
{
    size_t i = index_find(&g->tensor_index, name, gguf_tensor_name, g->tensors);
    return i == SIZE_MAX ? NULL : &g->tensors[i];
}

const char *hearth_gguf_vtype_name(hearth_gguf_vtype t)
{
    static const char *const names[HEARTH_GGUF_VTYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
    };
    return (unsigned)t < HEARTH_GGUF_VTYPE_COUNT ? names[t] : "invalid";
}

/* ---- typed getters --------------------------------------------------------------------- */

static hearth_status lookup(const hearth_gguf *g, const char *key, const hearth_gguf_value **v, hearth_error *err)
{
    *v = hearth_gguf_get(g, key);
    if (!*v) return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "%s: %s: expected a key, found none", g->path, key);
    return HEARTH_OK;
}

static hearth_status wrong_type(const hearth_gguf *g, const char *key, const char *want, const hearth_gguf_value *v,
                                hearth_error *err)
{
    if (v->type == HEARTH_GGUF_ARRAY)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %s: expected %s, found array of %s", g->path, key, want,
                           hearth_gguf_vtype_name(v->v.arr.type));
    return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %s: expected %s, found %s", g->path, key, want,
                       hearth_gguf_vtype_name(v->type));
}

static bool is_unsigned(hearth_gguf_vtype t)
{
    return t == HEARTH_GGUF_UINT8 || t == HEARTH_GGUF_UINT16 || t == HEARTH_GGUF_UINT32 || t == HEARTH_GGUF_UINT64;
}

static bool is_signed(hearth_gguf_vtype t)
{
    return t == HEARTH_GGUF_INT8 || t == HEARTH_GGUF_INT16 || t == HEARTH_GGUF_INT32 || t == HEARTH_GGUF_INT64;
}

/* Any integer value checked against [lo, hi]; values travel as i64 or u64 to keep range. */
static hearth_status get_int(const hearth_gguf *g, const char *key, const char *want, int64_t lo, uint64_t hi,
                             uint64_t *u, int64_t *s, hearth_error *err)
{
    const hearth_gguf_value *v;
    hearth_status st = lookup(g, key, &v, err);
    if (st) return st;
    if (is_unsigned(v->type)) {
        if (v->v.u64 > hi)
            return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %s: expected %s (at most %llu), found %llu", g->path, key,
                               want, (unsigned long long)hi, (unsigned long long)v->v.u64);
        *u = v->v.u64;
        *s = (int64_t)v->v.u64; /* fits: hi <= INT64_MAX whenever a caller reads *s */
        return HEARTH_OK;
    }
    if (is_signed(v->type)) {
        int64_t x = v->v.i64;
        if (x < lo || (x > 0 && (uint64_t)x > hi))
            return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: %s: expected %s (%lld..%llu), found %lld", g->path, key,
                               want, (long long)lo, (unsigned long long)hi, (long long)x);
        *s = x;
        *u = (uint64_t)x;
        return HEARTH_OK;
    }
    return wrong_type(g, key, want, v, err);
}

hearth_status hearth_gguf_get_u32(const hearth_gguf *g, const char *key, uint32_t *out, hearth_error *err)
{
    uint64_t u = 0;
    int64_t s = 0;
    hearth_status st = get_int(g, key, "u32", 0, UINT32_MAX, &u, &s, err);
    if (!st) *out = (uint32_t)u;
    return st;
}

hearth_status hearth_gguf_get_i32(const hearth_gguf *g, const char *key, int32_t *out, hearth_error *err)
{
    uint64_t u = 0;
    int64_t s = 0;
    hearth_status st = get_int(g, key, "i32", INT32_MIN, INT32_MAX, &u, &s, err);
    if (!st) *out = (int32_t)s;
    return st;
}

hearth_status hearth_gguf_get_u64(const hearth_gguf *g, const char *key, uint64_t *out, hearth_error *err)
{
    uint64_t u = 0;
    int64_t s = 0;
    hearth_status st = get_int(g, key, "u64", 0, UINT64_MAX, &u, &s, err);
    if (!st) *out = u;
    return st;
}

hearth_status hearth_gguf_get_f32(const hearth_gguf *g, const char *key, float *out, hearth_error *err)
{
    const hearth_gguf_value *v;
    hearth_status st = lookup(g, key, &v, err);
    if (st) return st;
    if (v->type != HEARTH_GGUF_FLOAT32 && v->type != HEARTH_GGUF_FLOAT64) return wrong_type(g, key, "f32", v, err);
    *out = (float)v->v.f64;
    return HEARTH_OK;
}

hearth_status hearth_gguf_get_bool(const hearth_gguf *g, const char *key, bool *out, hearth_error *err)
{
    const hearth_gguf_value *v;
    hearth_status st = lookup(g, key, &v, err);
    if (st) return st;
    if (v->type != HEARTH_GGUF_BOOL) return wrong_type(g, key, "bool", v, err);
    *out = v->v.b;
    return HEARTH_OK;
}

hearth_status hearth_gguf_get_str(const hearth_gguf *g, const char *key, const char **out, hearth_error *err)
{
    const hearth_gguf_value *v;
    hearth_status st = lookup(g, key, &v, err);
    if (st) return st;
    if (v->type != HEARTH_GGUF_STRING) return wrong_type(g, key, "string", v, err);
    *out = v->v.str.s;
    return HEARTH_OK;
}

hearth_status hearth_gguf_get_arr(const hearth_gguf *g, const char *key, hearth_gguf_vtype elem,
                                  const hearth_gguf_value **out, hearth_error *err)
{
    const hearth_gguf_value *v;
    hearth_status st = lookup(g, key, &v, err);
    if (st) return st;
    if (v->type != HEARTH_GGUF_ARRAY || v->v.arr.type != elem) {
        char want[32];
        snprintf(want, sizeof want, "array of %s", hearth_gguf_vtype_name(elem));
        return wrong_type(g, key, want, v, err);
    }
    *out = v;
    return HEARTH_OK;
}
