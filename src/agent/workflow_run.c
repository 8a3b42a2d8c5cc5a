/*
 * workflow_run.c — executing a workflow graph (the file format and loading are workflow.c).
 * State is a JSON object: {"vars": {...}, "confidence": {node: score}, "next": id|null}. Every
 * executed node is one journal step holding the state after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/workflow_internal.h"
#include "base/base.h"

/* "{{name}}" becomes the variable's text; unknown names become "". */
static char *render(const char *tmpl, json_t *vars)
{
    size_t cap = strlen(tmpl) + 256, w = 0;
    char *out = malloc(cap);
    for (const char *p = tmpl; out && *p;) {
        const char *val = NULL;
        char *dumped = NULL;
        size_t skip = 1, vlen = 1;
        if (p[0] == '{' && p[1] == '{') {
            const char *end = strstr(p + 2, "}}");
            if (end) {
                char name[128];
                const char *a = p + 2, *b = end;
                while (a < b && *a == ' ') a++;
                while (b > a && b[-1] == ' ') b--;
                snprintf(name, sizeof name, "%.*s", (int)(b - a), a);
                json_t *v = json_object_get(vars, name);
                val = json_is_string(v) ? json_string_value(v)
                    : v ? (dumped = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) : "";
                vlen = val ? strlen(val) : 0;
                skip = (size_t)(end + 2 - p);
            }
        }
        if (!val) val = p;
        if (w + vlen + 1 > cap) {
            cap = (w + vlen + 1) * 2;
            char *g = realloc(out, cap);
            if (!g) {
                free(out);
                free(dumped);
                return NULL;
            }
            out = g;
        }
        memcpy(out + w, val, vlen);
        w += vlen;
        p += skip;
        free(dumped);
    }
    if (out) out[w] = 0;
    return out;
}

static json_t *render_json(json_t *v, json_t *vars)
{
    if (json_is_string(v)) {
        char *s = render(json_string_value(v), vars);
        json_t *r = json_string(s ? s : "");
        free(s);
        return r;
    }
    if (json_is_object(v)) {
        json_t *o = json_object();
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) json_object_set_new(o, k, render_json(x, vars));
        return o;
    }
    if (json_is_array(v)) {
        json_t *a = json_array();
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) json_array_append_new(a, render_json(x, vars));
        return a;
    }
    return json_incref(v);
}

/* Condition: LHS OP RHS with LHS a variable or confidence(node), OP one of
 * == != contains < > <= >=, RHS a number or text (quotes optional). */
bool wf_condition(const char *cond, json_t *state, char *why, size_t why_size)
{
    static const char *const ops[] = {"contains", "==", "!=", "<=", ">=", "<", ">"};
    const char *op = NULL, *at = NULL;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(ops) && !op; i++) {
        char pat[16];
        snprintf(pat, sizeof pat, " %s ", ops[i]);
        if ((at = strstr(cond, pat))) op = ops[i];
    }
    if (!op) {
        snprintf(why, why_size, "condition '%s': expected 'NAME OP VALUE'", cond);
        return false;
    }
    char lhs[128], rhs[512];
    snprintf(lhs, sizeof lhs, "%.*s", (int)(at - cond), cond);
    snprintf(rhs, sizeof rhs, "%s", at + strlen(op) + 2);
    size_t rn = strlen(rhs);
    if (rn >= 2 && (rhs[0] == '"' || rhs[0] == '\'') && rhs[rn - 1] == rhs[0]) {
        memmove(rhs, rhs + 1, rn - 2);
        rhs[rn - 2] = 0;
    }
    json_t *v;
    if (!strncmp(lhs, "confidence(", 11) && lhs[strlen(lhs) - 1] == ')') {
        lhs[strlen(lhs) - 1] = 0;
        v = json_object_get(json_object_get(state, "confidence"), lhs + 11);
    } else {
        v = json_object_get(json_object_get(state, "vars"), lhs);
    }
    char *text = json_is_string(v) ? strdup(json_string_value(v)) : v ? json_dumps(v, JSON_ENCODE_ANY) : strdup("");
    if (!text) return false;
    char *end;
    double a = strtod(text, &end);
    bool a_num = *text && !*end;
    double b = strtod(rhs, &end);
    bool b_num = *rhs && !*end;
    bool r;
    if (!strcmp(op, "contains")) r = strcasestr(text, rhs) != NULL;
    else if (!strcmp(op, "==")) r = a_num && b_num ? a == b : !strcmp(text, rhs);
    else if (!strcmp(op, "!=")) r = a_num && b_num ? a != b : strcmp(text, rhs) != 0;
    else if (!a_num || !b_num) r = false; /* ordering needs numbers */
    else r = !strcmp(op, "<") ? a < b : !strcmp(op, ">") ? a > b : !strcmp(op, "<=") ? a <= b : a >= b;
    snprintf(why, why_size, "%s -> %s", cond, r ? "true" : "false");
    free(text);
    return r;
}

