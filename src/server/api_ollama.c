/* api_ollama.c — Ollama's REST API (/api/...), same request and reply shapes as Ollama. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/api.h"
#include "server/store.h"

typedef struct ollama_fmt {
    bool chat;   /* /api/chat (message objects) or /api/generate (response strings)     */
    bool tools;  /* tools were offered: buffer the reply and parse tool calls at the end */
    bool think;  /* "think": true — text between <think> and </think> goes to "thinking"  */
    bool in_think, think_over, trim; /* trim: drop the newlines that follow </think>        */
} ollama_fmt;

static json_t *head(api_job *job)
{
    char t[64];
    api_time_rfc3339(t, sizeof t);
    return json_pack("{s:s,s:s}", "model", job->model_name, "created_at", t);
}

static const char *done_reason(const gen_request *r)
{
    return r->finish == GEN_LENGTH ? "length" : "stop";
}

/* Splits Qwen3-style "<think>…</think>rest" into thinking and content. */
static void split_thinking(const char *text, json_t *msg)
{
    const char *open = strstr(text, "<think>"), *close = open ? strstr(open, "</think>") : NULL;
    if (!open || !close) {
        json_object_set_new(msg, "content", api_text(text, strlen(text)));
        return;
    }
    const char *rest = close + 8;
    while (*rest == '\n') rest++;
    json_object_set_new(msg, "thinking", api_text(open + 7, (size_t)(close - open - 7)));
    json_object_set_new(msg, "content", api_text(rest, strlen(rest)));
}

static void add_stats(api_job *job, json_t *o)
{
    gen_request *r = job->reqs[0];
    double end = r->t_end > 0 ? r->t_end : hearth_time_sec();
    json_object_set_new(o, "done", json_true());
    json_object_set_new(o, "done_reason", json_string(done_reason(r)));
    json_object_set_new(o, "total_duration", json_integer((json_int_t)((end - job->t_start) * 1e9)));
    json_object_set_new(o, "load_duration", json_integer((json_int_t)((job->t_load - job->t_start) * 1e9)));
    json_object_set_new(o, "prompt_eval_count", json_integer(r->n_prompt));
    json_object_set_new(o, "prompt_eval_duration", json_integer((json_int_t)((r->t_gen_start - r->t_prompt_start) * 1e9)));
    json_object_set_new(o, "eval_count", json_integer(r->n_generated));
    json_object_set_new(o, "eval_duration", json_integer((json_int_t)((end - r->t_gen_start) * 1e9)));
}

/* The whole assistant message (non-streaming, or the last chunk when tools buffer output). */
static json_t *full_message(api_job *job, bool with_content, bool think)
{
    gen_request *r = job->reqs[0];
    json_t *msg = json_pack("{s:s}", "role", "assistant");
    const char *text = r->text ? r->text : "";
    ollama_fmt *f = job->fmt;
    char *calls = NULL, *content = NULL;
    if (f->tools && hearth_chat_parse_tool_calls(text, r->text_len, &calls, &content, NULL) == HEARTH_OK) {
        json_t *arr = json_loads(calls, 0, NULL), *out = json_array();
        size_t i;
        json_t *c;
        json_array_foreach(arr, i, c)
            json_array_append_new(out, json_pack("{s:{s:O,s:O}}", "function", "name", json_object_get(c, "name"),
                                                 "arguments", json_object_get(c, "arguments")));
        if (json_array_size(out)) json_object_set_new(msg, "tool_calls", out);
        else json_decref(out);
        json_decref(arr);
        text = content ? content : text;
    }
    if (with_content && think) split_thinking(text, msg);
    else if (with_content) json_object_set_new(msg, "content", api_text(text, strlen(text)));
    else json_object_set_new(msg, "content", json_string(""));
    free(calls);
    free(content);
    return msg;
}

