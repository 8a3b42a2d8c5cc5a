/*
 * run.c — the run loop. The model proposes, C decides:
 *
 *   plan      planner returns JSON (schema below): tool steps, or {"final": ...} when done;
 *   act       each step runs through the tool registry (deterministic, journaled, audited);
 *             identical repeated calls reuse the earlier observation;
 *   answer    answerer writes the answer citing observations as [n];
 *   score     confidence from generation probabilities, self-consistency, support, citations;
 *   decide    accept | retry with more samples | larger local fallback model | escalate if the
 *             policy allows | return the best local answer marked low-confidence.
 * Every decision is an event (and the final one an audit record).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/run_internal.h"
#include "base/base.h"

/* The plan's JSON Schema. Tool names are an enum of the allowed tools, so a constrained
 * planner cannot even spell a tool it may not use; lengths are bounded so a confused model
 * cannot spend the token budget on one string. */
static char *plan_schema(json_t *tool_desc)
{
    json_t *names = json_array();
    for (size_t i = 0; i < json_array_size(tool_desc); i++)
        json_array_append(names, json_object_get(json_array_get(tool_desc, i), "name"));
    json_t *final = json_pack("{s:{s:{s:s}}, s:[s], s:b}", "properties", "final", "type", "boolean", "required",
                              "final", "additionalProperties", 0);
    json_t *schema;
    if (!json_array_size(names)) {
        json_decref(names);
        schema = final;
    } else {
        json_t *step = json_pack("{s:s, s:{s:{s:o}, s:{s:s}, s:{s:s, s:i}}, s:[s, s]}", "type", "object", "properties",
                                 "tool", "enum", names, "arguments", "type", "object", "purpose", "type", "string",
                                 "maxLength", 200, "required", "tool", "arguments");
        json_t *steps = json_pack("{s:{s:{s:s, s:i, s:i, s:o}}, s:[s], s:b}", "properties", "steps", "type", "array",
                                  "minItems", 1, "maxItems", 4, "items", step, "required", "steps",
                                  "additionalProperties", 0);
        schema = json_pack("{s:s, s:[o, o]}", "type", "object", "anyOf", steps, final);
    }
    char *text = json_dumps(schema, JSON_COMPACT);
    json_decref(schema);
    return text;
}

static const char PLANNER_SYSTEM[] =
    "You plan for a local agent. Reply with JSON only. To use tools: "
    "{\"steps\":[{\"tool\":NAME,\"arguments\":{...},\"purpose\":WHY}]}. "
    "When the observations are enough to answer: {\"final\":true}. Tools:\n";

static const char ANSWER_SYSTEM[] =
    "Answer the task using the observations. Cite each fact with its observation number, like [1]. "
    "If the observations do not answer it, say so.";

static void decision(run_state *rs, const char *what, const char *why, double confidence)
{
    run_emit(rs, "decision", json_pack("{s:s, s:s, s:f}", "decision", what, "reason", why, "confidence", confidence));
}

/* Parses and validates a plan; NULL with *why on anything malformed. */
static json_t *parse_plan(const char *text, char *why, size_t why_size)
{
    /* Models wrap JSON in prose or code fences; take the outermost object. */
    const char *a = strchr(text, '{'), *b = strrchr(text, '}');
    json_error_t je;
    json_t *plan = a && b > a ? json_loadb(a, (size_t)(b - a + 1), 0, &je) : NULL;
    if (!plan) {
        snprintf(why, why_size, "plan is not JSON");
        return NULL;
    }
    if (json_object_get(plan, "final")) return plan;
    json_t *steps = json_object_get(plan, "steps");
    if (!json_is_array(steps) || !json_array_size(steps)) {
        snprintf(why, why_size, "plan has neither \"steps\" nor \"final\"");
        json_decref(plan);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i), *args = json_object_get(s, "arguments");
        if (!json_is_string(json_object_get(s, "tool")) || (args && !json_is_object(args))) {
            snprintf(why, why_size, "plan step %zu needs \"tool\" (string) and \"arguments\" (object)", i + 1);
            json_decref(plan);
            return NULL;
        }
    }
    return plan;
}

