/*
 * backend.c — the model backend interface and the scripted backend.
 *
 * The scripted backend makes every branch of the run loop testable without a model: it
 * answers from a JSON script, in order, per role:
 *
 *   {"responses": [
 *      {"role": "planner",  "samples": [{"text": "{\"final\": true}", "confidence": 0.95}]},
 *      {"role": "answerer", "samples": [{"text": "42 [1]", "confidence": 0.9}, ...]},
 *      {"role": "answerer", "error": "model crashed"}
 *   ]}
 *
 * Each generate call consumes the first unconsumed entry whose role matches (an entry without
 * "role" matches any). When more samples are asked for than an entry has, they repeat
 * cyclically. An exhausted script is an error, so a test notices an unexpected extra call.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "base/base.h"

typedef struct scripted {
    json_t *responses;
    bool *used;
    size_t n;
    int calls;
} scripted;

void agent_gen_result_clear(agent_gen_result *r)
{
    for (int i = 0; i < r->n; i++) free(r->samples[i].text);
    free(r->samples);
    memset(r, 0, sizeof *r);
}

static int count_words(const char *s)
{
    int n = 0;
    for (bool in = false; *s; s++) {
        bool sp = *s == ' ' || *s == '\n' || *s == '\t';
        if (!sp && !in) n++;
        in = !sp;
    }
    return n;
}

static hearth_status scripted_generate(void *ctx, const agent_gen_request *req, agent_gen_result *out,
                                       hearth_error *err)
{
    scripted *s = ctx;
    memset(out, 0, sizeof *out);
    s->calls++;
    for (size_t i = 0; i < s->n; i++) {
        json_t *e = json_array_get(s->responses, i);
        const char *role = json_string_value(json_object_get(e, "role"));
        if (s->used[i] || (role && strcmp(role, req->role))) continue;
        s->used[i] = true;
        const char *fail = json_string_value(json_object_get(e, "error"));
        if (fail) return hearth_fail(err, HEARTH_ERR_INTERNAL, "scripted %s: %s", req->role, fail);
        json_t *samples = json_object_get(e, "samples");
        size_t ns = json_array_size(samples);
        int want = req->n_samples > 0 ? req->n_samples : 1;
        out->samples = calloc((size_t)want, sizeof *out->samples);
        if (!out->samples) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        out->n = want;
        out->tokens_in = count_words(req->prompt) + (req->system ? count_words(req->system) : 0);
        for (int k = 0; k < want; k++) {
            json_t *smp = json_array_get(samples, (size_t)k % ns);
            const char *text = json_string_value(json_object_get(smp, "text"));
            out->samples[k].text = strdup(text ? text : "");
            json_t *c = json_object_get(smp, "confidence");
            out->samples[k].confidence = json_is_number(c) ? json_number_value(c) : 1.0;
            out->samples[k].n_tokens = count_words(out->samples[k].text);
            out->tokens_out += out->samples[k].n_tokens;
            if (!out->samples[k].text) {
                agent_gen_result_clear(out);
                return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
            }
        }
        return HEARTH_OK;
    }
    return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "scripted backend: no response left for role '%s'", req->role);
}

static void scripted_free(void *ctx)
{
    scripted *s = ctx;
    json_decref(s->responses);
    free(s->used);
    free(s);
}

hearth_status agent_backend_scripted(const char *script_json, agent_backend *out, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loads(script_json, 0, &je);
    if (!root) return hearth_fail(err, HEARTH_ERR_FORMAT, "script:%d: %s", je.line, je.text);
    json_t *responses = json_object_get(root, "responses");
    if (!json_is_array(responses)) {
        json_decref(root);
        return hearth_fail(err, HEARTH_ERR_FORMAT, "script: expected {\"responses\": [...]}");
    }
    for (size_t i = 0; i < json_array_size(responses); i++) {
        json_t *e = json_array_get(responses, i), *smp = json_object_get(e, "samples");
        bool good = json_is_object(e) && (json_is_string(json_object_get(e, "error")) ||
                                          (json_is_array(smp) && json_array_size(smp) > 0));
        for (size_t k = 0; good && k < json_array_size(smp); k++)
            good = json_is_string(json_object_get(json_array_get(smp, k), "text"));
        if (!good) {
            json_decref(root);
            return hearth_fail(err, HEARTH_ERR_FORMAT,
                               "script: responses[%zu]: expected \"samples\": [{\"text\": ...}] or \"error\"", i);
        }
    }
    scripted *s = calloc(1, sizeof *s);
    if (s) s->used = calloc(json_array_size(responses) + 1, sizeof(bool));
    if (!s || !s->used) {
        free(s);
        json_decref(root);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    s->responses = json_incref(responses);
    s->n = json_array_size(responses);
    json_decref(root);
    out->name = "scripted";
    out->ctx = s;
    out->generate = scripted_generate;
    out->free = scripted_free;
    return HEARTH_OK;
}

hearth_status agent_backend_scripted_file(const char *path, agent_backend *out, hearth_error *err)
{
    char *text;
    size_t len;
    hearth_status st = hearth_read_file(path, 16 << 20, &text, &len, err);
    if (st) return st;
    st = agent_backend_scripted(text, out, err);
    free(text);
    if (st) hearth_fail_wrap(err, "%s", path);
    return st;
}

int agent_backend_scripted_calls(const agent_backend *b)
{
    return b && b->generate == scripted_generate ? ((const scripted *)b->ctx)->calls : -1;
}

void agent_backend_free(agent_backend *b)
{
    if (b && b->free) b->free(b->ctx);
    if (b) memset(b, 0, sizeof *b);
}
