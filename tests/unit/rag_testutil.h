/* rag_testutil.h — helpers shared by the tests/unit/test_rag_*.c tests: a temp directory,
 * file writing, and a hashed bag-of-words embedder (a real if simple embedding: texts that share
 * words get similar vectors) so store/search logic is tested without a neural model. */
#ifndef HEARTH_RAG_TESTUTIL_H
#define HEARTH_RAG_TESTUTIL_H

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rag/rag.h"

static inline char *rt_tempdir(void)
{
    char tmpl[] = "/tmp/hearth-rag-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    return d ? strdup(d) : NULL;
}

static inline void rt_rmrf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

static inline void rt_write(const char *dir, const char *name, const char *data, size_t len)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = 0;
    char cmd[8500];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    if (system(cmd) != 0) return;
    *slash = '/';
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, len ? len : strlen(data), f);
    fclose(f);
}

#define RT_DIM 64
static hearth_status rt_embed(void *self, const char *const *texts, const size_t *lens, int32_t n, float *out,
                              hearth_error *err)
{
    (void)self, (void)err;
    for (int32_t t = 0; t < n; t++) {
        float *v = out + (size_t)t * RT_DIM;
        memset(v, 0, RT_DIM * sizeof *v);
        size_t i = 0;
        while (i < lens[t]) {
            while (i < lens[t] && !isalnum((unsigned char)texts[t][i])) i++;
            uint64_t h = 1469598103934665603ull;
            size_t wl = 0;
            while (i < lens[t] && isalnum((unsigned char)texts[t][i])) {
                h = (h ^ (uint64_t)tolower((unsigned char)texts[t][i++])) * 1099511628211ull;
                wl++;
            }
            if (wl >= 3) v[h % RT_DIM] += (h >> 32) & 1 ? 1.0f : -1.0f;
        }
        float s = 0;
        for (int k = 0; k < RT_DIM; k++) s += v[k] * v[k];
        s = s > 0 ? 1.0f / sqrtf(s) : 0;
        for (int k = 0; k < RT_DIM; k++) v[k] *= s;
    }
    return HEARTH_OK;
}

static inline rag_embedder rt_embedder(const char *name)
{
    rag_embedder e;
    memset(&e, 0, sizeof e);
    e.dim = RT_DIM;
    snprintf(e.name, sizeof e.name, "%s", name);
    snprintf(e.fingerprint, sizeof e.fingerprint, "bow-%s", name);
    e.max_tokens = 512;
    e.embed = rt_embed;
    return e;
}

#endif
