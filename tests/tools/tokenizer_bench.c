/*
 * tokenizer_bench.c — tokenizer throughput (MB/s) on the deterministic English + code corpus
 * of src/tokenizer/tok_bench.c, for bench/tokenizer-bench.
 *
 *   tokenizer_bench --write-corpus FILE [--mb N]   write the corpus (default 10 MB)
 *   tokenizer_bench MODEL.gguf CORPUS [--reps N]   tokenize it; print one JSON line:
 *       {"mb_per_s":..., "seconds":..., "bytes":..., "tokens":..., "ids_hash":"..."}
 *
 * bench/llamacpp-tokbench.c reads the same file, cuts it at the same places and prints the
 * same fields, so the script compares speed and checks that the ids agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "tokenizer/tokenizer.h"

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "--write-corpus")) {
        double mb = argc >= 5 && !strcmp(argv[3], "--mb") ? atof(argv[4]) : 10.0;
        if (!(mb > 0 && mb <= 1024)) return fprintf(stderr, "tokenizer_bench: --mb must be in (0, 1024]\n"), 2;
        size_t len;
        char *text = hearth_tokbench_corpus((size_t)(mb * 1e6), &len);
        FILE *f = text ? fopen(argv[2], "wb") : NULL;
        if (!f || fwrite(text, 1, len, f) != len || fclose(f))
            return fprintf(stderr, "tokenizer_bench: cannot write %s\n", argv[2]), 1;
        free(text);
        return 0;
    }
    if (argc < 3) {
        fprintf(stderr, "usage: tokenizer_bench --write-corpus FILE [--mb N]\n"
                        "       tokenizer_bench MODEL.gguf CORPUS [--reps N]\n");
        return 2;
    }
    int reps = argc >= 5 && !strcmp(argv[3], "--reps") ? atoi(argv[4]) : 3;
    if (reps < 1 || reps > 100) return fprintf(stderr, "tokenizer_bench: --reps must be 1..100\n"), 2;
    char *text;
    size_t len;
    hearth_error err = {0};
    if (hearth_read_file(argv[2], (size_t)1 << 31, &text, &len, &err))
        return fprintf(stderr, "tokenizer_bench: %s\n", err.message), 1;
    hearth_model_params mp = hearth_model_default_params();
    mp.vocab_only = true;
    hearth_model *m = hearth_model_load(argv[1], &mp, &err);
    if (!m) return fprintf(stderr, "tokenizer_bench: %s\n", err.message), 1;
    hearth_tokbench_result r;
    if (hearth_tokbench_run(hearth_model_vocab(m), text, len, reps, &r, &err))
        return fprintf(stderr, "tokenizer_bench: %s\n", err.message), 1;
    printf("{\"mb_per_s\": %.3f, \"seconds\": %.4f, \"bytes\": %zu, \"tokens\": %llu, \"ids_hash\": \"%016llx\"}\n",
           r.mb_per_s, r.seconds, r.bytes, (unsigned long long)r.tokens, (unsigned long long)r.ids_hash);
    free(text);
    hearth_model_free(m);
    return 0;
}
