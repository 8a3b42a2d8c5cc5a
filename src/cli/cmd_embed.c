/* cmd_embed.c — `hearth embed MODEL TEXT...`: sentence embeddings from a bert GGUF, like
 * Ollama's /api/embed. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *embed_help =
    "usage: hearth embed MODEL TEXT... [--json] [--no-normalize] [--threads N]\n"
    "\n"
    "Prints one embedding per TEXT from an embedding model (bert architecture: all-minilm,\n"
    "bge, ... as GGUF). Each text is tokenized with the model's special tokens ([CLS] ... [SEP]),\n"
    "cut at the model's context with a warning, run through the encoder (many texts per\n"
    "batch), pooled as the model says (mean or CLS) and L2-normalized.\n"
    "\n"
    "arguments:\n"
    "  MODEL           a GGUF file\n"
    "  TEXT            one or more texts; '-' reads one text from standard input\n"
    "\n"
    "options:\n"
    "  --json          print {\"model\":..., \"embeddings\":[[...],...]} (Ollama /api/embed shape)\n"
    "  --no-normalize  print the pooled vectors as the model produces them\n"
    "  --threads N     threads (default: physical cores)\n"
    "  --help          this text\n"
    "\n"
    "Without --json: one line per text, the vector's numbers separated by spaces.\n"
    "\n"
    "exit status: 0 on success, 1 if the model cannot be loaded or is not an embedding model,\n"
    "2 on a usage error.\n";

/* All of standard input as a NUL-terminated string (at most `limit` bytes); NULL after
 * printing the error. */
static char *read_stdin(const char *cmd, size_t limit)
{
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap + 1);
    while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        if ((len += n) < cap) continue;
        char *nb = cap < limit ? realloc(buf, (cap = cap * 2 < limit ? cap * 2 : limit) + 1) : NULL;
        if (!nb) {
            cli_fail(cmd, cap < limit ? "-: out of memory reading file" : "-: larger than the %zu-byte limit", limit);
            free(buf);
            return NULL;
        }
        buf = nb;
    }
    if (!buf || ferror(stdin)) {
        cli_fail(cmd, buf ? "-: read error" : "-: out of memory reading file");
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int cmd_embed(int argc, char **argv)
{
    const char *cmd = "embed", *model = NULL;
    const char **texts = calloc((size_t)argc, sizeof *texts);
    char *stdin_text = NULL;
    int n = 0, rc = 0;
    bool json = false, normalize = true;
    long threads = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            fputs(embed_help, stdout);
            free(texts);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--no-normalize")) {
            normalize = false;
        } else if (!strcmp(a, "--threads")) {
            if (i + 1 >= argc) rc = cli_usage_error(cmd, "--threads needs a value");
            else if (!cli_parse_long(cmd, "--threads", argv[++i], 0, 1024, &threads)) rc = 2;
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
        } else if (!model) {
            model = a;
        } else if (!strcmp(a, "-")) {
            if (!stdin_text && !(stdin_text = read_stdin(cmd, (size_t)1 << 26))) rc = 1;
            texts[n++] = stdin_text ? stdin_text : "";
        } else {
            texts[n++] = a;
        }
    }
    if (!rc && (!model || !n)) rc = cli_usage_error(cmd, "give a MODEL and at least one TEXT");
    hearth_model *m = NULL;
    hearth_context *ctx = NULL;
    float *out = NULL;
    hearth_error err = {0};
    if (rc) goto done;
    if (!(m = hearth_model_load(model, NULL, &err))) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    if (strcmp(info.arch, "bert") != 0) {
        rc = cli_fail(cmd, "%s: architecture '%s' is not an embedding model (use a bert GGUF)", model, info.arch);
        goto done;
    }
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = cp.n_batch = info.n_ctx_train < 2048 ? info.n_ctx_train : 2048;
    cp.n_seq_max = 64;
    cp.n_threads = (int32_t)threads;
    cp.embeddings = true;
    if (!(ctx = hearth_context_new(m, &cp, &err)) || !(out = malloc((size_t)n * (size_t)info.n_embd * sizeof *out))) {
        rc = cli_fail(cmd, "%s", ctx ? "out of memory" : err.message);
        goto done;
    }
    int32_t cut = 0;
    if (hearth_embed(ctx, texts, NULL, n, out, normalize, &cut, &err)) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    if (cut) fprintf(stderr, "hearth embed: warning: %d text(s) truncated to the model's %d-token context\n", cut, cp.n_ctx);
    if (json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) {
            json_t *v = json_array();
            for (int d = 0; d < info.n_embd; d++) json_array_append_new(v, json_real(out[(size_t)i * info.n_embd + d]));
            json_array_append_new(arr, v);
        }
        json_t *o = json_pack("{s:s,s:o}", "model", info.name && *info.name ? info.name : model, "embeddings", arr);
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
        puts(s);
        free(s);
        json_decref(o);
    } else {
        for (int i = 0; i < n; i++)
            for (int d = 0; d < info.n_embd; d++)
                printf("%.9g%c", out[(size_t)i * info.n_embd + d], d + 1 < info.n_embd ? ' ' : '\n');
    }
done:
    free(out);
    hearth_context_free(ctx);
    hearth_model_free(m);
    free(stdin_text);
    free(texts);
    return rc;
}
