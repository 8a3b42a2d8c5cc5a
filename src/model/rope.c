/* rope.c — the rotary-embedding angle table, computed on the host for any backend. */
#include <math.h>

#include "model/backend.h"

void hearth_rope_fill(const hearth_rope_params *rope, const int32_t *pos, int32_t n_tok, float *tab)
{
    int32_t half = rope->n_rot / 2;
    /* Angles in double: base^(-2i/n_rot) and large positions lose digits in float. */
    for (int32_t i = 0; i < half; i++) {
        double inv = pow((double)rope->freq_base, -2.0 * i / rope->n_rot);
        if (rope->freq_factors) inv /= rope->freq_factors[i];
        double interp = rope->freq_scale; /* share of the scaled angle */
        if (rope->yarn) {
            double y = (i - rope->yarn_low) / fmax(0.001, rope->yarn_high - rope->yarn_low);
            interp = 1.0 - (1.0 - rope->freq_scale) * fmin(1.0, fmax(0.0, y));
        }
        inv *= interp;
        for (int32_t t = 0; t < n_tok; t++) {
            double th = (double)pos[t] * inv;
            tab[((size_t)t * half + i) * 2] = (float)(cos(th) * rope->mscale);
            tab[((size_t)t * half + i) * 2 + 1] = (float)(sin(th) * rope->mscale);
        }
    }
}
