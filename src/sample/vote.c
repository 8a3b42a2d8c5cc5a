/*
 * vote.c — self-consistency: normalize N answers, vote, report agreement; best-of-N.
 *
 * Normalization makes equal answers compare equal: JSON values are canonicalized (keys sorted,
 * compact, integral reals written as integers, a top-level JSON string taken as its text);
 * other text is trimmed, whitespace runs collapsed, case-folded (Unicode, utf8proc) and a
 * trailing period dropped; a text that is a number is written in one spelling ("3.0" = "3").
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "hearth.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

/* Integral reals become integers, recursively, so 1.0 and 1 vote together. */
static json_t *canon_numbers(json_t *v)
{
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d == floor(d) && fabs(d) < 9007199254740992.0) return json_integer((json_int_t)d);
    } else if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *c = canon_numbers(json_array_get(v, i));
            if (c) json_array_set_new(v, i, c);
        }
    } else if (json_is_object(v)) {
        const char *k;
        json_t *c;
        void *tmp;
        json_object_foreach_safe(v, tmp, k, c) {
            json_t *n = canon_numbers(c);
            if (n) json_object_set_new(v, k, n);
        }
    }
    return NULL;
}

static char *normalize_text(const char *s, size_t len)
{
    while (len && is_space(*s)) { s++; len--; }
    while (len && is_space(s[len - 1])) len--;
    while (len && s[len - 1] == '.') len--;
    char *flat = malloc(len + 1);
    if (!flat) return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_space(s[i])) {
            if (n && flat[n - 1] != ' ') flat[n++] = ' ';
        } else {
            flat[n++] = s[i];
        }
    }
    flat[n] = '\0';
    char *end;
    double d = n ? strtod(flat, &end) : 0;
    if (n && *end == '\0' && isfinite(d)) {
        char num[64];
        snprintf(num, sizeof num, "%.15g", d);
        free(flat);
        return strdup(num);
    }
    utf8proc_uint8_t *folded = NULL;
    if (utf8proc_map((const utf8proc_uint8_t *)flat, (utf8proc_ssize_t)n, &folded,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD) < 0) {
        for (size_t i = 0; i < n; i++) /* not valid UTF-8: ASCII folding only */
            if (flat[i] >= 'A' && flat[i] <= 'Z') flat[i] = (char)(flat[i] - 'A' + 'a');
        return flat;
    }
    free(flat);
    return (char *)folded;
}

char *hearth_answer_normalize(const char *text, size_t len)
{
    if (!text) len = 0;
    json_error_t je;
    json_t *v = len ? json_loadb(text, len, JSON_DECODE_ANY, &je) : NULL;
    if (v && json_is_string(v)) {
        char *out = normalize_text(json_string_value(v), json_string_length(v));
        json_decref(v);
        return out;
    }
    if (v) {
        json_t *c = canon_numbers(v);
        if (c) { json_decref(v); v = c; }
        char *out = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        json_decref(v);
        if (out) return out;
    }
    return normalize_text(text ? text : "", len);
}

int32_t hearth_vote(const char *const *answers, const float *scores, int32_t n, float *agreement)
{
    if (agreement) *agreement = 0;
    if (!answers || n <= 0) return -1;
    char **norm = calloc((size_t)n, sizeof *norm);
    if (!norm) return -1;
    for (int32_t i = 0; i < n; i++) {
        norm[i] = hearth_answer_normalize(answers[i], answers[i] ? strlen(answers[i]) : 0);
        if (!norm[i]) { /* out of memory: vote on what we have */
            norm[i] = NULL;
        }
    }
    int32_t best = -1, best_count = 0;
    double best_score = -INFINITY;
    for (int32_t i = 0; i < n; i++) {
        bool seen = false; /* count each group once, at its first member */
        for (int32_t j = 0; j < i && !seen; j++) seen = norm[i] && norm[j] && !strcmp(norm[i], norm[j]);
        if (seen || !norm[i]) continue;
        int32_t count = 0;
        double score = 0;
        for (int32_t j = i; j < n; j++)
            if (norm[j] && !strcmp(norm[i], norm[j])) { count++; score += scores ? scores[j] : 0; }
        if (count > best_count || (count == best_count && score > best_score)) {
            best = i;
            best_count = count;
            best_score = score;
        }
    }
    for (int32_t i = 0; i < n; i++) free(norm[i]);
    free(norm);
    if (agreement && best >= 0) *agreement = (float)best_count / (float)n;
    return best;
}

int32_t hearth_best_of_n(const hearth_confidence *conf, int32_t n)
{
    int32_t best = -1;
    float best_lp = -INFINITY;
    for (int32_t i = 0; conf && i < n; i++) {
        float lp = conf[i].n_tokens > 0 ? conf[i].mean_logprob : -INFINITY;
        if (best < 0 || lp > best_lp) { best = i; best_lp = lp; }
    }
    return best;
}
