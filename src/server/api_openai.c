/* api_openai.c — the OpenAI-compatible endpoints (/v1/...), OpenAI's request/reply shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/api.h"
#include "server/store.h"

typedef struct openai_fmt {
    bool chat;
    bool tools;         /* tools offered: buffer and parse tool calls at the end          */
    bool logprobs;
    int top_logprobs;
    bool include_usage;
    bool sent_role[16]; /* first chunk of each choice carries the role                    */
} openai_fmt;

#define MAX_CHOICES 16

static const char *finish_reason(const gen_request *r, bool has_calls)
{
    if (has_calls) return "tool_calls";
    return r->finish == GEN_LENGTH ? "length" : "stop";
}

static json_t *token_logprob(const hearth_model *m, hearth_token t, float lp)
{
    char piece[256];
    int32_t n = hearth_token_to_piece(m, t, piece, sizeof piece, false);
    if (n < 0) n = 0;
    json_t *bytes = json_array();
    for (int32_t i = 0; i < n; i++) json_array_append_new(bytes, json_integer((unsigned char)piece[i]));
    return json_pack("{s:o,s:f,s:o}", "token", api_text(piece, (size_t)n), "logprob", lp, "bytes", bytes);
}

static json_t *sample_logprob(const hearth_model *m, const hearth_sample *s, int top)
{
    json_t *o = token_logprob(m, s->token, s->logprob), *alts = json_array();
    for (int i = 0; i < s->n_top && i < top; i++)
        json_array_append_new(alts, token_logprob(m, s->top[i].token, s->top[i].logprob));
    json_object_set_new(o, "top_logprobs", alts);
    return o;
}

static json_t *usage(api_job *job)
{
    int prompt = job->reqs[0]->n_prompt, gen = 0;
    for (int i = 0; i < job->n_submitted; i++) gen += job->reqs[i]->n_generated;
    return json_pack("{s:i,s:i,s:i}", "prompt_tokens", prompt, "completion_tokens", gen, "total_tokens", prompt + gen);
}

static json_t *chunk(api_job *job)
{
    openai_fmt *f = job->fmt;
    return json_pack("{s:s,s:s,s:I,s:s,s:s,s:[]}", "id", job->id, "object", f->chat ? "chat.completion.chunk" : "text_completion",
                     "created", (json_int_t)job->created, "model", job->model_name, "system_fingerprint", "hearth", "choices");
}

