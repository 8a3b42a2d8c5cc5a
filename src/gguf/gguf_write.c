/*
 * gguf_write.c — writing GGUF v3 byte-for-byte the way ggml's gguf writer lays files out, so
 * llama.cpp loads what we write (it insists that each tensor's offset is exactly the padded
 * running sum of the ones before it). Tensor data is streamed through a FILE with a large
 * buffer, so a multi-gigabyte model needs only the memory of the piece being written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf/gguf_internal.h"

/* Where bytes go: a file (streaming) or a growing memory buffer. */
typedef struct sink {
    FILE *f;
    uint8_t *buf;
    size_t len, cap;
    uint64_t written;
    int error; /* errno of the first failure; ENOMEM for the buffer */
} sink;

struct hearth_gguf_writer {
    hearth_gguf_kv *kvs;
    size_t n_kv, cap_kv;
    hearth_gguf_tensor *tensors; /* data unused; offset/size filled by begin */
    size_t n_tensors, cap_tensors;
    gguf_arena arena;
    size_t alignment;

    sink out;
    char *path, *tmp;    /* set between begin and finish */
    size_t cur;          /* tensor whose data comes next */
    uint64_t cur_done;   /* bytes of it written so far */
    uint64_t data_start; /* file offset of the data section */
    bool spent;          /* begin or to_buffer has run: the layout is fixed */
};

static void put(sink *s, const void *p, size_t n)
{
    if (s->error || n == 0) return;
    if (s->f) {
        if (fwrite(p, 1, n, s->f) != n) s->error = errno ? errno : EIO;
    } else {
        if (s->len + n > s->cap) {
            size_t cap = s->cap ? s->cap : 4096;
            while (cap < s->len + n) cap *= 2;
            uint8_t *b = realloc(s->buf, cap);
            if (!b) {
                s->error = ENOMEM;
                return;
            }
            s->buf = b;
            s->cap = cap;
        }
        memcpy(s->buf + s->len, p, n);
        s->len += n;
    }
    s->written += n;
}

static void put_le(sink *s, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(s, b, (size_t)n);
}

static void put_str(sink *s, const hearth_gguf_str *str)
{
    put_le(s, str->len, 8);
    put(s, str->s, (size_t)str->len);
}

static void pad(sink *s, size_t alignment)
{
    static const uint8_t zeros[64];
    while (s->written % alignment) {
        size_t n = (size_t)(alignment - s->written % alignment);
        put(s, zeros, n < sizeof zeros ? n : sizeof zeros);
        if (s->error) return;
    }
}

