/*
 * gguf_corpus.c — writes the malformed-GGUF corpus (tests/unit/gguf_corpus.h) as files, so the
 * CLI tests can run the real binaries over them:
 *
 *     gguf_corpus DIR     → DIR/NN-what.gguf and DIR/NN-what.expect (the message substring)
 *                           plus DIR/valid.gguf, the undamaged file
 *     gguf_corpus DIR FIXTURE.gguf N
 *                         → also DIR/fuzz-NNN.gguf: N copies of FIXTURE with random bit flips in
 *                           its metadata and tensor infos, every fourth also truncated
 *                           (deterministic: the same N files every run)
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/gguf_corpus.h"

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        fprintf(stderr, "gguf_corpus: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int fuzz(const char *dir, const char *fixture, long n)
{
    hearth_error err = {0};
    char *file;
    size_t len;
    hearth_gguf *g;
    if (hearth_read_file(fixture, 1u << 30, &file, &len, &err) || hearth_gguf_parse(file, len, fixture, &g, &err)) {
        fprintf(stderr, "gguf_corpus: %s\n", err.message);
        return 1;
    }
    size_t hot = hearth_gguf_data_offset(g);
    hearth_gguf_close(g);
    uint64_t s = 0x243f6a8885a308d3ull;
    int rc = 0;
    for (long i = 0; i < n && !rc; i++) {
        size_t at[8];
        uint8_t old[8];
        int flips = 1 + (int)(rng(&s) % 8);
        for (int f = 0; f < flips; f++) {
            at[f] = (size_t)(rng(&s) % hot);
            old[f] = (uint8_t)file[at[f]];
            file[at[f]] ^= (char)(1u << (rng(&s) % 8));
        }
        size_t cut = i % 4 == 3 ? (size_t)(rng(&s) % len) : len;
        char path[4096];
        snprintf(path, sizeof path, "%s/fuzz-%03ld.gguf", dir, i);
        rc = write_file(path, file, cut);
        for (int f = flips - 1; f >= 0; f--) file[at[f]] = (char)old[f];
    }
    free(file);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: gguf_corpus DIR [FIXTURE.gguf N]\n");
        return 2;
    }
    char path[4096];
    mini m;
    mini_build(&m);
    snprintf(path, sizeof path, "%s/valid.gguf", argv[1]);
    int rc = write_file(path, m.b.p, m.b.len);
    blob_free(&m.b);
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(corpus) && !rc; i++) {
        char name[64];
        size_t k = 0;
        for (const char *w = corpus[i].what; *w && k < sizeof name - 1; w++)
            name[k++] = isalnum((unsigned char)*w) ? (char)*w : '-';
        name[k] = '\0';
        mini_build(&m);
        size_t len = m.b.len;
        corpus[i].apply(&m, &len);
        snprintf(path, sizeof path, "%s/%02zu-%s.gguf", argv[1], i, name);
        rc = write_file(path, m.b.p, len);
        snprintf(path, sizeof path, "%s/%02zu-%s.expect", argv[1], i, name);
        if (!rc) rc = write_file(path, corpus[i].expect, strlen(corpus[i].expect));
        blob_free(&m.b);
    }
    if (!rc && argc == 4) rc = fuzz(argv[1], argv[2], strtol(argv[3], NULL, 10));
    return rc;
}
