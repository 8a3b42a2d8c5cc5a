/*
 * types.h — tensor element types exactly as GGUF stores them (ids and block layouts are
 * ggml's, so files from llama.cpp/Ollama load as they are).
 *
 * Quantized types store blocks of `block_size` elements in `type_size` bytes. A row of n
 * elements takes n / block_size * type_size bytes; n must be a multiple of block_size.
 */
#ifndef HEARTH_KERNELS_TYPES_H
#define HEARTH_KERNELS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hearth_type {
    HEARTH_TYPE_F32 = 0,
    HEARTH_TYPE_F16 = 1,
    HEARTH_TYPE_Q4_0 = 2,
    HEARTH_TYPE_Q4_1 = 3,
    HEARTH_TYPE_Q5_0 = 6,
    HEARTH_TYPE_Q5_1 = 7,
    HEARTH_TYPE_Q8_0 = 8,
    HEARTH_TYPE_Q8_1 = 9,
    HEARTH_TYPE_Q2_K = 10,
    HEARTH_TYPE_Q3_K = 11,
    HEARTH_TYPE_Q4_K = 12,
    HEARTH_TYPE_Q5_K = 13,
    HEARTH_TYPE_Q6_K = 14,
    HEARTH_TYPE_Q8_K = 15,
    HEARTH_TYPE_IQ2_XXS = 16,
    HEARTH_TYPE_IQ2_XS = 17,
    HEARTH_TYPE_IQ3_XXS = 18,
    HEARTH_TYPE_IQ1_S = 19,
    HEARTH_TYPE_IQ4_NL = 20,
    HEARTH_TYPE_IQ3_S = 21,
    HEARTH_TYPE_IQ2_S = 22,
    HEARTH_TYPE_IQ4_XS = 23,
    HEARTH_TYPE_I8 = 24,
    HEARTH_TYPE_I16 = 25,
    HEARTH_TYPE_I32 = 26,
    HEARTH_TYPE_I64 = 27,
    HEARTH_TYPE_F64 = 28,
    HEARTH_TYPE_IQ1_M = 29,
    HEARTH_TYPE_BF16 = 30,
    HEARTH_TYPE_TQ1_0 = 34,
    HEARTH_TYPE_TQ2_0 = 35,
    HEARTH_TYPE_MXFP4 = 39,
    HEARTH_TYPE_COUNT = 40 /* one past the largest id; ids in between are unassigned */
} hearth_type;

typedef struct hearth_type_traits {
    const char *name;     /* "Q4_K"; NULL for ids that name no type                         */
    uint32_t block_size;  /* elements per block                                            */
    uint32_t type_size;   /* bytes per block                                               */
    bool quantized;
} hearth_type_traits;

/* Traits for any id; for an id outside the table, returns traits whose name is NULL. */
const hearth_type_traits *hearth_type_traits_of(uint32_t type);
const char *hearth_type_name(uint32_t type); /* "?" for an unknown id */
/* Parses "q8_0", "Q4_K", "f16" ... (case-insensitive); returns -1 if unknown. */
int hearth_type_from_name(const char *name);
/* Bytes for a row of n elements; 0 if n is not a multiple of the block size or overflow. */
size_t hearth_row_size(hearth_type type, int64_t n);

/* ---- half-precision helpers ---------------------------------------------------------- */
typedef uint16_t hearth_f16;
typedef uint16_t hearth_bf16;

/* Exact: the 15 exponent/mantissa bits shifted into float position are the value times
 * 2^-112 (subnormal halves land on float subnormals, which multiply exactly); rescaling by
 * 2^112 restores it, and an all-ones half exponent (inf, NaN) becomes an all-ones float one. */
static inline float hearth_f16_to_f32(hearth_f16 h)
{
    union { uint32_t u; float f; } v = {.u = (uint32_t)(h & 0x7fff) << 13};
    v.f *= 0x1p112f;
    if ((h & 0x7c00) == 0x7c00) v.u |= 0x7f800000u;
    v.u |= (uint32_t)(h & 0x8000) << 16;
    return v.f;
}
hearth_f16 hearth_f32_to_f16(float f);  /* round to nearest even, like F16C */
static inline float hearth_bf16_to_f32(hearth_bf16 h)
{
    union { uint32_t u; float f; } v = {.u = (uint32_t)h << 16};
    return v.f;
}
hearth_bf16 hearth_f32_to_bf16(float f); /* round to nearest even, NaN stays NaN */

/* ---- block layouts (byte-exact with ggml) -------------------------------------------- */
#define HEARTH_QK4_0 32
#define HEARTH_QK4_1 32
#define HEARTH_QK5_0 32
#define HEARTH_QK5_1 32
#define HEARTH_QK8_0 32
#define HEARTH_QK8_1 32
#define HEARTH_QK_K 256
#define HEARTH_K_SCALE_SIZE 12

typedef struct { hearth_f16 d; uint8_t qs[HEARTH_QK4_0 / 2]; } block_q4_0;
typedef struct { hearth_f16 d, m; uint8_t qs[HEARTH_QK4_1 / 2]; } block_q4_1;
typedef struct { hearth_f16 d; uint8_t qh[4]; uint8_t qs[HEARTH_QK5_0 / 2]; } block_q5_0;
typedef struct { hearth_f16 d, m; uint8_t qh[4]; uint8_t qs[HEARTH_QK5_1 / 2]; } block_q5_1;
typedef struct { hearth_f16 d; int8_t qs[HEARTH_QK8_0]; } block_q8_0;
typedef struct { hearth_f16 d, s; int8_t qs[HEARTH_QK8_1]; } block_q8_1; /* s = d * sum(qs) */
typedef struct { uint8_t scales[HEARTH_QK_K / 16]; uint8_t qs[HEARTH_QK_K / 4]; hearth_f16 d, dmin; } block_q2_K;
typedef struct { uint8_t hmask[HEARTH_QK_K / 8]; uint8_t qs[HEARTH_QK_K / 4]; uint8_t scales[12]; hearth_f16 d; } block_q3_K;
typedef struct { hearth_f16 d, dmin; uint8_t scales[HEARTH_K_SCALE_SIZE]; uint8_t qs[HEARTH_QK_K / 2]; } block_q4_K;
typedef struct { hearth_f16 d, dmin; uint8_t scales[HEARTH_K_SCALE_SIZE]; uint8_t qh[HEARTH_QK_K / 8]; uint8_t qs[HEARTH_QK_K / 2]; } block_q5_K;
typedef struct { uint8_t ql[HEARTH_QK_K / 2]; uint8_t qh[HEARTH_QK_K / 4]; int8_t scales[HEARTH_QK_K / 16]; hearth_f16 d; } block_q6_K;
typedef struct { float d; int8_t qs[HEARTH_QK_K]; int16_t bsums[HEARTH_QK_K / 16]; } block_q8_K;

_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 layout");
_Static_assert(sizeof(block_q4_1) == 20, "block_q4_1 layout");
_Static_assert(sizeof(block_q5_0) == 22, "block_q5_0 layout");
_Static_assert(sizeof(block_q5_1) == 24, "block_q5_1 layout");
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 layout");
_Static_assert(sizeof(block_q8_1) == 36, "block_q8_1 layout");
_Static_assert(sizeof(block_q2_K) == 84, "block_q2_K layout");
_Static_assert(sizeof(block_q3_K) == 110, "block_q3_K layout");
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K layout");
_Static_assert(sizeof(block_q5_K) == 176, "block_q5_K layout");
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K layout");
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K layout");

#endif