static size_t width_of(hearth_gguf_vtype t)
{
    static const size_t w[HEARTH_GGUF_VTYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < HEARTH_GGUF_VTYPE_COUNT ? w[t] : 0;
}

/* The bits of a scalar value in its file width. */
static uint64_t scalar_bits(const hearth_gguf_value *v)
{
    switch (v->type) {
    case HEARTH_GGUF_FLOAT32: {
        union { float f; uint32_t u; } c = {.f = (float)v->v.f64};
        return c.u;
    }
    case HEARTH_GGUF_FLOAT64: {
        union { double d; uint64_t u; } c = {.d = v->v.f64};
        return c.u;
    }
    case HEARTH_GGUF_BOOL: return v->v.b ? 1 : 0;
    default: return v->v.u64; /* integers: two's complement truncation gives the file bytes */
    }
}

static void put_value(sink *s, const hearth_gguf_value *v)
{
    if (v->type == HEARTH_GGUF_STRING) {
        put_str(s, &v->v.str);
        return;
    }
    if (v->type != HEARTH_GGUF_ARRAY) {
        put_le(s, scalar_bits(v), (int)width_of(v->type));
        return;
    }
    put_le(s, (uint32_t)v->v.arr.type, 4);
    put_le(s, v->v.arr.n, 8);
    if (v->v.arr.type == HEARTH_GGUF_STRING)
        for (uint64_t i = 0; i < v->v.arr.n; i++) put_str(s, &v->v.arr.strs[i]);
    else if (v->v.arr.type == HEARTH_GGUF_ARRAY)
        for (uint64_t i = 0; i < v->v.arr.n; i++) put_value(s, &v->v.arr.items[i]);
    else
        put(s, v->v.arr.data, (size_t)v->v.arr.n * width_of(v->v.arr.type)); /* host is little-endian */
}

/* ---- building ---------------------------------------------------------------------------- */

hearth_gguf_writer *hearth_gguf_writer_new(void)
{
    hearth_gguf_writer *w = calloc(1, sizeof *w);
    if (w) w->alignment = HEARTH_GGUF_DEFAULT_ALIGNMENT;
    return w;
}

static void close_temp(hearth_gguf_writer *w)
{
    if (w->out.f) fclose(w->out.f);
    w->out.f = NULL;
    if (w->tmp) unlink(w->tmp);
    free(w->tmp);
    free(w->path);
    w->tmp = w->path = NULL;
}

void hearth_gguf_writer_free(hearth_gguf_writer *w)
{
    if (!w) return;
    close_temp(w);
    free(w->out.buf);
    free(w->kvs);
    free(w->tensors);
    gguf_arena_free(&w->arena);
    free(w);
}

static bool copy_str(gguf_arena *a, hearth_gguf_str *dst, const char *s, uint64_t len)
{
    char *c = gguf_arena_alloc(a, (size_t)len + 1, 1);
    if (!c) return false;
    if (len) memcpy(c, s, (size_t)len);
    c[len] = '\0';
    dst->s = c;
    dst->len = len;
    return true;
}

/* Deep copy of src into the arena, checking what the reader would check. */
static hearth_status copy_value(hearth_gguf_writer *w, const char *key, hearth_gguf_value *dst,
                                const hearth_gguf_value *src, int depth, hearth_error *err)
{
    *dst = *src;
    if ((unsigned)src->type >= HEARTH_GGUF_VTYPE_COUNT)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: expected a value type 0..12, found %d", key, (int)src->type);
    if (src->type == HEARTH_GGUF_STRING)
        return copy_str(&w->arena, &dst->v.str, src->v.str.s, src->v.str.len)
                   ? HEARTH_OK
                   : hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", key);
    if (src->type != HEARTH_GGUF_ARRAY) return HEARTH_OK;
    if (depth >= GGUF_MAX_ARRAY_DEPTH)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: expected array nesting depth at most %d", key,
                           GGUF_MAX_ARRAY_DEPTH);
    hearth_gguf_vtype et = src->v.arr.type;
    uint64_t n = src->v.arr.n;
    if ((unsigned)et >= HEARTH_GGUF_VTYPE_COUNT)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: expected an array element type 0..12, found %d", key, (int)et);
    size_t elem = et == HEARTH_GGUF_STRING ? sizeof(hearth_gguf_str)
                  : et == HEARTH_GGUF_ARRAY ? sizeof(hearth_gguf_value)
                                            : width_of(et);
    size_t bytes;
    if (n > SIZE_MAX || !hearth_size_mul((size_t)n, elem, &bytes))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: array of %llu elements is too large", key,
                           (unsigned long long)n);
    void *copy = gguf_arena_alloc(&w->arena, bytes ? bytes : 1, 8);
    if (!copy) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", key);
    dst->v.arr.data = NULL;
    dst->v.arr.strs = NULL;
    dst->v.arr.items = NULL;
    if (et == HEARTH_GGUF_STRING) {
        hearth_gguf_str *s = copy;
        for (uint64_t i = 0; i < n; i++)
            if (!copy_str(&w->arena, &s[i], src->v.arr.strs[i].s, src->v.arr.strs[i].len))
                return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", key);
        dst->v.arr.strs = s;
    } else if (et == HEARTH_GGUF_ARRAY) {
        hearth_gguf_value *items = copy;
        for (uint64_t i = 0; i < n; i++) {
            if (src->v.arr.items[i].type != HEARTH_GGUF_ARRAY)
                return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: element %llu: expected an array, found %s", key,
                                   (unsigned long long)i, hearth_gguf_vtype_name(src->v.arr.items[i].type));
            hearth_status st = copy_value(w, key, &items[i], &src->v.arr.items[i], depth + 1, err);
            if (st) return st;
        }
        dst->v.arr.items = items;
    } else {
        if (bytes) memcpy(copy, src->v.arr.data, bytes);
        if (et == HEARTH_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (((const uint8_t *)copy)[i] > 1)
                    return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: element %llu: bool: expected 0 or 1, found %u",
                                       key, (unsigned long long)i, ((const uint8_t *)copy)[i]);
        dst->v.arr.data = copy;
    }
    return HEARTH_OK;
}

static hearth_status check_name(const char *what, const char *name, size_t max, hearth_error *err)
{
    if (!name || !*name) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: expected a non-empty name", what);
    size_t len = strlen(name);
    if (len > max)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s '%.64s...': expected at most %zu bytes, found %zu",
                           what, name, max, len);
    return HEARTH_OK;
}