static json_t *find_previous(run_state *rs, const char *tool, json_t *args)
{
    for (size_t i = 0; i < json_array_size(rs->observations); i++) {
        json_t *o = json_array_get(rs->observations, i);
        if (!strcmp(json_string_value(json_object_get(o, "tool")), tool) &&
            json_equal(json_object_get(o, "arguments"), args))
            return o;
    }
    return NULL;
}

static void add_observation(run_state *rs, const char *tool, json_t *args, json_t *res)
{
    json_t *out = json_object_get(res, "output");
    bool ok = json_is_true(json_object_get(res, "ok"));
    char *text = ok ? (json_is_string(out) ? strdup(json_string_value(out)) : json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY))
                    : strdup(json_string_value(json_object_get(res, "error")) ? json_string_value(json_object_get(res, "error")) : "error");
    json_int_t id = (json_int_t)json_array_size(rs->observations) + 1;
    json_array_append_new(rs->observations, json_pack("{s:I, s:s, s:O, s:b, s:s}", "id", id, "tool", tool, "arguments",
                                                      args, "ok", ok, "text", text ? text : ""));
    run_emit(rs, "observation", json_pack("{s:I, s:s, s:b, s:s}", "id", id, "tool", tool, "ok", ok, "text", text ? text : ""));
    free(text);
}

/* One planning round. Returns false when planning is over (final, invalid twice, limits). */
static bool plan_round(run_state *rs, const char *task, json_t *tool_desc, const char *schema, int *invalid)
{
    char *tools = json_dumps(tool_desc, JSON_COMPACT);
    char *obs = run_observations_text(rs, false, 4000);
    size_t n = (tools ? strlen(tools) : 0) + (obs ? strlen(obs) : 0) + strlen(task) + sizeof PLANNER_SYSTEM + 64;
    char *system = malloc(n), *prompt = malloc(n);
    if (!tools || !obs || !system || !prompt) {
        free(tools); free(obs); free(system); free(prompt);
        return false;
    }
    snprintf(system, n, "%s%s", PLANNER_SYSTEM, tools);
    snprintf(prompt, n, "Task: %s\n%s%s", task, *obs ? "Observations:\n" : "No observations yet.\n", obs);
    free(tools);
    free(obs);
    agent_gen_request req = {.role = "planner", .model = rs->cfg->model_planner, .system = system, .prompt = prompt,
                             .json_schema = schema, .n_samples = 1, .seed = (uint64_t)rs->steps,
                             .max_tokens = (int)HEARTH_MIN(512, HEARTH_MAX(16, rs->cfg->max_tokens - rs->tokens))};
    agent_gen_result r;
    hearth_status st = run_generate(rs, &req, &r);
    free(system);
    free(prompt);
    if (st) {
        decision(rs, "stop_planning", rs->err->message, 0);
        hearth_error_clear(rs->err);
        return false;
    }
    char why[256];
    json_t *plan = parse_plan(r.samples[0].text, why, sizeof why);
    agent_gen_result_clear(&r);
    if (!plan) {
        decision(rs, ++*invalid >= 2 ? "stop_planning" : "replan", why, 0);
        return *invalid < 2;
    }
    if (json_object_get(plan, "final")) {
        run_emit(rs, "plan", json_pack("{s:b}", "final", 1));
        json_decref(plan);
        return false;
    }
    json_t *steps = json_object_get(plan, "steps");
    run_emit(rs, "plan", json_pack("{s:O}", "steps", steps));
    size_t fresh = 0;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        const char *tool = json_string_value(json_object_get(s, "tool"));
        json_t *args = json_object_get(s, "arguments");
        json_t *empty = args ? NULL : json_object();
        if (!args) args = empty;
        const char *which;
        if (run_over_limits(rs, &which)) {
            decision(rs, "stop_planning", which, 0);
            json_decref(empty);
            json_decref(plan);
            return false;
        }
        if (find_previous(rs, tool, args)) {
            decision(rs, "reuse_observation", "identical tool call already made in this run", 0);
            json_decref(empty);
            continue;
        }
        run_emit(rs, "tool", json_pack("{s:s, s:O, s:s}", "tool", tool, "arguments", args, "purpose",
                                       json_string_value(json_object_get(s, "purpose")) ? json_string_value(json_object_get(s, "purpose")) : ""));
        json_t *res = run_tool(rs, tool, args, json_string_value(json_object_get(s, "purpose")));
        add_observation(rs, tool, args, res);
        json_decref(res);
        json_decref(empty);
        fresh++;
    }
    json_decref(plan);
    if (!fresh) decision(rs, "stop_planning", "the plan repeated only calls already made", 0);
    return fresh > 0;
}

