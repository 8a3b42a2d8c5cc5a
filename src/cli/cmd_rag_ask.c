/* cmd_rag_ask.c — `hearth rag ask`: retrieve, then answer with a chat model that cites its
 * sources as [n]; says it does not know (without running the model) when nothing relevant is
 * retrieved. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rag_cli.h"

static const char *ask_help =
    "usage: hearth rag ask QUESTION --store NAME --model CHAT.gguf [options]\n"
    "\n"
    "Answers QUESTION from the store's documents. The best chunks are retrieved (hybrid\n"
    "search when the store has embeddings, else BM25), numbered, and given to the chat model\n"
    "with its own chat template and the instruction to answer only from them and to cite them\n"
    "as [n]. The answer streams to stdout, followed by the numbered source list (path, lines or\n"
    "page, heading).\n"
    "\n"
    "When retrieval finds nothing relevant (no full-text match for any non-trivial word of\n"
    "the question, and no chunk with cosine similarity >= --min-score that also stands 0.1\n"
    "above the median of the 50 closest), hearth says it does not know and does not run the\n"
    "model.\n"
    "\n"
    "options:\n"
    "  --store NAME        the store\n"
    "  --model FILE        the chat model (GGUF) that writes the answer\n"
    "  --embed-model FILE  embedding model for the question (default: the store's)\n"
    "  -k N                chunks given to the model (default 4)\n"
    "  --mode MODE         retrieval: vector, bm25 or hybrid\n"
    "  --filter path=GLOB  only documents whose path matches\n"
    "  --min-score X       vector relevance threshold (default 0.35)\n"
    "  --max-tokens N      answer length limit (default 512)\n"
    "  --ctx N             chat context size (default 4096)\n"
    "  --threads N         threads (default: physical cores)\n"
    "  --json              print {\"answer\", \"known\", \"sources\":[...]} instead of streaming\n"
    "\n"
    "exit status: 0 when an answer (or \"I don't know\") was given, 1 on a store/model error,\n"
    "2 on a usage error.\n";

static bool stream(const hearth_sample *s, const char *piece, int32_t len, void *user)
{
    (void)s;
    if (*(bool *)user) {
        fwrite(piece, 1, (size_t)len, stdout);
        fflush(stdout);
    }
    return true;
}

static int answer(const char *model_path, const char *messages, long n_ctx, long threads, long max_tokens, bool print,
                  char **text)
{
    const char *cmd = "rag ask";
    hearth_error err = {0};
    int rc = 0;
    hearth_context *ctx = NULL;
    hearth_sampler *smp = NULL;
    hearth_token *toks = NULL;
    char *prompt = NULL;
    hearth_generation gen = {0};
    hearth_model *m = hearth_model_load(model_path, NULL, &err);
    if (!m) return cli_fail(cmd, "%s", err.message);
    hearth_chat_options co = hearth_chat_default_options();
    co.add_generation_prompt = true;
    co.enable_thinking = 0;
    if (hearth_chat_render(m, messages, &co, &prompt, &err)) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    int32_t len = (int32_t)strlen(prompt), need = hearth_tokenize(m, prompt, len, NULL, 0, true, true);
    int32_t cap = need < 0 ? -need : 1;
    if (!(toks = malloc((size_t)cap * sizeof *toks))) {
        rc = cli_fail(cmd, "out of memory");
        goto done;
    }
    int32_t n_prompt = hearth_tokenize(m, prompt, len, toks, cap, true, true);
    hearth_context_params cp = hearth_context_default_params();
    cp.n_ctx = (int32_t)n_ctx;
    cp.n_threads = (int32_t)threads;
    if (!(ctx = hearth_context_new(m, &cp, &err))) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    if (n_prompt + 16 >= hearth_context_n_ctx(ctx)) {
        rc = cli_fail(cmd, "the prompt with its sources has %d tokens but the context holds %d; use a larger --ctx "
                           "or a smaller -k", n_prompt, hearth_context_n_ctx(ctx));
        goto done;
    }
    hearth_sampler_params sp = hearth_sampler_default_params();
    sp.temperature = 0; /* answers from documents: deterministic */
    if (!(smp = hearth_sampler_new(m, &sp, &err))) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    hearth_generate_params gp = {.model = m, .max_tokens = (int32_t)max_tokens, .on_token = stream, .user = &print};
    if (hearth_generate(ctx, smp, toks, n_prompt, &gp, &gen, &err)) {
        rc = cli_fail(cmd, "%s", err.message);
        goto done;
    }
    *text = strdup(gen.text ? gen.text : "");
