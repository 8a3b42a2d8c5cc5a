/* vdot.h — float32 dot products for vector search, picked once by CPUID (AVX-512, AVX2, SSE2). */
#ifndef HEARTH_RAG_VDOT_H
#define HEARTH_RAG_VDOT_H

#include <stddef.h>

typedef float (*rag_dot_fn)(const float *a, const float *b, size_t n);

/* The fastest dot this CPU runs (HEARTH_CPU=scalar|avx2|avx512 forces a level, as for kernels). */
rag_dot_fn rag_dot_get(void);
float rag_dot_scalar(const float *a, const float *b, size_t n);
float rag_dot_avx2(const float *a, const float *b, size_t n);
float rag_dot_avx512(const float *a, const float *b, size_t n);

#endif
