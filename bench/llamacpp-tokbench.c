/*
 * llamacpp-tokbench.c — llama.cpp's tokenizer throughput on a corpus, timed from C (dev-only).
 *
 * Built by bench/tokenizer-bench against the prebuilt CPU libllama of the npm package
 * node-llama-cpp. It cuts the corpus exactly as tests/tools/tokenizer_bench.c does (~4 KB
 * calls ending after a newline), so the two outputs compare speed and ids (FNV-1a hash).
 *
 *   llamacpp-tokbench BINS_DIR MODEL CORPUS REPS   → one JSON line, same fields as hearth's
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "llamacpp-common.h"

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s BINS_DIR MODEL CORPUS REPS\n", argv[0]);
        return 2;
    }
    int reps = atoi(argv[4]);
    FILE *f = fopen(argv[3], "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) return 1;
    fclose(f);
    llama_log_set(quiet, NULL);
    ggml_backend_load_all_from_path(argv[1]);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    struct llama_model *model = llama_model_load_from_file(argv[2], mp);
    if (!model) {
        fprintf(stderr, "llama.cpp could not load %s\n", argv[2]);
        return 1;
    }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int cap = 1 << 16;
    llama_token *ids = malloc((size_t)cap * sizeof *ids);
    double best = 1e30;
    uint64_t hash = 0, tokens = 0;
    for (int r = 0; r < reps; r++) {
        hash = 1469598103934665603ull, tokens = 0;
        double t0 = now();
        for (long start = 0; start < size;) {
            long end = start + 4096 < size ? start + 4096 : size;
            while (end < size && text[end - 1] != '\n') end++;
            int n = llama_tokenize(vocab, text + start, (int)(end - start), ids, cap, false, false);
            if (n < 0) return 1;
            for (int i = 0; i < n; i++) hash = (hash ^ (uint32_t)ids[i]) * 1099511628211ull;
            tokens += (uint64_t)n;
            start = end;
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("{\"mb_per_s\": %.3f, \"seconds\": %.4f, \"bytes\": %ld, \"tokens\": %llu, \"ids_hash\": \"%016llx\"}\n",
           (double)size / best / 1e6, best, size, (unsigned long long)tokens, (unsigned long long)hash);
    llama_model_free(model);
    free(ids);
    free(text);
    return 0;
}
