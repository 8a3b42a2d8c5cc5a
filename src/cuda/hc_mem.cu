/*
 * hc_mem.cu — devices, memory, streams and the cuBLAS handle behind hc.h.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#include "cuda/hc.h"
#include "cuda/hc_internal.h"

extern "C" int hc_device_count(char *why, size_t why_len)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        snprintf(why, why_len, "%s", cudaGetErrorString(e));
        cudaGetLastError(); /* clear the sticky-free error so later calls start clean */
        return -1;
    }
    if (n == 0) {
        snprintf(why, why_len, "no CUDA devices found");
        return -1;
    }
    return n;
}

extern "C" int hc_device_info_get(int device, hc_device_info *out)
{
    memset(out, 0, sizeof *out);
    cudaDeviceProp p;
    cudaError_t e = cudaGetDeviceProperties(&p, device);
    if (e != cudaSuccess) return (int)e;
    snprintf(out->name, sizeof out->name, "%s", p.name);
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    out->total_bytes = p.totalGlobalMem;
    int clock_khz = 0, bus_bits = 0;
    if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device) == cudaSuccess &&
        cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device) == cudaSuccess)
        out->bandwidth_gbs = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9; /* double data rate */
    int prev = 0;
    cudaGetDevice(&prev);
    if (cudaSetDevice(device) == cudaSuccess) {
        size_t fr = 0, tot = 0;
        if (cudaMemGetInfo(&fr, &tot) == cudaSuccess) out->free_bytes = fr;
        cudaSetDevice(prev);
    }
    cudaGetLastError();
    return 0;
}

extern "C" int hc_set_device(int device) { return (int)cudaSetDevice(device); }

extern "C" const char *hc_error_string(int code)
{
    if (code >= HC_CUBLAS_BASE) return "cuBLAS call failed";
    return cudaGetErrorString((cudaError_t)code);
}

extern "C" int hc_malloc(void **p, size_t bytes) { return (int)cudaMalloc(p, bytes ? bytes : 1); }
extern "C" void hc_free(void *p)
{
    if (p) cudaFree(p);
}
extern "C" int hc_host_alloc(void **p, size_t bytes) { return (int)cudaMallocHost(p, bytes ? bytes : 1); }
extern "C" void hc_host_free(void *p)
{
    if (p) cudaFreeHost(p);
}

extern "C" int hc_stream_new(hc_stream **out)
{
    hc_stream *s = new (std::nothrow) hc_stream();
    if (!s) return (int)cudaErrorMemoryAllocation;
    cudaError_t e = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        delete s;
        return (int)e;
    }
    if (cublasCreate(&s->blas) != CUBLAS_STATUS_SUCCESS) {
        cudaStreamDestroy(s->stream);
        delete s;
        return HC_CUBLAS_BASE;
    }
    cublasSetStream(s->blas, s->stream);
    /* exact FP32 GEMMs for F32 weights (no TF32): float models are checked against float64 */
    cublasSetMathMode(s->blas, CUBLAS_DEFAULT_MATH);
    *out = s;
    return 0;
}

extern "C" void hc_stream_free(hc_stream *s)
{
    if (!s) return;
    cudaStreamSynchronize(s->stream);
    if (s->exec) cudaGraphExecDestroy(s->exec);
    cublasDestroy(s->blas);
    cudaStreamDestroy(s->stream);
    delete s;
}

extern "C" int hc_sync(hc_stream *s) { return (int)cudaStreamSynchronize(s->stream); }

extern "C" int hc_upload(hc_stream *s, void *dst, const void *src, size_t n)
{
    return (int)cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, s->stream);
}

extern "C" int hc_download(hc_stream *s, void *dst, const void *src, size_t n)
{
    cudaError_t e = cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToHost, s->stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(s->stream);
    return (int)e;
}

extern "C" int hc_copy_d2d(hc_stream *s, void *dst, const void *src, size_t n)
{
    return (int)cudaMemcpyAsync(dst, src, n, cudaMemcpyDeviceToDevice, s->stream);
}

extern "C" int hc_upload_sync(void *dst, const void *src, size_t n)
{
    /* done before returning (a pageable copy may still be in flight when cudaMemcpy returns,
     * and kernels on non-blocking streams do not wait for the legacy stream) */
    cudaError_t e = cudaMemcpy(dst, src, n, cudaMemcpyHostToDevice);
    return (int)(e == cudaSuccess ? cudaDeviceSynchronize() : e);
}

/* ---- CUDA graphs for the decode step ------------------------------------------------------
 * The backend captures a step's launches (the stream records instead of running them) and, at
 * the step's end, launches them as one graph. A step of the same shape as the last one has the
 * same nodes with the same arguments (metadata comes from fixed ring offsets), so the cached
 * executable graph is updated in place (cheap) instead of instantiated again. */
extern "C" int hc_capture_begin(hc_stream *s)
{
    return (int)cudaStreamBeginCapture(s->stream, cudaStreamCaptureModeRelaxed);
}

extern "C" int hc_capture_end_launch(hc_stream *s)
{
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(s->stream, &g);
    if (e != cudaSuccess) return (int)e;
    if (s->exec) {
        cudaGraphExecUpdateResultInfo info;
        if (cudaGraphExecUpdate(s->exec, g, &info) != cudaSuccess) {
            cudaGetLastError(); /* not updatable (different shape): instantiate anew */
            cudaGraphExecDestroy(s->exec);
            s->exec = NULL;
        }
    }
    if (!s->exec) e = cudaGraphInstantiate(&s->exec, g, 0);
    cudaGraphDestroy(g);
    if (e == cudaSuccess) e = cudaGraphLaunch(s->exec, s->stream);
    return (int)e;
}
