/* cmd_synth.c — `hearth synth`: write a random-weight model in a real architecture's layout. */
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char *synth_help =
    "usage: hearth synth (--like PRESET | --arch ARCH DIMS...) [options] -o OUT.gguf\n"
    "       hearth synth --list\n"
    "\n"
    "Writes a model with random weights in the exact GGUF layout llama.cpp uses for a real\n"
    "architecture: tensor names and shapes, metadata keys, quantization mix. Speed does not\n"
    "depend on weight values, so these files stand in for real models in benchmarks and tests;\n"
    "llama.cpp loads them too. Weights are deterministic: the same seed gives the same bytes.\n"
    "Large models are streamed tensor by tensor in bounded memory (progress on a terminal).\n"
    "\n"
    "shape:\n"
    "  --like PRESET     a real model's shape (see --list), e.g. qwen3-0.6b, llama-3.2-1b\n"
    "  --arch ARCH       llama, qwen2, qwen3, phi3 or bert (implied by --like)\n"
    "  --n-embd N  --n-layer N  --n-head N  --n-head-kv N  --head-dim N  --n-ff N\n"
    "  --n-vocab N  --ctx N      dimensions; with --like they override the preset's\n"
    "  --rope-theta X    RoPE frequency base (default 10000, presets: the model's)\n"
    "  --norm-eps X      RMSNorm / LayerNorm epsilon\n"
    "  --tied | --untied output projection shares token_embd (no output.weight) or not\n"
    "  --pooling P       bert: none, mean or cls\n"
    "\n"
    "weights:\n"
    "  --type T          f32 f16 bf16 q8_0 q4_0 q4_1 q5_0 q5_1 q2_k q3_k q4_k q5_k q6_k: every\n"
    "                    weight matrix gets T (norms and biases stay f32); or a llama-quantize\n"
    "                    mix: q3_k_m q4_k_s q4_k_m q5_k_s q5_k_m (e.g. q4_k_m: Q4_K, with Q6_K\n"
    "                    for output/tied embeddings and attn_v/ffn_down of some layers).\n"
    "                    Default f16.\n"
    "  --embd-type T     type of token_embd.weight    --output-type T  type of output.weight\n"
    "  --seed N          PRNG seed (default 0)\n"
    "  --threads N       threads generating weights (default: physical cores)\n"
    "\n"
    "vocabulary:\n"
    "  --vocab FILE.gguf copy every tokenizer.* key from FILE (a vocab-only GGUF such as\n"
    "                    ../shared/fixtures/vocab/qwen3.gguf); n_vocab becomes its token count.\n"
    "                    Default: a synthetic SentencePiece vocab (<unk> <s> </s>, 256 byte\n"
    "                    tokens, word pieces) of n_vocab tokens.\n"
    "\n"
    "output:\n"
    "  -o, --output OUT  the file to write (replaced atomically when complete)\n"
    "  --name NAME       general.name (default \"PRESET (hearth synth)\")\n"
    "  --json            print a JSON summary on stdout\n"
    "  -q, --quiet       no summary line\n"
    "  --list            list the presets and exit\n"
    "  --help            this text\n"
    "\n"
    "exit status: 0 on success, 1 if the file cannot be written, 2 on a usage error.\n"
    "\n"
    "examples:\n"
    "  hearth synth --like qwen3-0.6b --type q8_0 -o qwen3-0.6b-q8_0.gguf\n"
    "  hearth synth --like llama-3.2-1b --type q4_k_m -o llama-1b-q4_k_m.gguf\n"
    "  hearth synth --arch qwen3 --n-embd 256 --n-layer 2 --n-head 4 --n-head-kv 2 \\\n"
    "               --n-ff 512 --n-vocab 1000 --type q8_0 -o tiny.gguf\n";

typedef struct opts {
    hearth_synth_params c;
    const char *like, *out;
    bool json, quiet, list;
    /* explicit values override the preset after it is applied */
    const char *arch;
    long n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_vocab, n_ctx, seed, threads;
    double rope_theta, norm_eps;
    int tied; /* -1 unset */
    int pooling;
    const char *type, *embd_type, *output_type, *name;
    bool missing; /* an option came without its value */
    int argc;
    char **argv;
} opts;

/* "--opt VALUE" or "--opt=VALUE": the value (advancing *i past it), or NULL if argv[*i] is
 * another option. A missing value sets o->missing and returns "". */
