/*
 * tokenizer_bench.c — tokenizer throughput (MB/s) on a deterministic English + code corpus,
 * the way the issue measures llama.cpp: one thread, the corpus cut into ~4 KB calls.
 *
 *   tokenizer_bench --write-corpus FILE [--mb N]   write the corpus (default 10 MB)
 *   tokenizer_bench MODEL.gguf CORPUS [--reps N]   tokenize it; print one JSON line:
 *       {"mb_per_s":..., "seconds":..., "bytes":..., "tokens":..., "ids_hash":"..."}
 *
 * bench/llamacpp-tokbench.c cuts the same file at the same places and prints the same fields,
 * so bench/tokenizer-bench can compare speed and check that the ids agree (FNV-1a of all ids).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearth.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t lcg = 0x853C49E6748FEA9Bull;
static uint32_t rnd(uint32_t n)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg >> 33) % n;
}

static const char *const words[] = {
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by",
    "on", "not", "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had",
    "they", "you", "were", "their", "one", "all", "we", "can", "her", "has", "there", "been", "if",
    "more", "when", "will", "would", "who", "so", "no", "model", "agent", "local", "memory", "token",
    "document", "search", "private", "network", "request", "answer", "question", "history",
    "government", "international", "development", "information", "university", "particularly",
    "approximately", "responsibility", "understanding", "significantly", "Wednesday", "London",
    "Einstein", "photosynthesis", "cryptography", "don't", "it's", "we're", "they've", "I'll",
    "naïve", "café", "résumé", "façade", "über", "coöperate", "1984", "2025", "3.14159", "42",
    "100,000", "e-mail", "state-of-the-art", "(see", "below)", "\"quoted\"", "GPU", "API", "HTTP/2",
};

static const char *const code[] = {
    "def %s(x, y=None):\n    if y is None:\n        return [i * 2 for i in range(x)]\n    return {\"sum\": x + y}\n\n",
    "static int %s(const char *s, size_t n)\n{\n\tfor (size_t i = 0; i < n; i++)\n\t\tif (s[i] == '\\n') return (int)i;\n\treturn -1;\n}\n\n",
    "const %s = async (req, res) => {\n  const { id } = req.params;\n  res.json(await db.find({ id: Number(id) }));\n};\n\n",
    "    let %s: Vec<u32> = input.iter().map(|&b| b as u32 * 31).collect();\n",
    "SELECT %s, COUNT(*) FROM events WHERE ts >= '2024-01-01' GROUP BY 1 ORDER BY 2 DESC;\n",
    "<div class=\"%s\"><a href=\"https://example.com/a?b=1&c=2\">link</a></div>\n",
};

static const char *const idents[] = {"parse_header", "fetchUser", "tokenize", "merge_ranks", "buf_len",
                                     "handleRequest", "compute_hash", "x2", "__init__", "MAX_ITEMS"};

static int write_corpus(const char *path, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "tokenizer_bench: cannot write %s\n", path);
        return 1;
    }
    size_t n = 0;
    while (n < bytes) {
        char buf[2048];
        int k;
        if (rnd(10) < 3) {
            k = snprintf(buf, sizeof buf, code[rnd(COUNT(code))], idents[rnd(10)]);
        } else { /* a paragraph of 3-7 sentences */
            k = 0;
            int sentences = 3 + (int)rnd(5);
            for (int s = 0; s < sentences; s++) {
                int len = 6 + (int)rnd(18);
                for (int w = 0; w < len && k < 1800; w++) {
                    const char *word = words[rnd(COUNT(words))];
                    if (w > 0) buf[k++] = ' ';
                    int start = k;
                    k += snprintf(buf + k, sizeof buf - (size_t)k, "%s", word);
                    if (w == 0 && buf[start] >= 'a' && buf[start] <= 'z') buf[start] -= 32;
                    if (w + 1 < len && rnd(12) == 0) buf[k++] = ',';
                }
                k += snprintf(buf + k, sizeof buf - (size_t)k, "%s", rnd(8) ? ". " : "? ");
            }
            buf[k - 1] = '\n';
            buf[k++] = '\n';
        }
        fwrite(buf, 1, (size_t)k, f);
        n += (size_t)k;
    }
    fclose(f);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--write-corpus")) {
        double mb = argc >= 5 && !strcmp(argv[3], "--mb") ? atof(argv[4]) : 10.0;
        if (!(mb > 0 && mb <= 1024)) return fprintf(stderr, "tokenizer_bench: --mb must be in (0, 1024]\n"), 2;
        return write_corpus(argv[2], (size_t)(mb * 1e6));
    }
    if (argc < 3) {
        fprintf(stderr, "usage: tokenizer_bench --write-corpus FILE [--mb N]\n"
                        "       tokenizer_bench MODEL.gguf CORPUS [--reps N]\n");
        return 2;
    }
    int reps = argc >= 5 && !strcmp(argv[3], "--reps") ? atoi(argv[4]) : 3;
    if (reps < 1 || reps > 100) return fprintf(stderr, "tokenizer_bench: --reps must be 1..100\n"), 2;
    FILE *f = fopen(argv[2], "rb");
    if (!f) return fprintf(stderr, "tokenizer_bench: cannot read %s\n", argv[2]), 1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) return fprintf(stderr, "read failed\n"), 1;
    fclose(f);

    hearth_model_params mp = hearth_model_default_params();
    mp.vocab_only = true;
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(argv[1], &mp, &err);
    if (!m) return fprintf(stderr, "tokenizer_bench: %s\n", err.message), 1;

    int32_t cap = 1 << 16;
    hearth_token *ids = malloc((size_t)cap * sizeof *ids);
    double best = 1e30;
    uint64_t hash = 0, tokens = 0;
    for (int r = 0; r < reps; r++) {
        hash = 1469598103934665603ull, tokens = 0;
        double t0 = now();
        for (long start = 0; start < size;) {
            /* ~4 KB calls, cut after the next newline so words are never split */
            long end = start + 4096 < size ? start + 4096 : size;
            while (end < size && text[end - 1] != '\n') end++;
            int32_t n = hearth_tokenize(m, text + start, (int32_t)(end - start), ids, cap, false, false);
            if (n < 0) return fprintf(stderr, "tokenizer_bench: tokenize failed\n"), 1;
            for (int32_t i = 0; i < n; i++) hash = (hash ^ (uint32_t)ids[i]) * 1099511628211ull;
            tokens += (uint64_t)n;
            start = end;
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("{\"mb_per_s\": %.3f, \"seconds\": %.4f, \"bytes\": %ld, \"tokens\": %llu, \"ids_hash\": \"%016llx\"}\n",
           (double)size / best / 1e6, best, size, (unsigned long long)tokens, (unsigned long long)hash);
    free(ids);
    free(text);
    hearth_model_free(m);
    return 0;
}
