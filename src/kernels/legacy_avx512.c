/* legacy_avx512.c — the 32-element block kernels of legacy_avx2.c compiled again with the
 * AVX-512 flags: the same source, where AVX-512 VNNI's vpdpbusd does a block's byte products
 * and their sums in one instruction instead of two. */
#define LEGACY_FILL hearth_avx512_fill_legacy
#include "legacy_avx2.c"