static void push_piece(api_job *job, const char *text, size_t len, bool thinking)
{
    ollama_fmt *f = job->fmt;
    if (!len) return;
    json_t *o = head(job), *t = api_text(text, len);
    if (f->chat) {
        json_t *msg = json_pack("{s:s,s:s}", "role", "assistant", "content", "");
        json_object_set_new(msg, thinking ? "thinking" : "content", t);
        json_object_set_new(o, "message", msg);
    } else {
        json_object_set_new(o, "response", thinking ? json_string("") : t);
        if (thinking) json_object_set_new(o, "thinking", t);
    }
    json_object_set_new(o, "done", json_false());
    http_stream_push_json_line(job->stream, o);
}

/* Streams a piece; with "think": true, the <think>…</think> block (Qwen3, DeepSeek-R1 style:
 * the tags are single tokens, so they arrive whole) streams as "thinking" instead. */
static void on_piece(api_job *job, int index, const char *text, size_t len, const hearth_sample *s)
{
    (void)index, (void)s;
    ollama_fmt *f = job->fmt;
    while (f->think && !f->think_over && len) {
        const char *tag = f->in_think ? "</think>" : "<think>";
        const char *at = memmem(text, len, tag, strlen(tag));
        if (!f->in_think && (!at || at != text)) { /* no thinking block at the start: all content */
            size_t lead = strspn(text, " \n");
            if (lead < len && (!at || (size_t)(at - text) != lead)) {
                f->think_over = true;
                break;
            }
            if (!at) return; /* only whitespace before a possible <think> */
        }
        size_t before = at ? (size_t)(at - text) : len;
        if (f->in_think) push_piece(job, text, before, true);
        if (!at) return;
        f->in_think = !f->in_think;
        if (!f->in_think) f->think_over = true;
        text = at + strlen(tag), len -= before + strlen(tag);
        f->trim = f->think_over; /* the answer starts after the blank line that ends thinking */
    }
    while (f->trim && len && *text == '\n') text++, len--;
    if (len) f->trim = false;
    push_piece(job, text, len, false);
}

static bool want_piece(api_job *job) { return !((ollama_fmt *)job->fmt)->tools; }

static void on_finish(api_job *job)
{
    ollama_fmt *f = job->fmt;
    gen_request *r = job->reqs[0];
    if (r->finish == GEN_ERROR) {
        http_stream_push_json_line(job->stream, json_pack("{s:s}", "error", r->error));
        return;
    }
    json_t *o = head(job);
    if (f->chat) json_object_set_new(o, "message", full_message(job, f->tools, f->think));
    else json_object_set_new(o, "response", json_string(""));
    add_stats(job, o);
    http_stream_push_json_line(job->stream, o);
}

static const api_field generate_fields[] = {
    {"model", F_STR}, {"prompt", F_STR}, {"suffix", F_STR}, {"system", F_STR}, {"template", F_STR},
    {"context", F_ARR}, {"messages", F_ARR}, {"tools", F_ARR}, {"stream", F_BOOL}, {"raw", F_BOOL},
    {"format", F_STR | F_OBJ}, {"images", F_ARR}, {"options", F_OBJ}, {"keep_alive", F_STR | F_NUM},
    {"think", F_BOOL | F_STR}, {NULL, 0}};

