/*
 * llamacpp-bench.c — llama.cpp's own speed on a GGUF file, timed from C (dev-only).
 *
 * Built by bench/compare-llamacpp against the prebuilt CPU libllama that the npm package
 * node-llama-cpp ships, with headers from that package's llama.cpp source bundle. Timing the
 * C API directly matters: node's generation loop adds ~15-18 ms per token.
 *
 *   llamacpp-bench MODEL THREADS PP TG REPS   → one JSON line {"pp_tps":…,"tg_tps":…}
 *
 * pp: one llama_decode of PP tokens from an empty cache (logits for the last only), like
 * llama-bench's pp512. tg: TG single-token decodes from an empty cache, like tg128.
 * Each is repeated REPS times after one warm-up; the best and the mean are printed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "llamacpp-common.h"

static int decode_run(struct llama_context *ctx, const llama_token *toks, int n, int one_by_one)
{
    llama_memory_clear(llama_get_memory(ctx), true);
    if (!one_by_one) {
        struct llama_batch b = llama_batch_get_one((llama_token *)toks, n);
        return llama_decode(ctx, b);
    }
    for (int i = 0; i < n; i++) {
        struct llama_batch b = llama_batch_get_one((llama_token *)toks + i, 1);
        if (llama_decode(ctx, b)) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: %s BINS_DIR MODEL THREADS PP TG REPS\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[3]), pp = atoi(argv[4]), tg = atoi(argv[5]), reps = atoi(argv[6]);
    llama_log_set(quiet, NULL);
    ggml_backend_load_all_from_path(argv[1]);
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    mp.progress_callback = no_progress;
    struct llama_model *model = llama_model_load_from_file(argv[2], mp);
    if (!model) {
        fprintf(stderr, "llama.cpp could not load %s\n", argv[2]);
        return 1;
    }
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)(pp + tg + 16);
    cp.n_batch = cp.n_ubatch = (uint32_t)(pp > 0 ? pp : 1);
    cp.n_threads = cp.n_threads_batch = threads;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return 1;
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    int n = pp > tg ? pp : tg;
    llama_token *toks = malloc(sizeof *toks * (size_t)n);
    unsigned s = 12345;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        toks[i] = (llama_token)((s >> 8) % (unsigned)n_vocab);
    }
    double pp_best = 0, pp_sum = 0, tg_best = 0, tg_sum = 0;
    for (int r = -1; r < reps; r++) { /* r = -1 is the warm-up */
        if (pp > 0) {
            double t0 = now();
            if (decode_run(ctx, toks, pp, 0)) return 1;
            llama_synchronize(ctx);
            double tps = pp / (now() - t0);
            if (r >= 0) { pp_sum += tps; if (tps > pp_best) pp_best = tps; }
        }
        if (tg > 0) {
            double t0 = now();
            if (decode_run(ctx, toks, tg, 1)) return 1;
            llama_synchronize(ctx);
            double tps = tg / (now() - t0);
            if (r >= 0) { tg_sum += tps; if (tps > tg_best) tg_best = tps; }
        }
    }
    printf("{\"pp_tps\":%.2f,\"pp_mean\":%.2f,\"tg_tps\":%.2f,\"tg_mean\":%.2f}\n", pp_best,
           reps ? pp_sum / reps : 0, tg_best, reps ? tg_sum / reps : 0);
    llama_free(ctx);
    llama_model_free(model);
    free(toks);
    return 0;
}
