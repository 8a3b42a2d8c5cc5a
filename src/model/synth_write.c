/*
 * synth_write.c — generating and streaming a synthesized model: metadata as llama.cpp's
 * converter writes it, then each tensor in row chunks (bounded memory at any model size),
 * rows generated and quantized in parallel. Every row has its own seed, so the bytes depend
 * only on the seed and the shape, never on the thread count or chunking.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gguf/gguf.h"
#include "kernels/kernels.h"
#include "model/synth.h"

#define CHUNK_BYTES (16u << 20) /* output bytes generated per parallel step */
#define WEIGHT_STD 0.02f

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t synth_seed(uint64_t seed, const char *name, int64_t row)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = name; *p; p++) h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    uint64_t s = seed ^ h;
    splitmix(&s);
    s ^= (uint64_t)row * 0xd6e8feb86659fd93ull;
    return splitmix(&s);
}

/* Roughly N(0, 1): the sum of four 16-bit uniforms (Irwin-Hall), one PRNG step per value.
 * Speed does not depend on weight values, and this keeps multi-GB models quick to make. */
static float normalish(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    uint64_t r = *s * 0x2545f4914f6cdd1dull;
    float sum = (float)(r & 0xffff) + (float)((r >> 16) & 0xffff) + (float)((r >> 32) & 0xffff) + (float)(r >> 48);
    return (sum * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

/* Llama 3.1/3.2 "llama3" RoPE scaling factors per rotated pair, as convert_hf_to_gguf.py
 * computes them (low_freq_factor 1, high_freq_factor 4, original context 8192). */
static void rope_freqs(float *x, int64_t n_pairs, double theta, double factor)
{
    const double old_ctx = 8192, low = 1, high = 4;
    const double low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
    for (int64_t i = 0; i < n_pairs; i++) {
        double freq = 1.0 / pow(theta, (double)(2 * i) / (double)(2 * n_pairs));
        double wavelen = 2 * M_PI / freq;
        if (wavelen < high_wavelen) {
            x[i] = 1.0f;
        } else if (wavelen > low_wavelen) {
            x[i] = (float)factor;
        } else {
            double smooth = (old_ctx / wavelen - low) / (high - low);
            x[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
        }
    }
}

typedef struct job {
    const hearth_synth_config *c;
    const hearth_synth_tensor *t;
    int64_t row0, n_rows;
    size_t row_bytes;
    uint8_t *out;
    float *scratch; /* n_threads rows of ne[0] floats */
    int failed[64];
} job;

static void fill_row(const job *j, int64_t row, float *x)
{
    const hearth_synth_tensor *t = j->t;
    if (t->init == SYNTH_INIT_ROPE_FREQS) {
        rope_freqs(x, t->ne[0], j->c->rope_theta, j->c->llama3_rope_factor);
        return;
    }
    uint64_t s = synth_seed(j->c->seed, t->name, row) | 1; /* xorshift needs a nonzero state */
    float base = t->init == SYNTH_INIT_NORM ? 1.0f : 0.0f;
    for (int64_t i = 0; i < t->ne[0]; i++) x[i] = base + WEIGHT_STD * normalish(&s);
}

static void run_rows(void *arg, int ith, int nth)
{
    job *j = arg;
    float *x = j->scratch + (size_t)ith * (size_t)j->t->ne[0];
    for (int64_t r = ith; r < j->n_rows; r += nth) {
        fill_row(j, j->row0 + r, x);
        if (hearth_quantize(j->t->type, x, j->out + (size_t)r * j->row_bytes, 1, j->t->ne[0]) != j->row_bytes)
            j->failed[ith & 63] = 1;
    }
}

static uint32_t file_type(const hearth_synth_config *c)
{
    switch (c->mix) {
    case HEARTH_SYNTH_Q3_K_M: return 12;
    case HEARTH_SYNTH_Q4_K_S: return 14;
    case HEARTH_SYNTH_Q4_K_M: return 15;
    case HEARTH_SYNTH_Q5_K_S: return 16;
    case HEARTH_SYNTH_Q5_K_M: return 17;
    case HEARTH_SYNTH_PURE: break;
    }
    switch (c->type) { /* llama_ftype for a file "mostly" of this type */
    case HEARTH_TYPE_F32: return 0;
    case HEARTH_TYPE_F16: return 1;
    case HEARTH_TYPE_Q4_0: return 2;
    case HEARTH_TYPE_Q4_1: return 3;
    case HEARTH_TYPE_Q8_0: return 7;
    case HEARTH_TYPE_Q5_0: return 8;
    case HEARTH_TYPE_Q5_1: return 9;
    case HEARTH_TYPE_Q2_K: return 10;
    case HEARTH_TYPE_Q3_K: return 11;
    case HEARTH_TYPE_Q4_K: return 14;
    case HEARTH_TYPE_Q5_K: return 16;
    case HEARTH_TYPE_Q6_K: return 18;
    case HEARTH_TYPE_BF16: return 32;
    default: return 1024; /* LLAMA_FTYPE_GUESSED */
    }
}

/* "{arch}.suffix" */
static const char *akey(const hearth_synth_config *c, const char *suffix)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s.%s", c->arch, suffix);
    return buf;
}

static hearth_status put_metadata(hearth_gguf_writer *w, const hearth_synth_config *c, const hearth_gguf *vocab,
                                  hearth_error *err)
{
    bool bert = strcmp(c->arch, "bert") == 0;
    int64_t hd = c->head_dim ? c->head_dim : c->n_embd / c->n_head;
    char name[96];
    snprintf(name, sizeof name, "%s", c->name[0] ? c->name : c->arch);
    hearth_status st = hearth_gguf_set_str(w, "general.architecture", c->arch, err);
    if (!st) st = hearth_gguf_set_str(w, "general.name", name, err);
    if (!st) st = hearth_gguf_set_u32(w, "general.file_type", file_type(c), err);
    if (!st) st = hearth_gguf_set_u32(w, "general.quantization_version", 2, err);
    if (!st) st = hearth_gguf_set_u32(w, akey(c, "context_length"), (uint32_t)c->n_ctx, err);
    if (!st) st = hearth_gguf_set_u32(w, akey(c, "embedding_length"), (uint32_t)c->n_embd, err);
    if (!st) st = hearth_gguf_set_u32(w, akey(c, "block_count"), (uint32_t)c->n_layer, err);
    if (!st) st = hearth_gguf_set_u32(w, akey(c, "feed_forward_length"), (uint32_t)c->n_ff, err);
    if (!st) st = hearth_gguf_set_u32(w, akey(c, "attention.head_count"), (uint32_t)c->n_head, err);
    if (!st) st = hearth_gguf_set_u32(w, akey(c, "attention.head_count_kv"), (uint32_t)c->n_head_kv, err);
    if (bert) {
        if (!st) st = hearth_gguf_set_f32(w, akey(c, "attention.layer_norm_epsilon"), (float)c->norm_eps, err);
        if (!st) st = hearth_gguf_set_bool(w, akey(c, "attention.causal"), false, err);
        if (!st) st = hearth_gguf_set_u32(w, akey(c, "pooling_type"), (uint32_t)c->pooling, err);
    } else {
        if (!st) st = hearth_gguf_set_f32(w, akey(c, "attention.layer_norm_rms_epsilon"), (float)c->norm_eps, err);
        if (!st) st = hearth_gguf_set_f32(w, akey(c, "rope.freq_base"), (float)c->rope_theta, err);
        if (!st) st = hearth_gguf_set_u32(w, akey(c, "rope.dimension_count"), (uint32_t)hd, err);
        if (!st) st = hearth_gguf_set_u32(w, akey(c, "attention.key_length"), (uint32_t)hd, err);
        if (!st) st = hearth_gguf_set_u32(w, akey(c, "attention.value_length"), (uint32_t)hd, err);
    }
    if (st) return st;
    if (vocab) {
        for (int64_t i = 0; i < hearth_gguf_n_kv(vocab) && !st; i++) {
            const hearth_gguf_kv *kv = hearth_gguf_kv_at(vocab, i);
            if (strncmp(kv->key.s, "tokenizer.", 10) == 0) st = hearth_gguf_set_value(w, kv->key.s, &kv->value, err);
        }
    } else {
        st = synth_vocab_write(w, c->arch, c->n_vocab, err);
    }
    if (!st && bert && !(vocab && hearth_gguf_get(vocab, "tokenizer.ggml.token_type_count")))
        st = hearth_gguf_set_u32(w, "tokenizer.ggml.token_type_count", 2, err);
    if (!st) st = hearth_gguf_set_u32(w, akey(c, "vocab_size"), (uint32_t)c->n_vocab, err);
    return st;
}

static hearth_status write_tensors(hearth_gguf_writer *w, const hearth_synth_config *c, const hearth_synth_tensor *ts,
                                   int64_t n, hearth_synth_progress_fn progress, void *user, hearth_error *err)
{
    int nth = c->n_threads > 0 ? c->n_threads : hearth_physical_cores();
    nth = HEARTH_MAX(1, HEARTH_MIN(nth, 64));
    int64_t max_cols = 1;
    size_t max_row = 1;
    for (int64_t i = 0; i < n; i++) {
        max_cols = HEARTH_MAX(max_cols, ts[i].ne[0]);
        max_row = HEARTH_MAX(max_row, hearth_row_size(ts[i].type, ts[i].ne[0]));
    }
    size_t chunk = HEARTH_MAX((size_t)CHUNK_BYTES, max_row);
    uint64_t total = hearth_gguf_writer_data_size(w), done = 0;
    hearth_threadpool *tp = hearth_threadpool_new(nth);
    if (tp) nth = hearth_threadpool_size(tp);
    float *scratch = malloc((size_t)nth * (size_t)max_cols * sizeof(float));
    uint8_t *out = malloc(chunk);
    hearth_status st = HEARTH_OK;
    if (!tp || !scratch || !out || nth > 64) st = hearth_fail(err, HEARTH_ERR_NOMEM, "synth: out of memory");
    for (int64_t i = 0; i < n && !st; i++) {
        job j = {.c = c, .t = &ts[i], .scratch = scratch, .out = out};
        j.row_bytes = hearth_row_size(ts[i].type, ts[i].ne[0]);
        int64_t rows = ts[i].ne[1], per = (int64_t)(chunk / j.row_bytes);
        for (j.row0 = 0; j.row0 < rows && !st; j.row0 += per) {
            j.n_rows = HEARTH_MIN(per, rows - j.row0);
            hearth_threadpool_run(tp, run_rows, &j);
            for (int k = 0; k < 64; k++)
                if (j.failed[k])
                    st = hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "synth: %s: hearth cannot quantize to %s", ts[i].name,
                                     hearth_type_name(ts[i].type));
            if (!st) st = hearth_gguf_writer_write(w, out, (size_t)j.n_rows * j.row_bytes, err);
            done += (uint64_t)j.n_rows * j.row_bytes;
            if (!st && progress && !progress(ts[i].name, done, total, user))
                st = hearth_fail(err, HEARTH_ERR_CANCELLED, "synth: cancelled");
        }
    }
    free(out);
    free(scratch);
    hearth_threadpool_free(tp);
    return st;
}

hearth_status hearth_synth_write(const hearth_synth_config *config, const char *path, hearth_synth_progress_fn progress,
                                 void *user, hearth_synth_result *result, hearth_error *err)
{
    hearth_synth_config c = *config;
    hearth_gguf *vocab = NULL;
    hearth_status st = HEARTH_OK;
    if (c.vocab_path) {
        const hearth_gguf_value *tokens;
        st = hearth_gguf_open(c.vocab_path, &vocab, err);
        if (!st) st = hearth_gguf_get_arr(vocab, "tokenizer.ggml.tokens", HEARTH_GGUF_STRING, &tokens, err);
        if (st) {
            hearth_gguf_close(vocab);
            return hearth_fail_wrap(err, "--vocab");
        }
        c.n_vocab = (int64_t)tokens->v.arr.n;
    }
    hearth_synth_tensor *ts = NULL;
    int64_t n = 0;
    hearth_gguf_writer *w = NULL;
    st = hearth_synth_plan(&c, &ts, &n, err);
    if (!st && !(w = hearth_gguf_writer_new())) st = hearth_fail(err, HEARTH_ERR_NOMEM, "synth: out of memory");
    if (!st) st = put_metadata(w, &c, vocab, err);
    uint64_t n_params = 0;
    for (int64_t i = 0; i < n && !st; i++) {
        st = hearth_gguf_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, err);
        n_params += (uint64_t)ts[i].ne[0] * (uint64_t)ts[i].ne[1];
    }
    if (!st) st = hearth_gguf_writer_begin(w, path, err);
    if (!st) st = write_tensors(w, &c, ts, n, progress, user, err);
    if (!st) st = hearth_gguf_writer_finish(w, err);
    if (!st && result) {
        struct stat sb;
        result->n_tensors = n;
        result->n_params = n_params;
        result->file_size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
        result->n_vocab = c.n_vocab;
    }
    hearth_gguf_writer_free(w);
    free(ts);
    hearth_gguf_close(vocab);
    return st;
}