static void set_var(json_t *state, const wf_node *n, json_t *value)
{
    json_object_set_new(json_object_get(state, "vars"), n->output ? n->output : n->id, value);
}

/* Executes one node; fills state's vars/confidence/next. Returns false when the node cannot
 * proceed (approval not given): then nothing is recorded. */
bool wf_exec(wf_ctx *x, const wf_node *n, json_t *state, hearth_error *err, hearth_status *st)
{
    json_t *vars = json_object_get(state, "vars");
    const char *next = n->next;
    char why[512] = "";
    *st = HEARTH_OK;
    if (n->kind == N_LLM || n->kind == N_AGENT) {
        char *text = render(n->kind == N_LLM ? n->prompt : n->task, vars);
        if (!text) {
            *st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
            return false;
        }
        if (n->kind == N_LLM) {
            const char *role = n->role ? n->role : "answerer";
            agent_gen_request req = {.role = role, .model = x->cfg->model_answerer, .prompt = text,
                                     .n_samples = (int)x->cfg->samples, .max_tokens = 1024};
            agent_gen_result r;
            *st = x->opts->backend->generate(x->opts->backend->ctx, &req, &r, err);
            if (!*st) {
                agent_confidence c;
                agent_confidence_score(&r, NULL, NULL, 0, &c);
                set_var(state, n, json_string(r.samples[c.chosen].text));
                json_object_set_new(json_object_get(state, "confidence"), n->id, json_real(c.score));
                agent_gen_result_clear(&r);
            }
        } else {
            agent_config *sub = x->cfg;
            if (n->agent) *st = agent_config_load(n->agent, &sub, err);
            agent_run_opts o = *x->opts;
            o.resume_run_id = NULL;
            agent_run_result r;
            if (!*st) *st = agent_run(sub, text, &o, &r, err);
            if (!*st) {
                set_var(state, n, json_string(r.answer ? r.answer : ""));
                json_object_set_new(json_object_get(state, "confidence"), n->id, json_real(r.confidence));
                agent_run_result_clear(&r);
            }
            if (sub != x->cfg) agent_config_free(sub);
        }
        free(text);
        if (*st) return false;
    } else if (n->kind == N_TOOL || n->kind == N_RETRIEVE) {
        json_t *args;
        const char *tool = n->tool;
        if (n->kind == N_RETRIEVE) {
            char *q = render(n->query, vars);
            args = json_pack("{s:s, s:I}", "query", q ? q : "", "k", (json_int_t)(n->k ? n->k : 5));
            free(q);
            tool = "rag.search";
        } else {
            args = render_json(n->arguments, vars);
        }
        json_t *res = agent_tools_call(x->tools, tool, args);
        x->tool_calls++;
        if (x->audit) {
            hearth_error e = {0};
            json_t *rec = json_pack("{s:s, s:s, s:s, s:O, s:O}", "run_id", x->run_id, "node", n->id, "tool", tool,
                                    "arguments", args, "result", res);
            if (agent_audit_append(x->audit, "tool_call", rec, &e)) hearth_warn("audit: %s", e.message);
            json_decref(rec);
        }
        json_t *out = json_object_get(res, "output");
        bool ok = json_is_true(json_object_get(res, "ok"));
        set_var(state, n, ok ? json_incref(out) : json_pack("{s:O}", "error", json_object_get(res, "error")));
        json_object_set_new(json_object_get(state, "confidence"), n->id, json_real(ok ? 1.0 : 0.0));
        json_decref(args);
        json_decref(res);
    } else if (n->kind == N_BRANCH) {
        next = n->deflt;
        snprintf(why, sizeof why, "no case matched: default");
        for (size_t i = 0; i < n->n_cases; i++)
            if (wf_condition(n->cases[i].cond, state, why, sizeof why)) {
                next = n->cases[i].next;
                break;
            }
    } else if (n->kind == N_APPROVAL) {
        if (!x->approve) return false;
        x->approve = false; /* one approval approves one node */
        set_var(state, n, json_true());
    }
    json_object_set_new(state, "next", next ? json_string(next) : json_null());
    json_t *ev = json_pack("{s:s, s:s, s:s*}", "node", n->id, "kind", KIND_NAMES_WF[n->kind], "next", next);
    if (why[0]) json_object_set_new(ev, "reason", json_string(why));
    json_t *val = json_object_get(vars, n->output ? n->output : n->id);
    if (val) json_object_set(ev, "value", val);
    wf_emit(x, "node", ev);
    return true;
}

void wf_emit(wf_ctx *x, const char *type, json_t *fields)
{
    if (!x->opts->on_event) {
        json_decref(fields);
        return;
    }
    json_t *ev = json_pack("{s:s, s:s}", "type", type, "run_id", x->run_id);
    json_object_update(ev, fields);
    json_decref(fields);
    x->opts->on_event(x->opts->event_user, ev);
    json_decref(ev);
}

