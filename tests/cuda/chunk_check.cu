/*
 * chunk_check.cu — host-side check that the CUDA kernels' block readers (chunk_load in
 * src/cuda/hc_internal.h, compiled here for the host) decode every native GGUF type to the
 * same values as hearth's CPU reference (to_float of src/kernels). Needs nvcc, not a GPU:
 *
 *   nvcc -std=c++17 -Isrc -Iinclude tests/cuda/chunk_check.cu BUILD/libhearth.a LIBS -o chunk_check
 *
 * (bench/gpu-check builds and runs it; so can any machine with the CUDA toolkit.) Blocks are
 * random bytes with their f16 scales replaced by finite values, so every bit pattern of the
 * quant fields is exercised. Exit status 0 when all types agree within 1e-6 relative.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/hc_internal.h"

#define _Static_assert static_assert /* the C headers' layout checks, in C++ */
extern "C" {
#include "kernels/kernels.h"
}

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void put_f16(uint8_t *p, float v)
{
    __half h = __float2half_rn(v);
    memcpy(p, &h, 2);
}

static float small(void) { return ((int)(next() % 2001) - 1000) / 1000.0f * 0.05f; }

template <int T> static int check(const char *name, int block_values, int block_bytes, int n_scales,
                                  const int *scale_off)
{
    const int cols = 1024;
    int nb = cols / block_values;
    size_t bytes = (size_t)nb * block_bytes;
    uint8_t *row = (uint8_t *)malloc(bytes);
    float *ref = (float *)malloc(cols * sizeof(float));
    int bad = 0;
    for (int trial = 0; trial < 50; trial++) {
        for (size_t i = 0; i < bytes; i++) row[i] = (uint8_t)next();
        for (int b = 0; b < nb; b++)
            for (int s = 0; s < n_scales; s++) put_f16(row + (size_t)b * block_bytes + scale_off[s], small());
        if (T == HT_F16)
            for (int i = 0; i < cols; i++) put_f16(row + 2 * i, small() * 100);
        if (T == HT_BF16)
            for (int i = 0; i < cols; i++) {
                float f = small() * 100;
                uint32_t u;
                memcpy(&u, &f, 4);
                uint16_t h = (uint16_t)(u >> 16);
                memcpy(row + 2 * i, &h, 2);
            }
        if (T == HT_F32)
            for (int i = 0; i < cols; i++) {
                float f = small() * 100;
                memcpy(row + 4 * i, &f, 4);
            }
        hearth_kernels_get()->to_float[T](row, ref, cols);
        for (int c = 0; c < cols / 32; c++) {
            float w[32];
            chunk_load<T>(row, c, w);
            for (int j = 0; j < 32; j++) {
                float a = w[j], r = ref[c * 32 + j];
                if (!(fabsf(a - r) <= 1e-6f * fmaxf(1.0f, fabsf(r)))) {
                    if (bad < 5) fprintf(stderr, "%s: value %d: cuda %g, cpu %g\n", name, c * 32 + j, a, r);
                    bad++;
                }
            }
        }
        if (hc_row_bytes(T, cols) != (int64_t)bytes) {
            fprintf(stderr, "%s: row bytes %lld, expected %zu\n", name, (long long)hc_row_bytes(T, cols), bytes);
            bad++;
        }
    }
    printf("%-5s %s\n", name, bad ? "MISMATCH" : "ok");
    free(row);
    free(ref);
    return bad != 0;
}

int main(void)
{
    static const int d0[] = {0}, dm[] = {0, 2}, q6[] = {208};
    int fails = 0;
    fails += check<HT_F32>("F32", 1, 4, 0, NULL);
    fails += check<HT_F16>("F16", 1, 2, 0, NULL);
    fails += check<HT_BF16>("BF16", 1, 2, 0, NULL);
    fails += check<HT_Q8_0>("Q8_0", 32, HB_Q8_0, 1, d0);
    fails += check<HT_Q4_0>("Q4_0", 32, HB_Q4_0, 1, d0);
    fails += check<HT_Q4_1>("Q4_1", 32, HB_Q4_1, 2, dm);
    fails += check<HT_Q5_0>("Q5_0", 32, HB_Q5_0, 1, d0);
    fails += check<HT_Q5_1>("Q5_1", 32, HB_Q5_1, 2, dm);
    fails += check<HT_Q4_K>("Q4_K", 256, HB_Q4_K, 2, dm);
    fails += check<HT_Q5_K>("Q5_K", 256, HB_Q5_K, 2, dm);
    fails += check<HT_Q6_K>("Q6_K", 256, HB_Q6_K, 1, q6);
    printf("%s\n", fails ? "chunk_check: FAILED" : "chunk_check: all types agree with the CPU");
    return fails != 0;
}
