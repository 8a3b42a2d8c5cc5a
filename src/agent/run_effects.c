/*
 * run_effects.c — everything the run loop does that touches the world, each wrapped so that it
 * is journaled (resume never repeats it), traced (an OpenTelemetry-shaped span), audited (tool
 * calls) and passed through the policy hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/run_internal.h"
#include "base/base.h"

uint64_t run_now_unix_nano(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Span ids need to be unique, not secret: time and a counter mixed through a 64-bit hash. */
void run_span_id(char out[17])
{
    static uint64_t counter;
    uint64_t x = run_now_unix_nano() ^ (++counter * 0x9e3779b97f4a7c15ull);
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    snprintf(out, 17, "%016llx", (unsigned long long)x);
}

void run_emit(run_state *rs, const char *type, json_t *fields)
{
    if (!rs->opts->on_event) {
        json_decref(fields);
        return;
    }
    json_t *ev = json_pack("{s:s, s:s}", "type", type, "run_id", rs->run_id);
    if (fields) json_object_update(ev, fields);
    json_decref(fields);
    rs->opts->on_event(rs->opts->event_user, ev);
    json_decref(ev);
}

void run_span(run_state *rs, const char *name, uint64_t start_ns, json_t *attributes)
{
    char id[17];
    run_span_id(id);
    json_t *span = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "trace_id", rs->trace_id, "span_id", id,
                             "parent_span_id", rs->root_span, "name", name, "start_time_unix_nano",
                             (json_int_t)start_ns, "end_time_unix_nano", (json_int_t)run_now_unix_nano(),
                             "attributes", attributes ? attributes : json_object());
    run_emit(rs, "span", span);
}

void run_audit(run_state *rs, const char *type, json_t *fields)
{
    if (rs->audit) {
        hearth_error e = {0};
        json_object_set_new(fields, "run_id", json_string(rs->run_id));
        json_object_set_new(fields, "trace_id", json_string(rs->trace_id));
        if (agent_audit_append(rs->audit, type, fields, &e)) hearth_warn("audit: %s", e.message);
    }
    json_decref(fields);
}

bool run_over_limits(run_state *rs, const char **which)
{
    if (hearth_time_sec() - rs->start > rs->cfg->max_seconds) {
        *which = "limits.max_seconds";
        return true;
    }
    if (rs->tokens >= rs->cfg->max_tokens) {
        *which = "limits.max_tokens";
        return true;
    }
    return false;
}

static json_t *result_to_json(const agent_gen_result *r)
{
    json_t *samples = json_array();
    for (int i = 0; i < r->n; i++)
        json_array_append_new(samples, json_pack("{s:s, s:f, s:i}", "text", r->samples[i].text, "confidence",
                                                 r->samples[i].confidence, "n_tokens", r->samples[i].n_tokens));
    return json_pack("{s:o, s:i, s:i}", "samples", samples, "tokens_in", r->tokens_in, "tokens_out", r->tokens_out);
}

static bool result_from_json(json_t *j, agent_gen_result *r)
{
    json_t *samples = json_object_get(j, "samples");
    size_t n = json_array_size(samples);
    memset(r, 0, sizeof *r);
    if (!n || !(r->samples = calloc(n, sizeof *r->samples))) return false;
    r->n = (int)n;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(samples, i);
        const char *text = json_string_value(json_object_get(s, "text"));
        r->samples[i].text = strdup(text ? text : "");
        r->samples[i].confidence = json_number_value(json_object_get(s, "confidence"));
        r->samples[i].n_tokens = (int)json_integer_value(json_object_get(s, "n_tokens"));
    }
    r->tokens_in = (int)json_integer_value(json_object_get(j, "tokens_in"));
    r->tokens_out = (int)json_integer_value(json_object_get(j, "tokens_out"));
    return true;
}

