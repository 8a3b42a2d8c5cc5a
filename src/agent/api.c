/* api.c — the public agent API of include/hearth.h (hearth_agent_*, hearth_audit_verify): a
 * handle that owns an agent or workflow definition plus its model backend, runs that pass
 * events on as JSON text, and read-only views of the run journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/agent.h"
#include "base/base.h"

struct hearth_agent {
    agent_config *cfg;      /* owned unless the workflow owns it */
    agent_workflow *w;      /* NULL for a plain agent */
    agent_backend b;
    bool allow_network, approve;
};

hearth_agent_params hearth_agent_default_params(void) { return (hearth_agent_params){.allow_network = true}; }

bool hearth_agent_default_state(char *buf, size_t cap)
{
    const char *s = getenv("HEARTH_STATE"), *home = getenv("HOME");
    int n;
    if (!buf || !cap) return false;
    if (s && *s) {
        n = snprintf(buf, cap, "%s", s);
    } else if (!home || !*home) {
        n = snprintf(buf, cap, "hearth-runs.db");
    } else {
        n = snprintf(buf, cap, "%s/.hearth", home);
        if (n > 0 && (size_t)n < cap) mkdir(buf, 0700); /* may exist; opening the journal reports real problems */
        n = snprintf(buf, cap, "%s/.hearth/runs.db", home);
    }
    return n > 0 && (size_t)n < cap;
}

/* The journal: params' state_path, else the file's, else the default. */
static hearth_status set_state(agent_config *cfg, const hearth_agent_params *p, hearth_error *err)
{
    char def[4096];
    const char *path = p->state_path;
    if (!path && cfg->state_path) return HEARTH_OK;
    if (!path && !hearth_agent_default_state(def, sizeof def))
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "the default run journal path is too long");
    char *copy = strdup(path ? path : def);
    if (!copy) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    free(cfg->state_path);
    cfg->state_path = copy;
    return HEARTH_OK;
}

static hearth_agent *finish_load(hearth_agent *a, const hearth_agent_params *p, hearth_error *err)
{
    hearth_status st = set_state(a->cfg, p, err);
    if (!st) st = p->script_path ? agent_backend_scripted_file(p->script_path, &a->b, err)
                                 : agent_backend_engine(a->cfg, &a->b, err);
    if (st) {
        if (a->w) agent_workflow_free(a->w);
        else agent_config_free(a->cfg);
        free(a);
        return NULL;
    }
    a->allow_network = p->allow_network;
    a->approve = p->approve;
    return a;
}

static hearth_agent *load(const char *path, const hearth_agent_params *params, bool workflow, hearth_error *err)
{
    hearth_agent_params p = params ? *params : hearth_agent_default_params();
    if (!path) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s path is NULL", workflow ? "workflow" : "agent");
        return NULL;
    }
    hearth_agent *a = calloc(1, sizeof *a);
    if (!a) {
        hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        return NULL;
    }
    hearth_status st = workflow ? agent_workflow_load(path, &a->w, err) : agent_config_load(path, &a->cfg, err);
    if (st) {
        free(a);
        return NULL;
    }
    if (workflow) a->cfg = agent_workflow_config(a->w);
    return finish_load(a, &p, err);
}

hearth_agent *hearth_agent_load(const char *yaml_path, const hearth_agent_params *params, hearth_error *err)
{
    return load(yaml_path, params, false, err);
}

hearth_agent *hearth_agent_load_workflow(const char *yaml_path, const hearth_agent_params *params, hearth_error *err)
{
    return load(yaml_path, params, true, err);
}

void hearth_agent_free(hearth_agent *agent)
{
    if (!agent) return;
    agent_backend_free(&agent->b);
    if (agent->w) agent_workflow_free(agent->w);
    else agent_config_free(agent->cfg);
    free(agent);
}

bool hearth_agent_is_workflow(const hearth_agent *agent) { return agent && agent->w; }

/* ---- runs -------------------------------------------------------------------------------------- */

typedef struct event_relay {
    hearth_agent_event_fn fn;
    void *user;
} event_relay;

static void relay_event(void *user, json_t *ev)
{
    const event_relay *r = user;
    char *text = json_dumps(ev, JSON_COMPACT);
    if (text) r->fn(text, r->user);
    free(text);
}

/* Moves the internal result's strings into the public one. */
static void publish(agent_run_result *r, hearth_agent_result *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->run_id, r->run_id, sizeof out->run_id);
    out->run_id[sizeof out->run_id - 1] = '\0';
    out->answer = r->answer;
    out->decision = r->decision;
    r->answer = r->decision = NULL;
    out->confidence = r->confidence;
    out->low_confidence = r->low_confidence;
    out->escalated = r->escalated;
    out->steps = r->steps;
    out->tool_calls = r->tool_calls;
    out->tokens = r->tokens;
    agent_run_result_clear(r);
}

typedef enum { RUN_NEW, RUN_RESUME, RUN_REPLAY } run_kind;