static hearth_status not_after_begin(const hearth_gguf_writer *w, const char *name, hearth_error *err)
{
    if (w->spent)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: cannot change a file already being written", name);
    return HEARTH_OK;
}

hearth_status hearth_gguf_set_value(hearth_gguf_writer *w, const char *key, const hearth_gguf_value *v, hearth_error *err)
{
    hearth_status st = check_name("key", key, GGUF_MAX_KEY_LEN, err);
    if (!st) st = not_after_begin(w, key, err);
    if (st) return st;
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kvs[i].key.s, key) == 0)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: expected a new key, found it already set", key);
    if (strcmp(key, "general.alignment") == 0) {
        if (v->type != HEARTH_GGUF_UINT32 || v->v.u64 == 0 || (v->v.u64 & (v->v.u64 - 1)) != 0)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: general.alignment: expected a u32 power of two");
        w->alignment = (size_t)v->v.u64;
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 32;
        hearth_gguf_kv *k = realloc(w->kvs, cap * sizeof *k);
        if (!k) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", key);
        w->kvs = k;
        w->cap_kv = cap;
    }
    hearth_gguf_kv *kv = &w->kvs[w->n_kv];
    if (!copy_str(&w->arena, &kv->key, key, strlen(key))) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", key);
    st = copy_value(w, key, &kv->value, v, 0, err);
    if (st) return st;
    w->n_kv++;
    return HEARTH_OK;
}

static hearth_status set_scalar(hearth_gguf_writer *w, const char *key, hearth_gguf_vtype t, uint64_t u, int64_t i,
                                double f, hearth_error *err)
{
    hearth_gguf_value v = {.type = t};
    if (t == HEARTH_GGUF_FLOAT32 || t == HEARTH_GGUF_FLOAT64) v.v.f64 = f;
    else if (t == HEARTH_GGUF_BOOL) v.v.b = u != 0;
    else if (t == HEARTH_GGUF_INT32 || t == HEARTH_GGUF_INT64) v.v.i64 = i;
    else v.v.u64 = u;
    return hearth_gguf_set_value(w, key, &v, err);
}

hearth_status hearth_gguf_set_u32(hearth_gguf_writer *w, const char *key, uint32_t v, hearth_error *err)
{
    return set_scalar(w, key, HEARTH_GGUF_UINT32, v, 0, 0, err);
}
hearth_status hearth_gguf_set_i32(hearth_gguf_writer *w, const char *key, int32_t v, hearth_error *err)
{
    return set_scalar(w, key, HEARTH_GGUF_INT32, 0, v, 0, err);
}
hearth_status hearth_gguf_set_u64(hearth_gguf_writer *w, const char *key, uint64_t v, hearth_error *err)
{
    return set_scalar(w, key, HEARTH_GGUF_UINT64, v, 0, 0, err);
}
hearth_status hearth_gguf_set_f32(hearth_gguf_writer *w, const char *key, float v, hearth_error *err)
{
    return set_scalar(w, key, HEARTH_GGUF_FLOAT32, 0, 0, v, err);
}
hearth_status hearth_gguf_set_bool(hearth_gguf_writer *w, const char *key, bool v, hearth_error *err)
{
    return set_scalar(w, key, HEARTH_GGUF_BOOL, v, 0, 0, err);
}

hearth_status hearth_gguf_set_str(hearth_gguf_writer *w, const char *key, const char *s, hearth_error *err)
{
    hearth_gguf_value v = {.type = HEARTH_GGUF_STRING, .v.str = {.s = s ? s : "", .len = s ? strlen(s) : 0}};
    return hearth_gguf_set_value(w, key, &v, err);
}

hearth_status hearth_gguf_set_arr(hearth_gguf_writer *w, const char *key, hearth_gguf_vtype elem, const void *data,
                                  uint64_t n, hearth_error *err)
{
    if (!width_of(elem))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: expected a scalar element type, found %s", key,
                           hearth_gguf_vtype_name(elem));
    hearth_gguf_value v = {.type = HEARTH_GGUF_ARRAY, .v.arr = {.type = elem, .n = n, .data = data}};
    return hearth_gguf_set_value(w, key, &v, err);
}

hearth_status hearth_gguf_set_arr_str(hearth_gguf_writer *w, const char *key, const char *const *strs, uint64_t n,
                                      hearth_error *err)
{
    if (n > SIZE_MAX / sizeof(hearth_gguf_str))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: too many strings", key);
    hearth_gguf_str *tmp = malloc(n ? (size_t)n * sizeof *tmp : 1);
    if (!tmp) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", key);
    for (uint64_t i = 0; i < n; i++) {
        tmp[i].s = strs[i] ? strs[i] : "";
        tmp[i].len = strlen(tmp[i].s);
    }
    hearth_gguf_value v = {.type = HEARTH_GGUF_ARRAY, .v.arr = {.type = HEARTH_GGUF_STRING, .n = n, .strs = tmp}};
    hearth_status st = hearth_gguf_set_value(w, key, &v, err);
    free(tmp);
    return st;
}