/* /api/generate and /api/chat. */
static void generate(server_state *s, const http_request *req, json_t *body, bool chat, http_response *res)
{
    if (!api_check_fields(body, generate_fields, false, res)) return;
    const char *name = json_string_value(json_object_get(body, "model"));
    if (!name) return http_reply_error(res, 400, "model is required");
    json_t *stream_v = json_object_get(body, "stream");
    bool stream = !stream_v || json_is_null(stream_v) || json_is_true(stream_v);
    hearth_error err = {0};
    double keep_alive;
    if (api_keep_alive(json_object_get(body, "keep_alive"), &keep_alive, &err))
        return http_reply_error(res, 400, "%s", err.message);
    int think = api_think(json_object_get(body, "think"));

    api_job *job = calloc(1, sizeof *job);
    ollama_fmt *f = calloc(1, sizeof *f);
    gen_request *r = calloc(1, sizeof *r);
    job->reqs = calloc(1, sizeof *job->reqs);
    if (!job || !f || !r || !job->reqs) {
        free(job ? job->reqs : NULL), free(job), free(f), free(r);
        return http_reply_error(res, 500, "out of memory");
    }
    job->fmt = f;
    job->n = 1;
    job->reqs[0] = r;
    job->keep_alive = keep_alive;
    job->t_start = hearth_time_sec();
    job->created = (int64_t)time(NULL);
    snprintf(job->model_name, sizeof job->model_name, "%s", name);
    f->chat = chat;
    f->think = think == 1;
    job->model = sched_acquire(s->sched, name, &err);
    job->t_load = hearth_time_sec();
    int status = 0;
    if (!job->model) status = api_status_for(err.status);
    const hearth_model *m = job->model ? sched_model_handle(job->model) : NULL;

    json_t *messages = chat ? json_object_get(body, "messages") : NULL;
    const char *prompt = chat ? NULL : json_string_value(json_object_get(body, "prompt"));
    bool empty = chat ? (!messages || (json_is_array(messages) && !json_array_size(messages))) : (!prompt || !*prompt);
    if (!status && empty) { /* Ollama's way to load (or with keep_alive 0, unload) a model */
        json_t *o = head(job);
        if (chat) json_object_set_new(o, "message", json_pack("{s:s,s:s}", "role", "assistant", "content", ""));
        else json_object_set_new(o, "response", json_string(""));
        json_object_set_new(o, "done", json_true());
        json_object_set_new(o, "done_reason", json_string(keep_alive == 0 ? "unload" : "load"));
        http_reply_json(res, 200, o);
        api_job_free(job);
        return;
    }
    if (!status) {
        r->sampling = hearth_sampler_default_params();
        r->sampling.seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)r;
        api_apply_model_params(name, r);
        hearth_status st = api_apply_options(json_object_get(body, "options"), r, &err);
        json_t *fmt = json_object_get(body, "format");
        if (!st && fmt && !json_is_null(fmt)) {
            if (json_is_string(fmt) && !strcmp(json_string_value(fmt), "json")) r->schema = strdup("");
            else if (json_is_object(fmt)) r->schema = json_dumps(fmt, JSON_COMPACT);
            else st = hearth_fail(&err, HEARTH_ERR_INVALID_ARG, "format: expected \"json\" or a JSON schema object");
        }
        json_t *tools = chat ? json_object_get(body, "tools") : NULL;
        f->tools = tools && json_array_size(tools) > 0;
        if (!st) {
            if (chat) {
                st = api_tokenize_chat(m, name, messages, tools, think, r, &err);
            } else if (json_is_true(json_object_get(body, "raw"))) {
                st = api_tokenize_text(m, prompt, false, r, &err);
            } else {
                json_t *msgs = json_array();
                const char *system = json_string_value(json_object_get(body, "system"));
                if (system) json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "system", "content", system));
                json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "user", "content", prompt));
                st = api_tokenize_chat(m, name, msgs, NULL, think, r, &err);
                json_decref(msgs);
            }
        }
        if (!st) st = api_compile_schema(m, r, &err);
        if (st) status = api_status_for(st);
    }
    if (!status) {
        job->on_piece = on_piece;
        job->on_finish = on_finish;
        job->want_piece = want_piece;
        api_job_outcome run = api_job_start(job, req, res, stream, "application/x-ndjson", &err);
        if (run == API_JOB_STREAMING) return; /* the job frees itself */
        if (run == API_JOB_FAILED) {
            status = api_status_for(err.status);
        } else if (r->finish == GEN_ERROR) {
            http_reply_error(res, 500, "%s", r->error);
        } else {
            json_t *o = head(job);
            if (chat) {
                json_object_set_new(o, "message", full_message(job, true, f->think));
            } else if (f->think) { /* generate: "thinking" beside "response" */
                json_t *msg = json_object();
                split_thinking(r->text ? r->text : "", msg);
                json_object_set(o, "response", json_object_get(msg, "content"));
                if (json_object_get(msg, "thinking")) json_object_set(o, "thinking", json_object_get(msg, "thinking"));
                json_decref(msg);
            } else {
                json_object_set_new(o, "response", api_text(r->text, r->text_len));
            }
            add_stats(job, o);
            http_reply_json(res, 200, o);
        }
    }
    if (status) http_reply_error(res, status, "%s", err.message);
    api_job_free(job);
}

