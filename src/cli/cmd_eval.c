/* cmd_eval.c — `hearth eval MODEL --tokens ...`: next-token distributions under teacher forcing,
 * in the shape of the fixtures' reference files, for comparing engines. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *eval_help =
    "usage: hearth eval MODEL (--tokens ID,ID,... | --text TEXT) [options]\n"
    "\n"
    "Runs the whole token sequence through the model as one batch (teacher forcing) and prints,\n"
    "for every position, the most likely next tokens with their log-probabilities. This is the\n"
    "tool for comparing hearth with another engine: --json prints exactly the shape of the\n"
    "reference files in the test fixtures:\n"
    "  {\"positions\":[{\"pos\":0,\"token\":ID,\"logsumexp\":X,\"top\":[{\"id\":ID,\"logit\":X,\"logprob\":X},...]},...]}\n"
    "\n"
    "options:\n"
    "  --tokens LIST      comma-separated token ids, e.g. 1,292,500 (include BOS yourself)\n"
    "  --text TEXT        tokenize TEXT instead (BOS/EOS added as the vocabulary says)\n"
    "  --top N            alternatives per position, 1..1000 (default 20)\n"
    "  --kv-type TYPE     KV cache type: f16 (default), f32 or q8_0\n"
    "  --threads N        worker threads (default: physical cores)\n"
    "  --gpu-layers N     layers on the GPU in a CUDA build: a count, 'all' or 'auto' (default)\n"
    "  --no-mmap          read the model into (huge-page) memory instead of mapping it\n"
    "  --json             JSON output (default: a table)\n"
    "  --help             this text\n"
    "\n"
    "Log-probabilities are computed in double precision from the float logits.\n"
    "exit status: 0 on success, 1 on a model or evaluation error, 2 on a usage error.\n"
    "\n"
    "example:\n"
    "  hearth eval model.gguf --tokens 1,292,500,422 --top 5 --json\n";

typedef struct eval_opts {
    const char *path, *tokens, *text;
    long top, threads;
    hearth_kv_type kv;
    bool json;
    hearth_model_params mp;
} eval_opts;

static int parse_tokens(const char *s, hearth_token **out, int32_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++) cap += *p == ',';
    hearth_token *t = malloc(cap * sizeof *t);
    if (!t) return cli_fail("eval", "out of memory");
    int32_t k = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
            free(t);
            return cli_usage_error("eval", "--tokens: expected comma-separated non-negative ids, got '%s'", s);
        }
        t[k++] = (hearth_token)v;
        if (!*end) break;
        p = end + 1;
    }
    *out = t;
    *n = k;
    return 0;
}

static int parse_args(int argc, char **argv, eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->top = 20;
    o->kv = HEARTH_KV_F16;
    o->mp = hearth_model_default_params();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = !strcmp(a, "--tokens") || !strcmp(a, "--text") || !strcmp(a, "--top") ||
                     !strcmp(a, "--kv-type") || !strcmp(a, "--threads") || !strcmp(a, "--gpu-layers");
        if (takes && !v) return cli_usage_error("eval", "%s needs a value", a);
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(eval_help, stdout);
            return -1;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--no-mmap")) {
            o->mp.use_mmap = false;
        } else if (!strcmp(a, "--tokens")) {
            o->tokens = argv[++i];
        } else if (!strcmp(a, "--text")) {
            o->text = argv[++i];
        } else if (!strcmp(a, "--top")) {
            if (!cli_parse_long("eval", a, argv[++i], 1, 1000, &o->top)) return 2;
        } else if (!strcmp(a, "--threads")) {
            if (!cli_parse_long("eval", a, argv[++i], 1, 1024, &o->threads)) return 2;
        } else if (!strcmp(a, "--gpu-layers")) {
            if (!cli_parse_gpu_layers("eval", argv[++i], &o->mp.n_gpu_layers)) return 2;
        } else if (!strcmp(a, "--kv-type")) {
            const char *t = argv[++i];
            if (!strcmp(t, "f16")) o->kv = HEARTH_KV_F16;
            else if (!strcmp(t, "f32")) o->kv = HEARTH_KV_F32;
            else if (!strcmp(t, "q8_0")) o->kv = HEARTH_KV_Q8_0;
            else return cli_usage_error("eval", "--kv-type must be f16, f32 or q8_0, got '%s'", t);
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("eval", "unknown option '%s'", a);
        } else if (!o->path) {
            o->path = a;
        } else {
            return cli_usage_error("eval", "unexpected argument '%s'", a);
        }
    }
    if (!o->path) return cli_usage_error("eval", "missing MODEL (a .gguf file)");
    if (!o->tokens == !o->text) return cli_usage_error("eval", "give exactly one of --tokens and --text");
    return 0;
}

typedef struct ranked {
    int32_t id;
    float logit;
} ranked;

static int by_logit_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return x->id - y->id;
}

/* Ranks one row into scratch (best first); returns its log-sum-exp (double precision). */
static double rank_row(const float *l, int32_t n_vocab, ranked *scratch)
{
    double mx = -INFINITY, sum = 0;
    for (int32_t v = 0; v < n_vocab; v++) mx = fmax(mx, l[v]);
    for (int32_t v = 0; v < n_vocab; v++) sum += exp((double)l[v] - mx);
    for (int32_t v = 0; v < n_vocab; v++) scratch[v] = (ranked){v, l[v]};
    /* partial selection would do, but vocabularies are small next to the forward pass */
    qsort(scratch, (size_t)n_vocab, sizeof *scratch, by_logit_desc);
    return mx + log(sum);
}