hearth_status hearth_gguf_add_tensor(hearth_gguf_writer *w, const char *name, hearth_type type, uint32_t n_dims,
                                     const int64_t *ne, hearth_error *err)
{
    hearth_status st = check_name("tensor name", name, GGUF_MAX_TENSOR_NAME, err);
    if (!st) st = not_after_begin(w, name, err);
    if (st) return st;
    const hearth_type_traits *tr = hearth_type_traits_of((uint32_t)type);
    if (!tr->name) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: unknown tensor type %d", name, (int)type);
    if (n_dims < 1 || n_dims > HEARTH_GGUF_MAX_DIMS)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: expected 1..4 dims, found %u", name, n_dims);
    hearth_gguf_tensor t = {.type = type, .n_dims = 1};
    for (int d = 0; d < HEARTH_GGUF_MAX_DIMS; d++) {
        t.ne[d] = (uint32_t)d < n_dims ? ne[d] : 1;
        if (t.ne[d] < 0)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: ne[%d]: expected >= 0, found %lld", name, d,
                               (long long)t.ne[d]);
        if (t.ne[d] != 1) t.n_dims = (uint32_t)d + 1; /* ggml_n_dims: trailing 1s are not written */
    }
    if (t.ne[0] % tr->block_size)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: ne[0] = %lld is not a multiple of %s's block size %u",
                           name, (long long)t.ne[0], tr->name, tr->block_size);
    size_t bytes = hearth_row_size(type, t.ne[0]);
    bool overflow = bytes == 0 && t.ne[0] != 0;
    for (int d = 1; d < HEARTH_GGUF_MAX_DIMS; d++) overflow |= !hearth_size_mul(bytes, (size_t)t.ne[d], &bytes);
    if (overflow) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: size overflows", name);
    t.size = bytes;
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name.s, name) == 0)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: %s: expected a new tensor name, found it already added",
                               name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 64;
        hearth_gguf_tensor *p = realloc(w->tensors, cap * sizeof *p);
        if (!p) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", name);
        w->tensors = p;
        w->cap_tensors = cap;
    }
    if (!copy_str(&w->arena, &t.name, name, strlen(name))) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", name);
    w->tensors[w->n_tensors++] = t;
    return HEARTH_OK;
}

uint64_t hearth_gguf_writer_data_size(const hearth_gguf_writer *w)
{
    uint64_t n = 0;
    for (size_t i = 0; i < w->n_tensors; i++) n += w->tensors[i].size;
    return n;
}

/* ---- output ------------------------------------------------------------------------------ */

/* Header, metadata, tensor infos (offsets computed here, with the final alignment), padding. */
static hearth_status put_meta(hearth_gguf_writer *w, hearth_error *err)
{
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        hearth_gguf_tensor *t = &w->tensors[i];
        t->offset = off;
        uint64_t padded = (t->size + w->alignment - 1) / w->alignment * w->alignment;
        if (off + padded < off) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: data section overflows");
        off += padded;
    }
    sink *s = &w->out;
    put(s, "GGUF", 4);
    put_le(s, 3, 4);
    put_le(s, w->n_tensors, 8);
    put_le(s, w->n_kv, 8);
    for (size_t i = 0; i < w->n_kv; i++) {
        put_str(s, &w->kvs[i].key);
        put_le(s, (uint32_t)w->kvs[i].value.type, 4);
        put_value(s, &w->kvs[i].value);
    }
    for (size_t i = 0; i < w->n_tensors; i++) {
        const hearth_gguf_tensor *t = &w->tensors[i];
        put_str(s, &t->name);
        put_le(s, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++) put_le(s, (uint64_t)t->ne[d], 8);
        put_le(s, (uint32_t)t->type, 4);
        put_le(s, t->offset, 8);
    }
    pad(s, w->alignment);
    w->data_start = s->written;
    w->cur = 0;
    w->cur_done = 0;
    while (w->cur < w->n_tensors && w->tensors[w->cur].size == 0) w->cur++;
    return HEARTH_OK;
}