/* ---- embeddings ------------------------------------------------------------------------------ */

static const api_field embed_fields[] = {
    {"model", F_STR}, {"input", F_STR | F_ARR}, {"prompt", F_STR}, {"truncate", F_BOOL}, {"options", F_OBJ},
    {"keep_alive", F_STR | F_NUM}, {"dimensions", F_INT}, {NULL, 0}};

static void embed(server_state *s, json_t *body, bool legacy, http_response *res)
{
    if (!api_check_fields(body, embed_fields, false, res)) return;
    const char *name = json_string_value(json_object_get(body, "model"));
    if (!name) return http_reply_error(res, 400, "model is required");
    json_t *input = json_object_get(body, legacy ? "prompt" : "input");
    json_t *list = json_is_string(input) ? json_pack("[O]", input) : json_incref(input);
    size_t n = json_array_size(list), i;
    json_t *v;
    bool ok = json_is_array(list) && (n > 0 || !legacy) && n <= 4096;
    json_array_foreach(list, i, v) ok = ok && json_is_string(v);
    if (!ok) {
        json_decref(list);
        return http_reply_error(res, 400, "%s: expected a string or an array of up to 4096 strings", legacy ? "prompt" : "input");
    }
    hearth_error err = {0};
    double keep_alive, t0 = hearth_time_sec();
    if (api_keep_alive(json_object_get(body, "keep_alive"), &keep_alive, &err)) {
        json_decref(list);
        return http_reply_error(res, 400, "%s", err.message);
    }
    sched_model *m = sched_acquire(s->sched, name, &err);
    if (!m) {
        json_decref(list);
        return http_reply_error(res, api_status_for(err.status), "%s", err.message);
    }
    double t_load = hearth_time_sec();
    const char **texts = calloc(n ? n : 1, sizeof *texts);
    json_array_foreach(list, i, v) texts[i] = json_string_value(v);
    float *vec = NULL;
    int32_t dim = 0, n_tok = 0;
    hearth_status st = n ? sched_embed(m, texts, (int32_t)n, &vec, &dim, &n_tok, &err) : HEARTH_OK;
    if (st) {
        http_reply_error(res, api_status_for(st), "%s", err.message);
    } else {
        json_t *all = json_array();
        for (size_t k = 0; k < n; k++) {
            json_t *e = json_array();
            for (int32_t d = 0; d < dim; d++) json_array_append_new(e, json_real(vec[k * (size_t)dim + (size_t)d]));
            json_array_append_new(all, e);
        }
        if (legacy) {
            json_t *first = json_incref(json_array_get(all, 0));
            json_decref(all);
            http_reply_json(res, 200, json_pack("{s:o}", "embedding", first));
        } else {
            double t1 = hearth_time_sec();
            http_reply_json(res, 200, json_pack("{s:s,s:o,s:I,s:I,s:i}", "model", name, "embeddings", all,
                                                "total_duration", (json_int_t)((t1 - t0) * 1e9),
                                                "load_duration", (json_int_t)((t_load - t0) * 1e9), "prompt_eval_count", n_tok));
        }
    }
    free(vec);
    free(texts);
    json_decref(list);
    sched_release(m, keep_alive);
}

/* ---- models ------------------------------------------------------------------------------------ */