static hearth_status start_run(agent_workflow *w, agent_journal *j, const char *input, const agent_run_opts *opts,
                               wf_ctx *x, char **saved_input, hearth_error *err)
{
    if (!opts->resume_run_id)
        return agent_journal_new_run(j, "workflow", w->path, input, x->run_id, sizeof x->run_id, err);
    char *kind = NULL, *status = NULL;
    hearth_status st = agent_journal_get_run(j, opts->resume_run_id, &kind, NULL, saved_input, &status, err);
    if (!st && strcmp(kind, "workflow"))
        st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "run '%s' is not a workflow run", opts->resume_run_id);
    if (!st && !strcmp(status, "done"))
        st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "run '%s' already completed", opts->resume_run_id);
    free(kind);
    free(status);
    if (!st) snprintf(x->run_id, sizeof x->run_id, "%s", opts->resume_run_id);
    return st;
}

hearth_status agent_workflow_run(agent_workflow *w, const char *input, const agent_run_opts *opts, bool approve,
                                 agent_run_result *out, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    if (!opts || !opts->backend) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "workflow: a model backend is required");
    wf_ctx x = {.cfg = w->cfg, .opts = opts, .approve = approve};
    agent_journal *j = NULL;
    char *saved_input = NULL;
    json_t *state = NULL;
    hearth_status st = agent_journal_open(w->cfg->state_path, &j, err);
    if (!st && w->cfg->audit_path) st = agent_audit_open(w->cfg->audit_path, &x.audit, err);
    if (!st) st = agent_tools_new(w->cfg, &x.tools, err);
    if (!st) st = start_run(w, j, input, opts, &x, &saved_input, err);
    if (!st) {
        if (saved_input) input = saved_input;
        snprintf(out->run_id, sizeof out->run_id, "%s", x.run_id);
        state = json_pack("{s:{s:s}, s:{}, s:s, s:n}", "vars", "input", input, "confidence", "next",
                          w->start ? w->start : w->nodes[0].id, "last");
        wf_emit(&x, "start", json_pack("{s:s, s:s, s:b}", "workflow", w->name ? w->name : w->path, "task", input,
                                       "resumed", opts->resume_run_id != NULL));
    }
    long seq = 0;
    for (json_t *done; !st && (done = agent_journal_lookup(j, x.run_id, seq, "node")); seq++) {
        json_decref(state); /* each step holds the complete state after it */
        state = done;
    }
    bool waiting = false;
    while (!st && json_is_string(json_object_get(state, "next"))) {
        if (seq >= w->max_steps) {
            st = hearth_fail(err, HEARTH_ERR_CANCELLED, "%s: max_steps (%ld) reached: is there a cycle?", w->path, w->max_steps);
            break;
        }
        const wf_node *n = wf_find(w, json_string_value(json_object_get(state, "next")));
        if (!n) {
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: journal names an unknown node", w->path);
            break;
        }
        if (!wf_exec(&x, n, state, err, &st)) {
            if (!st) {
                waiting = true;
                char *msg = n->message ? render(n->message, json_object_get(state, "vars")) : NULL;
                wf_emit(&x, "decision", json_pack("{s:s, s:s, s:s}", "decision", "waiting", "reason", "approval required",
                                                  "node", n->id));
                if (msg) wf_emit(&x, "approval", json_pack("{s:s, s:s}", "node", n->id, "message", msg));
                free(msg);
            }
            break;
        }
        json_object_set_new(state, "last", json_string(n->output ? n->output : n->id));
        st = agent_journal_record(j, x.run_id, seq++, "node", json_pack("{s:s}", "node", n->id), state, err);
    }
    if (!st) {
        json_t *vars = json_object_get(state, "vars");
        const char *key = w->output ? w->output : json_string_value(json_object_get(state, "last"));
        json_t *v = key ? json_object_get(vars, key) : NULL;
        out->answer = json_is_string(v) ? strdup(json_string_value(v)) : v ? json_dumps(v, JSON_ENCODE_ANY) : strdup("");
        out->decision = strdup(waiting ? "waiting" : "done");
        out->steps = (int)seq;
        out->tool_calls = x.tool_calls;
        if (!waiting)
            wf_emit(&x, "final", json_pack("{s:s, s:s, s:f, s:b, s:b}", "answer", out->answer ? out->answer : "",
                                           "decision", "done", "confidence", 1.0, "low_confidence", 0, "escalated", 0));
    }
    if (j && x.run_id[0]) {
        hearth_error e = {0};
        agent_journal_set_status(j, x.run_id, st ? "failed" : waiting ? "waiting" : "done", out->answer, &e);
    }
    json_decref(state);
    free(saved_input);
    agent_tools_free(x.tools);
    agent_audit_close(x.audit);
    agent_journal_close(j);
    if (st) agent_run_result_clear(out);
    return st;
}
