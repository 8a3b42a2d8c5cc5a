/* cmd_run.c — `hearth run MODEL [PROMPT]`: generate text, streaming tokens as they come. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

static const char *run_help =
    "usage: hearth run MODEL [PROMPT] [options]\n"
    "\n"
    "Loads a GGUF model and continues PROMPT (read from standard input when absent), printing\n"
    "each token as soon as it is produced. The prompt is used as given: no chat template is\n"
    "applied, and special-token text such as <|im_start|> is recognized. Generation stops at\n"
    "the model's end-of-turn token, after -n tokens, or when the context is full. A speed line\n"
    "(prompt and generation tokens per second) goes to standard error.\n"
    "\n"
    "options:\n"
    "  -n, --num-predict N   most tokens to generate (default 256; 0 = until the context is full)\n"
    "  --temp T              temperature, 0 = greedy (default 0.8)\n"
    "  --top-k K             keep the K most likely tokens, 0 = off (default 40)\n"
    "  --top-p P             keep the smallest set with probability >= P, 1 = off (default 0.95)\n"
    "  --min-p P             drop tokens below P x the top probability, 0 = off (default 0.05)\n"
    "  --seed N              random seed; the same seed and options give the same text\n"
    "                        (default: taken from the clock)\n"
    "  --ctx N               context size in tokens (default: min(trained length, 4096))\n"
    "  --threads N           worker threads (default: physical cores)\n"
    "  --kv-type TYPE        KV cache type: f16 (default), f32 or q8_0\n"
    "  --gpu-layers N        layers to run on the GPU in a CUDA build: a count, 'all' or\n"
    "                        'auto' (default: as many as fit in free GPU memory)\n"
    "  --no-mmap             read the model into (huge-page) memory instead of mapping it:\n"
    "                        slower to load; faster to decode only where the page cache\n"
    "                        cannot map the file in 2 MB pages (older kernels)\n"
    "                        (HEARTH_MMAP=0 makes this the default for every command)\n"
    "  --logprobs N          also report each token's log-probability and its N best\n"
    "                        alternatives (0..20; printed after the text, or in the JSON)\n"
    "  --no-bos              do not add the vocabulary's BOS token to the prompt\n"
    "  --format json|FILE    structured output: any JSON object (json), or JSON matching the\n"
    "                        JSON Schema in FILE; generation ends when the value is complete\n"
    "  --grammar FILE        constrain the output to a GBNF grammar (llama.cpp syntax, rule root)\n"
    "  --samples N           draw N samples of the prompt in parallel (shared prompt cache, one\n"
    "                        batch per step; default 1) and print the best by mean logprob\n"
    "  --vote                with --samples: print the majority answer (normalized: JSON\n"
    "                        canonicalized, numbers and case folded) and report agreement\n"
    "  --json                print one JSON object at the end (text, value, confidence and its\n"
    "                        parts, tokens, timings; every sample with --samples) instead of\n"
    "                        streaming\n"
    "  --help                this text\n"
    "\n"
    "exit status: 0 on success, 1 on a model or generation error (e.g. the prompt does not fit\n"
    "the context, or a grammar no token can continue), 2 on a usage error.\n"
    "\n"
    "confidence: a score in [0,1] from the mean token logprob, the least likely token, the mean\n"
    "entropy and (with --samples) agreement; see docs/confidence.md. Printed to standard error\n"
    "after the text, and in the JSON.\n"
    "\n"
    "examples:\n"
    "  hearth run model.gguf \"Once upon a time\" -n 64 --temp 0\n"
    "  echo \"The capital of France is\" | hearth run model.gguf --json --logprobs 3\n"
    "  hearth run model.gguf \"Name a city as JSON\" --format city.schema.json --samples 5 --vote --json\n";

typedef struct run_opts {
    const char *path, *prompt, *format, *grammar;
    long n_predict, top_k, seed, n_ctx, threads, logprobs, samples;
    double temp, top_p, min_p;
    bool seed_set, json, no_bos, vote;
    hearth_kv_type kv;
    hearth_model_params mp;
} run_opts;

static bool is_opt(const char *a, const char *s, const char *l) { return (s && !strcmp(a, s)) || !strcmp(a, l); }

static int parse_args(int argc, char **argv, run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_predict = 256;
    o->top_k = 40;
    o->temp = 0.8;
    o->top_p = 0.95;
    o->min_p = 0.05;
    o->kv = HEARTH_KV_F16;
    o->samples = 1;
    o->mp = hearth_model_default_params();
    static const char *valued[] = {"--format", "--grammar", "--samples", "-n", "--num-predict", "--temp", "--top-k", "--top-p", "--min-p", "--seed",
                                   "--ctx", "--threads", "--kv-type", "--logprobs", "--gpu-layers"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        for (size_t j = 0; j < sizeof valued / sizeof *valued; j++)
            if (!strcmp(a, valued[j]) && i + 1 >= argc) return cli_usage_error("run", "%s needs a value", a);
        if (is_opt(a, "-h", "--help")) {
            fputs(run_help, stdout);
            return -1;
        } else if (is_opt(a, "-n", "--num-predict")) {
            if (!cli_parse_long("run", a, argv[++i], 0, 1 << 24, &o->n_predict)) return 2;
        } else if (is_opt(a, NULL, "--temp")) {
            if (!cli_parse_float("run", a, argv[++i], 0, 100, &o->temp)) return 2;
        } else if (is_opt(a, NULL, "--top-k")) {
            if (!cli_parse_long("run", a, argv[++i], 0, 1 << 24, &o->top_k)) return 2;
        } else if (is_opt(a, NULL, "--top-p")) {
            if (!cli_parse_float("run", a, argv[++i], 0, 1, &o->top_p)) return 2;
        } else if (is_opt(a, NULL, "--min-p")) {
            if (!cli_parse_float("run", a, argv[++i], 0, 1, &o->min_p)) return 2;
        } else if (is_opt(a, NULL, "--seed")) {
            if (!cli_parse_long("run", a, argv[++i], 0, INT64_MAX, &o->seed)) return 2;
            o->seed_set = true;
        } else if (is_opt(a, NULL, "--ctx")) {
            if (!cli_parse_long("run", a, argv[++i], 1, 1 << 22, &o->n_ctx)) return 2;
        } else if (is_opt(a, NULL, "--threads")) {
            if (!cli_parse_long("run", a, argv[++i], 1, 1024, &o->threads)) return 2;
        } else if (is_opt(a, NULL, "--logprobs")) {
            if (!cli_parse_long("run", a, argv[++i], 0, HEARTH_MAX_TOP_LOGPROBS, &o->logprobs)) return 2;
        } else if (is_opt(a, NULL, "--kv-type")) {
            const char *t = argv[++i];
            if (!strcmp(t, "f16")) o->kv = HEARTH_KV_F16;
            else if (!strcmp(t, "f32")) o->kv = HEARTH_KV_F32;
            else if (!strcmp(t, "q8_0")) o->kv = HEARTH_KV_Q8_0;
            else return cli_usage_error("run", "--kv-type must be f16, f32 or q8_0, got '%s'", t);
        } else if (is_opt(a, NULL, "--gpu-layers")) {
            if (!cli_parse_gpu_layers("run", argv[++i], &o->mp.n_gpu_layers)) return 2;
        } else if (is_opt(a, NULL, "--no-mmap")) {
            o->mp.use_mmap = false;
        } else if (is_opt(a, NULL, "--format")) {
            o->format = argv[++i];
        } else if (is_opt(a, NULL, "--grammar")) {
            o->grammar = argv[++i];
        } else if (is_opt(a, NULL, "--samples")) {
            if (!cli_parse_long("run", a, argv[++i], 1, 64, &o->samples)) return 2;
        } else if (is_opt(a, NULL, "--vote")) {
            o->vote = true;
        } else if (is_opt(a, NULL, "--json")) {
            o->json = true;
        } else if (is_opt(a, NULL, "--no-bos")) {
            o->no_bos = true;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("run", "unknown option '%s'", a);
        } else if (!o->path) {
            o->path = a;
        } else if (!o->prompt) {
            o->prompt = a;
        } else {
            return cli_usage_error("run", "unexpected argument '%s' (quote the prompt)", a);
        }
    }
    if (!o->path) return cli_usage_error("run", "missing MODEL (a .gguf file)");
    if (o->format && o->grammar) return cli_usage_error("run", "--format and --grammar cannot be combined");
    if (o->vote && o->samples < 2) return cli_usage_error("run", "--vote needs --samples N with N >= 2");
    return 0;
}

static char *read_stdin(size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, stdin);
        n += got;
        if (got == 0) break;
        if (n + 1 == cap) {
            char *b = realloc(buf, cap * 2);
            if (!b) free(buf);
            buf = b;
            cap *= 2;
        }
    }
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

typedef struct stream_state {
    bool print;     /* stream pieces to stdout */
    double t_first; /* when the first token arrived (prompt processed) */
    int32_t n;
} stream_state;