static json_t *details_of(const char *path)
{
    hearth_model_params mp = hearth_model_default_params();
    mp.vocab_only = true;
    hearth_model *m = hearth_model_load(path, &mp, NULL);
    json_t *d = json_pack("{s:s,s:s,s:[],s:s,s:s}", "parent_model", "", "format", "gguf", "families",
                          "family", "", "parameter_size", "");
    if (!m) return d;
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    char size[32];
    if (info.n_params >= 1000000000ull) snprintf(size, sizeof size, "%.1fB", info.n_params / 1e9);
    else snprintf(size, sizeof size, "%.0fM", info.n_params / 1e6);
    json_object_set_new(d, "family", json_string(info.arch));
    json_array_append_new(json_object_get(d, "families"), json_string(info.arch));
    json_object_set_new(d, "parameter_size", json_string(size));
    json_object_set_new(d, "quantization_level", json_string(info.file_type));
    hearth_model_free(m);
    return d;
}

static void tags(http_response *res)
{
    hearth_store_entry *v;
    int32_t n;
    hearth_error err;
    if (hearth_store_list(&v, &n, &err)) return http_reply_error(res, 500, "%s", err.message);
    json_t *models = json_array();
    for (int32_t i = 0; i < n; i++) {
        char t[64];
        struct tm tm;
        time_t mt = (time_t)v[i].modified;
        gmtime_r(&mt, &tm);
        strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_array_append_new(models, json_pack("{s:s,s:s,s:s,s:I,s:s,s:o}", "name", v[i].name, "model", v[i].name,
                                                "modified_at", t, "size", (json_int_t)v[i].size, "digest", v[i].digest + 7,
                                                "details", details_of(v[i].model_path)));
    }
    free(v);
    http_reply_json(res, 200, json_pack("{s:o}", "models", models));
}

static const api_field name_fields[] = {
    {"model", F_STR}, {"name", F_STR}, {"verbose", F_BOOL}, {"stream", F_BOOL}, {"insecure", F_BOOL},
    {"source", F_STR}, {"destination", F_STR}, {NULL, 0}};

/* A stored model's GGUF: names only, never a path (clients must not reach other files). */
static hearth_status resolve_name(const char *name, char *path, size_t size, hearth_error *err)
{
    store_name n;
    hearth_status st = store_name_parse(name, &n, err);
    return st ? st : store_resolve_name(&n, path, size, err);
}

static void show(json_t *body, http_response *res)
{
    const char *name = json_string_value(json_object_get(body, "model"));
    if (!name) name = json_string_value(json_object_get(body, "name"));
    if (!name) return http_reply_error(res, 400, "model is required");
    char path[4096];
    hearth_error err = {0};
    if (resolve_name(name, path, sizeof path, &err)) return http_reply_error(res, api_status_for(err.status), "%s", err.message);
    hearth_model_params mp = hearth_model_default_params();
    mp.vocab_only = true;
    hearth_model *m = hearth_model_load(path, &mp, &err);
    if (!m) return http_reply_error(res, 500, "%s", err.message);
    hearth_model_info info;
    hearth_model_get_info(m, &info);
    json_t *mi = json_object();
    for (int32_t i = 0; i < hearth_model_meta_count(m); i++) {
        const char *key = hearth_model_meta_key(m, i);
        if (!strncmp(key, "tokenizer.ggml.", 15) && strcmp(key, "tokenizer.ggml.model") && strcmp(key, "tokenizer.ggml.pre"))
            continue; /* vocabularies are huge; Ollama leaves them out unless verbose */
        char buf[512];
        int32_t len = hearth_model_meta(m, key, buf, sizeof buf);
        if (len < 0) continue;
        char *end;
        double d = strtod(buf, &end);
        json_object_set_new(mi, key, *buf && !*end ? json_real(d) : api_text(buf, strlen(buf)));
    }
    json_t *caps = json_array();
    json_array_append_new(caps, json_string(strcmp(info.arch, "bert") ? "completion" : "embedding"));
    if (info.chat_template && strstr(info.chat_template, "tools")) json_array_append_new(caps, json_string("tools"));
    char *params = NULL, *tmpl = NULL, *system = NULL, *license = NULL;
    hearth_store_layer(name, "params", &params, NULL);
    hearth_store_layer(name, "template", &tmpl, NULL);
    hearth_store_layer(name, "system", &system, NULL);
    hearth_store_layer(name, "license", &license, NULL);
    const char *t = tmpl ? tmpl : info.chat_template ? info.chat_template : "";
    json_t *o = json_pack("{s:o,s:s,s:o,s:o,s:o,s:o}", "license", api_text(license, license ? strlen(license) : 0), "modelfile", "",
                          "template", api_text(t, strlen(t)),
                          "details", details_of(path), "model_info", mi, "capabilities", caps);
    if (system) json_object_set_new(o, "system", api_text(system, strlen(system)));
    if (params) { /* Ollama prints parameters as "key value" lines */
        json_t *p = json_loads(params, 0, NULL);
        char lines[4096] = "";
        const char *k;
        json_t *v;
        json_object_foreach(p, k, v) {
            char *val = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
            size_t used = strlen(lines);
            snprintf(lines + used, sizeof lines - used, "%s%-30s %s", used ? "\n" : "", k, val ? val : "");
            free(val);
        }
        json_object_set_new(o, "parameters", api_text(lines, strlen(lines)));
        json_decref(p);
    }
    free(params), free(tmpl), free(system), free(license);
    hearth_model_free(m);
    http_reply_json(res, 200, o);
}

