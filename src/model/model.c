/*
 * model.c — loading a GGUF model: architecture lookup, vocabulary, weight binding with shape
 * checks, and the read-only queries of hearth.h (info, metadata).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cuda/cuda.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

static const hearth_arch_ops *const arch_table[] = {
    &hearth_arch_llama_family[0],
    &hearth_arch_llama_family[1],
    &hearth_arch_llama_family[2],
    &hearth_arch_llama_family[3],
    &hearth_arch_bert,
};

hearth_model_params hearth_model_default_params(void)
{
    hearth_model_params p = {.vocab_only = false, .n_gpu_layers = hearth_gpu_default_layers(), .use_mmap = true};
    const char *env = getenv("HEARTH_MMAP");
    if (env && (!strcmp(env, "0") || !strcasecmp(env, "no") || !strcasecmp(env, "false"))) p.use_mmap = false;
    return p;
}

const hearth_vocab *hearth_model_vocab(const hearth_model *m) { return m ? m->vocab : NULL; }
const hearth_gguf *hearth_model_gguf(const hearth_model *m) { return m ? m->gguf : NULL; }
const hearth_hparams *hearth_model_hparams(const hearth_model *m) { return &m->hp; }

/* ---- hyperparameters -------------------------------------------------------------------- */

/* Builds "ARCH.suffix"; *present tells whether the file has it. A missing required key is an
 * error naming the key. */
static hearth_status hp_key(hearth_model *m, const char *suffix, bool required, char *key, size_t n,
                            bool *present, hearth_error *err)
{
    int len = snprintf(key, n, "%s.%s", m->ops->name, suffix);
    if (len < 0 || (size_t)len >= n)
        return hearth_fail(err, HEARTH_ERR_INTERNAL, "hyperparameter key too long: %s", suffix);
    *present = hearth_gguf_get(m->gguf, key) != NULL;
    if (!*present && required)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: missing required key '%s'", m->path, key);
    return HEARTH_OK;
}

hearth_status hearth_model_hp_i32(hearth_model *m, const char *suffix, bool required, int32_t dflt,
                                  int32_t *out, hearth_error *err)
{
    char key[128];
    bool present;
    hearth_status st = hp_key(m, suffix, required, key, sizeof key, &present, err);
    if (st || !present) {
        *out = dflt;
        return st;
    }
    return hearth_gguf_get_i32(m->gguf, key, out, err);
}

hearth_status hearth_model_hp_f32(hearth_model *m, const char *suffix, bool required, float dflt,
                                  float *out, hearth_error *err)
{
    char key[128];
    bool present;
    hearth_status st = hp_key(m, suffix, required, key, sizeof key, &present, err);
    if (st || !present) {
        *out = dflt;
        return st;
    }
    return hearth_gguf_get_f32(m->gguf, key, out, err);
}

/* ---- weights ------------------------------------------------------------------------------ */

static hearth_status remember(hearth_model *m, hearth_weight *w, hearth_error *err)
{
    if (m->n_bound == m->cap_bound) {
        int32_t cap = m->cap_bound ? m->cap_bound * 2 : 64;
        hearth_weight **b = realloc(m->bound, (size_t)cap * sizeof *b);
        if (!b) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", m->path);
        m->bound = b;
        m->cap_bound = cap;
    }
    m->bound[m->n_bound++] = w;
    return HEARTH_OK;
}

static hearth_status upload(hearth_model *m, hearth_weight *w, hearth_error *err)
{
    hearth_status st = m->cpu->ops->weight_new(m->cpu, &w->m, &w->bw, err);
    if (st) return hearth_fail_wrap(err, "%s: tensor '%s'", m->path, w->name);
    return remember(m, w, err);
}