/* Generates n answers with one role and scores them; keeps the best candidate seen so far. */
static hearth_status answer_round(run_state *rs, const char *task, const char *role, const char *model, int n,
                                  agent_confidence *conf, char **best, double *best_score)
{
    char *obs = run_observations_text(rs, false, 4000);
    size_t len = strlen(task) + (obs ? strlen(obs) : 0) + 64;
    char *prompt = malloc(len);
    if (!obs || !prompt) {
        free(obs);
        free(prompt);
        return hearth_fail(rs->err, HEARTH_ERR_NOMEM, "out of memory");
    }
    snprintf(prompt, len, "Task: %s\n%s%s", task, *obs ? "Observations:\n" : "", obs);
    free(obs);
    agent_gen_request req = {.role = role, .model = model, .system = ANSWER_SYSTEM, .prompt = prompt, .n_samples = n,
                             .max_tokens = (int)HEARTH_MIN(1024, HEARTH_MAX(16, rs->cfg->max_tokens - rs->tokens)),
                             .seed = (uint64_t)rs->seq};
    agent_gen_result r;
    hearth_status st = run_generate(rs, &req, &r);
    free(prompt);
    if (st) return st;
    size_t n_obs = json_array_size(rs->observations);
    const char **texts = calloc(n_obs + 1, sizeof *texts);
    bool *ok = calloc(n_obs + 1, sizeof *ok);
    for (size_t i = 0; texts && ok && i < n_obs; i++) {
        json_t *o = json_array_get(rs->observations, i);
        texts[i] = json_string_value(json_object_get(o, "text"));
        ok[i] = json_is_true(json_object_get(o, "ok"));
    }
    agent_confidence_score(&r, texts, ok, texts && ok ? n_obs : 0, conf);
    free(texts);
    free(ok);
    run_emit(rs, "answer", json_pack("{s:s, s:i, s:s, s:{s:f, s:f, s:f, s:f, s:f}}", "role", role, "samples", r.n,
                                     "text", r.samples[conf->chosen].text, "confidence", "score", conf->score,
                                     "generation", conf->generation, "consistency", conf->consistency, "support",
                                     conf->support, "citations", conf->citations));
    if (!*best || conf->score > *best_score) {
        free(*best);
        *best = strdup(r.samples[conf->chosen].text);
        *best_score = conf->score;
    }
    agent_gen_result_clear(&r);
    return *best ? HEARTH_OK : hearth_fail(rs->err, HEARTH_ERR_NOMEM, "out of memory");
}

