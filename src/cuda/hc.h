/*
 * hc.h — the plain-C interface of the CUDA kernels (the .cu files), used by backend_cuda.c.
 *
 * Everything here takes device pointers and a stream; nothing allocates except hc_malloc and
 * friends, nothing synchronizes except hc_sync. Types are C types only, so this header is
 * included both by nvcc (C++) and by the C compiler. Functions return 0 on success or a CUDA
 * error code (hc_error_string turns it into text).
 */
#ifndef HEARTH_CUDA_HC_H
#define HEARTH_CUDA_HC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hc_stream hc_stream; /* a CUDA stream + cuBLAS handle                          */

/* ---- devices --------------------------------------------------------------------------- */
typedef struct hc_device_info {
    char name[256];
    int cc_major, cc_minor;
    size_t free_bytes, total_bytes;
    double bandwidth_gbs; /* theoretical peak DRAM bandwidth from clock and bus width (0: unknown) */
} hc_device_info;

/* Number of usable devices (>= 0), or -1 with the reason in `why`. */
int hc_device_count(char *why, size_t why_len);
int hc_device_info_get(int device, hc_device_info *out);
int hc_set_device(int device);
const char *hc_error_string(int code);

/* ---- memory and streams ---------------------------------------------------------------- */
int hc_malloc(void **p, size_t bytes);
void hc_free(void *p);
int hc_host_alloc(void **p, size_t bytes); /* pinned host memory */
void hc_host_free(void *p);
int hc_stream_new(hc_stream **out);
void hc_stream_free(hc_stream *s);
int hc_sync(hc_stream *s);
int hc_upload(hc_stream *s, void *dst, const void *src, size_t n);   /* async from pinned src */
int hc_download(hc_stream *s, void *dst, const void *src, size_t n); /* waits: dst is ready */
int hc_copy_d2d(hc_stream *s, void *dst, const void *src, size_t n);
int hc_upload_sync(void *dst, const void *src, size_t n);            /* any host src */

/* Decode-step graphs: begin records the stream's work instead of running it; end_launch
 * turns it into a graph (updating the cached one when the shape matches) and launches it. */
int hc_capture_begin(hc_stream *s);
int hc_capture_end_launch(hc_stream *s);

/* ---- weights (type ids are hearth_type values) ----------------------------------------- */
/* Whether hc_mmv / hc_dequant_f16 / hc_get_rows read this type straight from its blocks. */
int hc_type_native(int type);
/* out[r][c] = W[r][c] as F16 for rows [r0, r0 + nr) of a W with `cols` values per row */
int hc_dequant_f16(hc_stream *s, int type, const void *w, int64_t cols, int64_t r0, int64_t nr,
                   void *out_f16);
/* a 1-row weight as floats (norm weights, biases) */
int hc_row_to_f32(hc_stream *s, int type, const void *w, int64_t cols, float *out);

/* ---- matrix products -------------------------------------------------------------------- */
#define HC_MMV_MAX_TOK 8
/* y[t] = W x[t] for t < n_tok <= HC_MMV_MAX_TOK, straight from W's blocks */
int hc_mmv(hc_stream *s, int type, const void *w, int64_t rows, int64_t cols, const float *x,
           int32_t n_tok, float *y);
/* The batched product through cuBLAS: W tiles dequantized to F16 in `tile` (tile_rows * cols
 * halves), activations converted to F16 in `xh` (n_tok * cols halves), F32 accumulation.
 * F32 weights use SGEMM on the floats directly (tile and xh unused). */
int hc_gemm(hc_stream *s, int type, const void *w, int64_t rows, int64_t cols, const float *x,
            int32_t n_tok, float *y, void *tile, int64_t tile_rows, void *xh);

/* ---- element-wise and row operations (float activations) ------------------------------- */
int hc_get_rows(hc_stream *s, int type, const void *w, int64_t cols, const int32_t *ids, int32_t n,
                float *out);
int hc_copy_rows(hc_stream *s, const float *x, const int32_t *rows, int32_t n, int64_t cols, float *out);
int hc_add_bias(hc_stream *s, float *x, const float *b, int64_t n_rows, int64_t n);
int hc_add(hc_stream *s, float *x, const float *y, int64_t n);
int hc_rmsnorm(hc_stream *s, const float *x, const float *w, int64_t rows, int64_t n, float eps, float *out);
int hc_layernorm(hc_stream *s, const float *x, const float *w, const float *b, int64_t rows, int64_t n,
                 float eps, float *out);
/* table: [n_tok][n_rot/2][2] (cos, sin); neox: pairs (i, i + n_rot/2) instead of (2i, 2i+1) */
int hc_rope(hc_stream *s, float *x, int32_t n_tok, int32_t n_head, int32_t head_dim, int32_t n_rot,
            int neox, const float *table);
int hc_swiglu(hc_stream *s, const float *gate, const float *up, int64_t n, float *out);
int hc_gelu(hc_stream *s, float *x, int64_t n);
int hc_softmax(hc_stream *s, float *x, int64_t rows, int64_t n);

/* ---- KV cache and attention (kv type: F32, F16 or Q8_0) --------------------------------- */
int hc_kv_store(hc_stream *s, void *cache, int kv_type, int64_t n_embd_kv, const float *src,
                const int32_t *cells, int32_t n_tok);
int hc_attention(hc_stream *s, const float *q, const void *k_cache, const void *v_cache, int kv_type,
                 int32_t n_head, int32_t n_head_kv, int32_t head_dim, float scale, int32_t n_tok,
                 const int32_t *cell0, const int32_t *n_kv, float *out);

#ifdef __cplusplus
}
#endif

#endif
