/* api.c — generation jobs, option parsing and prompts shared by the Ollama and OpenAI APIs. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/api.h"

/* ---- jobs ---------------------------------------------------------------------------------- */

static int req_index(api_job *job, gen_request *r)
{
    for (int i = 0; i < job->n; i++)
        if (job->reqs[i] == r) return i;
    return 0;
}

static bool req_cancelled(gen_request *r)
{
    api_job *job = r->user;
    return job->stream && http_stream_cancelled(job->stream);
}

static void req_piece(gen_request *r, const char *text, size_t len, const hearth_sample *s)
{
    api_job *job = r->user;
    if (job->stream && job->on_piece && (!job->want_piece || job->want_piece(job)))
        job->on_piece(job, req_index(job, r), text, len, s);
}

static bool complete(const api_job *job) { return job->all_submitted && job->n_done == job->n_submitted; }

static void finish_stream(api_job *job)
{
    if (job->on_finish && !http_stream_cancelled(job->stream)) job->on_finish(job);
    http_stream_close(job->stream);
    job->stream = NULL;
    api_job_free(job);
}

static void req_done(gen_request *r)
{
    api_job *job = r->user;
    pthread_mutex_lock(&job->mu);
    job->n_done++;
    bool last = complete(job);
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
    if (last && job->stream) finish_stream(job);
}

bool api_job_run(api_job *job, hearth_error *err)
{
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    for (int i = 0; i < job->n; i++) {
        gen_request *r = job->reqs[i];
        r->user = job;
        r->on_done = req_done;
        r->on_piece = req_piece;
        r->cancelled = req_cancelled;
        if (sched_submit(job->model, r, err) != HEARTH_OK) break;
        pthread_mutex_lock(&job->mu);
        job->n_submitted++;
        pthread_mutex_unlock(&job->mu);
    }
    if (job->n_submitted == 0) return false;
    pthread_mutex_lock(&job->mu);
    job->all_submitted = true;
    bool last = complete(job);
    pthread_mutex_unlock(&job->mu);
    if (last && job->stream) finish_stream(job);
    return true;
}

void api_job_wait(api_job *job)
{
    pthread_mutex_lock(&job->mu);
    while (!complete(job)) pthread_cond_wait(&job->cv, &job->mu);
    pthread_mutex_unlock(&job->mu);
}

void api_job_free(api_job *job)
{
    if (!job) return;
    for (int i = 0; i < job->n; i++) gen_request_free(job->reqs[i]);
    free(job->reqs);
    if (job->model) sched_release(job->model, job->keep_alive);
    free(job->fmt);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    free(job);
}

/* ---- options ------------------------------------------------------------------------------- */

static hearth_status num(json_t *o, const char *key, double lo, double hi, double *out, bool *set,
                         hearth_error *err)
{
    json_t *v = json_object_get(o, key);
    *set = false;
    if (!v || json_is_null(v)) return HEARTH_OK;
    if (!json_is_number(v)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: expected a number", key);
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: %g is outside %g..%g", key, d, lo, hi);
    *out = d;
    *set = true;
    return HEARTH_OK;
}

hearth_status api_set_stop(json_t *stop, gen_request *r, hearth_error *err)
{
    if (!stop || json_is_null(stop)) return HEARTH_OK;
    json_t *one = json_is_string(stop) ? json_pack("[O]", stop) : json_incref(stop);
    if (!json_is_array(one)) {
        json_decref(one);
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "stop: expected a string or an array of strings");
    }
    size_t n = json_array_size(one), i;
    json_t *v;
    if (n > 16) {
        json_decref(one);
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "stop: at most 16 stop strings");
    }
    for (int k = 0; k < r->n_stop; k++) free(r->stop[k]);
    free(r->stop);
    r->stop = calloc(n ? n : 1, sizeof *r->stop);
    r->n_stop = 0;
    json_array_foreach(one, i, v) {
        if (!json_is_string(v) || !json_string_length(v)) {
            json_decref(one);
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "stop[%zu]: expected a non-empty string", i);
        }
        r->stop[r->n_stop++] = strdup(json_string_value(v));
    }
    json_decref(one);
    return HEARTH_OK;
}

hearth_status api_apply_options(json_t *o, gen_request *r, hearth_error *err)
{
    if (!o || json_is_null(o)) return HEARTH_OK;
    if (!json_is_object(o)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "options: expected an object");
    hearth_sampler_params *p = &r->sampling;
    double d;
    bool set;
    hearth_status st;
#define OPT(key, lo, hi, assign) \
    if ((st = num(o, key, lo, hi, &d, &set, err))) return st; \
    if (set) assign;
    OPT("temperature", 0, 100, p->temperature = (float)d)
    OPT("top_k", 0, 1e9, p->top_k = (int32_t)d)
    OPT("top_p", 0, 1, p->top_p = (float)d)
    OPT("min_p", 0, 1, p->min_p = (float)d)
    OPT("typical_p", 0, 1, p->typical_p = (float)d)
    OPT("repeat_penalty", 0, 100, p->repeat_penalty = (float)d)
    OPT("presence_penalty", -100, 100, p->presence_penalty = (float)d)
    OPT("frequency_penalty", -100, 100, p->frequency_penalty = (float)d)
    OPT("repeat_last_n", -1, 1e6, p->penalty_last_n = (int32_t)d)
    OPT("seed", -1e18, 1e19, p->seed = (uint64_t)(int64_t)d)
    OPT("num_predict", -2, 1e9, r->max_tokens = (int32_t)d)
#undef OPT
    return api_set_stop(json_object_get(o, "stop"), r, err);
}