static hearth_status find_checked(hearth_model *m, hearth_weight *w, bool required, int64_t cols,
                                  int64_t rows, hearth_error *err, const char *fmt, va_list ap)
{
    char name[96];
    int len = vsnprintf(name, sizeof name, fmt, ap);
    if (len < 0 || (size_t)len >= sizeof name)
        return hearth_fail(err, HEARTH_ERR_INTERNAL, "tensor name too long: %s", fmt);
    memset(w, 0, sizeof *w);
    const hearth_gguf_tensor *t = hearth_gguf_find_tensor(m->gguf, name);
    if (!t) {
        if (!required) return HEARTH_OK;
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: missing tensor '%s' (required by %s)",
                           m->path, name, m->ops->name);
    }
    /* GGUF dims: ne[0] = values per row (cols), ne[1] = rows; 1-D tensors are one row. */
    bool one_d = rows == 1;
    bool ok = t->ne[0] == cols && t->ne[2] == 1 && t->ne[3] == 1 &&
              (one_d ? (t->n_dims == 1 || t->ne[1] == 1) : t->ne[1] == rows);
    if (!ok) {
        if (one_d)
            return hearth_fail(err, HEARTH_ERR_FORMAT,
                               "%s: tensor '%s': expected shape [%lld], found [%lld, %lld, %lld, %lld]",
                               m->path, name, (long long)cols, (long long)t->ne[0], (long long)t->ne[1],
                               (long long)t->ne[2], (long long)t->ne[3]);
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: tensor '%s': expected shape [%lld, %lld], found [%lld, %lld, %lld, %lld]",
                           m->path, name, (long long)cols, (long long)rows, (long long)t->ne[0],
                           (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
    }
    if (!hearth_row_size(t->type, cols))
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "%s: tensor '%s': %lld values per row is not a multiple of %s's block size",
                           m->path, name, (long long)cols, hearth_type_name(t->type));
    w->m.type = t->type;
    w->m.rows = rows;
    w->m.cols = cols;
    w->m.data = t->data;
    w->name = t->name.s;
    return HEARTH_OK;
}

hearth_status hearth_model_tensor(hearth_model *m, hearth_weight *w, bool required, int64_t cols,
                                  int64_t rows, hearth_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hearth_status st = find_checked(m, w, required, cols, rows, err, fmt, ap);
    va_end(ap);
    return st;
}

hearth_status hearth_model_bind(hearth_model *m, hearth_weight *w, bool required, int64_t cols,
                                int64_t rows, hearth_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hearth_status st = find_checked(m, w, required, cols, rows, err, fmt, ap);
    va_end(ap);
    if (st || !w->m.data) return st;
    return upload(m, w, err);
}

hearth_status hearth_model_bind_rows(hearth_model *m, hearth_weight *out, const hearth_weight *src,
                                     int64_t row0, int64_t rows, hearth_error *err)
{
    size_t rs = hearth_row_size(src->m.type, src->m.cols);
    *out = *src;
    out->bw = NULL;
    out->m.rows = rows;
    out->m.data = (const char *)src->m.data + (size_t)row0 * rs;
    return upload(m, out, err);
}

/* ---- load / free ---------------------------------------------------------------------------- */

static hearth_status find_arch(hearth_model *m, hearth_error *err)
{
    const char *arch;
    hearth_status st = hearth_gguf_get_str(m->gguf, "general.architecture", &arch, err);
    if (st == HEARTH_ERR_NOT_FOUND)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: missing required key 'general.architecture'", m->path);
    if (st) return st;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(arch_table); i++)
        if (!strcmp(arch_table[i]->name, arch)) {
            m->ops = arch_table[i];
            return HEARTH_OK;
        }
    return hearth_fail(err, HEARTH_ERR_UNSUPPORTED,
                       "%s: architecture '%s' is not supported (supported: llama, qwen2, qwen3, phi3, bert)",
                       m->path, arch);
}

/* The matrices' most common type by weight count: what `ollama show` calls quantization. */
static void summarize(hearth_model *m)
{
    uint64_t per_type[HEARTH_TYPE_COUNT] = {0};
    m->n_params = 0;
    for (int64_t i = 0; i < hearth_gguf_n_tensors(m->gguf); i++) {
        const hearth_gguf_tensor *t = hearth_gguf_tensor_at(m->gguf, i);
        uint64_t n = 1;
        for (uint32_t d = 0; d < HEARTH_GGUF_MAX_DIMS; d++) n *= (uint64_t)t->ne[d];
        m->n_params += n;
        if (t->n_dims >= 2 && (unsigned)t->type < HEARTH_TYPE_COUNT) per_type[t->type] += n;
    }
    /* bytes one decode step streams: every matrix a token multiplies with (the embedding
     * table is only looked up, unless it doubles as the output projection) */
    m->bytes_per_token = 0;
    for (int32_t i = 0; i < m->n_bound; i++) {
        const hearth_weight *w = m->bound[i];
        if (w->m.rows > 1 && w != &m->tok_embd) m->bytes_per_token += hearth_row_size(w->m.type, w->m.cols) * (uint64_t)w->m.rows;
    }
    if (m->tied_output)
        m->bytes_per_token += hearth_row_size(m->tok_embd.m.type, m->tok_embd.m.cols) * (uint64_t)m->tok_embd.m.rows;
    int best = -1;
    for (int t = 0; t < HEARTH_TYPE_COUNT; t++)
        if (per_type[t] && (best < 0 || per_type[t] > per_type[best])) best = t;
    m->file_type = best < 0 ? "unknown" : hearth_type_name((uint32_t)best);
}

