/*
 * cuda.h — GPU offload as the rest of hearth sees it. Built in every configuration: without
 * `make CUDA=1` the probe says "not built" and nothing is ever offloaded, so callers need no
 * #ifdefs.
 *
 * Offload policy (hearth_gpu_offload, called by the model loader): the last n layers'
 * matrices live in device memory, the first n_layer - n stay in the mmap. Activations, the
 * KV cache of every layer, the embeddings, norms and the output layer live on the device, and
 * one CUDA backend instance per context runs the whole forward pass; a matrix of a layer that
 * was not offloaded is multiplied on the CPU threads (x is copied down, y back up). So a
 * split costs two small copies per CPU-side matmul, never a second set of buffers, and the
 * forward pass is the same code for any split.
 */
#ifndef HEARTH_CUDA_CUDA_H
#define HEARTH_CUDA_CUDA_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"

typedef struct hearth_gpu_device {
    char name[256];
    int cc_major, cc_minor;
    size_t free_bytes, total_bytes;
    double bandwidth_gbs; /* theoretical peak, 0 if unknown */
} hearth_gpu_device;

/* True in a `make CUDA=1` build. */
bool hearth_gpu_built(void);

/* Usable devices (probed once per process); 0 with the reason in why (may be NULL). In a
 * CUDA build that finds none, the first call logs the one fallback warning. */
int hearth_gpu_probe(char *why, size_t why_len);
hearth_status hearth_gpu_device_get(int i, hearth_gpu_device *out, hearth_error *err);

/* n_gpu_layers when the caller did not choose: $HEARTH_GPU_LAYERS ("all" or a number) if
 * set, else -2 (auto) in a CUDA build and 0 otherwise. */
int hearth_gpu_default_layers(void);

/* Resolves n (0 none, -1 all, -2 auto: as many as fit in free device memory after the KV
 * cache, buffers and output layer, for an n_ctx-token context) and moves that many layers to
 * the device. Without a usable device it does nothing (m->n_gpu_layers = 0). */
hearth_status hearth_gpu_offload(hearth_model *m, int n, hearth_error *err);

/* The backend instance a context of an offloaded model runs on (its own stream, buffers and
 * n_threads CPU workers for the layers left on the CPU). */
hearth_backend *hearth_gpu_context_backend(hearth_model *m, int n_threads, hearth_error *err);

/* Layers offloaded when m was loaded (0: none), and the model's layer count. */
int hearth_gpu_model_layers(const hearth_model *m);
int hearth_model_n_layer(const hearth_model *m);

/* ---- implemented in backend_cuda.c (CUDA builds only) ---------------------------------- */
hearth_backend *hearth_backend_cuda_new(const hearth_kernels *k, int n_threads, hearth_error *err);
/* A handle for a matrix that stays in host memory: matmul runs on the instance's CPU threads. */
hearth_status hearth_cuda_weight_host(hearth_backend *be, const hearth_matrix *host, hearth_bweight **out,
                                      hearth_error *err);

#endif