static hearth_status decide(run_state *rs, const char *task, agent_run_result *out)
{
    const agent_config *c = rs->cfg;
    agent_confidence conf;
    char *best = NULL;
    double score = 0;
    const char *which;
    hearth_status st = answer_round(rs, task, "answerer", c->model_answerer, (int)c->samples, &conf, &best, &score);
    if (!st && score >= c->threshold) {
        decision(rs, "accepted", "confidence at or above threshold", score);
        out->decision = strdup("accepted");
    }
    if (!st && !out->decision && c->max_samples > c->samples) {
        if (run_over_limits(rs, &which)) {
            decision(rs, "skip_retry", which, score);
        } else {
            decision(rs, "retry_more_samples", "confidence below threshold", score);
            st = answer_round(rs, task, "answerer", c->model_answerer, (int)c->max_samples, &conf, &best, &score);
            if (!st && score >= c->threshold) {
                decision(rs, "accepted", "confidence at or above threshold after more samples", score);
                out->decision = strdup("accepted_after_retry");
            }
        }
    }
    if (!st && !out->decision && c->model_fallback && !run_over_limits(rs, &which)) {
        decision(rs, "retry_fallback_model", "confidence still below threshold", score);
        st = answer_round(rs, task, "fallback", c->model_fallback, (int)c->max_samples, &conf, &best, &score);
        if (!st && score >= c->threshold) {
            decision(rs, "accepted", "fallback model reached the threshold", score);
            out->decision = strdup("accepted_fallback");
        }
    }
    if (st) {
        free(best);
        return st;
    }
    if (!out->decision) {
        char why[512], *remote = NULL;
        if (run_escalate(rs, task, score, &remote, why, sizeof why)) {
            decision(rs, "escalated", why, score);
            free(best);
            best = remote;
            out->escalated = true;
            out->decision = strdup("escalated");
        } else {
            decision(rs, "low_confidence", why, score);
            out->low_confidence = true;
            out->decision = strdup("low_confidence");
        }
    }
    out->answer = best;
    out->confidence = score;
    return HEARTH_OK;
}

