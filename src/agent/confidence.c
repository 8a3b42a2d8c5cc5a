/*
 * confidence.c — how much to trust a candidate answer, from four independent signals:
 *   generation   the model's own token probabilities (exp of mean logprob, from the backend);
 *   consistency  self-consistency: the share of samples that give the same answer;
 *   support      the share of the answer's facts (numbers, long words) found in observations;
 *   citations    the share of [n] citations that point at successful observations.
 * A signal that cannot be measured (one sample, no observations) is left out, and the score is
 * the weighted mean of the others. Weights favour signals that are hard to fake: agreement
 * across samples and grounding in tool output.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"

/* Answer text without citations, lowercased, whitespace collapsed, trailing punctuation cut:
 * "42 [1]." and "42" are the same answer. */
static char *normalize(const char *s)
{
    size_t n = strlen(s), w = 0;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '[') {
            size_t j = i + 1;
            while (j < n && isdigit((unsigned char)s[j])) j++;
            if (j > i + 1 && j < n && s[j] == ']') {
                i = j;
                continue;
            }
        }
        unsigned char c = (unsigned char)s[i];
        if (isspace(c)) {
            space = w > 0;
            continue;
        }
        if (space) out[w++] = ' ';
        space = false;
        out[w++] = (char)tolower(c);
    }
    while (w && (ispunct((unsigned char)out[w - 1]) || out[w - 1] == ' ')) w--;
    out[w] = 0;
    return out;
}

/* Citations [n]: valid ones point at observation n that succeeded. */
static double citation_score(const char *s, const bool *ok, size_t n_obs, bool *any)
{
    int total = 0, good = 0;
    for (const char *p = s; (p = strchr(p, '[')); p++) {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end == p + 1 || *end != ']') continue;
        total++;
        good += v >= 1 && (size_t)v <= n_obs && ok[v - 1];
    }
    *any = total > 0;
    return total ? (double)good / total : 0;
}

/* Facts of the answer: numbers and words of 5+ letters; supported if some observation has it. */
static double support_score(const char *answer, const char *const *obs, const bool *ok, size_t n_obs)
{
    int facts = 0, found = 0;
    const char *p = answer;
    while (*p) {
        while (*p && !isalnum((unsigned char)*p)) p++;
        const char *start = p;
        bool digits = false;
        while (*p && (isalnum((unsigned char)*p) || ((*p == '.' || *p == ',') && isdigit((unsigned char)p[1])))) {
            digits |= isdigit((unsigned char)*p) != 0;
            p++;
        }
        size_t len = (size_t)(p - start);
        if (!len || (!digits && len < 5)) continue;
        /* a citation marker is not a fact */
        if (start > answer && start[-1] == '[' && *p == ']') continue;
        facts++;
        for (size_t i = 0; i < n_obs; i++) {
            if (!ok[i]) continue;
            const char *o = obs[i];
            bool hit = false;
            for (const char *q = o; *q && !hit; q++) hit = !strncasecmp(q, start, len);
            if (hit) {
                found++;
                break;
            }
        }
    }
    return facts ? (double)found / facts : 1.0;
}

void agent_confidence_score(const agent_gen_result *r, const char *const *obs, const bool *ok, size_t n_obs,
                            agent_confidence *out)
{
    memset(out, 0, sizeof *out);
    out->consistency = out->support = out->citations = -1;
    if (r->n <= 0) return;
    char **norm = calloc((size_t)r->n, sizeof(char *));
    int best = 0, best_votes = -1;
    double best_gen = 0;
    for (int i = 0; norm && i < r->n; i++) norm[i] = normalize(r->samples[i].text);
    /* The chosen answer is the largest cluster; ties go to the higher mean confidence. */
    for (int i = 0; norm && i < r->n; i++) {
        int votes = 0;
        double gen = 0;
        for (int k = 0; k < r->n; k++)
            if (norm[i] && norm[k] && !strcmp(norm[i], norm[k])) {
                votes++;
                gen += r->samples[k].confidence;
            }
        gen /= votes ? votes : 1;
        bool better = votes > best_votes || (votes == best_votes && gen > best_gen) ||
                      (votes == best_votes && gen == best_gen && r->samples[i].confidence > r->samples[best].confidence);
        if (better) {
            best = i;
            best_votes = votes;
            best_gen = gen;
        }
    }
    for (int i = 0; norm && i < r->n; i++) free(norm[i]);
    free(norm);
    if (best_votes < 1) best_votes = 1, best_gen = r->samples[0].confidence;
    out->chosen = best;
    out->generation = best_gen < 0 ? 0 : best_gen > 1 ? 1 : best_gen;
    if (r->n > 1) out->consistency = (double)best_votes / r->n;
    const char *answer = r->samples[best].text;
    bool any_cite = false;
    double cites = citation_score(answer, ok, n_obs, &any_cite);
    if (n_obs > 0) {
        out->support = support_score(answer, obs, ok, n_obs);
        out->citations = any_cite ? cites : 0.5; /* grounded material exists but was not cited */
    } else if (any_cite) {
        out->citations = 0; /* cites observations that do not exist */
    }
    double w_sum = 0.4, sum = 0.4 * out->generation;
    if (out->consistency >= 0) sum += 0.3 * out->consistency, w_sum += 0.3;
    if (out->support >= 0) sum += 0.15 * out->support, w_sum += 0.15;
    if (out->citations >= 0) sum += 0.15 * out->citations, w_sum += 0.15;
    out->score = sum / w_sum;
}
