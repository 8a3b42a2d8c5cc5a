/* cmd_show.c — `hearth show MODEL`: what a model file is, like `ollama show`. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *show_help =
    "usage: hearth show MODEL [--json] [--verbose]\n"
    "\n"
    "Describes a GGUF model file: architecture, parameter count, context length, embedding\n"
    "length, quantization, tokenizer and chat template, the way `ollama show` does. The file\n"
    "is fully validated (the same checks as `hearth run`), but no weights are read.\n"
    "\n"
    "options:\n"
    "  --json       print one JSON object instead of text (every field below, plus \"metadata\"\n"
    "               with all GGUF keys when --verbose is given)\n"
    "  --verbose    also list every metadata key with its value (arrays are summarized)\n"
    "  --help       this text\n"
    "\n"
    "exit status: 0 on success, 1 if the file cannot be loaded, 2 on a usage error.\n"
    "\n"
    "example:\n"
    "  hearth show qwen3-0.6b-q8_0.gguf\n";

/* 596049920 -> "596.05M", like Ollama's parameter size. */
static void human_count(uint64_t n, char *buf, size_t size)
{
    if (n >= 1000000000ull) snprintf(buf, size, "%.2fB", (double)n / 1e9);
    else if (n >= 1000000ull) snprintf(buf, size, "%.2fM", (double)n / 1e6);
    else if (n >= 1000ull) snprintf(buf, size, "%.2fK", (double)n / 1e3);
    else snprintf(buf, size, "%llu", (unsigned long long)n);
}

static char *meta_value(const hearth_model *m, const char *key)
{
    int32_t n = hearth_model_meta(m, key, NULL, 0);
    if (n < 0) return NULL;
    char *buf = malloc((size_t)n + 1);
    if (buf) hearth_model_meta(m, key, buf, (size_t)n + 1);
    return buf;
}

static void print_template(const char *tmpl)
{
    /* the first lines: enough to recognize it, not the whole Jinja program */
    const char *p = tmpl;
    for (int line = 0; line < 6 && *p; line++) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        printf("    %.*s%s\n", (int)(len < 100 ? len : 100), p, len > 100 ? " ..." : "");
        if (!nl) return;
        p = nl + 1;
    }
    if (*p) printf("    ...\n");
}

static int show_text(const hearth_model *m, const hearth_model_info *in, bool verbose)
{
    char params[32];
    human_count(in->n_params, params, sizeof params);
    printf("  Model\n");
    printf("    %-22s %s\n", "architecture", in->arch);
    if (in->name && *in->name) printf("    %-22s %s\n", "name", in->name);
    printf("    %-22s %s\n", "parameters", params);
    printf("    %-22s %d\n", "context length", in->n_ctx_train);
    printf("    %-22s %d\n", "embedding length", in->n_embd);
    printf("    %-22s %d\n", "layers", in->n_layer);
    printf("    %-22s %d (%d for keys/values), head size %d\n", "attention heads", in->n_head,
           in->n_head_kv, in->head_dim);
    printf("    %-22s %d\n", "feed-forward length", in->n_ff);
    printf("    %-22s %g\n", "rope frequency base", (double)in->rope_freq_base);
    printf("    %-22s %s\n", "quantization", in->file_type);
    printf("    %-22s %.1f MiB\n", "file size", (double)in->file_size / (1024.0 * 1024.0));
    printf("\n  Tokenizer\n");
    printf("    %-22s %s\n", "model", in->tokenizer);
    printf("    %-22s %s\n", "pre-tokenizer", *in->pre ? in->pre : "(default)");
    printf("    %-22s %d\n", "vocabulary size", in->n_vocab);
    printf("\n  Chat template\n");
    if (in->chat_template) print_template(in->chat_template);
    else printf("    (none)\n");
    if (verbose) {
        printf("\n  Metadata\n");
        for (int32_t i = 0; i < hearth_model_meta_count(m); i++) {
            const char *key = hearth_model_meta_key(m, i);
            if (!strcmp(key, "tokenizer.chat_template")) continue; /* shown above */
            char *v = meta_value(m, key);
            printf("    %-40s %s\n", key, v ? v : "?");
            free(v);
        }
    }
    return 0;
}

static int show_json(const hearth_model *m, const hearth_model_info *in, bool verbose)
{
    json_t *o = json_object();
    json_object_set_new(o, "architecture", json_string(in->arch));
    json_object_set_new(o, "name", json_string(in->name ? in->name : ""));
    json_object_set_new(o, "parameters", json_integer((json_int_t)in->n_params));
    json_object_set_new(o, "context_length", json_integer(in->n_ctx_train));
    json_object_set_new(o, "embedding_length", json_integer(in->n_embd));
    json_object_set_new(o, "block_count", json_integer(in->n_layer));
    json_object_set_new(o, "head_count", json_integer(in->n_head));
    json_object_set_new(o, "head_count_kv", json_integer(in->n_head_kv));
    json_object_set_new(o, "head_dim", json_integer(in->head_dim));
    json_object_set_new(o, "feed_forward_length", json_integer(in->n_ff));
    json_object_set_new(o, "rope_freq_base", json_real(in->rope_freq_base));
    json_object_set_new(o, "quantization", json_string(in->file_type));
    json_object_set_new(o, "file_size", json_integer((json_int_t)in->file_size));
    json_object_set_new(o, "tokenizer", json_string(in->tokenizer));
    json_object_set_new(o, "pre", json_string(in->pre));
    json_object_set_new(o, "vocab_size", json_integer(in->n_vocab));
    json_object_set_new(o, "chat_template", in->chat_template ? json_string(in->chat_template) : json_null());
    if (verbose) {
        json_t *meta = json_object();
        for (int32_t i = 0; i < hearth_model_meta_count(m); i++) {
            const char *key = hearth_model_meta_key(m, i);
            char *v = meta_value(m, key);
            /* values are text; invalid UTF-8 in a GGUF string would make jansson refuse it */
            json_t *s = v ? json_string(v) : NULL;
            json_object_set_new(meta, key, s ? s : json_string("(not valid UTF-8)"));
            free(v);
        }
        json_object_set_new(o, "metadata", meta);
    }
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!text) return cli_fail("show", "out of memory");
    puts(text);
    free(text);
    return 0;
}

int cmd_show(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(show_help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
            verbose = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("show", "unknown option '%s'", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_usage_error("show", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!path) return cli_usage_error("show", "missing MODEL (a .gguf file)");
    hearth_error err = {0};
    hearth_model *m = hearth_model_load(path, NULL, &err);
    if (!m) return cli_fail("show", "%s", err.message);
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    int rc = json ? show_json(m, &info, verbose) : show_text(m, &info, verbose);
    hearth_model_free(m);
    return rc;
}
