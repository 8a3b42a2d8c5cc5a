/* sample_vocab.h — a synthetic byte-level vocabulary for the sampler and grammar tests: token 0
 * ends generation, 1..256 are the single bytes, then JSON fragments, multi-byte UTF-8 pieces
 * (some split mid-character) and pseudo-random ASCII pieces. */
#ifndef HEARTH_TEST_SAMPLE_VOCAB_H
#define HEARTH_TEST_SAMPLE_VOCAB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sample/sample.h"

static const char *const TV_FRAGMENTS[] = {
    "{\"", "\":", "\",", "\"}", "},", "],", "[{", "}]", "true", "false", "null", ", ", ": ", "\\n",
    "\\\"", "\\u00e9", "\\u", "\\\\", "12", "345", "0.", "e+", "-1", "  ", "\n  ", "\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87",
    "\xf0\x9f", "\x98\x80", "\xf0\x9f\x98\x80", "name", "age", "id", "hello", " world", "a\"b", "\"name\"", "\"id\":",
    "[]", "{}", "\"\"", "[\"", "\"]", "\":\"", "\": \"", "\": [", "\": {", "1.5", "2e3", "-0", "00", "ab", "xyz",
    "\xc3", "\xa9", "\xe4\xb8", "\xad", "tag", "tags", "items", "type", "value", "ok", "red", "green", "blue",
};

typedef struct test_vocab { sample_vocab *v; int32_t n; } test_vocab;

static inline uint32_t tv_lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

static inline sample_vocab *test_vocab_new(int32_t n_random)
{
    int32_t n_frag = (int32_t)(sizeof TV_FRAGMENTS / sizeof *TV_FRAGMENTS);
    int32_t n = 1 + 256 + n_frag + n_random;
    char **pieces = calloc((size_t)n, sizeof *pieces);
    int32_t *lens = calloc((size_t)n, sizeof *lens);
    uint8_t *eog = calloc((size_t)n, 1);
    uint64_t seed = 12345;
    eog[0] = 1;
    pieces[0] = strdup("");
    for (int32_t b = 0; b < 256; b++) {
        pieces[1 + b] = malloc(2);
        pieces[1 + b][0] = (char)b;
        lens[1 + b] = 1;
    }
    for (int32_t i = 0; i < n_frag; i++) {
        pieces[257 + i] = strdup(TV_FRAGMENTS[i]);
        lens[257 + i] = (int32_t)strlen(TV_FRAGMENTS[i]);
    }
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789_-.,:\"{}[]";
    for (int32_t i = 0; i < n_random; i++) {
        int32_t len = 2 + (int32_t)(tv_lcg(&seed) % 6);
        char *p = malloc((size_t)len + 1);
        for (int32_t k = 0; k < len; k++) p[k] = alphabet[tv_lcg(&seed) % (sizeof alphabet - 1)];
        p[len] = 0;
        pieces[257 + n_frag + i] = p;
        lens[257 + n_frag + i] = len;
    }
    sample_vocab *v = sample_vocab_new(n, (const char *const *)pieces, lens, eog, NULL);
    for (int32_t i = 0; i < n; i++) free(pieces[i]);
    free(pieces);
    free(lens);
    free(eog);
    return v;
}

#endif