hearth_status run_generate(run_state *rs, agent_gen_request *req, agent_gen_result *out)
{
    long seq = rs->seq++;
    uint64_t t0 = run_now_unix_nano();
    json_t *done = agent_journal_lookup(rs->journal, rs->run_id, seq, "generate");
    bool replayed = done && result_from_json(done, out);
    json_decref(done);
    char *prompt = NULL;
    if (!replayed) {
        char reason[256] = "denied by prompt hook";
        prompt = agent_policy_rewrite(rs->cfg, req->prompt); /* config rules first, then C hooks */
        if (!prompt) return hearth_fail(rs->err, HEARTH_ERR_NOMEM, "out of memory");
        req->prompt = prompt;
        if (rs->opts->prompt_hook) {
            if (!rs->opts->prompt_hook(rs->opts->hook_user, req->role, &prompt, reason, sizeof reason)) {
                free(prompt);
                return hearth_fail(rs->err, HEARTH_ERR_CANCELLED, "policy: %s prompt: %s", req->role, reason);
            }
            req->prompt = prompt;
        }
        hearth_status st = rs->opts->backend->generate(rs->opts->backend->ctx, req, out, rs->err);
        if (st) {
            free(prompt);
            return st;
        }
        if (rs->opts->prompt_hook) { /* after-render hook: may rewrite each output */
            char role_out[64];
            snprintf(role_out, sizeof role_out, "%s.output", req->role);
            for (int i = 0; i < out->n; i++)
                if (!rs->opts->prompt_hook(rs->opts->hook_user, role_out, &out->samples[i].text, reason, sizeof reason)) {
                    free(prompt);
                    agent_gen_result_clear(out);
                    return hearth_fail(rs->err, HEARTH_ERR_CANCELLED, "policy: %s: %s", role_out, reason);
                }
        }
        json_t *rec = result_to_json(out);
        hearth_status jst = agent_journal_record(rs->journal, rs->run_id, seq, "generate",
                                                 json_pack("{s:s, s:i}", "role", req->role, "n", req->n_samples), rec,
                                                 rs->err);
        json_decref(rec);
        if (jst) {
            free(prompt);
            agent_gen_result_clear(out);
            return jst;
        }
    }
    free(prompt);
    rs->tokens += out->tokens_out;
    double mean = 0;
    for (int i = 0; i < out->n; i++) mean += out->samples[i].confidence / out->n;
    run_span(rs, req->role, t0,
             json_pack("{s:s, s:i, s:i, s:i, s:f, s:b}", "gen_ai.operation.name", "generate", "gen_ai.usage.input_tokens",
                       out->tokens_in, "gen_ai.usage.output_tokens", out->tokens_out, "hearth.samples", out->n,
                       "hearth.generation_confidence", mean, "hearth.replayed", replayed));
    return HEARTH_OK;
}

json_t *run_tool(run_state *rs, const char *name, json_t *args, const char *purpose)
{
    long seq = rs->seq++;
    uint64_t t0 = run_now_unix_nano();
    json_t *res = agent_journal_lookup(rs->journal, rs->run_id, seq, "tool");
    bool replayed = res != NULL;
    if (!res) {
        char reason[256] = "denied by policy hook";
        json_t *a = args ? json_deep_copy(args) : json_object();
        if (rs->opts->tool_hook && !rs->opts->tool_hook(rs->opts->hook_user, name, a, NULL, reason, sizeof reason)) {
            res = json_pack("{s:b, s:s+}", "ok", 0, "error", "policy hook denied the call: ", reason);
        } else {
            double t = hearth_time_sec();
            res = agent_tools_call(rs->tools, name, a);
            if (!res) res = json_pack("{s:b, s:s}", "ok", 0, "error", "tool returned no result");
            if (rs->opts->tool_hook && !rs->opts->tool_hook(rs->opts->hook_user, name, a, res, reason, sizeof reason)) {
                json_decref(res);
                res = json_pack("{s:b, s:s+}", "ok", 0, "error", "policy hook withheld the result: ", reason);
            }
            json_object_set_new(res, "seconds", json_real(hearth_time_sec() - t));
            rs->tool_calls++;
        }
        hearth_error e = {0};
        if (agent_journal_record(rs->journal, rs->run_id, seq, "tool",
                                 json_pack("{s:s, s:O}", "tool", name, "arguments", a), res, &e))
            hearth_warn("%s", e.message);
        run_audit(rs, "tool_call", json_pack("{s:s, s:O, s:s, s:O, s:I}", "tool", name, "arguments", a, "purpose",
                                             purpose ? purpose : "", "result", res, "step", (json_int_t)seq));
        json_decref(a);
    }
    run_span(rs, "tool", t0,
             json_pack("{s:s, s:b, s:b}", "gen_ai.tool.name", name, "hearth.ok",
                       json_is_true(json_object_get(res, "ok")), "hearth.replayed", replayed));
    return res;
}

char *run_observations_text(run_state *rs, bool only_ok, size_t max_each)
{
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = 0;
    for (size_t i = 0; i < json_array_size(rs->observations); i++) {
        json_t *o = json_array_get(rs->observations, i);
        bool ok = json_is_true(json_object_get(o, "ok"));
        if (only_ok && !ok) continue;
        char *args = json_dumps(json_object_get(o, "arguments"), JSON_COMPACT | JSON_SORT_KEYS);
        const char *text = json_string_value(json_object_get(o, "text"));
        size_t tn = HEARTH_MIN(strlen(text ? text : ""), max_each);
        size_t need = len + tn + (args ? strlen(args) : 0) + 128;
        if (need > cap) {
            cap = need * 2;
            char *grown = realloc(out, cap);
            if (!grown) {
                free(args);
                free(out);
                return NULL;
            }
            out = grown;
        }
        len += (size_t)snprintf(out + len, cap - len, "[%lld] %s(%s) %s: %.*s\n",
                                (long long)json_integer_value(json_object_get(o, "id")),
                                json_string_value(json_object_get(o, "tool")), args ? args : "{}",
                                ok ? "returned" : "failed", (int)tn, text ? text : "");
        free(args);
    }
    return out;
}