static bool on_token(const hearth_sample *s, const char *piece, int32_t len, void *user)
{
    (void)s;
    stream_state *st = user;
    if (st->n++ == 0) st->t_first = cli_now();
    if (st->print && len > 0) {
        fwrite(piece, 1, (size_t)len, stdout);
        fflush(stdout);
    }
    return true;
}

static json_t *piece_json(const hearth_model *m, hearth_token t)
{
    char buf[256];
    int32_t n = hearth_token_to_piece(m, t, buf, sizeof buf, true);
    if (n < 0) n = 0;
    json_t *s = json_stringn(buf, (size_t)n);
    return s ? s : json_string(""); /* a piece that is part of a UTF-8 sequence */
}

/* "context_full" is reported by the caller: the loop says max_tokens when the cache ran out. */
static const char *stop_name(hearth_stop_reason r)
{
    switch (r) {
    case HEARTH_STOP_EOG: return "eog";
    case HEARTH_STOP_GRAMMAR: return "grammar";
    case HEARTH_STOP_STRING: return "stop_string";
    case HEARTH_STOP_MAX_TOKENS: return "max_tokens";
    default: return "callback";
    }
}

static void print_logprobs_text(const hearth_model *m, const hearth_generation *g)
{
    fprintf(stdout, "\n\n%-6s %-8s %-10s %s\n", "index", "token", "logprob", "alternatives");
    for (int32_t i = 0; i < g->n_tokens; i++) {
        const hearth_sample *s = &g->samples[i];
        fprintf(stdout, "%-6d %-8d %-10.4f", i, s->token, (double)s->logprob);
        for (int32_t j = 0; j < s->n_top; j++) {
            char buf[64];
            int32_t n = hearth_token_to_piece(m, s->top[j].token, buf, sizeof buf, true);
            fprintf(stdout, " %d %.*s(%.3f)", s->top[j].token, n > 0 ? n : 0, buf, (double)s->top[j].logprob);
        }
        fputc('\n', stdout);
    }
}

