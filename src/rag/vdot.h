/* vdot.h — dot products for vector search, picked once by CPUID (AVX-512, AVX2, SSE2): float32,
 * and the 8-bit one HNSW traverses with (a quarter of the bytes per distance). */
#ifndef HEARTH_RAG_VDOT_H
#define HEARTH_RAG_VDOT_H

#include <stddef.h>
#include <stdint.h>

typedef float (*rag_dot_fn)(const float *a, const float *b, size_t n);

/* The fastest dot this CPU runs (HEARTH_CPU=scalar|avx2|avx512 forces a level, as for kernels). */
rag_dot_fn rag_dot_get(void);
float rag_dot_scalar(const float *a, const float *b, size_t n);
float rag_dot_avx2(const float *a, const float *b, size_t n);
float rag_dot_avx512(const float *a, const float *b, size_t n);


/* 8-bit quantization, one scale per vector: x[d] ~ scale * (u[d] - 128) for stored vectors
 * (unsigned, because unsigned x signed is what VNNI multiplies), q[d] ~ scale * s[d] for queries,
 * s in [-127, 127]; the tail up to `padded` (a multiple of 64) is zero (u 128, s 0). Then
 * dot(x, q) ~ sx * sq * idot(u, s). Rounding to nearest bounds each element's error by half
 * its scale. Returns the scale (0 for a zero vector); *sum gets sum(s). */
float rag_quant_u8(const float *x, size_t dim, size_t padded, uint8_t *u);
float rag_quant_s8(const float *q, size_t dim, size_t padded, int8_t *s, int32_t *sum);

/* sum((u[i] - 128) * s[i]) over n bytes, n a multiple of 64, each s[i] in [-127, 127], s_sum =
 * sum(s[i]) (rag_quant_s8 gives it: with it VNNI drops the 128 offset once per call). */
typedef int32_t (*rag_idot_fn)(const uint8_t *u, const int8_t *s, int32_t s_sum, size_t n);
rag_idot_fn rag_idot_get(void);
int32_t rag_idot_scalar(const uint8_t *u, const int8_t *s, int32_t s_sum, size_t n);
int32_t rag_idot_avx2(const uint8_t *u, const int8_t *s, int32_t s_sum, size_t n);
int32_t rag_idot_avx512(const uint8_t *u, const int8_t *s, int32_t s_sum, size_t n);

#endif
