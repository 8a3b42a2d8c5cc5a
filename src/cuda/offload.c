/*
 * offload.c — which layers go to the GPU, and the one-time device probe (see cuda.h).
 *
 * Built in every configuration; the parts that call CUDA are under HEARTH_CUDA, so a
 * default build answers "not built" and never offloads.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda.h"
#ifdef HEARTH_CUDA
#include "cuda/hc.h"
#endif

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static int probe_devices;
static char probe_why[256];

static void probe_run(void)
{
#ifdef HEARTH_CUDA
    char why[200] = "";
    int n = hc_device_count(why, sizeof why);
    if (n > 0) {
        probe_devices = n;
        return;
    }
    snprintf(probe_why, sizeof probe_why, "%s", why);
    hearth_warn("CUDA backend built, but no usable GPU (%s); running on the CPU", why);
#else
    snprintf(probe_why, sizeof probe_why, "hearth was built without CUDA (make CUDA=1)");
#endif
}

bool hearth_gpu_built(void)
{
#ifdef HEARTH_CUDA
    return true;
#else
    return false;
#endif
}

int hearth_gpu_probe(char *why, size_t why_len)
{
    pthread_once(&probe_once, probe_run);
    if (why && why_len) snprintf(why, why_len, "%s", probe_devices ? "" : probe_why);
    return probe_devices;
}

hearth_status hearth_gpu_device_get(int i, hearth_gpu_device *out, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= hearth_gpu_probe(NULL, 0))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "gpu: no device %d", i);
#ifdef HEARTH_CUDA
    hc_device_info d;
    int e = hc_device_info_get(i, &d);
    if (e) return hearth_fail(err, HEARTH_ERR_IO, "gpu: device %d: %s", i, hc_error_string(e));
    memcpy(out->name, d.name, sizeof out->name);
    out->cc_major = d.cc_major;
    out->cc_minor = d.cc_minor;
    out->free_bytes = d.free_bytes;
    out->total_bytes = d.total_bytes;
    out->bandwidth_gbs = d.bandwidth_gbs;
#endif
    return HEARTH_OK;
}

int hearth_gpu_model_layers(const hearth_model *m) { return m ? m->n_gpu_layers : 0; }
int hearth_model_n_layer(const hearth_model *m) { return m ? m->hp.n_layer : 0; }

int hearth_gpu_default_layers(void)
{
    const char *env = getenv("HEARTH_GPU_LAYERS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (!strcmp(env, "all")) return -1;
        if (!strcmp(env, "auto")) return -2;
        if (!*end && v >= -2 && v <= 100000) return (int)v;
        hearth_warn("HEARTH_GPU_LAYERS=%s: expected a layer count, 'all' or 'auto'; ignored", env);
    }
    return hearth_gpu_built() ? -2 : 0;
}

#ifdef HEARTH_CUDA

/* The layer a bound weight belongs to (its hearth_weight lies inside m->layers[il]), or -1. */
static int layer_of(const hearth_model *m, const hearth_weight *w)
{
    uintptr_t p = (uintptr_t)w, base = (uintptr_t)m->layers;
    uintptr_t end = base + (uintptr_t)m->hp.n_layer * sizeof *m->layers;
    return p >= base && p < end ? (int)((p - base) / sizeof *m->layers) : -1;
}

static uint64_t device_bytes(const hearth_weight *w)
{
    const hearth_matrix *h = &w->m;
    if (h->rows == 1) return (uint64_t)h->cols * 4;
    if (hc_type_native((int)h->type)) return hearth_row_size(h->type, h->cols) * (uint64_t)h->rows;
    return (uint64_t)h->rows * (uint64_t)h->cols * 2; /* converted to F16 */
}

/* -2: as many layers as fit in free memory after everything that lives on the device for
 * any split (embeddings, output, norms, every layer's KV cache for a 4096-token F16 context,
 * activations and GEMM scratch for 512-token batches, and 512 MiB for CUDA/cuBLAS). */