typedef struct pull_stream {
    http_stream *st;
    bool cancel;
} pull_stream;

static void pull_progress(const char *status, const char *digest, uint64_t done, uint64_t total, void *user)
{
    pull_stream *ps = user;
    json_t *o = json_pack("{s:s}", "status", digest && !strcmp(status, "pulling") ? "pulling" : status);
    if (digest && !strcmp(status, "pulling")) {
        char s[120];
        snprintf(s, sizeof s, "pulling %s", digest + 7);
        json_object_set_new(o, "status", json_string(s));
        json_object_set_new(o, "digest", json_string(digest));
        json_object_set_new(o, "total", json_integer((json_int_t)total));
        json_object_set_new(o, "completed", json_integer((json_int_t)done));
    }
    if (ps->st && !http_stream_push_json_line(ps->st, o)) ps->cancel = true;
    if (!ps->st) json_decref(o);
}

typedef struct pull_job {
    char name[512];
    pull_stream ps;
} pull_job;

static void *pull_thread(void *arg)
{
    pull_job *pj = arg;
    hearth_error err = {0};
    if (hearth_store_pull(pj->name, pull_progress, &pj->ps, &pj->ps.cancel, &err))
        http_stream_push_json_line(pj->ps.st, json_pack("{s:s}", "error", err.message));
    http_stream_close(pj->ps.st);
    free(pj);
    return NULL;
}

static void pull(json_t *body, http_response *res)
{
    const char *name = json_string_value(json_object_get(body, "model"));
    if (!name) name = json_string_value(json_object_get(body, "name"));
    if (!name) return http_reply_error(res, 400, "model is required");
    json_t *sv = json_object_get(body, "stream");
    hearth_error err = {0};
    if (sv && !json_is_true(sv)) {
        pull_stream ps = {0};
        if (hearth_store_pull(name, pull_progress, &ps, &ps.cancel, &err))
            return http_reply_error(res, api_status_for(err.status), "%s", err.message);
        return http_reply_json(res, 200, json_pack("{s:s}", "status", "success"));
    }
    pull_job *pj = calloc(1, sizeof *pj);
    if (!pj) return http_reply_error(res, 500, "out of memory");
    snprintf(pj->name, sizeof pj->name, "%s", name);
    pj->ps.st = http_stream_new("application/x-ndjson");
    http_stream_attach(res, pj->ps.st);
    pthread_t t;
    if (pthread_create(&t, NULL, pull_thread, pj) != 0) {
        http_stream_detach(res);
        http_stream_close(pj->ps.st);
        free(pj);
        return http_reply_error(res, 500, "cannot start a thread");
    }
    pthread_detach(t);
}

