/* kernels_avx512.c — assembles the AVX-512 (F/BW/VL/DQ + VNNI) table: starts from the AVX2
 * table and replaces what 512-bit registers and vpdpbusd speed up. */
#include "kernels/simd_x86.h"

void hearth_kernels_fill_avx512(hearth_kernels *k, bool has_bf16)
{
    hearth_avx512_fill_float(k, has_bf16);
    hearth_avx512_fill_legacy(k);
    hearth_avx512_fill_kquant(k);
    hearth_avx512_fill_gemm(k);
    hearth_avx512_fill_vec(&k->vec);
}