static const char *value(opts *o, int *i, const char *opt)
{
    size_t n = strlen(opt);
    if (strncmp(o->argv[*i], opt, n) == 0 && o->argv[*i][n] == '=') return o->argv[*i] + n + 1;
    if (strcmp(o->argv[*i], opt) != 0) return NULL;
    if (*i + 1 >= o->argc) {
        cli_usage_error("synth", "%s needs a value", opt);
        o->missing = true;
        return "";
    }
    return o->argv[++*i];
}

static bool is_opt(const char *arg, const char *opt)
{
    size_t n = strlen(opt);
    return strncmp(arg, opt, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static bool parse_type(const char *opt, const char *s)
{
    if (hearth_synth_type_valid(s)) return true;
    cli_usage_error("synth", "%s: expected f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_k, q3_k, q4_k, q5_k, q6_k "
                             "or a mix (q3_k_m q4_k_s q4_k_m q5_k_s q5_k_m), found '%s'", opt, s);
    return false;
}

/* Returns 0 to go on, or the exit status. */
static int parse(int argc, char **argv, opts *o)
{
    o->argc = argc;
    o->argv = argv;
    static const struct {
        const char *opt;
        long *dst;
        long min, max;
    } ints[] = {
        {"--n-embd", NULL, 1, 1 << 20}, {"--n-layer", NULL, 1, 4096}, {"--n-head", NULL, 1, 1 << 20},
        {"--n-head-kv", NULL, 1, 1 << 20}, {"--head-dim", NULL, 1, 4096}, {"--n-ff", NULL, 1, 1 << 23},
        {"--n-vocab", NULL, 1, 1 << 24}, {"--ctx", NULL, 1, 1 << 24}, {"--seed", NULL, 0, 0x7fffffffL},
        {"--threads", NULL, 1, 64},
    };
    long *dsts[] = {&o->n_embd, &o->n_layer, &o->n_head, &o->n_head_kv, &o->head_dim, &o->n_ff,
                    &o->n_vocab, &o->n_ctx, &o->seed, &o->threads};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool matched = false;
        for (size_t k = 0; k < sizeof ints / sizeof ints[0] && !matched; k++) {
            if (!is_opt(a, ints[k].opt)) continue;
            matched = true;
            v = value(o, &i, ints[k].opt);
            if (o->missing || !cli_parse_long("synth", ints[k].opt, v, ints[k].min, ints[k].max, dsts[k])) return 2;
        }
        if (matched) continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(synth_help, stdout);
            return -1;
        } else if (!strcmp(a, "--list")) {
            o->list = true;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(a, "--tied")) {
            o->tied = 1;
        } else if (!strcmp(a, "--untied")) {
            o->tied = 0;
        } else if ((v = value(o, &i, "--like"))) {
            o->like = v;
        } else if ((v = value(o, &i, "--arch"))) {
            o->arch = v;
        } else if ((v = value(o, &i, "--type"))) {
            o->type = v;
        } else if ((v = value(o, &i, "--embd-type"))) {
            o->embd_type = v;
        } else if ((v = value(o, &i, "--output-type"))) {
            o->output_type = v;
        } else if ((v = value(o, &i, "--vocab"))) {
            o->c.vocab_path = v;
        } else if ((v = value(o, &i, "--name"))) {
            o->name = v;
        } else if ((v = value(o, &i, "--output")) || (v = value(o, &i, "-o"))) {
            o->out = v;
        } else if ((v = value(o, &i, "--rope-theta"))) {
            if (o->missing) return 2;
            if (!cli_parse_float("synth", "--rope-theta", v, 1e-3, 1e12, &o->rope_theta)) return 2;
        } else if ((v = value(o, &i, "--norm-eps"))) {
            if (o->missing) return 2;
            if (!cli_parse_float("synth", "--norm-eps", v, 1e-30, 1, &o->norm_eps)) return 2;
        } else if ((v = value(o, &i, "--pooling"))) {
            if (o->missing) return 2;
            o->pooling = !strcmp(v, "none") ? 0 : !strcmp(v, "mean") ? 1 : !strcmp(v, "cls") ? 2 : -2;
            if (o->pooling == -2) return cli_usage_error("synth", "--pooling: expected none, mean or cls, found '%s'", v);
        } else if (a[0] == '-') {
            return cli_usage_error("synth", "unknown option '%s'", a);
        } else {
            return cli_usage_error("synth", "unexpected argument '%s' (the output file goes after -o)", a);
        }
        if (o->missing) return 2;
    }
    return 0;
}

/* Checks the options against each other (the library applies the preset, then the explicit
 * values, then the defaults) and fills o->c. Returns 0 or the exit status. */