static int emit(hearth_context *ctx, const hearth_token *toks, int32_t n, int32_t n_vocab, int32_t top,
                bool json)
{
    ranked *r = malloc((size_t)n_vocab * sizeof *r);
    json_t *positions = json ? json_array() : NULL;
    if (!r) return cli_fail("eval", "out of memory");
    int32_t k = top < n_vocab ? top : n_vocab;
    for (int32_t i = 0; i < n; i++) {
        const float *l = hearth_get_logits(ctx, i);
        double lse = rank_row(l, n_vocab, r);
        if (json) {
            json_t *p = json_object(), *arr = json_array();
            json_object_set_new(p, "pos", json_integer(i));
            json_object_set_new(p, "token", json_integer(toks[i]));
            json_object_set_new(p, "logsumexp", json_real(lse));
            for (int32_t j = 0; j < k; j++) {
                json_t *e = json_object();
                json_object_set_new(e, "id", json_integer(r[j].id));
                json_object_set_new(e, "logit", json_real(r[j].logit));
                json_object_set_new(e, "logprob", json_real((double)r[j].logit - lse));
                json_array_append_new(arr, e);
            }
            json_object_set_new(p, "top", arr);
            json_array_append_new(positions, p);
        } else {
            printf("%5d  %7d  ", i, toks[i]);
            for (int32_t j = 0; j < k; j++) printf(" %d:%.4f", r[j].id, (double)r[j].logit - lse);
            putchar('\n');
        }
    }
    free(r);
    if (json) {
        json_t *root = json_object();
        json_object_set_new(root, "positions", positions);
        char *s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        json_decref(root);
        if (!s) return cli_fail("eval", "out of memory");
        puts(s);
        free(s);
    }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    hearth_token *toks = NULL;
    int32_t n = 0;
    hearth_error err = {0};
    hearth_model *m = NULL;
    hearth_context *ctx = NULL;
    int8_t *want = NULL;
    if (o.tokens && (rc = parse_tokens(o.tokens, &toks, &n))) return rc;
    if (!(m = hearth_model_load(o.path, &o.mp, &err))) {
        rc = cli_fail("eval", "%s", err.message);
        goto done;
    }
    if (o.text) {
        int32_t len = (int32_t)strlen(o.text);
        int32_t need = hearth_tokenize(m, o.text, len, NULL, 0, true, false);
        need = need < 0 ? -need : 1;
        toks = malloc((size_t)need * sizeof *toks);
        if (!toks) {
            rc = cli_fail("eval", "out of memory");
            goto done;
        }
        n = hearth_tokenize(m, o.text, len, toks, need, true, false);
        if (n <= 0) {
            rc = cli_fail("eval", "--text gave no tokens");
            goto done;
        }
    }
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    for (int32_t i = 0; i < n; i++)
        if (toks[i] >= info.n_vocab) {
            rc = cli_fail("eval", "token %d (position %d) is outside the vocabulary of %d tokens", toks[i], i, info.n_vocab);
            goto done;
        }
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = n;
    cp.n_batch = n;
    cp.n_threads = (int32_t)o.threads;
    cp.kv_type = o.kv;
    if (!(ctx = hearth_context_new(m, &cp, &err))) {
        rc = cli_fail("eval", "%s", err.message);
        goto done;
    }
    want = malloc((size_t)n);
    if (!want) {
        rc = cli_fail("eval", "out of memory");
        goto done;
    }
    memset(want, 1, (size_t)n);
    hearth_batch b = {.n_tokens = n, .tokens = toks, .logits = want};
    if (hearth_decode(ctx, &b, &err)) {
        rc = cli_fail("eval", "%s", err.message);
        goto done;
    }
    rc = emit(ctx, toks, n, info.n_vocab, (int32_t)o.top, o.json);
done:
    free(want);
    free(toks);
    hearth_context_free(ctx);
    hearth_model_free(m);
    return rc;
}
