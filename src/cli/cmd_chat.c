/*
 * cmd_chat.c — `hearth chat MODEL`: an interactive conversation using the model's own chat
 * template, streaming each reply.
 *
 * Every turn re-renders the whole conversation with the template (so the prompt is exactly
 * what the model saw in training), then keeps the longest prefix of tokens the KV cache
 * already holds and decodes only the rest: a long conversation costs one turn's prefill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"

static const char *const chat_help =
    "usage: hearth chat MODEL [options]\n"
    "\n"
    "Talks with MODEL (a path or a stored name) turn by turn. Each line you type is a user\n"
    "message; the reply streams as it is generated. The conversation is formatted with the\n"
    "model's chat template (tokenizer.chat_template; ChatML when the model has none).\n"
    "\n"
    "in the conversation:\n"
    "  \"\"\"        start or end a message that spans several lines\n"
    "  /clear     forget the conversation (keeps the system message)\n"
    "  /bye       leave (as does end of input, Ctrl-D)\n"
    "  /help      this list\n"
    "\n"
    "options:\n"
    "  --system TEXT     system message\n"
    "  -n, --num-predict N  most tokens per reply (default 1024)\n"
    "  --temp T          temperature (default 0.7; 0 = greedy)\n"
    "  --top-k K         (default 40)   --top-p P   (default 0.9)   --min-p P   (default 0.05)\n"
    "  --seed N          random seed (default: from the clock)\n"
    "  --ctx N           context size in tokens (default: min(trained length, 4096))\n"
    "  --threads N       worker threads (default: physical cores)\n"
    "  --no-think        ask thinking models (Qwen3) to answer directly\n"
    "  --help            this text\n";

typedef struct chat_opts {
    const char *model, *system;
    long n_predict, top_k, seed, n_ctx, threads;
    double temp, top_p, min_p;
    bool seed_set, no_think;
} chat_opts;

static int parse(int argc, char **argv, chat_opts *o)
{
    *o = (chat_opts){.n_predict = 1024, .top_k = 40, .temp = 0.7, .top_p = 0.9, .min_p = 0.05};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool valued = strcmp(a, "--no-think") && strcmp(a, "--help") && strcmp(a, "-h") && a[0] == '-';
        if (valued && i + 1 >= argc) return cli_usage_error("chat", "%s needs a value", a);
        const char *v = valued ? argv[++i] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return fputs(chat_help, stdout), -1;
        else if (!strcmp(a, "--no-think")) o->no_think = true;
        else if (!strcmp(a, "--system")) o->system = v;
        else if (!strcmp(a, "-n") || !strcmp(a, "--num-predict")) { if (!cli_parse_long("chat", a, v, 1, 1 << 24, &o->n_predict)) return 2; }
        else if (!strcmp(a, "--temp")) { if (!cli_parse_float("chat", a, v, 0, 100, &o->temp)) return 2; }
        else if (!strcmp(a, "--top-k")) { if (!cli_parse_long("chat", a, v, 0, 1 << 24, &o->top_k)) return 2; }
        else if (!strcmp(a, "--top-p")) { if (!cli_parse_float("chat", a, v, 0, 1, &o->top_p)) return 2; }
        else if (!strcmp(a, "--min-p")) { if (!cli_parse_float("chat", a, v, 0, 1, &o->min_p)) return 2; }
        else if (!strcmp(a, "--seed")) { if (!cli_parse_long("chat", a, v, 0, 0x7fffffffL, &o->seed)) return 2; o->seed_set = true; }
        else if (!strcmp(a, "--ctx")) { if (!cli_parse_long("chat", a, v, 16, 1 << 20, &o->n_ctx)) return 2; }
        else if (!strcmp(a, "--threads")) { if (!cli_parse_long("chat", a, v, 1, 1024, &o->threads)) return 2; }
        else if (a[0] == '-') return cli_usage_error("chat", "unknown option '%s'", a);
        else if (!o->model) o->model = a;
        else return cli_usage_error("chat", "unexpected argument '%s'", a);
    }
    if (!o->model) return cli_usage_error("chat", "expected a MODEL");
    return 0;
}

/* Reads one user message: a line, or several between """ lines. NULL at end of input. */
static char *read_message(bool tty)
{
    if (tty) fputs(">>> ", stdout), fflush(stdout);
    char *line = NULL, *msg = NULL;
    size_t cap = 0, len = 0;
    ssize_t n;
    bool multi = false;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        bool fence = !strncmp(line, "\"\"\"", 3);
        const char *part = fence ? line + 3 : line;
        size_t pl = strlen(part);
        if (fence && multi && pl == 0) break; /* closing fence */
        char *m = realloc(msg, len + pl + 2);
        if (!m) break;
        msg = m;
        if (len) msg[len++] = '\n';
        memcpy(msg + len, part, pl);
        len += pl;
        msg[len] = '\0';
        if (fence && !multi) {
            multi = true;
            if (pl && pl >= 3 && !strcmp(part + pl - 3, "\"\"\"")) { /* """one line""" */
                msg[len - 3] = '\0';
                break;
            }
        } else if (!multi) {
            break;
        }
        if (tty) fputs("... ", stdout), fflush(stdout);
    }
    free(line);
    if (n < 0 && !msg) return NULL;
    if (!msg) msg = strdup("");
    return msg;
}

