/*
 * schema_e2e — structured output on Qwen3's real 151,936-token vocabulary, end to end.
 *
 *   schema_e2e vocab VOCAB.gguf       random high-temperature walks for every schema in
 *                                     tests/unit/schema_cases.h, through the public API
 *   schema_e2e model MODEL.gguf       hearth_generate at temperature 1.5 on a model, every schema
 *
 * Every output must parse (jansson) and validate (the independent validator). Prints one line
 * per failure and a summary; exits 1 on any failure. Run by tests/cli/structured_output.sh.
 * The first schema goes through hearth_grammar_new_json_schema; the others reuse one
 * vocabulary view (and so one token trie) of the model, which the public call would rebuild.
 */

#include <stdlib.h>

#include "hearth.h"
#include "sample/sample.h"
#include "../unit/schema_cases.h"

#define N_SCHEMAS (sizeof SCHEMAS / sizeof *SCHEMAS)

static sample_vocab *g_vocab;

static hearth_grammar *grammar_for(hearth_model *m, size_t i, hearth_error *err)
{
    if (i == 0) return hearth_grammar_new_json_schema(m, SCHEMAS[i], err);
    if (!g_vocab && !(g_vocab = sample_vocab_from_model(m, err))) return NULL;
    char *gbnf = hearth_json_schema_to_gbnf(SCHEMAS[i], err);
    if (!gbnf) return NULL;
    hearth_grammar *g = sample_grammar_new(g_vocab, false, gbnf, NULL, err);
    free(gbnf);
    return g;
}

static int check(size_t i, const char *what, const char *text)
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v) {
        printf("FAIL schema %zu (%s): does not parse (%s): %s\n", i, what, je.text, text);
        return 1;
    }
    int bad = !valid(g_root, v);
    if (bad) printf("FAIL schema %zu (%s): does not validate: %s\n", i, what, text);
    json_decref(v);
    return bad;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* Random walks: random logits (a sliding window over one random array) at temperature 1.5. */
static int walks(hearth_model *m, int per_schema, int max_tokens)
{
    int32_t V = hearth_vocab_size(m);
    float *noise = malloc(((size_t)V + 8192) * sizeof *noise);
    char *text = malloc(65536);
    uint64_t s = 7;
    for (int32_t i = 0; i < V + 8192; i++) noise[i] = (float)((double)lcg(&s) / 2147483648.0 * 6.0);
    int failures = 0, runs = 0;
    for (size_t i = 0; i < N_SCHEMAS; i++) {
        hearth_error err = {0};
        hearth_grammar *g = grammar_for(m, i, &err);
        if (!g) { printf("FAIL schema %zu: %s\n", i, err.message); failures++; continue; }
        json_error_t je;
        g_root = json_loads(SCHEMAS[i], 0, &je);
        for (int k = 0; k < per_schema; k++) {
            hearth_sampler_params p = hearth_sampler_default_params();
            p.temperature = 1.5f;
            p.top_k = 0;
            p.top_p = 1.0f;
            p.min_p = 0.0f;
            p.seed = i * 100 + (uint64_t)k;
            hearth_sampler *sm = hearth_sampler_new(m, &p, &err);
            hearth_sampler_set_grammar(sm, g, &err);
            size_t n = 0;
            int bad = 0;
            for (int t = 0; t < max_tokens && !hearth_sampler_grammar_done(sm); t++) {
                hearth_sampler_set_budget(sm, max_tokens - t);
                hearth_token tok = hearth_sampler_sample(sm, noise + lcg(&s) % 8192, NULL);
                if (tok == HEARTH_TOKEN_NULL) { printf("FAIL schema %zu: %s\n", i, hearth_sampler_error(sm)); bad = 1; break; }
                if (hearth_token_is_eog(m, tok)) break;
                int32_t len = hearth_token_to_piece(m, tok, text + n, (int32_t)(65535 - n), false);
                if (len < 0) { bad = 1; break; }
                n += (size_t)len;
            }
            text[n] = 0;
            if (!bad) bad = check(i, "vocab walk", text);
            failures += bad;
            runs++;
            hearth_sampler_free(sm);
        }
        json_decref(g_root);
        hearth_grammar_free(g);
    }
    printf("%d walks over %zu schemas on %d tokens: %d failed\n", runs, N_SCHEMAS, V, failures);
    free(noise);
    free(text);
    return failures;
}

static int generations(hearth_model *m, int max_tokens)
{
    hearth_error err = {0};
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = 512;
    hearth_context *ctx = hearth_context_new(m, &cp, &err);
    if (!ctx) { printf("FAIL context: %s\n", err.message); return 1; }
    const char *prompt_text = "Reply with JSON:";
    hearth_token prompt[32];
    int32_t n_prompt = hearth_tokenize(m, prompt_text, (int32_t)strlen(prompt_text), prompt, 32, true, false);
    int failures = 0;
    for (size_t i = 0; i < N_SCHEMAS; i++) {
        hearth_grammar *g = grammar_for(m, i, &err);
        if (!g) { printf("FAIL schema %zu: %s\n", i, err.message); failures++; continue; }
        json_error_t je;
        g_root = json_loads(SCHEMAS[i], 0, &je);
        hearth_sampler_params p = hearth_sampler_default_params();
        p.temperature = 1.5f;
        p.top_k = 0;
        p.top_p = 1.0f;
        p.min_p = 0.0f;
        p.seed = 1000 + i;
        hearth_sampler *sm = hearth_sampler_new(m, &p, &err);
        hearth_sampler_set_grammar(sm, g, &err);
        hearth_kv_clear(ctx);
        hearth_generation gen;
        hearth_generate_params gp = {.model = m, .max_tokens = max_tokens};
        if (hearth_generate(ctx, sm, prompt, n_prompt, &gp, &gen, &err) != HEARTH_OK) {
            printf("FAIL schema %zu: generate: %s\n", i, err.message);
            failures++;
        } else {
            failures += check(i, "model", gen.text);
            hearth_generation_free(&gen);
        }
        hearth_sampler_free(sm);
        json_decref(g_root);
        hearth_grammar_free(g);
    }
    printf("%zu generations at temperature 1.5: %d failed\n", N_SCHEMAS, failures);
    hearth_context_free(ctx);
    return failures;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "vocab") && strcmp(argv[1], "model"))) {
        fprintf(stderr, "usage: schema_e2e vocab|model FILE.gguf\n");
        return 2;
    }
    hearth_log_set(NULL, NULL);
    hearth_error err = {0};
    hearth_model_params mp = hearth_model_default_params();
    mp.vocab_only = !strcmp(argv[1], "vocab");
    hearth_model *m = hearth_model_load(argv[2], &mp, &err);
    if (!m) { fprintf(stderr, "schema_e2e: %s\n", err.message); return 1; }
    int failures = mp.vocab_only ? walks(m, 2, 64) : generations(m, 64);
    sample_vocab_free(g_vocab);
    hearth_model_free(m);
    return failures ? 1 : 0;
}
