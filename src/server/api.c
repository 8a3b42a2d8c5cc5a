/* api.c — generation jobs, option parsing and prompts shared by the Ollama and OpenAI APIs. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

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
    return atomic_load(&job->client_gone) || (job->stream && http_stream_cancelled(job->stream));
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
    /* Read before unlocking: a non-streaming job is freed by its waiting handler the moment
     * the lock is released. */
    bool streaming = job->stream != NULL;
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
    if (last && streaming) finish_stream(job);
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

/* True when the peer closed its end: recv() sees EOF (or a reset) without consuming anything.
 * Safe on the handler's thread: MHD keeps the socket open until the handler returns. */
static bool peer_closed(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static bool job_stream(api_job *job, http_response *res, const char *content_type, hearth_error *err)
{
    if (!(job->stream = http_stream_new(content_type))) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        return false;
    }
    http_stream_attach(res, job->stream);
    if (api_job_run(job, err)) return true;
    http_stream_detach(res);
    http_stream_close(job->stream);
    job->stream = NULL;
    return false;
}

api_job_outcome api_job_start(api_job *job, const http_request *req, http_response *res, bool stream,
                              const char *content_type, hearth_error *err)
{
    if (stream) return job_stream(job, res, content_type, err) ? API_JOB_STREAMING : API_JOB_FAILED;
    if (!api_job_run(job, err)) return API_JOB_FAILED;
    api_job_wait(job, req);
    return API_JOB_DONE;
}

void api_job_wait(api_job *job, const http_request *req)
{
    const union MHD_ConnectionInfo *ci =
        req && req->conn ? MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
    int fd = ci ? ci->connect_fd : -1;
    pthread_mutex_lock(&job->mu);
    while (!complete(job)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000000L; /* look at the socket ten times a second */
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&job->cv, &job->mu, &ts);
        if (fd >= 0 && !atomic_load(&job->client_gone) && peer_closed(fd)) atomic_store(&job->client_gone, true);
    }
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

/* ---- request checks ------------------------------------------------------------------------- */

static const char *type_names(unsigned types, char *buf, size_t size)
{
    static const char *const names[] = {"a string", "a number", "an integer", "a boolean", "an object", "an array"};
    buf[0] = '\0';
    for (int i = 0; i < 6; i++) {
        if (!(types & (1u << i)) || (i == 1 && (types & F_INT) && !(types & F_NUM))) continue;
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s", used ? " or " : "", names[i]);
    }
    return buf;
}

bool api_check_fields(json_t *body, const api_field *fields, bool openai, http_response *res)
{
    for (const api_field *f = fields; f->key; f++) {
        json_t *v = json_object_get(body, f->key);
        if (!v || json_is_null(v)) continue;
        bool ok = ((f->types & F_STR) && json_is_string(v)) || ((f->types & F_NUM) && json_is_number(v)) ||
                  ((f->types & F_INT) && json_is_integer(v)) || ((f->types & F_BOOL) && json_is_boolean(v)) ||
                  ((f->types & F_OBJ) && json_is_object(v)) || ((f->types & F_ARR) && json_is_array(v));
        if (ok) continue;
        char want[96];
        type_names(f->types, want, sizeof want);
        if (openai) api_openai_error(res, 400, "invalid_request_error", "%s: expected %s", f->key, want);
        else http_reply_error(res, 400, "%s: expected %s", f->key, want);
        return false;
    }
    return true;
}

/* OpenAI lets content be an array of parts; only text parts mean anything to a text model. */
static hearth_status flatten_content(json_t *msg, size_t i, hearth_error *err)
{
    json_t *c = json_object_get(msg, "content");
    if (!c || json_is_null(c) || json_is_string(c)) return HEARTH_OK;
    if (!json_is_array(c))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "messages[%zu].content: expected a string or an array of parts", i);
    size_t k;
    json_t *part;
    char *text = strdup("");
    json_array_foreach(c, k, part) {
        const char *t = json_string_value(json_object_get(part, "text"));
        if (!json_is_object(part) || !t) {
            free(text);
            return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "messages[%zu].content[%zu]: only {\"type\":\"text\",\"text\":...} parts are supported", i, k);
        }
        char *joined = NULL;
        if (text && asprintf(&joined, "%s%s", text, t) < 0) joined = NULL;
        free(text);
        text = joined;
    }
    if (!text) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    json_object_set_new(msg, "content", json_string(text));
    free(text);
    return HEARTH_OK;
}

/* OpenAI sends tool-call arguments as a JSON string; chat templates want the object. */
static void parse_call_arguments(json_t *msg)
{
    size_t k;
    json_t *call;
    json_array_foreach(json_object_get(msg, "tool_calls"), k, call) {
        json_t *fn = json_object_get(call, "function");
        const char *args = json_string_value(json_object_get(fn, "arguments"));
        json_t *obj = args ? json_loads(args, JSON_DECODE_ANY, NULL) : NULL;
        if (obj) json_object_set_new(fn, "arguments", obj);
    }
}