hearth_status api_keep_alive(json_t *v, double *out, hearth_error *err)
{
    *out = -2;
    if (!v || json_is_null(v)) return HEARTH_OK;
    if (json_is_number(v)) {
        *out = json_number_value(v) < 0 ? -1 : json_number_value(v);
        return HEARTH_OK;
    }
    if (!json_is_string(v)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "keep_alive: expected a number of seconds or a duration like \"5m\"");
    const char *s = json_string_value(v);
    bool neg = *s == '-';
    if (neg) s++;
    double total = 0;
    if (!*s) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "keep_alive: empty duration");
    while (*s) { /* Go durations: 1h30m, 10s, 500ms, or a bare number of seconds */
        char *end;
        double x = strtod(s, &end);
        if (end == s) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "keep_alive: cannot read duration \"%s\"", json_string_value(v));
        s = end;
        double unit = 1;
        if (!strncmp(s, "ms", 2)) unit = 1e-3, s += 2;
        else if (*s == 'h') unit = 3600, s++;
        else if (*s == 'm') unit = 60, s++;
        else if (*s == 's') s++;
        else if (*s) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "keep_alive: unknown unit in \"%s\"", json_string_value(v));
        total += x * unit;
    }
    *out = neg ? -1 : total;
    return HEARTH_OK;
}

void api_apply_model_params(const char *name, gen_request *r)
{
    char *text = NULL;
    if (hearth_store_layer(name, "params", &text, NULL) != HEARTH_OK || !text) return;
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    hearth_error err;
    if (o && api_apply_options(o, r, &err) != HEARTH_OK)
        hearth_warn("model %s: ignoring its stored parameters: %s", name, err.message);
    json_decref(o);
}

/* ---- prompts ------------------------------------------------------------------------------- */

hearth_status api_tokenize_text(const hearth_model *m, const char *text, bool add_special,
                                gen_request *r, hearth_error *err)
{
    int32_t len = (int32_t)HEARTH_MIN(strlen(text), (size_t)INT32_MAX);
    int32_t n = hearth_tokenize(m, text, len, NULL, 0, add_special, true);
    if (n < 0) n = -n;
    r->prompt = malloc(sizeof *r->prompt * (size_t)(n + 1));
    if (!r->prompt) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    r->n_prompt = hearth_tokenize(m, text, len, r->prompt, n + 1, add_special, true);
    /* A template that writes the BOS text itself plus a vocabulary that adds BOS would give
     * two; the model saw one in training. */
    hearth_token bos = hearth_token_bos(m);
    if (r->n_prompt >= 2 && bos != HEARTH_TOKEN_NULL && r->prompt[0] == bos && r->prompt[1] == bos) {
        memmove(r->prompt, r->prompt + 1, sizeof *r->prompt * (size_t)(r->n_prompt - 1));
        r->n_prompt--;
    }
    if (r->n_prompt < 0) return hearth_fail(err, HEARTH_ERR_INTERNAL, "tokenizer disagreed with itself about the prompt length");
    return HEARTH_OK;
}

hearth_status api_tokenize_chat(const hearth_model *m, json_t *messages, json_t *tools, int think,
                                gen_request *r, hearth_error *err)
{
    if (!json_is_array(messages)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "messages: expected an array");
    if (tools && !json_is_null(tools) && !json_is_array(tools))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "tools: expected an array");
    char *mj = json_dumps(messages, JSON_COMPACT), *tj = tools && json_array_size(tools) ? json_dumps(tools, JSON_COMPACT) : NULL;
    hearth_chat_options opt = hearth_chat_default_options();
    opt.add_generation_prompt = true;
    opt.enable_thinking = think;
    opt.tools_json = tj;
    char *prompt = NULL;
    hearth_status st = mj ? hearth_chat_render(m, mj, &opt, &prompt, err) : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    free(mj);
    free(tj);
    if (!st) st = api_tokenize_text(m, prompt, true, r, err);
    free(prompt);
    return st;
}

/* ---- small things ---------------------------------------------------------------------------- */

void api_time_rfc3339(char *buf, size_t size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
}

void api_openai_error(http_response *res, int status, const char *type, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_reply_json(res, status, json_pack("{s:{s:s,s:s,s:n,s:n}}", "error", "message", msg, "type", type, "param", "code"));
}

json_t *api_parse_body(const http_request *req, http_response *res, bool openai)
{
    json_error_t je;
    json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
    const char *why = !o ? je.text : !json_is_object(o) ? "expected a JSON object" : NULL;
    if (!why) return o;
    json_decref(o);
    if (openai) api_openai_error(res, 400, "invalid_request_error", "invalid JSON body: %s", why);
    else http_reply_error(res, 400, "invalid JSON body: %s", why);
    return NULL;
}

int api_status_for(hearth_status st)
{
    switch (st) {
    case HEARTH_ERR_NOT_FOUND: return 404;
    case HEARTH_ERR_INVALID_ARG:
    case HEARTH_ERR_FORMAT:
    case HEARTH_ERR_UNSUPPORTED:
    case HEARTH_ERR_CONTEXT_FULL: return 400;
    case HEARTH_ERR_CANCELLED: return 503;
    default: return 500;
    }
}
