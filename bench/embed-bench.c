/*
 * embed-bench.c — embedding throughput of hearth and of llama.cpp on the same bert GGUF, with
 * identical work: N_CHUNKS chunks of CHUNK tokens (deterministic ids), SEQS chunks per batch,
 * mean pooling, single process, THREADS threads. One file, two builds: -DUSE_LLAMA links the
 * prebuilt libllama of node-llama-cpp (dev-only), otherwise libhearth.a. Prints one JSON line
 * {"tokens_per_s":best,"chunks_per_s":best,"mean_tokens_per_s":mean}.
 *
 *   embed-bench [BINS_DIR] MODEL THREADS CHUNK N_CHUNKS SEQS REPS   (BINS_DIR only with USE_LLAMA)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#ifdef USE_LLAMA
#include "ggml-backend.h"
#include "llama.h"
#else
#include "hearth.h"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Token ids 1000.. of an LCG: the same for both engines, inside any bert vocabulary. */
static int token_at(int chunk, int t, int n_vocab)
{
    unsigned x = (unsigned)(chunk * 7919 + t * 104729 + 12345) * 1103515245u + 12345u;
    return 1000 + (int)((x >> 8) % (unsigned)(n_vocab - 1000));
}

#ifdef USE_LLAMA
static void quiet(enum ggml_log_level level, const char *text, void *user)
{
    (void)user;
    if (level >= GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}
#endif

int main(int argc, char **argv)
{
#ifdef USE_LLAMA
    if (argc != 8) return fprintf(stderr, "usage: embed-bench BINS MODEL THREADS CHUNK N_CHUNKS SEQS REPS\n"), 2;
    const char *bins = argv[1];
    argv++;
#else
    if (argc != 7) return fprintf(stderr, "usage: embed-bench MODEL THREADS CHUNK N_CHUNKS SEQS REPS\n"), 2;
#endif
    const char *path = argv[1];
    int threads = atoi(argv[2]), chunk = atoi(argv[3]), n_chunks = atoi(argv[4]), seqs = atoi(argv[5]),
        reps = atoi(argv[6]);
    int n_batch = chunk * seqs;
    int *tok = malloc(sizeof(int) * (size_t)n_batch), *pos = malloc(sizeof(int) * (size_t)n_batch),
        *seq = malloc(sizeof(int) * (size_t)n_batch);
#ifdef USE_LLAMA
    llama_log_set(quiet, NULL);
    ggml_backend_load_all_from_path(bins);
    llama_backend_init();
    struct llama_model *model = llama_model_load_from_file(path, llama_model_default_params());
    if (!model) return fprintf(stderr, "llama.cpp could not load %s\n", path), 1;
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n_batch;
    cp.n_batch = cp.n_ubatch = (uint32_t)n_batch;
    cp.n_seq_max = (uint32_t)seqs;
    cp.n_threads = cp.n_threads_batch = threads;
    cp.embeddings = true;
    cp.pooling_type = LLAMA_POOLING_TYPE_MEAN;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return 1;
    int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    struct llama_batch b = llama_batch_init(n_batch, 0, 1);
#else
    hearth_error err = {0};
    hearth_model *model = hearth_model_load(path, NULL, &err);
    if (!model) return fprintf(stderr, "%s\n", err.message), 1;
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = cp.n_batch = n_batch;
    cp.n_seq_max = seqs;
    cp.n_threads = threads;
    cp.embeddings = true;
    hearth_context *ctx = hearth_context_new(model, &cp, &err);
    if (!ctx) return fprintf(stderr, "%s\n", err.message), 1;
    int n_vocab = hearth_vocab_size(model);
#endif
    double best = 1e30, total = 0;
    float checksum = 0;
    for (int r = 0; r <= reps; r++) { /* rep 0 warms up */
        double t0 = now();
        for (int c0 = 0; c0 < n_chunks; c0 += seqs) {
            int n = 0, ns = n_chunks - c0 < seqs ? n_chunks - c0 : seqs;
            for (int s = 0; s < ns; s++)
                for (int t = 0; t < chunk; t++, n++) tok[n] = token_at(c0 + s, t, n_vocab), pos[n] = t, seq[n] = s;
#ifdef USE_LLAMA
            llama_memory_clear(llama_get_memory(ctx), true);
            b.n_tokens = n;
            for (int i = 0; i < n; i++) {
                b.token[i] = tok[i];
                b.pos[i] = pos[i];
                b.n_seq_id[i] = 1;
                b.seq_id[i][0] = seq[i];
                b.logits[i] = 1;
            }
            if (llama_decode(ctx, b)) return fprintf(stderr, "llama_decode failed\n"), 1;
            for (int s = 0; s < ns; s++) checksum += llama_get_embeddings_seq(ctx, s)[0];
#else
            hearth_batch hb = {.n_tokens = n, .tokens = tok, .pos = pos, .seq_id = seq};
            if (hearth_decode(ctx, &hb, &err)) return fprintf(stderr, "%s\n", err.message), 1;
            for (int s = 0; s < ns; s++) checksum += hearth_get_embeddings_seq(ctx, s)[0];
#endif
        }
        double t = now() - t0;
        if (r == 0) continue;
        total += t;
        if (t < best) best = t;
    }
    double toks = (double)n_chunks * chunk;
    printf("{\"tokens_per_s\":%.1f,\"chunks_per_s\":%.1f,\"mean_tokens_per_s\":%.1f,\"checksum\":%g}\n", toks / best,
           n_chunks / best, toks * reps / total, (double)checksum);
    return 0;
}