hearth_status api_prepare_messages(const char *name, json_t *messages, json_t **out, hearth_error *err)
{
    *out = NULL;
    if (!json_is_array(messages)) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "messages: expected an array");
    json_t *copy = json_deep_copy(messages);
    if (!copy) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    bool has_system = false;
    size_t i;
    json_t *msg;
    json_array_foreach(copy, i, msg) {
        const char *role = json_string_value(json_object_get(msg, "role"));
        hearth_status st = HEARTH_OK;
        if (!json_is_object(msg)) st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "messages[%zu]: expected an object", i);
        else if (!role) st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "messages[%zu].role: expected a string", i);
        else if (json_object_get(msg, "tool_calls") && !json_is_array(json_object_get(msg, "tool_calls")) &&
                 !json_is_null(json_object_get(msg, "tool_calls")))
            st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "messages[%zu].tool_calls: expected an array", i);
        else st = flatten_content(msg, i, err);
        if (st) {
            json_decref(copy);
            return st;
        }
        if (!strcmp(role, "developer")) json_object_set_new(msg, "role", json_string("system")); /* OpenAI's new name */
        has_system |= !strcmp(role, "system") || !strcmp(role, "developer");
        parse_call_arguments(msg);
    }
    /* A stored model's SYSTEM applies when the conversation brings none, as in Ollama. */
    char *system = NULL;
    if (!has_system && name && hearth_store_layer(name, "system", &system, NULL) == HEARTH_OK && system)
        json_array_insert_new(copy, 0, json_pack("{s:s,s:s}", "role", "system", "content", system));
    free(system);
    *out = copy;
    return HEARTH_OK;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    if (p[0] < 0x80) return 1;
    size_t len = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? (p[0] < 0xF0 ? 3 : 0) : p[0] >= 0xC2 ? 2 : 0;
    if (!len || len > n) return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (len == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0))) return 0; /* overlong, surrogate */
    if (len == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))) return 0;
    return len;
}

json_t *api_text(const char *text, size_t n)
{
    if (!text) return json_string("");
    json_t *j = json_stringn(text, n);
    if (j) return j;
    /* A sampled token can end (or a random model can emit) bytes that are not UTF-8; JSON
     * cannot carry them, so each bad byte becomes U+FFFD, as other servers do. */
    char *out = malloc(n * 3 + 1);
    if (!out) return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq((const unsigned char *)text + i, n - i);
        if (k && !(k == 1 && text[i] == '\0')) {
            memcpy(out + o, text + i, k);
            o += k;
            i += k;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    j = json_stringn(out, o);
    free(out);
    return j ? j : json_string("");
}

int api_think(json_t *v)
{
    if (!v || json_is_null(v)) return -1;
    if (json_is_string(v)) return 1; /* "high" / "medium" / "low": thinking on */
    return json_is_true(v);
}

char *api_base64_floats(const float *v, size_t n)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t bytes = n * sizeof *v;
    char *out = malloc((bytes + 2) / 3 * 4 + 1), *o = out;
    if (!out) return NULL;
    const unsigned char *p = (const unsigned char *)v; /* x86-64 is little-endian, as the format wants */
    for (size_t i = 0; i < bytes; i += 3) {
        unsigned x = (unsigned)p[i] << 16 | (i + 1 < bytes ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < bytes ? p[i + 2] : 0);
        *o++ = digits[x >> 18 & 63];
        *o++ = digits[x >> 12 & 63];
        *o++ = i + 1 < bytes ? digits[x >> 6 & 63] : '=';
        *o++ = i + 2 < bytes ? digits[x & 63] : '=';
    }
    *o = '\0';
    return out;
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

/* A stored TEMPLATE replaces the GGUF's chat template when it is Jinja; Ollama's registry
 * templates are Go templates ("{{ .Prompt }}"), which hearth does not run: the GGUF's own Jinja
 * template (which the same models carry) is used for them. */
static char *stored_jinja_template(const char *name)
{
    char *t = NULL;
    if (!name || hearth_store_layer(name, "template", &t, NULL) != HEARTH_OK || !t) return NULL;
    if (strstr(t, "{{ .") || strstr(t, "{{.") || strstr(t, "{{- .")) {
        hearth_debug("model %s: its TEMPLATE is a Go template; using the GGUF chat template", name);
        free(t);
        return NULL;
    }
    return t;
}

hearth_status api_tokenize_chat(const hearth_model *m, const char *name, json_t *messages, json_t *tools,
                                int think, gen_request *r, hearth_error *err)
{
    if (tools && !json_is_null(tools) && !json_is_array(tools))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "tools: expected an array");
    json_t *msgs;
    hearth_status st = api_prepare_messages(name, messages, &msgs, err);
    if (st) return st;
    char *mj = json_dumps(msgs, JSON_COMPACT), *tj = tools && json_array_size(tools) ? json_dumps(tools, JSON_COMPACT) : NULL;
    json_decref(msgs);
    char *tmpl = stored_jinja_template(name);
    hearth_chat_options opt = hearth_chat_default_options();
    opt.add_generation_prompt = true;
    opt.enable_thinking = think;
    opt.tools_json = tj;
    opt.template_text = tmpl;
    char *prompt = NULL;
    st = mj ? hearth_chat_render(m, mj, &opt, &prompt, err) : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    free(mj);
    free(tj);
    free(tmpl);
    if (!st) st = api_tokenize_text(m, prompt, true, r, err);
    free(prompt);
    return st;
}

hearth_status api_compile_schema(const hearth_model *m, gen_request *r, hearth_error *err)
{
    if (!r->schema || r->grammar) return HEARTH_OK;
    if ((r->grammar = hearth_grammar_new_json_schema(m, r->schema, err))) return HEARTH_OK;
    return err && err->status ? hearth_fail_wrap(err, "format") : hearth_fail(err, HEARTH_ERR_INVALID_ARG, "format: invalid JSON schema");
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