static hearth_status sink_status(hearth_gguf_writer *w, hearth_error *err)
{
    if (!w->out.error) return HEARTH_OK;
    const char *name = w->path ? w->path : "gguf buffer";
    if (w->out.error == ENOMEM) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", name);
    return hearth_fail(err, HEARTH_ERR_IO, "%s: write failed: %s", name, strerror(w->out.error));
}

hearth_status hearth_gguf_writer_begin(hearth_gguf_writer *w, const char *path, hearth_error *err)
{
    if (w->spent) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: gguf writer: already written", path);
    w->spent = true;
    size_t plen = strlen(path);
    w->path = strdup(path);
    w->tmp = malloc(plen + 32);
    if (!w->path || !w->tmp) {
        close_temp(w);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(w->tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    w->out.f = fopen(w->tmp, "wbx");
    if (!w->out.f && errno == EEXIST) { /* a stale temp file from a crashed run with our pid */
        unlink(w->tmp);
        w->out.f = fopen(w->tmp, "wbx");
    }
    if (!w->out.f) {
        hearth_status st = hearth_fail(err, HEARTH_ERR_IO, "%s: cannot create: %s", w->tmp, strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
        close_temp(w);
        return st;
    }
    setvbuf(w->out.f, NULL, _IOFBF, 1 << 20);
    hearth_status st = put_meta(w, err);
    if (!st) st = sink_status(w, err);
    if (st) close_temp(w);
    return st;
}

/* Feeds tensor data in order, padding after each tensor completes. */
static hearth_status feed(hearth_gguf_writer *w, const void *data, size_t n, hearth_error *err)
{
    const uint8_t *p = data;
    while (n > 0) {
        if (w->cur >= w->n_tensors)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: gguf writer: %zu bytes more than the tensors need",
                               w->path ? w->path : "gguf buffer", n);
        hearth_gguf_tensor *t = &w->tensors[w->cur];
        size_t take = (size_t)HEARTH_MIN((uint64_t)n, t->size - w->cur_done);
        put(&w->out, p, take);
        p += take;
        n -= take;
        w->cur_done += take;
        if (w->cur_done == t->size) {
            pad(&w->out, w->alignment);
            w->cur_done = 0;
            do w->cur++;
            while (w->cur < w->n_tensors && w->tensors[w->cur].size == 0);
        }
        hearth_status st = sink_status(w, err);
        if (st) return st;
    }
    return HEARTH_OK;
}

hearth_status hearth_gguf_writer_write(hearth_gguf_writer *w, const void *data, size_t n, hearth_error *err)
{
    if (!w->out.f) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: write before begin");
    hearth_status st = feed(w, data, n, err);
    if (st) close_temp(w);
    return st;
}

hearth_status hearth_gguf_writer_finish(hearth_gguf_writer *w, hearth_error *err)
{
    if (!w->out.f) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: finish before begin");
    if (w->cur < w->n_tensors) {
        hearth_status st = hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                                       "%s: gguf writer: tensor '%s' and %zu after it have no data yet", w->path,
                                       w->tensors[w->cur].name.s, w->n_tensors - w->cur - 1);
        close_temp(w);
        return st;
    }
    FILE *f = w->out.f;
    w->out.f = NULL;
    int e = 0;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) e = errno;
    if (fclose(f) != 0 && !e) e = errno;
    if (!e && rename(w->tmp, w->path) != 0) e = errno;
    if (e) {
        hearth_status st = hearth_fail(err, HEARTH_ERR_IO, "%s: cannot finish writing: %s", w->path, strerror(e));
        close_temp(w);
        return st;
    }
    free(w->tmp); /* renamed: nothing to remove */
    w->tmp = NULL;
    close_temp(w);
    return HEARTH_OK;
}

hearth_status hearth_gguf_writer_to_buffer(hearth_gguf_writer *w, const void *const *tensor_data, void **out,
                                           size_t *out_len, hearth_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (w->spent) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: already written");
    w->spent = true;
    hearth_status st = put_meta(w, err);
    for (size_t i = 0; !st && i < w->n_tensors; i++) {
        if (w->tensors[i].size && !tensor_data[i])
            st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gguf writer: tensor '%s' has no data", w->tensors[i].name.s);
        else
            st = feed(w, tensor_data[i], (size_t)w->tensors[i].size, err);
    }
    if (!st) st = sink_status(w, err);
    if (!st && !w->out.buf) st = hearth_fail(err, HEARTH_ERR_INTERNAL, "gguf writer: empty output");
    if (st) {
        free(w->out.buf);
    } else {
        *out = w->out.buf;
        *out_len = w->out.len;
    }
    w->out.buf = NULL;
    w->out.len = w->out.cap = 0;
    return st;
}