static int auto_layers(const hearth_model *m)
{
    hearth_gpu_device d;
    if (hearth_gpu_device_get(0, &d, NULL)) return 0;
    const hearth_hparams *hp = &m->hp;
    uint64_t per_layer = 0, fixed = (uint64_t)512 << 20;
    int64_t max_cols = hp->n_embd;
    for (int32_t i = 0; i < m->n_bound; i++) {
        const hearth_weight *w = m->bound[i];
        if (layer_of(m, w) >= 0 && w->m.rows > 1) per_layer += device_bytes(w);
        else fixed += device_bytes(w);
        max_cols = HEARTH_MAX(max_cols, w->m.cols);
    }
    per_layer /= (uint64_t)HEARTH_MAX(hp->n_layer, 1);
    uint64_t cells = (uint64_t)HEARTH_MIN(hp->n_ctx_train > 0 ? hp->n_ctx_train : 4096, 4096);
    fixed += (uint64_t)hp->n_layer * 2 * cells * (uint64_t)hp->n_head_kv * (uint64_t)hp->head_dim * 2;
    fixed += 512ull * 4 * (uint64_t)(6 * hp->n_embd + 2 * HEARTH_MAX(hp->n_ff, 1) + 2 * hp->n_head * hp->head_dim);
    fixed += 16ull * 4 * (uint64_t)hp->n_vocab + (4096ull + 512) * 2 * (uint64_t)max_cols;
    if (fixed >= d.free_bytes || !per_layer) return 0;
    uint64_t n = (d.free_bytes - fixed) / per_layer;
    return (int)HEARTH_MIN(n, (uint64_t)hp->n_layer);
}

hearth_status hearth_gpu_offload(hearth_model *m, int n, hearth_error *err)
{
    m->n_gpu_layers = 0;
    if (n == 0 || !hearth_gpu_probe(NULL, 0)) return HEARTH_OK;
    int n_layer = m->hp.n_layer;
    bool automatic = n == -2;
    if (automatic) n = auto_layers(m);
    else if (n < 0 || n > n_layer) n = n_layer;
    if (n == 0) {
        hearth_warn("%s: not enough free GPU memory for even one layer; running on the CPU", m->path);
        return HEARTH_OK;
    }
    hearth_bweight **fresh = calloc((size_t)HEARTH_MAX(m->n_bound, 1), sizeof *fresh);
    hearth_backend *gpu = fresh ? hearth_backend_cuda_new(m->kernels, 0, err) : NULL;
    hearth_status st = gpu ? HEARTH_OK : fresh ? (err ? err->status : HEARTH_ERR_IO)
                                             : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    int first = n_layer - n;
    for (int32_t i = 0; !st && i < m->n_bound; i++) {
        hearth_weight *w = m->bound[i];
        int il = layer_of(m, w);
        if (il >= 0 && il < first && w->m.rows > 1) st = hearth_cuda_weight_host(gpu, &w->m, &fresh[i], err);
        else st = gpu->ops->weight_new(gpu, &w->m, &fresh[i], err);
        if (st) hearth_fail_wrap(err, "%s: tensor '%s'", m->path, w->name);
    }
    if (st) { /* nothing changed: the model stays on the CPU */
        for (int32_t i = 0; gpu && i < m->n_bound; i++) gpu->ops->weight_free(gpu, fresh[i]);
        if (gpu) gpu->ops->free(gpu);
        free(fresh);
        if (!automatic) return st;
        hearth_warn("%s: GPU offload failed (%s); running on the CPU", m->path, err ? err->message : "?");
        hearth_error_clear(err);
        return HEARTH_OK;
    }
    for (int32_t i = 0; i < m->n_bound; i++) {
        m->cpu->ops->weight_free(m->cpu, m->bound[i]->bw);
        m->bound[i]->bw = fresh[i];
    }
    free(fresh);
    if (m->tied_output) m->output.bw = m->tok_embd.bw;
    for (int il = first; il < n_layer; il++) m->layers[il].be = gpu;
    m->gpu = gpu;
    m->n_gpu_layers = n;
    hearth_info("%s: %d of %d layers on the GPU", m->path, n, n_layer);
    return HEARTH_OK;
}

hearth_backend *hearth_gpu_context_backend(hearth_model *m, int n_threads, hearth_error *err)
{
    /* CPU workers only when some layer's matrices stayed on the host */
    return hearth_backend_cuda_new(m->kernels, m->n_gpu_layers < m->hp.n_layer ? n_threads : 0, err);
}

#else

hearth_status hearth_gpu_offload(hearth_model *m, int n, hearth_error *err)
{
    (void)n;
    (void)err;
    m->n_gpu_layers = 0;
    return HEARTH_OK;
}

hearth_backend *hearth_gpu_context_backend(hearth_model *m, int n_threads, hearth_error *err)
{
    (void)m;
    (void)n_threads;
    hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "gpu: hearth was built without CUDA (make CUDA=1)");
    return NULL;
}

#endif