static void ps(server_state *s, http_response *res)
{
    sched_status st[64];
    int n = sched_list(s->sched, st, 64);
    json_t *models = json_array();
    for (int i = 0; i < n; i++) {
        char t[64];
        time_t exp = time(NULL) + (time_t)(st[i].expires_in < 0 ? 365 * 86400.0 * 100 : st[i].expires_in);
        struct tm tm;
        gmtime_r(&exp, &tm);
        strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_array_append_new(models, json_pack("{s:s,s:s,s:I,s:s,s:I}", "name", st[i].name, "model", st[i].name,
                                                "size", (json_int_t)st[i].size, "expires_at", t, "size_vram", (json_int_t)0));
    }
    http_reply_json(res, 200, json_pack("{s:o}", "models", models));
}

bool api_ollama_route(server_state *s, const http_request *req, http_response *res)
{
    const char *p = req->path, *m = req->method;
    bool post = !strcmp(m, "POST");
    if (!strcmp(p, "/api/version")) {
        http_reply_json(res, 200, json_pack("{s:s}", "version", hearth_version()));
        return true;
    }
    if (!strcmp(p, "/api/tags") && (!strcmp(m, "GET") || !strcmp(m, "HEAD"))) return tags(res), true;
    if (!strcmp(p, "/api/ps") && !strcmp(m, "GET")) return ps(s, res), true;
    static const char *const posts[] = {"/api/generate", "/api/chat", "/api/embed", "/api/embeddings", "/api/show",
                                        "/api/pull", "/api/copy", "/api/create"};
    bool known_post = false;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(posts); i++) known_post |= !strcmp(p, posts[i]);
    bool is_delete = !strcmp(p, "/api/delete");
    if (!known_post && !is_delete) return false;
    if ((known_post && !post) || (is_delete && strcmp(m, "DELETE"))) {
        http_reply_error(res, 405, "method %s not allowed on %s", m, p);
        return true;
    }
    json_t *body = api_parse_body(req, res, false);
    if (!body) return true;
    hearth_error err = {0};
    if (!known_post || !strcmp(p, "/api/show") || !strcmp(p, "/api/pull") || !strcmp(p, "/api/copy")) {
        if (!api_check_fields(body, name_fields, false, res)) {
            json_decref(body);
            return true;
        }
    }
    if (!strcmp(p, "/api/generate")) generate(s, req, body, false, res);
    else if (!strcmp(p, "/api/chat")) generate(s, req, body, true, res);
    else if (!strcmp(p, "/api/embed")) embed(s, body, false, res);
    else if (!strcmp(p, "/api/embeddings")) embed(s, body, true, res);
    else if (!strcmp(p, "/api/show")) show(body, res);
    else if (!strcmp(p, "/api/pull")) pull(body, res);
    else if (!strcmp(p, "/api/create")) http_reply_error(res, 501, "use `hearth create NAME -f Modelfile` on the server's machine");
    else if (!strcmp(p, "/api/copy")) {
        const char *src = json_string_value(json_object_get(body, "source"));
        const char *dst = json_string_value(json_object_get(body, "destination"));
        if (!src || !dst) http_reply_error(res, 400, "source and destination are required");
        else if (hearth_store_copy(src, dst, &err)) http_reply_error(res, api_status_for(err.status), "%s", err.message);
        else http_reply_json(res, 200, NULL);
    } else { /* delete */
        const char *name = json_string_value(json_object_get(body, "model"));
        if (!name) name = json_string_value(json_object_get(body, "name"));
        if (!name) http_reply_error(res, 400, "model is required");
        else if (sched_unload(s->sched, name), hearth_store_remove(name, &err))
            http_reply_error(res, api_status_for(err.status), "%s", err.status == HEARTH_ERR_NOT_FOUND ? "model not found" : err.message);
        else http_reply_json(res, 200, NULL);
    }
    json_decref(body);
    return true;
}
