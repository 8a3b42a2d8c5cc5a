/* types.c — the type table: names and block geometry for every GGUF tensor type id. */
#include <string.h>
#include <strings.h>

#include "kernels/types.h"

static const hearth_type_traits traits[HEARTH_TYPE_COUNT] = {
    [HEARTH_TYPE_F32] = {"F32", 1, 4, false},
    [HEARTH_TYPE_F16] = {"F16", 1, 2, false},
    [HEARTH_TYPE_Q4_0] = {"Q4_0", 32, 18, true},
    [HEARTH_TYPE_Q4_1] = {"Q4_1", 32, 20, true},
    [HEARTH_TYPE_Q5_0] = {"Q5_0", 32, 22, true},
    [HEARTH_TYPE_Q5_1] = {"Q5_1", 32, 24, true},
    [HEARTH_TYPE_Q8_0] = {"Q8_0", 32, 34, true},
    [HEARTH_TYPE_Q8_1] = {"Q8_1", 32, 36, true},
    [HEARTH_TYPE_Q2_K] = {"Q2_K", 256, 84, true},
    [HEARTH_TYPE_Q3_K] = {"Q3_K", 256, 110, true},
    [HEARTH_TYPE_Q4_K] = {"Q4_K", 256, 144, true},
    [HEARTH_TYPE_Q5_K] = {"Q5_K", 256, 176, true},
    [HEARTH_TYPE_Q6_K] = {"Q6_K", 256, 210, true},
    [HEARTH_TYPE_Q8_K] = {"Q8_K", 256, 292, true},
    [HEARTH_TYPE_IQ2_XXS] = {"IQ2_XXS", 256, 66, true},
    [HEARTH_TYPE_IQ2_XS] = {"IQ2_XS", 256, 74, true},
    [HEARTH_TYPE_IQ3_XXS] = {"IQ3_XXS", 256, 98, true},
    [HEARTH_TYPE_IQ1_S] = {"IQ1_S", 256, 50, true},
    [HEARTH_TYPE_IQ4_NL] = {"IQ4_NL", 32, 18, true},
    [HEARTH_TYPE_IQ3_S] = {"IQ3_S", 256, 110, true},
    [HEARTH_TYPE_IQ2_S] = {"IQ2_S", 256, 82, true},
    [HEARTH_TYPE_IQ4_XS] = {"IQ4_XS", 256, 136, true},
    [HEARTH_TYPE_I8] = {"I8", 1, 1, false},
    [HEARTH_TYPE_I16] = {"I16", 1, 2, false},
    [HEARTH_TYPE_I32] = {"I32", 1, 4, false},
    [HEARTH_TYPE_I64] = {"I64", 1, 8, false},
    [HEARTH_TYPE_F64] = {"F64", 1, 8, false},
    [HEARTH_TYPE_IQ1_M] = {"IQ1_M", 256, 56, true},
    [HEARTH_TYPE_BF16] = {"BF16", 1, 2, false},
    [HEARTH_TYPE_TQ1_0] = {"TQ1_0", 256, 54, true},
    [HEARTH_TYPE_TQ2_0] = {"TQ2_0", 256, 66, true},
    [HEARTH_TYPE_MXFP4] = {"MXFP4", 32, 17, true},
};

static const hearth_type_traits no_type = {NULL, 0, 0, false};

const hearth_type_traits *hearth_type_traits_of(uint32_t type)
{
    if (type >= HEARTH_TYPE_COUNT || !traits[type].name) return &no_type;
    return &traits[type];
}

const char *hearth_type_name(uint32_t type)
{
    const char *n = hearth_type_traits_of(type)->name;
    return n ? n : "?";
}

int hearth_type_from_name(const char *name)
{
    for (int i = 0; i < HEARTH_TYPE_COUNT; i++)
        if (traits[i].name && strcasecmp(traits[i].name, name) == 0) return i;
    return -1;
}

size_t hearth_row_size(hearth_type type, int64_t n)
{
    const hearth_type_traits *t = hearth_type_traits_of((uint32_t)type);
    if (!t->name || n < 0 || n % t->block_size != 0) return 0;
    size_t blocks = (size_t)n / t->block_size, bytes;
    if (__builtin_mul_overflow(blocks, (size_t)t->type_size, &bytes)) return 0;
    return bytes;
}

hearth_f16 hearth_f32_to_f16(float f)
{
    union { float f; uint32_t u; } v = {.f = f};
    uint32_t x = v.u, sign = (x >> 16) & 0x8000;
    uint32_t exp = (x >> 23) & 0xff, mant = x & 0x7fffff;
    if (exp == 0xff) return (hearth_f16)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (hearth_f16)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (hearth_f16)sign;
        mant |= 0x800000;
        int shift = 14 - e;
        uint32_t half = 1u << (shift - 1), rest = mant & ((1u << shift) - 1);
        uint32_t m = mant >> shift;
        if (rest > half || (rest == half && (m & 1))) m++;
        return (hearth_f16)(sign | m);
    }
    uint32_t m = mant >> 13, rest = mant & 0x1fff;
    uint32_t out = sign | ((uint32_t)e << 10) | m;
    if (rest > 0x1000 || (rest == 0x1000 && (m & 1))) out++; /* carries into exponent correctly */
    return (hearth_f16)out;
}

hearth_bf16 hearth_f32_to_bf16(float f)
{
    union { float f; uint32_t u; } v = {.f = f};
    if ((v.u & 0x7fffffff) > 0x7f800000) return (hearth_bf16)((v.u >> 16) | 0x40);
    return (hearth_bf16)((v.u + (0x7fff + ((v.u >> 16) & 1))) >> 16);
}
