/*
 * engine_backend.c — the model backend that runs local GGUF models through include/hearth.h:
 * each role's model is loaded once (roles naming the same file share it), the request becomes
 * a chat (system + user) rendered with the model's own template, the planner's output is
 * constrained by the plan's JSON Schema (so plans always parse), N samples decode in parallel
 * from one shared prompt, and each sample's confidence is hearth's documented generation score
 * (docs/confidence.md) without agreement: the run loop weighs self-consistency itself.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "base/base.h"

#define MAX_MODELS 4

typedef struct loaded {
    char *path;
    hearth_model *model;
    hearth_context *ctx;
} loaded;

typedef struct engine {
    loaded models[MAX_MODELS];
    int n_models;
    int n_seq_max;
} engine;

static hearth_status get_model(engine *e, const char *path, loaded **out, hearth_error *err)
{
    for (int i = 0; i < e->n_models; i++)
        if (!strcmp(e->models[i].path, path)) {
            *out = &e->models[i];
            return HEARTH_OK;
        }
    if (e->n_models == MAX_MODELS) return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "agent: more than %d models", MAX_MODELS);
    loaded *l = &e->models[e->n_models];
    hearth_model_params mp = hearth_model_default_params();
    l->model = hearth_model_load(path, &mp, err);
    if (!l->model) return hearth_fail_wrap(err, "agent model");
    hearth_context_params cp = hearth_context_default_params();
    cp.n_seq_max = e->n_seq_max;
    l->ctx = hearth_context_new(l->model, &cp, err);
    l->path = strdup(path);
    if (!l->ctx || !l->path) {
        hearth_context_free(l->ctx);
        hearth_model_free(l->model);
        free(l->path);
        memset(l, 0, sizeof *l);
        return err && err->status ? err->status : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    e->n_models++;
    *out = l;
    return HEARTH_OK;
}

static hearth_status render(const hearth_model *m, const agent_gen_request *req, char **prompt, hearth_error *err)
{
    json_t *msgs = json_array();
    if (req->system) json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "system", "content", req->system));
    json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", req->prompt));
    char *text = json_dumps(msgs, JSON_COMPACT);
    json_decref(msgs);
    if (!text) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "agent: prompt is not valid UTF-8");
    hearth_chat_options opt = hearth_chat_default_options();
    opt.add_generation_prompt = true;
    opt.enable_thinking = 0; /* plans and answers are read by code: no thinking preamble */
    hearth_status st = hearth_chat_render(m, text, &opt, prompt, err);
    free(text);
    return st;
}

static hearth_status engine_generate(void *ctx, const agent_gen_request *req, agent_gen_result *out, hearth_error *err)
{
    engine *e = ctx;
    memset(out, 0, sizeof *out);
    if (!req->model) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "agent: no model configured for role '%s'", req->role);
    loaded *l = NULL;
    hearth_status st = get_model(e, req->model, &l, err);
    if (st) return st;
    char *prompt = NULL;
    if ((st = render(l->model, req, &prompt, err))) return st;
    /* The rendered template already holds BOS where the model wants one. */
    int32_t n_tok = hearth_tokenize(l->model, prompt, (int32_t)strlen(prompt), NULL, 0, false, true);
    hearth_token *tokens = n_tok < 0 ? malloc((size_t)-n_tok * sizeof *tokens) : NULL;
    if (tokens) n_tok = hearth_tokenize(l->model, prompt, (int32_t)strlen(prompt), tokens, -n_tok, false, true);
    free(prompt);
    if (!tokens) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    int n = req->n_samples > 0 ? req->n_samples : 1;
    if (n > e->n_seq_max) n = e->n_seq_max;
    hearth_grammar *g = req->json_schema ? hearth_grammar_new_json_schema(l->model, req->json_schema, err) : NULL;
    hearth_sampler **samplers = calloc((size_t)n, sizeof *samplers);
    hearth_generation *gens = calloc((size_t)n, sizeof *gens);
    st = (req->json_schema && !g) ? err->status : (!samplers || !gens) ? hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory") : HEARTH_OK;
    for (int i = 0; !st && i < n; i++) {
        hearth_sampler_params sp = hearth_sampler_default_params();
        sp.temperature = n == 1 ? 0.0f : 0.7f; /* one sample: the most likely; several: diverse */
        sp.seed = req->seed * 1000003u + (uint64_t)i;
        samplers[i] = hearth_sampler_new(l->model, &sp, err);
        if (!samplers[i]) st = err->status;
        else if (g) st = hearth_sampler_set_grammar(samplers[i], g, err);
    }
    if (!st) {
        hearth_kv_clear(l->ctx);
        hearth_generate_params gp = {.model = l->model, .max_tokens = req->max_tokens, .n_samples = n};
        st = n == 1 ? hearth_generate(l->ctx, samplers[0], tokens, n_tok, &gp, &gens[0], err)
                    : hearth_generate_n(l->ctx, samplers, tokens, n_tok, &gp, gens, NULL, err);
    }
    if (!st && !(out->samples = calloc((size_t)n, sizeof *out->samples))) st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    for (int i = 0; !st && i < n; i++) {
        out->samples[i].text = agent_utf8_fix(strdup(gens[i].text ? gens[i].text : "")); /* max_tokens may cut a character */
        hearth_confidence c;
        hearth_confidence_compute(gens[i].samples, gens[i].n_tokens, -1.0f, &c);
        out->samples[i].confidence = gens[i].n_tokens ? c.score : 0;
        out->samples[i].n_tokens = gens[i].n_tokens;
        out->tokens_out += gens[i].n_tokens;
        out->n = i + 1;
    }
    out->tokens_in = n_tok;
    for (int i = 0; i < n; i++) {
        if (samplers && samplers[i]) hearth_sampler_free(samplers[i]);
        if (gens) hearth_generation_free(&gens[i]);
    }
    free(samplers);
    free(gens);
    hearth_grammar_free(g);
    free(tokens);
    if (st) agent_gen_result_clear(out);
    return st;
}

static void engine_free(void *ctx)
{
    engine *e = ctx;
    for (int i = 0; i < e->n_models; i++) {
        hearth_context_free(e->models[i].ctx);
        hearth_model_free(e->models[i].model);
        free(e->models[i].path);
    }
    free(e);
}

hearth_status agent_backend_engine(const agent_config *cfg, agent_backend *out, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    if (!cfg->model_planner && !cfg->model_answerer)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                           "%s: models.planner / models.answerer are needed to run with local models "
                           "(or use a scripted backend)", cfg->path);
    engine *e = calloc(1, sizeof *e);
    if (!e) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    e->n_seq_max = (int)HEARTH_MAX(cfg->samples, cfg->max_samples);
    /* Load the models every run needs now, so a bad path fails before the run starts (the
     * fallback model loads when first needed). */
    const char *eager[] = {cfg->model_planner, cfg->model_answerer};
    for (size_t i = 0; i < 2; i++) {
        loaded *l;
        if (eager[i] && get_model(e, eager[i], &l, err)) {
            engine_free(e);
            return err->status;
        }
    }
    out->name = "engine";
    out->ctx = e;
    out->generate = engine_generate;
    out->free = engine_free;
    return HEARTH_OK;
}
