/*
 * bench_constrained — what grammar-constrained decoding costs, on a real model file.
 *
 *   bench_constrained MODEL [-n TOKENS] [-r REPEATS] [--schema FILE] [--samples N] [--threads N]
 *
 * Runs the same prompt unconstrained and constrained (JSON object, or the given schema) with
 * the grammar applied to every token, then N parallel samples vs one, and prints tokens/s,
 * the grammar's own time per token (mask + accept, measured without the model) and the
 * ratios. Best of REPEATS runs. Used by bench/constrained-overhead.sh; run nothing else at the
 * same time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hearth.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) { free(s); s = NULL; }
    if (s) s[n] = 0;
    fclose(f);
    return s;
}

typedef struct result { double sec; int tokens; } result;

static result run_once(hearth_model *m, hearth_context_params cp, hearth_grammar *g, int n_tok, int n_samples,
                       const hearth_token *prompt, int n_prompt)
{
    hearth_error err = {0};
    result r = {0, 0};
    cp.n_seq_max = n_samples;
    hearth_context *ctx = hearth_context_new(m, &cp, &err);
    if (!ctx) { fprintf(stderr, "bench_constrained: %s\n", err.message); exit(1); }
    hearth_sampler *s[64];
    for (int i = 0; i < n_samples; i++) {
        hearth_sampler_params sp = hearth_sampler_default_params();
        sp.temperature = 1.0f;
        sp.seed = 1234 + (uint64_t)i;
        s[i] = hearth_sampler_new(m, &sp, &err);
        if (g) hearth_sampler_set_grammar(s[i], g, &err);
    }
    hearth_generation gens[64];
    hearth_generate_params gp = {.model = m, .max_tokens = n_tok, .n_samples = n_samples};
    double t0 = now();
    hearth_status st = n_samples == 1 ? hearth_generate(ctx, s[0], prompt, n_prompt, &gp, gens, &err)
                                      : hearth_generate_n(ctx, s, prompt, n_prompt, &gp, gens, NULL, &err);
    r.sec = now() - t0;
    if (st != HEARTH_OK) { fprintf(stderr, "bench_constrained: %s\n", err.message); exit(1); }
    for (int i = 0; i < n_samples; i++) {
        r.tokens += gens[i].n_tokens;
        hearth_generation_free(&gens[i]);
        hearth_sampler_free(s[i]);
    }
    hearth_context_free(ctx);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: bench_constrained MODEL [-n TOKENS] [-r REPEATS] [--schema FILE] [--samples N] [--threads N]\n");
        return 2;
    }
    int n_tok = 128, repeats = 3, n_samples = 8, threads = 0;
    const char *schema_path = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-n")) n_tok = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-r")) repeats = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--schema")) schema_path = argv[i + 1];
        else if (!strcmp(argv[i], "--samples")) n_samples = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    }
    if (n_samples < 1 || n_samples > 64) n_samples = 8;
    hearth_error err = {0};
    hearth_model_params mp = hearth_model_default_params();
    hearth_model *m = hearth_model_load(argv[1], &mp, &err);
    if (!m) { fprintf(stderr, "bench_constrained: %s\n", err.message); return 1; }
    char *schema = schema_path ? read_all(schema_path) : NULL;
    double t0 = now();
    hearth_grammar *g = hearth_grammar_new_json_schema(m, schema, &err);
    double t_build = now() - t0;
    if (!g) { fprintf(stderr, "bench_constrained: %s\n", err.message); return 1; }
    const char *text = "Answer with a JSON object describing a city:";
    hearth_token prompt[64];
    int n_prompt = hearth_tokenize(m, text, (int32_t)strlen(text), prompt, 64, true, false);
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = 1024;
    cp.n_threads = threads;
    result best_free = {1e30, 0}, best_json = {1e30, 0}, best_one = {1e30, 0}, best_n = {1e30, 0};
    for (int r = 0; r < repeats; r++) {
        result a = run_once(m, cp, NULL, n_tok, 1, prompt, n_prompt);
        result b = run_once(m, cp, g, n_tok, 1, prompt, n_prompt);
        if (a.sec / a.tokens < best_free.sec / (best_free.tokens ? best_free.tokens : 1)) best_free = a;
        if (b.sec / b.tokens < best_json.sec / (best_json.tokens ? best_json.tokens : 1)) best_json = b;
        result c = run_once(m, cp, NULL, n_tok, 1, prompt, n_prompt);
        result d = run_once(m, cp, NULL, n_tok, n_samples, prompt, n_prompt);
        if (c.sec < best_one.sec) best_one = c;
        if (d.sec < best_n.sec) best_n = d;
    }
    double tps_free = best_free.tokens / best_free.sec, tps_json = best_json.tokens / best_json.sec;
    printf("grammar build (trie over the vocabulary): %.1f ms\n", t_build * 1e3);
    printf("unconstrained: %d tokens, %.2f tokens/s\n", best_free.tokens, tps_free);
    printf("constrained:   %d tokens, %.2f tokens/s (overhead %.1f%% per token)\n", best_json.tokens, tps_json,
           (tps_free / tps_json - 1) * 100);
    printf("1 sample:      %d tokens in %.3f s\n", best_one.tokens, best_one.sec);
    printf("%d samples:     %d tokens in %.3f s (%.2fx the time of one)\n", n_samples, best_n.tokens, best_n.sec,
           best_n.sec / best_one.sec);
    hearth_grammar_free(g);
    hearth_model_free(m);
    free(schema);
    return 0;
}