hearth_status agent_run(const agent_config *cfg, const char *task, const agent_run_opts *opts, agent_run_result *out,
                        hearth_error *err)
{
    memset(out, 0, sizeof *out);
    if (!opts || !opts->backend || !opts->backend->generate)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "agent_run: a model backend is required");
    run_state rs = {.cfg = cfg, .opts = opts, .err = err, .start = hearth_time_sec()};
    rs.observations = json_array();
    char a[17], b[17];
    run_span_id(a);
    run_span_id(b);
    snprintf(rs.trace_id, sizeof rs.trace_id, "%s%s", a, b);
    run_span_id(rs.root_span);
    uint64_t t0 = run_now_unix_nano();
    hearth_status st = agent_journal_open(cfg->state_path, &rs.journal, err);
    if (!st && cfg->audit_path) st = agent_audit_open(cfg->audit_path, &rs.audit, err);
    if (!st) st = agent_tools_new(cfg, &rs.tools, err);
    char *saved_task = NULL;
    if (!st && opts->resume_run_id) {
        char *status = NULL, *kind = NULL;
        st = agent_journal_get_run(rs.journal, opts->resume_run_id, &kind, NULL, &saved_task, &status, err);
        if (!st && strcmp(kind, "agent"))
            st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "run '%s' is a %s run, not an agent run", opts->resume_run_id, kind);
        if (!st && !strcmp(status, "done"))
            st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "run '%s' already completed (replay it instead)",
                             opts->resume_run_id);
        free(status);
        free(kind);
        if (!st) snprintf(rs.run_id, sizeof rs.run_id, "%s", opts->resume_run_id);
        if (!st) task = saved_task;
    } else if (!st) {
        st = agent_journal_new_run(rs.journal, "agent", cfg->path, task, rs.run_id, sizeof rs.run_id, err);
    }
    if (!st) {
        snprintf(out->run_id, sizeof out->run_id, "%s", rs.run_id);
        run_emit(&rs, "start", json_pack("{s:s, s:s, s:s, s:b}", "agent", cfg->name ? cfg->name : cfg->path, "task", task,
                                         "trace_id", rs.trace_id, "resumed", opts->resume_run_id != NULL));
        json_t *tool_desc = agent_tools_describe(rs.tools);
        char *schema = plan_schema(tool_desc);
        int invalid = 0;
        const char *which;
        bool planning = true; /* false once the planner is done (final, invalid, no new calls) */
        while (rs.steps < cfg->max_steps) {
            if (run_over_limits(&rs, &which)) {
                decision(&rs, "stop_planning", which, 0);
                break;
            }
            rs.steps++;
            if (!plan_round(&rs, task, tool_desc, schema, &invalid)) {
                planning = false;
                break;
            }
        }
        if (rs.steps >= cfg->max_steps && planning) decision(&rs, "stop_planning", "limits.max_steps reached", 0);
        json_decref(tool_desc);
        free(schema);
        st = decide(&rs, task, out);
    }
    if (rs.journal && rs.run_id[0]) {
        hearth_error e = {0};
        if (agent_journal_set_status(rs.journal, rs.run_id, st ? "failed" : "done", out->answer, &e))
            hearth_warn("%s", e.message);
    }
    if (!st) {
        out->steps = rs.steps;
        out->tool_calls = rs.tool_calls;
        out->tokens = rs.tokens;
        run_audit(&rs, "run", json_pack("{s:s, s:f, s:b, s:i}", "decision", out->decision, "confidence", out->confidence,
                                        "escalated", out->escalated, "tool_calls", rs.tool_calls));
        char root_id[17];
        memcpy(root_id, rs.root_span, 17);
        json_t *attrs = json_pack("{s:i, s:i, s:s}", "hearth.steps", rs.steps, "gen_ai.usage.output_tokens", rs.tokens,
                                  "hearth.decision", out->decision);
        json_t *span = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:o}", "trace_id", rs.trace_id, "span_id", root_id,
                                 "parent_span_id", "", "name", "agent.run", "start_time_unix_nano", (json_int_t)t0,
                                 "end_time_unix_nano", (json_int_t)run_now_unix_nano(), "attributes", attrs);
        run_emit(&rs, "span", span);
        run_emit(&rs, "final", json_pack("{s:s, s:s, s:f, s:b, s:b}", "answer", out->answer, "decision", out->decision,
                                         "confidence", out->confidence, "low_confidence", out->low_confidence,
                                         "escalated", out->escalated));
    }
    free(saved_task);
    agent_tools_free(rs.tools);
    agent_audit_close(rs.audit);
    agent_journal_close(rs.journal);
    json_decref(rs.observations);
    if (st) agent_run_result_clear(out);
    return st;
}

void agent_run_result_clear(agent_run_result *r)
{
    free(r->answer);
    free(r->decision);
    char keep[64];
    memcpy(keep, r->run_id, sizeof keep);
    memset(r, 0, sizeof *r);
    memcpy(r->run_id, keep, sizeof keep);
}

hearth_status agent_run_replay(const agent_config *cfg, const char *run_id, long from_step, const agent_run_opts *opts,
                               agent_run_result *out, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    if (!cfg->state_path)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: replay needs audit.state (the run journal)", cfg->path);
    agent_journal *j;
    hearth_status st = agent_journal_open(cfg->state_path, &j, err);
    if (st) return st;
    char *task = NULL, *kind = NULL, new_id[64];
    st = agent_journal_get_run(j, run_id, &kind, NULL, &task, NULL, err);
    if (!st && strcmp(kind, "agent"))
        st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "run '%s' is a %s run, not an agent run", run_id, kind);
    if (!st) st = agent_journal_new_run(j, "agent", cfg->path, task, new_id, sizeof new_id, err);
    if (!st) st = agent_journal_copy_prefix(j, run_id, new_id, from_step, err);
    agent_journal_close(j);
    free(task);
    free(kind);
    if (st) return st;
    agent_run_opts o = *opts;
    o.resume_run_id = new_id;
    return agent_run(cfg, NULL, &o, out, err);
}