static char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n + 1 == cap) {
            char *b = cap < ((size_t)64 << 20) ? realloc(buf, cap * 2) : NULL;
            if (!b) free(buf);
            buf = b;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

/* --format / --grammar as a grammar: NULL and *rc != 0 on error; NULL and *rc == 0 for none. */
static hearth_grammar *make_grammar(hearth_model *m, const run_opts *o, int *rc)
{
    hearth_error err = {0};
    hearth_grammar *g = NULL;
    *rc = 0;
    if (!o->format && !o->grammar) return NULL;
    if (o->format && !strcmp(o->format, "json")) {
        g = hearth_grammar_new_json_schema(m, NULL, &err);
        if (!g) *rc = cli_fail("run", "%s", err.message);
        return g;
    }
    const char *path = o->format ? o->format : o->grammar;
    char *text = read_text_file(path);
    if (!text) {
        *rc = cli_fail("run", "%s: cannot read %s", path, o->format ? "the JSON schema" : "the grammar");
        return NULL;
    }
    g = o->format ? hearth_grammar_new_json_schema(m, text, &err) : hearth_grammar_new(m, text, NULL, &err);
    free(text);
    if (!g) *rc = cli_fail("run", "%s: %s", path, err.message);
    return g;
}

static json_t *confidence_json(const hearth_confidence *c)
{
    json_t *j = json_object();
    json_object_set_new(j, "score", json_real(c->score));
    json_object_set_new(j, "mean_logprob", json_real(c->mean_logprob));
    json_object_set_new(j, "min_prob", json_real(c->min_prob));
    json_object_set_new(j, "mean_entropy", json_real(c->mean_entropy));
    json_object_set_new(j, "seq_logprob", json_real(c->seq_logprob));
    json_object_set_new(j, "agreement", c->agreement >= 0 ? json_real(c->agreement) : json_null());
    json_object_set_new(j, "n_tokens", json_integer(c->n_tokens));
    return j;
}

static void print_confidence(const hearth_confidence *c)
{
    fprintf(stderr, "confidence: %.3f (mean logprob %.3f, min prob %.3f, mean entropy %.3f", (double)c->score,
            (double)c->mean_logprob, (double)c->min_prob, (double)c->mean_entropy);
    if (c->agreement >= 0) fprintf(stderr, ", agreement %.2f", (double)c->agreement);
    fprintf(stderr, ")\n");
}

static void print_json(const hearth_model *m, const run_opts *o, int32_t n_prompt, const hearth_generation *gens,
                       int32_t chosen, const char *stop, double t_prompt, double t_gen)
{
    const hearth_generation *g = &gens[chosen];
    json_t *root = json_object(), *toks = json_array();
    json_object_set_new(root, "model", json_string(o->path));
    json_object_set_new(root, "prompt_tokens", json_integer(n_prompt));
    json_t *text = json_stringn(g->text, g->len);
    json_object_set_new(root, "text", text ? text : json_string(""));
    if (o->format) { /* the parsed value (null only if the output was cut short) */
        json_error_t je;
        json_t *v = json_loadb(g->text, g->len, JSON_DECODE_ANY, &je);
        json_object_set_new(root, "value", v ? v : json_null());
    }
    json_object_set_new(root, "confidence", confidence_json(&g->confidence));
    json_object_set_new(root, "stop", json_string(stop));
    if (o->samples > 1) {
        json_t *all = json_array();
        for (int32_t i = 0; i < (int32_t)o->samples; i++) {
            json_t *e = json_object();
            json_t *t = json_stringn(gens[i].text, gens[i].len);
            json_object_set_new(e, "text", t ? t : json_string(""));
            json_object_set_new(e, "confidence", confidence_json(&gens[i].confidence));
            json_object_set_new(e, "stop", json_string(stop_name(gens[i].stop)));
            json_array_append_new(all, e);
        }
        json_object_set_new(root, "chosen", json_integer(chosen));
        json_object_set_new(root, "selection", json_string(o->vote ? "vote" : "best_mean_logprob"));
        json_object_set_new(root, "samples", all);
    }
    for (int32_t i = 0; i < g->n_tokens; i++) {
        const hearth_sample *s = &g->samples[i];
        json_t *t = json_object();
        json_object_set_new(t, "id", json_integer(s->token));
        json_object_set_new(t, "piece", piece_json(m, s->token));
        json_object_set_new(t, "logprob", json_real(s->logprob));
        if (o->logprobs) {
            json_t *top = json_array();
            for (int32_t j = 0; j < s->n_top; j++) {
                json_t *e = json_object();
                json_object_set_new(e, "id", json_integer(s->top[j].token));
                json_object_set_new(e, "piece", piece_json(m, s->top[j].token));
                json_object_set_new(e, "logprob", json_real(s->top[j].logprob));
                json_array_append_new(top, e);
            }
            json_object_set_new(t, "top", top);
        }
        json_array_append_new(toks, t);
    }
    json_object_set_new(root, "tokens", toks);
    json_t *tm = json_object();
    json_object_set_new(tm, "prompt_ms", json_real(t_prompt * 1e3));
    json_object_set_new(tm, "prompt_tokens_per_s", json_real(t_prompt > 0 ? n_prompt / t_prompt : 0));
    json_object_set_new(tm, "generation_ms", json_real(t_gen * 1e3));
    json_object_set_new(tm, "generation_tokens_per_s",
                        json_real(t_gen > 0 && g->n_tokens > 1 ? (g->n_tokens - 1) / t_gen : 0));
    json_object_set_new(root, "timings", tm);
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) puts(s);
    free(s);
    json_decref(root);
}