done:
    hearth_generation_free(&gen);
    hearth_sampler_free(smp);
    hearth_context_free(ctx);
    hearth_model_free(m);
    free(toks);
    free(prompt);
    return rc;
}

int cmd_rag_ask(int argc, char **argv)
{
    const char *cmd = "rag ask", *model = NULL, *question = NULL, *v;
    rag_cli_query_opts o = {.k = 4};
    long max_tokens = 512, n_ctx = 4096, threads = 0;
    double min_score = 0.35;
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help")) {
            fputs(ask_help, stdout);
            return 0;
        } else if (rag_cli_arg(argc, argv, &i, "--model", &model, &rc, cmd) ||
                   rag_cli_arg(argc, argv, &i, "--embed-model", &o.model, &rc, cmd)) {
        } else if (rag_cli_arg(argc, argv, &i, "--max-tokens", &v, &rc, cmd)) {
            if (v && !cli_parse_long(cmd, "--max-tokens", v, 1, 1 << 20, &max_tokens)) rc = 2;
        } else if (rag_cli_arg(argc, argv, &i, "--ctx", &v, &rc, cmd)) {
            if (v && !cli_parse_long(cmd, "--ctx", v, 256, 1 << 20, &n_ctx)) rc = 2;
        } else if (rag_cli_arg(argc, argv, &i, "--threads", &v, &rc, cmd)) {
            if (v && !cli_parse_long(cmd, "--threads", v, 0, 1024, &threads)) rc = 2;
        } else if (rag_cli_arg(argc, argv, &i, "--min-score", &v, &rc, cmd)) {
            if (v && !cli_parse_float(cmd, "--min-score", v, -1, 1, &min_score)) rc = 2;
        } else if (rag_cli_query_opt(argc, argv, &i, cmd, &o, &rc)) {
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage_error(cmd, "unknown option '%s'", a);
        } else if (!question) {
            question = a;
        } else {
            rc = cli_usage_error(cmd, "one QUESTION only (quote it), got '%s' too", a);
        }
    }
    if (rc) return rc;
    if (!question) return cli_usage_error(cmd, "QUESTION is required");
    if (!model) return cli_usage_error(cmd, "--model CHAT.gguf is required (the model that writes the answer)");
    hearth_rag_store *s;
    if ((rc = rag_cli_open_store(cmd, o.store, false, &s))) return rc;
    bool known = false, json = o.json;
    hearth_rag_search_params p;
    rc = rag_cli_search_setup(cmd, s, &o, (int32_t)threads, &p);
    hearth_rag_hit *hits = NULL;
    int32_t n = 0;
    hearth_error err = {0};
    char *text = NULL;
    if (!rc && hearth_rag_relevant(s, question, &p, min_score, &known, &err)) rc = cli_fail(cmd, "%s", err.message);
    if (!rc && known && hearth_rag_search(s, question, &p, &hits, &n, &err)) rc = cli_fail(cmd, "%s", err.message);
    known = known && n > 0;
    hearth_rag_unload_embedder(s); /* free its memory before the chat model loads */
    if (!rc && known) {
        char *messages = NULL;
        rc = hearth_rag_answer_messages(question, hits, n, &messages, &err)
                 ? cli_fail(cmd, "%s", err.message)
                 : answer(model, messages, n_ctx, threads, max_tokens, !json, &text);
        free(messages);
    }
    if (!rc) {
        const char *dont = "I don't know: nothing in this store is relevant to the question.";
        if (json) {
            json_t *src = json_array();
            for (int32_t i = 0; i < n; i++)
                json_array_append_new(src, json_pack("{s:i,s:s,s:i,s:i,s:i,s:s,s:f}", "n", i + 1, "path", hits[i].path,
                                                     "line_start", hits[i].line_start, "line_end", hits[i].line_end,
                                                     "page", hits[i].page, "heading", hits[i].heading, "score",
                                                     hits[i].score));
            json_t *out = json_pack("{s:s,s:b,s:o}", "answer", known ? (text ? text : "") : dont, "known", known,
                                  "sources", src);
            char *txt = json_dumps(out, JSON_COMPACT);
            puts(txt);
            free(txt);
            json_decref(out);
        } else if (!known) {
            printf("%s\n", dont);
        } else {
            printf("\n\nSources:\n");
            for (int32_t i = 0; i < n; i++) {
                char loc[4200];
                hearth_rag_hit_location(&hits[i], loc, sizeof loc);
                printf("[%d] %s%s%s\n", i + 1, loc, *hits[i].heading ? "  # " : "", hits[i].heading);
            }
        }
    }
    free(text);
    hearth_rag_hits_free(hits, n);
    hearth_rag_close(s);
    return rc;
}