static bool print_piece(const hearth_sample *s, const char *piece, int32_t len, void *user)
{
    (void)s, (void)user;
    fwrite(piece, 1, (size_t)len, stdout);
    fflush(stdout);
    return true;
}

typedef struct chat_state {
    hearth_model *model;
    hearth_context *ctx;
    hearth_sampler *sampler;
    json_t *messages;
    hearth_token *cached; /* the tokens the KV cache holds for sequence 0 */
    int32_t n_cached, cap_cached;
    hearth_chat_options copt;
} chat_state;

/* Renders and tokenizes the conversation; drops the oldest turns while it does not fit. */
static hearth_token *prompt_tokens(chat_state *c, int32_t reserve, int32_t *n, hearth_error *err)
{
    for (;;) {
        char *mj = json_dumps(c->messages, JSON_COMPACT), *text = NULL;
        hearth_status st = hearth_chat_render(c->model, mj, &c->copt, &text, err);
        free(mj);
        if (st) return NULL;
        int32_t len = (int32_t)strlen(text), k = hearth_tokenize(c->model, text, len, NULL, 0, true, true);
        k = k < 0 ? -k : k;
        hearth_token *t = malloc(sizeof *t * (size_t)(k + 1));
        *n = t ? hearth_tokenize(c->model, text, len, t, k + 1, true, true) : -1;
        free(text);
        hearth_token bos = hearth_token_bos(c->model);
        if (*n >= 2 && bos != HEARTH_TOKEN_NULL && t[0] == bos && t[1] == bos) { /* template wrote BOS too */
            memmove(t, t + 1, sizeof *t * (size_t)(*n - 1));
            (*n)--;
        }
        if (*n + reserve <= hearth_context_n_ctx(c->ctx)) return t;
        free(t);
        /* Too long: forget the oldest exchange after the system message. */
        size_t first = json_is_string(json_object_get(json_array_get(c->messages, 0), "role")) &&
                               !strcmp(json_string_value(json_object_get(json_array_get(c->messages, 0), "role")), "system")
                           ? 1 : 0;
        if (json_array_size(c->messages) <= first + 1) {
            err->status = HEARTH_ERR_CONTEXT_FULL;
            snprintf(err->message, sizeof err->message, "this message alone does not fit the %d-token context (use --ctx)",
                     hearth_context_n_ctx(c->ctx));
            return NULL;
        }
        json_array_remove(c->messages, first);
        fprintf(stderr, "[hearth chat: context full, forgot the oldest message]\n");
    }
}