static int generate(hearth_model *m, const run_opts *o, const char *prompt, size_t prompt_len)
{
    hearth_error err = {0};
    int rc = 0;
    hearth_context *ctx = NULL;
    hearth_sampler *smps[64] = {0};
    hearth_token *toks = NULL;
    hearth_generation gens[64];
    int32_t n_samples = (int32_t)o->samples, chosen = 0;
    memset(gens, 0, sizeof gens);
    hearth_grammar *grammar = make_grammar(m, o, &rc);
    if (rc) return rc;
    if (prompt_len > INT32_MAX) return cli_fail("run", "prompt too long");
    int32_t need = hearth_tokenize(m, prompt, (int32_t)prompt_len, NULL, 0, !o->no_bos, true);
    int32_t cap = need < 0 ? -need : 1;
    if (!(toks = malloc((size_t)cap * sizeof *toks))) return cli_fail("run", "out of memory");
    int32_t n_prompt = hearth_tokenize(m, prompt, (int32_t)prompt_len, toks, cap, !o->no_bos, true);
    if (n_prompt <= 0) {
        rc = cli_fail("run", "the prompt is empty (and the vocabulary adds no BOS token)");
        goto done;
    }
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = (int32_t)o->n_ctx;
    cp.n_threads = (int32_t)o->threads;
    cp.kv_type = o->kv;
    cp.n_seq_max = n_samples;
    if (!(ctx = hearth_context_new(m, &cp, &err))) {
        rc = cli_fail("run", "%s", err.message);
        goto done;
    }
    if (n_prompt >= hearth_context_n_ctx(ctx)) {
        rc = cli_fail("run", "the prompt has %d tokens but the context holds %d; use a larger --ctx", n_prompt,
                      hearth_context_n_ctx(ctx));
        goto done;
    }
    hearth_sampler_params sp = hearth_sampler_default_params();
    sp.temperature = (float)o->temp;
    sp.top_k = (int32_t)o->top_k;
    sp.top_p = (float)o->top_p;
    sp.min_p = (float)o->min_p;
    sp.seed = o->seed_set ? (uint64_t)o->seed : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    sp.n_logprobs = (int32_t)o->logprobs;
    for (int32_t i = 0; i < n_samples; i++) {
        if (!(smps[i] = hearth_sampler_new(m, &sp, &err)) || hearth_sampler_set_grammar(smps[i], grammar, &err)) {
            rc = cli_fail("run", "%s", err.message);
            goto done;
        }
        sp.seed++; /* each sample its own stream */
    }
    stream_state st = {.print = !o->json && n_samples == 1};
    hearth_generate_params gp = {.model = m, .max_tokens = (int32_t)o->n_predict, .on_token = on_token, .user = &st,
                                 .n_samples = n_samples};
    double t0 = cli_now();
    hearth_status s = n_samples == 1 ? hearth_generate(ctx, smps[0], toks, n_prompt, &gp, &gens[0], &err)
                                     : hearth_generate_n(ctx, smps, toks, n_prompt, &gp, gens, &chosen, &err);
    double t1 = cli_now();
    if (!s && n_samples > 1 && !o->vote) {
        hearth_confidence conf[64];
        for (int32_t i = 0; i < n_samples; i++) conf[i] = gens[i].confidence;
        chosen = hearth_best_of_n(conf, n_samples);
    }
    hearth_generation *gen = &gens[chosen];
    if (s) {
        if (st.print && st.n) putchar('\n');
        rc = cli_fail("run", "%s", err.message);
        goto done;
    }
    double t_prompt = st.n ? st.t_first - t0 : t1 - t0, t_gen = st.n ? t1 - st.t_first : 0;
    const char *stop = stop_name(gen->stop);
    if (gen->stop == HEARTH_STOP_MAX_TOKENS && (o->n_predict == 0 || gen->n_tokens < o->n_predict))
        stop = "context_full";
    if (o->json) {
        print_json(m, o, n_prompt, gens, chosen, stop, t_prompt, t_gen);
    } else {
        if (n_samples > 1) fwrite(gen->text, 1, gen->len, stdout);
        putchar('\n');
        if (o->logprobs) print_logprobs_text(m, gen);
        fflush(stdout);
        print_confidence(&gen->confidence);
    }
    fprintf(stderr, "prompt: %d tokens, %.1f tokens/s | generation: %d tokens, %.1f tokens/s | stop: %s\n",
            n_prompt, t_prompt > 0 ? n_prompt / t_prompt : 0.0, gen->n_tokens,
            t_gen > 0 && gen->n_tokens > 1 ? (gen->n_tokens - 1) / t_gen : 0.0, stop);
done:
    for (int32_t i = 0; i < n_samples; i++) {
        hearth_generation_free(&gens[i]);
        hearth_sampler_free(smps[i]);
    }
    hearth_grammar_free(grammar);
    hearth_context_free(ctx);
    free(toks);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(o.path, &o.mp, &err);
    if (!m) return cli_fail("run", "%s", err.message);
    char *in = NULL;
    size_t len;
    if (o.prompt) {
        len = strlen(o.prompt);
    } else {
        if (isatty(0)) fprintf(stderr, "hearth run: reading the prompt from standard input (end it with Ctrl-D)\n");
        in = read_stdin(&len);
        if (!in) {
            hearth_model_free(m);
            return cli_fail("run", "cannot read the prompt from standard input");
        }
    }
    rc = generate(m, &o, o.prompt ? o.prompt : in, len);
    free(in);
    hearth_model_free(m);
    return rc;
}