/* Tool calls in OpenAI's shape, or NULL; *content gets the text outside them. */
static json_t *tool_calls(api_job *job, const gen_request *r, char **content)
{
    char *calls = NULL;
    *content = NULL;
    if (hearth_chat_parse_tool_calls(r->text ? r->text : "", r->text_len, &calls, content, NULL) != HEARTH_OK) return NULL;
    json_t *arr = json_loads(calls, 0, NULL), *out = json_array();
    free(calls);
    size_t i;
    json_t *c;
    json_array_foreach(arr, i, c) {
        char id[64];
        snprintf(id, sizeof id, "call_%s_%zu", job->id + strlen(job->id) - 8, i);
        char *args = json_dumps(json_object_get(c, "arguments"), JSON_COMPACT | JSON_ENCODE_ANY);
        json_array_append_new(out, json_pack("{s:s,s:s,s:{s:O,s:s}}", "id", id, "type", "function", "function",
                                             "name", json_object_get(c, "name"), "arguments", args ? args : "{}"));
        free(args);
    }
    json_decref(arr);
    if (!json_array_size(out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static json_t *choice(api_job *job, int i)
{
    openai_fmt *f = job->fmt;
    gen_request *r = job->reqs[i];
    json_t *calls = NULL;
    char *content = NULL;
    if (f->tools) calls = tool_calls(job, r, &content);
    const char *text = content ? content : r->text ? r->text : "";
    json_t *c = json_pack("{s:i}", "index", i);
    if (f->chat) {
        json_t *msg = json_pack("{s:s,s:o}", "role", "assistant", "content", api_text(text, strlen(text)));
        if (calls) json_object_set_new(msg, "tool_calls", calls);
        json_object_set_new(c, "message", msg);
    } else {
        json_object_set_new(c, "text", api_text(text, strlen(text)));
    }
    if (f->logprobs && r->samples) {
        json_t *lp = json_array();
        for (int k = 0; k < r->n_generated; k++)
            json_array_append_new(lp, sample_logprob(sched_model_handle(job->model), &r->samples[k], f->top_logprobs));
        json_object_set_new(c, "logprobs", json_pack("{s:o}", "content", lp));
    } else {
        json_object_set_new(c, "logprobs", json_null());
    }
    json_object_set_new(c, "finish_reason", json_string(finish_reason(r, calls != NULL)));
    free(content);
    return c;
}

static void on_piece(api_job *job, int index, const char *text, size_t len, const hearth_sample *s)
{
    openai_fmt *f = job->fmt;
    json_t *o = chunk(job), *c = json_pack("{s:i,s:n,s:n}", "index", index, "finish_reason", "logprobs");
    if (f->chat) {
        json_t *delta = json_pack("{s:o}", "content", api_text(text, len));
        if (index < MAX_CHOICES && !f->sent_role[index]) {
            json_object_set_new(delta, "role", json_string("assistant"));
            f->sent_role[index] = true;
        }
        json_object_set_new(c, "delta", delta);
    } else {
        json_object_set_new(c, "text", api_text(text, len));
    }
    if (f->logprobs && s)
        json_object_set_new(c, "logprobs", json_pack("{s:[o]}", "content", sample_logprob(sched_model_handle(job->model), s, f->top_logprobs)));
    json_array_append_new(json_object_get(o, "choices"), c);
    http_stream_push_sse(job->stream, o);
}

static bool want_piece(api_job *job) { return !((openai_fmt *)job->fmt)->tools; }

static void on_finish(api_job *job)
{
    openai_fmt *f = job->fmt;
    for (int i = 0; i < job->n_submitted; i++) {
        gen_request *r = job->reqs[i];
        if (r->finish == GEN_ERROR) {
            http_stream_push_sse(job->stream, json_pack("{s:{s:s,s:s}}", "error", "message", r->error, "type", "server_error"));
            continue;
        }
        json_t *o = chunk(job), *c;
        if (f->tools) { /* buffered: the whole message in one chunk */
            json_t *full = choice(job, i), *delta = json_object_get(full, "message");
            size_t k;
            json_t *call;
            json_array_foreach(json_object_get(delta, "tool_calls"), k, call) /* deltas number their calls */
                json_object_set_new(call, "index", json_integer((json_int_t)k));
            c = json_pack("{s:i,s:O,s:O}", "index", i, "delta", delta, "finish_reason", json_object_get(full, "finish_reason"));
            json_decref(full);
        } else {
            c = json_pack("{s:i,s:s,s:{}}", "index", i, "finish_reason", finish_reason(r, false), f->chat ? "delta" : "text");
            if (!f->chat) json_object_set_new(c, "text", json_string(""));
        }
        json_array_append_new(json_object_get(o, "choices"), c);
        http_stream_push_sse(job->stream, o);
    }
    if (f->include_usage) {
        json_t *o = chunk(job);
        json_object_set_new(o, "usage", usage(job));
        http_stream_push_sse(job->stream, o);
    }
    http_stream_push(job->stream, "data: [DONE]\n\n", 14);
}

/* Maps OpenAI's sampling fields onto a request. */
static hearth_status read_params(json_t *b, gen_request *r, openai_fmt *f, hearth_error *err)
{
    json_t *opts = json_object();
    static const char *const same[] = {"temperature", "top_p", "presence_penalty", "frequency_penalty", "seed"};
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(same); i++)
        if (json_object_get(b, same[i])) json_object_set(opts, same[i], json_object_get(b, same[i]));
    json_t *mt = json_object_get(b, "max_completion_tokens");
    if (!mt || json_is_null(mt)) mt = json_object_get(b, "max_tokens");
    if (mt && !json_is_null(mt)) json_object_set(opts, "num_predict", mt);
    hearth_status st = api_apply_options(opts, r, err);
    json_decref(opts);
    if (!st) st = api_set_stop(json_object_get(b, "stop"), r, err);
    if (st) return st;
    json_t *lp = json_object_get(b, "logprobs");
    if (f->chat) {
        f->logprobs = json_is_true(lp);
        json_t *top = json_object_get(b, "top_logprobs");
        if (top && !json_is_null(top) && (!json_is_integer(top) || json_integer_value(top) < 0 || json_integer_value(top) > 20))
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "top_logprobs: expected an integer 0..20");
        f->top_logprobs = (int)json_integer_value(top);
    } else if (lp && !json_is_null(lp)) {
        if (!json_is_integer(lp) || json_integer_value(lp) < 0 || json_integer_value(lp) > 20)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "logprobs: expected an integer 0..20");
        f->logprobs = true;
        f->top_logprobs = (int)json_integer_value(lp);
    }
    r->keep_samples = f->logprobs;
    r->sampling.n_logprobs = f->top_logprobs;
    json_t *rf = json_object_get(b, "response_format");
    if (rf && !json_is_null(rf)) {
        const char *type = json_string_value(json_object_get(rf, "type"));
        if (!type) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "response_format.type is required");
        if (!strcmp(type, "json_object")) r->schema = strdup("");
        else if (!strcmp(type, "json_schema")) {
            json_t *schema = json_object_get(json_object_get(rf, "json_schema"), "schema");
            if (!json_is_object(schema)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "response_format.json_schema.schema: expected an object");
            r->schema = json_dumps(schema, JSON_COMPACT);
        } else if (strcmp(type, "text") != 0) {
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "response_format.type: unknown \"%s\"", type);
        }
    }
    return HEARTH_OK;
}

