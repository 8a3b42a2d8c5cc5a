/* kernels_avx2.c — assembles the AVX2+FMA+F16C table from the per-family files. */
#include "kernels/simd_x86.h"

void hearth_kernels_fill_avx2(hearth_kernels *k)
{
    hearth_avx2_fill_float(k);
    hearth_avx2_fill_legacy(k);
    hearth_avx2_fill_kquant(k);
    hearth_avx2_fill_vec(&k->vec);
    hearth_avx2_fill_gemm(k);
    hearth_avx2_fill_float_gemm(k);
}
