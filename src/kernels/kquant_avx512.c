/* kquant_avx512.c — the k-quant dot products of kquant_avx2.c compiled again with the AVX-512
 * flags: the same source, where AVX-512 VNNI fuses each scaled pair sum and its accumulation
 * into one vpdpwssd (a third of the integer work of a Q4_K super-block). */
#define KQUANT_FILL hearth_avx512_fill_kquant
#include "kquant_avx2.c"