static const api_field completion_fields[] = {
    {"model", F_STR}, {"messages", F_ARR}, {"prompt", F_STR}, {"stream", F_BOOL}, {"n", F_INT},
    {"max_tokens", F_INT}, {"max_completion_tokens", F_INT}, {"temperature", F_NUM}, {"top_p", F_NUM},
    {"seed", F_INT}, {"stop", F_STR | F_ARR}, {"tools", F_ARR}, {"tool_choice", F_STR | F_OBJ},
    {"response_format", F_OBJ}, {"top_logprobs", F_INT}, {"stream_options", F_OBJ}, {"presence_penalty", F_NUM},
    {"frequency_penalty", F_NUM}, {"user", F_STR}, {"parallel_tool_calls", F_BOOL}, {NULL, 0}};

static void completion(server_state *s, const http_request *req, json_t *b, bool chat, http_response *res)
{
    if (!api_check_fields(b, completion_fields, true, res)) return;
    json_t *lpv = json_object_get(b, "logprobs");
    if (lpv && !json_is_null(lpv) && (chat ? !json_is_boolean(lpv) : !json_is_integer(lpv)))
        return api_openai_error(res, 400, "invalid_request_error", "logprobs: expected %s", chat ? "a boolean" : "an integer");
    const char *name = json_string_value(json_object_get(b, "model"));
    if (!name) return api_openai_error(res, 400, "invalid_request_error", "model is required");
    json_t *nv = json_object_get(b, "n");
    if (nv && !json_is_null(nv) && (!json_is_integer(nv) || json_integer_value(nv) < 1 || json_integer_value(nv) > MAX_CHOICES))
        return api_openai_error(res, 400, "invalid_request_error", "n: expected an integer 1..%d", MAX_CHOICES);
    int n = nv && json_is_integer(nv) ? (int)json_integer_value(nv) : 1;
    bool stream = json_is_true(json_object_get(b, "stream"));
    api_job *job = calloc(1, sizeof *job);
    openai_fmt *f = calloc(1, sizeof *f);
    if (!job || !f || !(job->reqs = calloc((size_t)n, sizeof *job->reqs))) {
        free(job), free(f);
        return api_openai_error(res, 500, "server_error", "out of memory");
    }
    job->fmt = f;
    job->keep_alive = -2;
    job->t_start = hearth_time_sec();
    job->created = (int64_t)time(NULL);
    snprintf(job->id, sizeof job->id, "%s%08lx%08lx", chat ? "chatcmpl-" : "cmpl-", (unsigned long)job->created,
             (unsigned long)((uintptr_t)job >> 4 & 0xffffffff));
    snprintf(job->model_name, sizeof job->model_name, "%s", name);
    f->chat = chat;
    f->include_usage = json_is_true(json_object_get(json_object_get(b, "stream_options"), "include_usage"));
    json_t *tools = chat ? json_object_get(b, "tools") : NULL;
    const char *tool_choice = json_string_value(json_object_get(b, "tool_choice"));
    if (tool_choice && !strcmp(tool_choice, "none")) tools = NULL;
    f->tools = tools && json_array_size(tools);
    hearth_error err = {0};
    int status = 0;
    job->model = sched_acquire(s->sched, name, &err);
    job->t_load = hearth_time_sec();
    if (!job->model) status = api_status_for(err.status);
    for (int i = 0; i < n && !status; i++) {
        gen_request *r = job->reqs[i] = calloc(1, sizeof *r);
        job->n = i + 1;
        if (!r) {
            status = 500;
            break;
        }
        r->sampling = hearth_sampler_default_params();
        r->sampling.seed = (uint64_t)time(NULL) * 7919u + (uint64_t)i;
        api_apply_model_params(name, r);
        hearth_status st = read_params(b, r, f, &err);
        if (!st && json_is_integer(json_object_get(b, "seed"))) r->sampling.seed += (uint64_t)i; /* n samples differ */
        if (!st && chat) {
            st = api_tokenize_chat(sched_model_handle(job->model), name, json_object_get(b, "messages"), tools, -1, r, &err);
        } else if (!st) {
            const char *prompt = json_string_value(json_object_get(b, "prompt"));
            st = prompt ? api_tokenize_text(sched_model_handle(job->model), prompt, true, r, &err)
                        : hearth_fail(&err, HEARTH_ERR_INVALID_ARG, "prompt: expected a string");
        }
        if (!st) st = api_compile_schema(sched_model_handle(job->model), r, &err);
        if (st) status = api_status_for(st);
    }
    if (!status) {
        job->on_piece = on_piece;
        job->on_finish = on_finish;
        job->want_piece = want_piece;
        api_job_outcome run = api_job_start(job, req, res, stream, "text/event-stream", &err);
        if (run == API_JOB_STREAMING) return; /* the job frees itself */
        if (run == API_JOB_FAILED) {
            status = api_status_for(err.status);
        } else {
            json_t *choices = json_array();
            const char *failed = NULL;
            for (int i = 0; i < job->n_submitted; i++) {
                if (job->reqs[i]->finish == GEN_ERROR) failed = job->reqs[i]->error;
                json_array_append_new(choices, choice(job, i));
            }
            if (failed) {
                api_openai_error(res, 500, "server_error", "%s", failed);
                json_decref(choices);
            } else {
                http_reply_json(res, 200, json_pack("{s:s,s:s,s:I,s:s,s:s,s:o,s:o}", "id", job->id, "object",
                                                    chat ? "chat.completion" : "text_completion", "created", (json_int_t)job->created,
                                                    "model", name, "system_fingerprint", "hearth", "choices", choices, "usage", usage(job)));
            }
        }
    }
    if (status)
        api_openai_error(res, status, status == 404 ? "not_found_error" : status == 503 ? "server_busy" : "invalid_request_error",
                         "%s", err.message[0] ? err.message : "out of memory");
    api_job_free(job);
}

