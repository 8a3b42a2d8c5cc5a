/* kernels_avx512.c — assembles the AVX-512 (F/BW/VL/DQ + VNNI) table: starts from the AVX2
 * table and replaces what 512-bit registers and vpdpbusd speed up. */
#include "kernels/simd_x86.h"

void hearth_kernels_fill_avx512(hearth_kernels *k, bool has_bf16)
{
    (void)has_bf16; /* BF16 weights keep F32 activations (see float.c): no vdpbf16ps use yet */
    hearth_avx512_fill_gemm(k);
}