hearth_model *hearth_model_load(const char *path, const hearth_model_params *params, hearth_error *err)
{
    hearth_model_params defaults = hearth_model_default_params();
    if (!params) params = &defaults;
    if (!path) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_model_load: path is NULL");
        return NULL;
    }
    /* A store name ("qwen3:0.6b") stands for its GGUF blob; an existing file is kept as is. */
    char resolved[4096];
    if (hearth_store_resolve(path, resolved, sizeof resolved, err) != HEARTH_OK) return NULL;
    path = resolved;
    hearth_model *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    m->vocab_only = params->vocab_only;
    /* a vocabulary-only load never reads the weights in */
    hearth_status st = params->vocab_only ? hearth_gguf_open(path, &m->gguf, err)
                       : params->use_mmap ? hearth_gguf_open_weights(path, &m->gguf, err)
                                          : hearth_gguf_open_read(path, &m->gguf, err);
    /* a vocabulary-only file may name no (or an unknown) architecture */
    if (!st && (st = find_arch(m, err)) && m->vocab_only) st = HEARTH_OK;
    if (!st) st = hearth_vocab_load(m->gguf, &m->vocab, err);
    if (!st && m->vocab_only) {
        summarize(m);
        return m;
    }
    if (!st) {
        m->kernels = hearth_kernels_get();
        m->cpu = hearth_backend_cpu_new(m->kernels, 1, err);
        if (!m->cpu) st = err ? err->status : HEARTH_ERR_NOMEM;
    }
    if (!st) st = m->ops->load(m, err);
    if (!st) st = hearth_gpu_offload(m, params->n_gpu_layers, err);
    if (st) {
        hearth_model_free(m);
        return NULL;
    }
    summarize(m);
    return m;
}

void hearth_model_free(hearth_model *m)
{
    if (!m) return;
    hearth_backend *wb = m->gpu ? m->gpu : m->cpu; /* the backend that holds the weights */
    for (int32_t i = 0; i < m->n_bound; i++) wb->ops->weight_free(wb, m->bound[i]->bw);
    if (m->gpu) m->gpu->ops->free(m->gpu);
    free(m->bound);
    free(m->layers);
    free(m->rope_freqs);
    free(m->rope_long);
    free(m->rope_short);
    if (m->cpu) m->cpu->ops->free(m->cpu);
    hearth_vocab_free(m->vocab);
    hearth_gguf_close(m->gguf);
    free(m->path);
    free(m);
}

/* ---- queries ---------------------------------------------------------------------------------- */

static const char *meta_str(const hearth_model *m, const char *key, const char *dflt)
{
    const hearth_gguf_value *v = hearth_gguf_get(m->gguf, key);
    return v && v->type == HEARTH_GGUF_STRING ? v->v.str.s : dflt;
}

void hearth_model_get_info(const hearth_model *m, hearth_model_info *info)
{
    memset(info, 0, sizeof *info);
    const hearth_hparams *hp = &m->hp;
    info->arch = m->ops ? m->ops->name : meta_str(m, "general.architecture", "");
    info->name = meta_str(m, "general.name", "");
    info->file_type = m->file_type;
    info->n_params = m->n_params;
    info->file_size = hearth_gguf_file_size(m->gguf);
    info->n_vocab = hp->n_vocab;
    info->n_ctx_train = hp->n_ctx_train;
    info->n_embd = hp->n_embd;
    info->n_layer = hp->n_layer;
    info->n_head = hp->n_head;
    info->n_head_kv = hp->n_head_kv;
    info->n_ff = hp->n_ff;
    info->head_dim = hp->head_dim;
    info->rope_freq_base = hp->rope_freq_base;
    info->tokenizer = meta_str(m, "tokenizer.ggml.model", "");
    info->pre = meta_str(m, "tokenizer.ggml.pre", "");
    info->chat_template = meta_str(m, "tokenizer.chat_template", NULL);
    info->weight_bytes_per_token = m->bytes_per_token;
}

int32_t hearth_model_meta_count(const hearth_model *m) { return (int32_t)hearth_gguf_n_kv(m->gguf); }

const char *hearth_model_meta_key(const hearth_model *m, int32_t i)
{
    if (i < 0 || i >= hearth_model_meta_count(m)) return NULL;
    return hearth_gguf_kv_at(m->gguf, i)->key.s;
}

/* Appends printf output to buf at *len, counting what would be written beyond the end. */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...) HEARTH_PRINTF(4, 5);
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