static const api_field embedding_fields[] = {
    {"model", F_STR}, {"input", F_STR | F_ARR}, {"encoding_format", F_STR}, {"dimensions", F_INT}, {"user", F_STR},
    {NULL, 0}};

static void embeddings(server_state *s, json_t *b, http_response *res)
{
    if (!api_check_fields(b, embedding_fields, true, res)) return;
    const char *encoding = json_string_value(json_object_get(b, "encoding_format"));
    bool base64 = encoding && !strcmp(encoding, "base64");
    if (encoding && !base64 && strcmp(encoding, "float") != 0)
        return api_openai_error(res, 400, "invalid_request_error", "encoding_format: expected \"float\" or \"base64\"");
    const char *name = json_string_value(json_object_get(b, "model"));
    if (!name) return api_openai_error(res, 400, "invalid_request_error", "model is required");
    json_t *input = json_object_get(b, "input");
    json_t *list = json_is_string(input) ? json_pack("[O]", input) : json_incref(input);
    size_t n = json_array_size(list), i;
    json_t *v;
    bool ok = json_is_array(list) && n > 0 && n <= 4096;
    json_array_foreach(list, i, v) ok = ok && json_is_string(v);
    if (!ok) {
        json_decref(list);
        return api_openai_error(res, 400, "invalid_request_error", "input: expected a string or an array of 1..4096 strings");
    }
    hearth_error err = {0};
    sched_model *m = sched_acquire(s->sched, name, &err);
    if (!m) {
        json_decref(list);
        return api_openai_error(res, api_status_for(err.status), "invalid_request_error", "%s", err.message);
    }
    const char **texts = calloc(n, sizeof *texts);
    json_array_foreach(list, i, v) texts[i] = json_string_value(v);
    float *vec = NULL;
    int32_t dim = 0, n_tok = 0;
    if (sched_embed(m, texts, (int32_t)n, &vec, &dim, &n_tok, &err)) {
        api_openai_error(res, api_status_for(err.status), "invalid_request_error", "%s", err.message);
    } else {
        json_t *data = json_array();
        for (size_t k = 0; k < n; k++) {
            json_t *e;
            if (base64) { /* what the openai SDKs ask for by default */
                char *text = api_base64_floats(vec + k * (size_t)dim, (size_t)dim);
                e = json_string(text ? text : "");
                free(text);
            } else {
                e = json_array();
                for (int32_t d = 0; d < dim; d++) json_array_append_new(e, json_real(vec[k * (size_t)dim + (size_t)d]));
            }
            json_array_append_new(data, json_pack("{s:s,s:o,s:i}", "object", "embedding", "embedding", e, "index", (int)k));
        }
        http_reply_json(res, 200, json_pack("{s:s,s:o,s:s,s:{s:i,s:i}}", "object", "list", "data", data, "model", name,
                                            "usage", "prompt_tokens", n_tok, "total_tokens", n_tok));
    }
    free(vec);
    free(texts);
    json_decref(list);
    sched_release(m, -2);
}

