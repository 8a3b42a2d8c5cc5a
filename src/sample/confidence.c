/*
 * confidence.c — how sure was the model? (docs/confidence.md)
 *
 * From the per-token records of one generation: mean chosen-token logprob, smallest chosen-
 * token probability, mean entropy of the full next-token distributions, sequence logprob, and
 * (N > 1 samples) agreement. They combine into one score in [0,1]:
 *
 *   z     = B + W_LP * mean_logprob + W_MIN * ln(max(min_prob, 1e-6)) + W_H * mean_entropy
 *   s_tok = 1 / (1 + e^-z)
 *   score = s_tok                                   (one sample)
 *   score = (1 - A) * s_tok + A * agreement         (N samples)
 *
 * The weights are defaults picked by hand to put the 0.7 threshold where a generation is
 * mostly near-certain tokens; bench/calibrate-confidence re-fits them on labelled data.
 */
#include <math.h>

#include "hearth.h"

#define CONF_B 3.0
#define CONF_W_LP 3.0
#define CONF_W_MIN 0.25
#define CONF_W_H (-0.5)
#define CONF_A 0.5

void hearth_confidence_compute(const hearth_sample *samples, int32_t n, float agreement, hearth_confidence *out)
{
    if (!out) return;
    double sum_lp = 0, sum_h = 0, min_p = 1.0;
    int32_t used = 0;
    for (int32_t i = 0; samples && i < n; i++) {
        double lp = samples[i].logprob;
        if (lp != lp) continue; /* NaN: skip the record */
        if (lp > 0) lp = 0;
        sum_lp += lp;
        sum_h += samples[i].entropy;
        double p = exp(lp);
        if (p < min_p) min_p = p;
        used++;
    }
    out->n_tokens = used;
    out->agreement = agreement >= 0 ? (agreement > 1 ? 1.0f : agreement) : -1.0f;
    if (!used) {
        out->mean_logprob = 0;
        out->min_prob = 1;
        out->mean_entropy = 0;
        out->seq_logprob = 0;
        out->score = out->agreement >= 0 ? out->agreement : 0.0f; /* nothing generated: no evidence */
        return;
    }
    out->mean_logprob = (float)(sum_lp / used);
    out->min_prob = (float)min_p;
    out->mean_entropy = (float)(sum_h / used);
    out->seq_logprob = (float)sum_lp;
    double z = CONF_B + CONF_W_LP * out->mean_logprob + CONF_W_MIN * log(min_p > 1e-6 ? min_p : 1e-6) +
               CONF_W_H * out->mean_entropy;
    double s = 1.0 / (1.0 + exp(-z));
    if (out->agreement >= 0) s = (1.0 - CONF_A) * s + CONF_A * out->agreement;
    out->score = (float)(s < 0 ? 0 : s > 1 ? 1 : s);
}