static hearth_status start(hearth_agent *a, run_kind kind, const char *arg, int64_t from, hearth_agent_event_fn fn,
                           void *user, hearth_agent_result *out, hearth_error *err)
{
    if (out) memset(out, 0, sizeof *out);
    if (!a || !out) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "agent and out are required");
    if (kind != RUN_NEW && !arg) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "a run id is required");
    if (kind == RUN_NEW && !arg && !a->w) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "an agent run needs a task");
    if (kind == RUN_REPLAY && a->w)
        return hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "replay of workflow runs is not supported; resume it instead");
    event_relay relay = {fn, user};
    agent_run_opts opts = {.backend = &a->b, .on_event = fn ? relay_event : NULL, .event_user = &relay,
                           .allow_network = a->allow_network, .resume_run_id = kind == RUN_RESUME ? arg : NULL};
    agent_run_result r;
    memset(&r, 0, sizeof r);
    hearth_status st;
    if (a->w) st = agent_workflow_run(a->w, kind == RUN_NEW && arg ? arg : "", &opts, a->approve, &r, err);
    else if (kind == RUN_REPLAY) st = agent_run_replay(a->cfg, arg, (long)from, &opts, &r, err);
    else st = agent_run(a->cfg, kind == RUN_NEW ? arg : NULL, &opts, &r, err);
    publish(&r, out);
    return st;
}

hearth_status hearth_agent_run(hearth_agent *agent, const char *task, hearth_agent_event_fn on_event, void *user,
                               hearth_agent_result *out, hearth_error *err)
{
    return start(agent, RUN_NEW, task, 0, on_event, user, out, err);
}

hearth_status hearth_agent_resume(hearth_agent *agent, const char *run_id, hearth_agent_event_fn on_event, void *user,
                                  hearth_agent_result *out, hearth_error *err)
{
    return start(agent, RUN_RESUME, run_id, 0, on_event, user, out, err);
}

hearth_status hearth_agent_replay(hearth_agent *agent, const char *run_id, int64_t from_step,
                                  hearth_agent_event_fn on_event, void *user, hearth_agent_result *out, hearth_error *err)
{
    if (from_step < 0) {
        if (out) memset(out, 0, sizeof *out);
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "from_step must be >= 0, found %lld", (long long)from_step);
    }
    return start(agent, RUN_REPLAY, run_id, from_step, on_event, user, out, err);
}

void hearth_agent_result_free(hearth_agent_result *result)
{
    if (!result) return;
    free(result->answer);
    free(result->decision);
    result->answer = result->decision = NULL;
}

/* ---- the journal ------------------------------------------------------------------------------- */

hearth_status hearth_agent_run_get(const char *state_path, const char *run_id, hearth_agent_run_info *info,
                                   hearth_error *err)
{
    if (info) memset(info, 0, sizeof *info);
    if (!state_path || !run_id || !info)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_agent_run_get: state_path, run_id and info are required");
    agent_journal *j;
    hearth_status st = agent_journal_open(state_path, &j, err);
    if (st) return st;
    char *kind = NULL, *spec = NULL, *status = NULL;
    st = agent_journal_get_run(j, run_id, &kind, &spec, NULL, &status, err);
    agent_journal_close(j);
    if (st) {
        char msg[sizeof err->message];
        if (err) snprintf(msg, sizeof msg, "%s", err->message);
        return hearth_fail(err, st, "%s (journal %s)", err ? msg : "", state_path);
    }
    snprintf(info->kind, sizeof info->kind, "%s", kind ? kind : "");
    snprintf(info->status, sizeof info->status, "%s", status ? status : "");
    int n = snprintf(info->spec_path, sizeof info->spec_path, "%s", spec ? spec : "");
    free(kind);
    free(spec);
    free(status);
    if (n < 0 || (size_t)n >= sizeof info->spec_path)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "run '%s': its spec path is too long (journal %s)", run_id, state_path);
    return HEARTH_OK;
}

hearth_status hearth_agent_runs_json(const char *state_path, const char *run_id, char **json, hearth_error *err)
{
    if (json) *json = NULL;
    if (!state_path || !json)
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "hearth_agent_runs_json: state_path and json are required");
    agent_journal *j;
    hearth_status st = agent_journal_open(state_path, &j, err);
    if (st) return st;
    json_t *list = run_id ? agent_journal_steps(j, run_id) : agent_journal_list(j);
    agent_journal_close(j);
    *json = list ? json_dumps(list, JSON_COMPACT) : strdup("[]");
    json_decref(list);
    return *json ? HEARTH_OK : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
}

hearth_status hearth_audit_verify(const char *path, int64_t *n_records, hearth_error *err)
{
    size_t n = 0;
    if (n_records) *n_records = 0;
    if (!path) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "audit log path is NULL");
    hearth_status st = agent_audit_verify(path, &n, err);
    if (n_records) *n_records = (int64_t)n;
    return st;
}