static int build_config(opts *o)
{
    hearth_synth_params *c = &o->c;
    const char *vocab = c->vocab_path;
    if (o->like) {
        hearth_synth_preset_info info;
        if (!hearth_synth_preset_get(hearth_synth_preset_find(o->like), &info))
            return cli_usage_error("synth", "--like: unknown preset '%s' (see hearth synth --list)", o->like);
        if (o->arch && strcmp(o->arch, info.arch) != 0)
            return cli_usage_error("synth", "--arch %s contradicts --like %s (a %s model)", o->arch, o->like, info.arch);
    } else if (!o->arch) {
        return cli_usage_error("synth", "give --like PRESET or --arch ARCH with dimensions");
    }
    if (vocab && o->n_vocab)
        return cli_usage_error("synth", "--n-vocab conflicts with --vocab (the vocab file decides the size)");
    c->preset = o->like;
    c->arch = o->arch;
    c->n_embd = o->n_embd;
    c->n_layer = o->n_layer;
    c->n_head = o->n_head;
    c->n_head_kv = o->n_head_kv;
    c->head_dim = o->head_dim;
    c->n_ff = o->n_ff;
    c->n_vocab = o->n_vocab;
    c->n_ctx = o->n_ctx;
    c->rope_theta = o->rope_theta;
    c->norm_eps = o->norm_eps;
    c->tied = o->tied;
    c->pooling = o->pooling;
    c->seed = (uint64_t)o->seed;
    c->n_threads = (int32_t)o->threads;
    c->name = o->name;
    if (o->type && !parse_type("--type", o->type)) return 2;
    if (o->embd_type && !parse_type("--embd-type", o->embd_type)) return 2;
    if (o->output_type && !parse_type("--output-type", o->output_type)) return 2;
    c->type = o->type;
    c->embd_type = o->embd_type;
    c->output_type = o->output_type;
    return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* Shows progress on a terminal; stops the write (which removes its temp file) on a signal. */
static bool progress(const char *tensor, uint64_t done, uint64_t total, void *user)
{
    if (*(const bool *)user) {
        fprintf(stderr, "\r\033[Ksynth: %5.1f%%  %.1f / %.1f MB  %s", total ? 100.0 * (double)done / (double)total : 100.0,
                (double)done / 1e6, (double)total / 1e6, tensor);
        fflush(stderr);
    }
    return !interrupted;
}

static void list_presets(void)
{
    hearth_synth_preset_info info;
    printf("presets (hearth synth --like NAME):\n");
    for (int32_t i = 0; hearth_synth_preset_get(i, &info); i++) printf("  %-14s %s\n", info.name, info.about);
}

int cmd_synth(int argc, char **argv)
{
    opts o = {.c = hearth_synth_default_params(), .tied = -1, .pooling = -1};
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.list) {
        list_presets();
        return 0;
    }
    if (!o.out || !*o.out) return cli_usage_error("synth", "give the output file with -o OUT.gguf");
    if ((rc = build_config(&o))) return rc;

    hearth_error err = {0};
    hearth_synth_summary res = {0};
    bool tty = cli_stderr_is_tty() && !o.quiet;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    double t0 = cli_now();
    hearth_status st = hearth_synth_model(&o.c, o.out, progress, &tty, &res, &err);
    if (tty) fprintf(stderr, "\r\033[K");
    if (st == HEARTH_ERR_CANCELLED) return cli_fail("synth", "interrupted; %s was not written", o.out);
    if (st == HEARTH_ERR_INVALID_ARG) return cli_usage_error("synth", "%s", err.message);
    if (st) return cli_fail("synth", "%s", err.message);
    double secs = cli_now() - t0;
    if (o.json) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f}", "path", o.out, "arch", res.arch, "type",
                              o.type ? o.type : "f16", "n_params", (json_int_t)res.n_params, "n_tensors",
                              (json_int_t)res.n_tensors, "n_vocab", (json_int_t)res.n_vocab, "file_size",
                              (json_int_t)res.file_size, "seed", (json_int_t)o.c.seed, "seconds", secs);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        if (s) printf("%s\n", s);
        free(s);
        json_decref(j);
        if (!s) return cli_fail("synth", "out of memory");
    } else if (!o.quiet) {
        printf("%s: %s, %.2fM parameters, %lld tensors, vocab %lld, %.1f MB, %s, seed %llu (%.1f s)\n", o.out, res.arch,
               (double)res.n_params / 1e6, (long long)res.n_tensors, (long long)res.n_vocab, (double)res.file_size / 1e6,
               o.type ? o.type : "f16", (unsigned long long)o.c.seed, secs);
    }
    return 0;
}