static int turn(chat_state *c, int32_t max_tokens)
{
    hearth_error err = {0};
    int32_t n;
    int32_t quarter = hearth_context_n_ctx(c->ctx) / 4; /* room kept for the reply */
    hearth_token *t = prompt_tokens(c, max_tokens < quarter ? max_tokens : quarter, &n, &err);
    if (!t) return cli_fail("chat", "%s", err.message);
    int32_t keep = 0; /* reuse what the cache holds; always decode at least the last token */
    while (keep < c->n_cached && keep < n - 1 && c->cached[keep] == t[keep]) keep++;
    hearth_seq_truncate(c->ctx, 0, keep);
    hearth_generate_params gp = {.model = c->model, .max_tokens = max_tokens, .on_token = print_piece};
    hearth_generation g = {0};
    hearth_status st = hearth_generate(c->ctx, c->sampler, t + keep, n - keep, &gp, &g, &err);
    putchar('\n');
    if (!st) {
        json_array_append_new(c->messages, json_pack("{s:s,s:s%}", "role", "assistant", "content", g.text, g.len));
        if (n + g.n_tokens > c->cap_cached) {
            c->cap_cached = (n + g.n_tokens) * 2;
            c->cached = realloc(c->cached, sizeof *c->cached * (size_t)c->cap_cached);
        }
        memcpy(c->cached, t, sizeof *t * (size_t)n);
        memcpy(c->cached + n, g.tokens, sizeof *t * (size_t)g.n_tokens);
        c->n_cached = hearth_seq_len(c->ctx, 0);
        if (g.stop == HEARTH_STOP_MAX_TOKENS) fprintf(stderr, "[hearth chat: reply cut at %d tokens (-n)]\n", max_tokens);
    } else {
        json_array_remove(c->messages, json_array_size(c->messages) - 1); /* the user turn failed */
        c->n_cached = 0;
        hearth_kv_clear(c->ctx);
    }
    hearth_generation_free(&g);
    free(t);
    return st ? cli_fail("chat", "%s", err.message) : 0;
}

int cmd_chat(int argc, char **argv)
{
    chat_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    hearth_error err = {0};
    hearth_model_params mp = hearth_model_default_params();
    chat_state c = {0};
    if (!(c.model = hearth_model_load(o.model, &mp, &err))) return cli_fail("chat", "%s", err.message);
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = (int32_t)o.n_ctx;
    cp.n_threads = (int32_t)o.threads;
    hearth_sampler_params sp = hearth_sampler_default_params();
    sp.temperature = (float)o.temp;
    sp.top_k = (int32_t)o.top_k;
    sp.top_p = (float)o.top_p;
    sp.min_p = (float)o.min_p;
    sp.seed = o.seed_set ? (uint64_t)o.seed : (uint64_t)time(NULL);
    if (!(c.ctx = hearth_context_new(c.model, &cp, &err)) || !(c.sampler = hearth_sampler_new(c.model, &sp, &err))) {
        rc = cli_fail("chat", "%s", err.message);
        goto done;
    }
    c.copt = hearth_chat_default_options();
    c.copt.add_generation_prompt = true;
    c.copt.enable_thinking = o.no_think ? 0 : -1;
    c.messages = json_array();
    if (o.system) json_array_append_new(c.messages, json_pack("{s:s,s:s}", "role", "system", "content", o.system));
    bool tty = isatty(0) && isatty(1);
    if (tty) printf("hearth chat — /help for commands, /bye to leave\n");
    char *msg;
    while ((msg = read_message(tty))) {
        if (!strcmp(msg, "/bye")) {
            free(msg);
            break;
        }
        if (!strcmp(msg, "/help")) {
            fputs("  \"\"\"  multi-line message    /clear  forget the conversation    /bye  leave\n", stdout);
        } else if (!strcmp(msg, "/clear")) {
            while (json_array_size(c.messages) > (o.system ? 1u : 0u)) json_array_remove(c.messages, json_array_size(c.messages) - 1);
            hearth_kv_clear(c.ctx);
            c.n_cached = 0;
            hearth_sampler_reset(c.sampler);
            if (tty) puts("(conversation cleared)");
        } else if (msg[0] == '/' && msg[1] && !strchr(msg, ' ')) {
            fprintf(stderr, "hearth chat: unknown command '%s' (/help lists them)\n", msg);
        } else if (*msg) {
            json_array_append_new(c.messages, json_pack("{s:s,s:s}", "role", "user", "content", msg));
            rc |= turn(&c, (int32_t)o.n_predict);
        }
        free(msg);
    }
done:
    json_decref(c.messages);
    free(c.cached);
    hearth_sampler_free(c.sampler);
    hearth_context_free(c.ctx);
    hearth_model_free(c.model);
    return rc;
}