static void models(http_response *res, const char *one)
{
    hearth_store_entry *v;
    int32_t n;
    hearth_error err;
    if (hearth_store_list(&v, &n, &err)) return api_openai_error(res, 500, "server_error", "%s", err.message);
    json_t *data = json_array(), *found = NULL;
    char want[400] = "";
    store_name sn;
    if (one && store_name_parse(one, &sn, NULL) == HEARTH_OK) store_name_display(&sn, want, sizeof want);
    for (int32_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s,s:s,s:I,s:s}", "id", v[i].name, "object", "model", "created", (json_int_t)v[i].modified,
                              "owned_by", "library");
        if (one && !strcmp(v[i].name, want)) found = json_incref(o);
        json_array_append_new(data, o);
    }
    free(v);
    if (!one) return http_reply_json(res, 200, json_pack("{s:s,s:o}", "object", "list", "data", data));
    json_decref(data);
    if (found) return http_reply_json(res, 200, found);
    api_openai_error(res, 404, "invalid_request_error", "model '%s' not found", one);
}

bool api_openai_route(server_state *s, const http_request *req, http_response *res)
{
    const char *p = req->path;
    if (strncmp(p, "/v1/", 4) != 0) return false;
    if (!strcmp(p, "/v1/models") && !strcmp(req->method, "GET")) return models(res, NULL), true;
    if (!strncmp(p, "/v1/models/", 11) && p[11] && !strcmp(req->method, "GET")) return models(res, p + 11), true;
    bool chat = !strcmp(p, "/v1/chat/completions"), comp = !strcmp(p, "/v1/completions"), emb = !strcmp(p, "/v1/embeddings");
    if (!chat && !comp && !emb) {
        api_openai_error(res, 404, "invalid_request_error", "unknown endpoint %s %s", req->method, p);
        return true;
    }
    if (strcmp(req->method, "POST") != 0) {
        api_openai_error(res, 405, "invalid_request_error", "method %s not allowed on %s", req->method, p);
        return true;
    }
    json_t *b = api_parse_body(req, res, true);
    if (!b) return true;
    if (emb) embeddings(s, b, res);
    else completion(s, req, b, chat, res);
    json_decref(b);
    return true;
}