static void put_scalar(char *buf, size_t size, size_t *len, hearth_gguf_vtype t, const void *p)
{
    switch (t) {
    case HEARTH_GGUF_UINT8: put(buf, size, len, "%u", *(const uint8_t *)p); break;
    case HEARTH_GGUF_INT8: put(buf, size, len, "%d", *(const int8_t *)p); break;
    case HEARTH_GGUF_UINT16: put(buf, size, len, "%u", *(const uint16_t *)p); break;
    case HEARTH_GGUF_INT16: put(buf, size, len, "%d", *(const int16_t *)p); break;
    case HEARTH_GGUF_UINT32: put(buf, size, len, "%u", *(const uint32_t *)p); break;
    case HEARTH_GGUF_INT32: put(buf, size, len, "%d", *(const int32_t *)p); break;
    case HEARTH_GGUF_UINT64: put(buf, size, len, "%llu", (unsigned long long)*(const uint64_t *)p); break;
    case HEARTH_GGUF_INT64: put(buf, size, len, "%lld", (long long)*(const int64_t *)p); break;
    case HEARTH_GGUF_FLOAT32: put(buf, size, len, "%g", *(const float *)p); break;
    case HEARTH_GGUF_FLOAT64: put(buf, size, len, "%g", *(const double *)p); break;
    case HEARTH_GGUF_BOOL: put(buf, size, len, "%s", *(const uint8_t *)p ? "true" : "false"); break;
    default: put(buf, size, len, "?"); break;
    }
}

static size_t vtype_width(hearth_gguf_vtype t)
{
    switch (t) {
    case HEARTH_GGUF_UINT8: case HEARTH_GGUF_INT8: case HEARTH_GGUF_BOOL: return 1;
    case HEARTH_GGUF_UINT16: case HEARTH_GGUF_INT16: return 2;
    case HEARTH_GGUF_UINT32: case HEARTH_GGUF_INT32: case HEARTH_GGUF_FLOAT32: return 4;
    default: return 8;
    }
}

/* Arrays are summarized: the first few elements and the count. */
#define META_ARRAY_SHOWN 8

int32_t hearth_model_meta(const hearth_model *m, const char *key, char *buf, size_t buf_size)
{
    const hearth_gguf_value *v = key ? hearth_gguf_get(m->gguf, key) : NULL;
    if (!v) return -1;
    size_t len = 0;
    if (buf && buf_size) buf[0] = '\0';
    else buf_size = 0;
    switch (v->type) {
    case HEARTH_GGUF_STRING: put(buf, buf_size, &len, "%s", v->v.str.s); break;
    case HEARTH_GGUF_UINT8: case HEARTH_GGUF_UINT16: case HEARTH_GGUF_UINT32: case HEARTH_GGUF_UINT64:
        put(buf, buf_size, &len, "%llu", (unsigned long long)v->v.u64); break;
    case HEARTH_GGUF_INT8: case HEARTH_GGUF_INT16: case HEARTH_GGUF_INT32: case HEARTH_GGUF_INT64:
        put(buf, buf_size, &len, "%lld", (long long)v->v.i64); break;
    case HEARTH_GGUF_FLOAT32: case HEARTH_GGUF_FLOAT64: put(buf, buf_size, &len, "%g", v->v.f64); break;
    case HEARTH_GGUF_BOOL: put(buf, buf_size, &len, "%s", v->v.b ? "true" : "false"); break;
    case HEARTH_GGUF_ARRAY: {
        uint64_t n = v->v.arr.n, shown = HEARTH_MIN(n, (uint64_t)META_ARRAY_SHOWN);
        put(buf, buf_size, &len, "[");
        for (uint64_t i = 0; i < shown; i++) {
            if (i) put(buf, buf_size, &len, ", ");
            if (v->v.arr.type == HEARTH_GGUF_STRING) put(buf, buf_size, &len, "\"%s\"", v->v.arr.strs[i].s);
            else if (v->v.arr.type == HEARTH_GGUF_ARRAY) put(buf, buf_size, &len, "[array of %llu]", (unsigned long long)v->v.arr.items[i].v.arr.n);
            else put_scalar(buf, buf_size, &len, v->v.arr.type, (const char *)v->v.arr.data + i * vtype_width(v->v.arr.type));
        }
        if (n > shown) put(buf, buf_size, &len, ", ... (%llu %s)", (unsigned long long)n, hearth_gguf_vtype_name(v->v.arr.type));
        put(buf, buf_size, &len, "]");
        break;
    }
    default: put(buf, buf_size, &len, "?"); break;
    }
    if (buf_size && len >= buf_size) buf[buf_size - 1] = '\0';
    return len > INT32_MAX ? INT32_MAX : (int32_t)len;
}
