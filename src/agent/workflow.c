/*
 * workflow.c — durable workflow graphs.
 *
 *   name: refund
 *   agent: agent.yaml            # models, tools, audit log and run journal come from here
 *   start: classify              # default: the first node
 *   max_steps: 100               # guards against cycles
 *   output: answer               # the variable printed at the end (default: last node's)
 *   nodes:
 *     - {id: classify, kind: llm, prompt: "Classify: {{input}}", next: route}
 *     - {id: total, kind: tool, tool: calc, arguments: {expression: "{{amount}} * 3"}, next: route}
 *     - {id: docs, kind: retrieve, query: "{{input}}", k: 3}
 *     - id: route
 *       kind: branch
 *       cases: [{if: "classify contains refund", next: approve}, {if: "confidence(classify) < 0.5", next: ask}]
 *       default: done
 *     - {id: approve, kind: approval, message: "Refund {{amount}}?", next: pay}
 *     - {id: ask, kind: agent, task: "Clarify: {{input}}"}
 *
 * Each executed node is one journal step holding the whole state after it (variables, node
 * confidences, next node), committed before the next node starts. Resuming reads the steps
 * back in order and continues after the last one, so a killed workflow never repeats a
 * completed node, and an approval node waits (status "waiting") until resumed with approval.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/workflow_internal.h"
#include "agent/yamlutil.h"
#include "base/base.h"

const char *const KIND_NAMES_WF[6] = {"llm", "tool", "retrieve", "branch", "approval", "agent"};

agent_config *agent_workflow_config(agent_workflow *w) { return w->cfg; }

static json_t *yaml_to_json(ydoc *y, yaml_node_t *n)
{
    if (n->type == YAML_SCALAR_NODE) return json_string(ydoc_scalar(n));
    if (n->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
            json_array_append_new(a, yaml_to_json(y, yaml_document_get_node(&y->doc, *i)));
        return a;
    }
    json_t *o = json_object();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *k = ydoc_scalar(yaml_document_get_node(&y->doc, p->key));
        if (k) json_object_set_new(o, k, yaml_to_json(y, yaml_document_get_node(&y->doc, p->value)));
    }
    return o;
}

static hearth_status parse_node(ydoc *y, yaml_node_t *m, wf_node *n)
{
    static const char *const keys[] = {"id", "kind", "next", "prompt", "role", "tool", "arguments", "query", "k",
                                       "cases", "default", "message", "task", "agent", "output", NULL};
    static const char *const case_keys[] = {"if", "next", NULL};
    char *kind = NULL;
    hearth_status st;
    if ((st = ydoc_check_keys(y, m, "nodes[]", keys)) || (st = ydoc_str(y, m, "id", &n->id)) ||
        (st = ydoc_str(y, m, "kind", &kind)) || (st = ydoc_str(y, m, "next", &n->next)) ||
        (st = ydoc_str(y, m, "prompt", &n->prompt)) || (st = ydoc_str(y, m, "role", &n->role)) ||
        (st = ydoc_str(y, m, "tool", &n->tool)) || (st = ydoc_str(y, m, "query", &n->query)) ||
        (st = ydoc_int(y, m, "k", 1, 100, &n->k)) || (st = ydoc_str(y, m, "default", &n->deflt)) ||
        (st = ydoc_str(y, m, "message", &n->message)) || (st = ydoc_str(y, m, "task", &n->task)) ||
        (st = ydoc_str(y, m, "agent", &n->agent)) || (st = ydoc_str(y, m, "output", &n->output))) {
        free(kind);
        return st;
    }
    int line = ydoc_line(m);
    bool known = false;
    for (size_t i = 0; kind && i < HEARTH_ARRAY_LEN(KIND_NAMES_WF) && !known; i++)
        if (!strcmp(kind, KIND_NAMES_WF[i])) n->kind = (node_kind)i, known = true;
    free(kind);
    if (!n->id || !known)
        return hearth_fail(y->err, HEARTH_ERR_FORMAT,
                           "%s:%d: each node needs an id and a kind (llm, tool, retrieve, branch, approval, agent)",
                           y->name, line);
    const char *missing = n->kind == N_LLM && !n->prompt ? "prompt"
                        : n->kind == N_TOOL && !n->tool ? "tool"
                        : n->kind == N_RETRIEVE && !n->query ? "query"
                        : n->kind == N_AGENT && !n->task ? "task" : NULL;
    if (missing) return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: node '%s': missing '%s'", y->name, line, n->id, missing);
    yaml_node_t *args = ydoc_get(y, m, "arguments");
    if (args && (st = ydoc_expect(y, args, YAML_MAPPING_NODE, "arguments"))) return st;
    n->arguments = args ? yaml_to_json(y, args) : json_object();
    yaml_node_t *cases = ydoc_get(y, m, "cases");
    if (cases) {
        if ((st = ydoc_expect(y, cases, YAML_SEQUENCE_NODE, "cases"))) return st;
        size_t count = (size_t)(cases->data.sequence.items.top - cases->data.sequence.items.start);
        n->cases = calloc(count + 1, sizeof *n->cases);
        if (!n->cases) return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < count; i++) {
            yaml_node_t *c = yaml_document_get_node(&y->doc, cases->data.sequence.items.start[i]);
            n->n_cases = i + 1;
            if ((st = ydoc_check_keys(y, c, "cases[]", case_keys)) || (st = ydoc_str(y, c, "if", &n->cases[i].cond)) ||
                (st = ydoc_str(y, c, "next", &n->cases[i].next)))
                return st;
            if (!n->cases[i].cond || !n->cases[i].next)
                return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: cases[]: needs 'if' and 'next'", y->name, ydoc_line(c));
        }
    }
    if (n->kind == N_BRANCH && !n->n_cases && !n->deflt)
        return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: branch '%s' needs cases or a default", y->name, line, n->id);
    return HEARTH_OK;
}

const wf_node *wf_find(const agent_workflow *w, const char *id)
{
    for (size_t i = 0; id && i < w->n_nodes; i++)
        if (!strcmp(w->nodes[i].id, id)) return &w->nodes[i];
    return NULL;
}

static hearth_status check_links(agent_workflow *w, hearth_error *err)
{
    for (size_t i = 0; i < w->n_nodes; i++) {
        const wf_node *n = &w->nodes[i];
        const char *targets[64];
        size_t nt = 0;
        targets[nt++] = n->next;
        targets[nt++] = n->deflt;
        for (size_t c = 0; c < n->n_cases && nt < 64; c++) targets[nt++] = n->cases[c].next;
        for (size_t t = 0; t < nt; t++)
            if (targets[t] && !wf_find(w, targets[t]))
                return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: node '%s' points at unknown node '%s'", w->path, n->id,
                                   targets[t]);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(w->nodes[k].id, n->id))
                return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: duplicate node id '%s'", w->path, n->id);
    }
    if (w->start && !wf_find(w, w->start))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: start: unknown node '%s'", w->path, w->start);
    return HEARTH_OK;
}

hearth_status agent_workflow_load(const char *path, agent_workflow **out, hearth_error *err)
{
    *out = NULL;
    char *text;
    size_t len;
    hearth_status st = hearth_read_file(path, 1 << 20, &text, &len, err);
    if (st) return st;
    agent_workflow *w = calloc(1, sizeof *w);
    ydoc y;
    if (!w || !(w->path = strdup(path))) {
        free(text);
        free(w);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    w->max_steps = 100;
    st = ydoc_load(&y, text, len, path, err);
    free(text);
    if (st) {
        agent_workflow_free(w);
        return st;
    }
    static const char *const keys[] = {"name", "agent", "start", "max_steps", "output", "nodes", NULL};
    yaml_node_t *root = ydoc_root(&y), *nodes;
    char *agent = NULL;
    if (!(st = ydoc_check_keys(&y, root, "workflow", keys)) && !(st = ydoc_str(&y, root, "name", &w->name)) &&
        !(st = ydoc_str(&y, root, "agent", &agent)) && !(st = ydoc_str(&y, root, "start", &w->start)) &&
        !(st = ydoc_str(&y, root, "output", &w->output)) &&
        !(st = ydoc_int(&y, root, "max_steps", 1, 100000, &w->max_steps))) {
        nodes = ydoc_get(&y, root, "nodes");
        if (!nodes || nodes->type != YAML_SEQUENCE_NODE || nodes->data.sequence.items.top == nodes->data.sequence.items.start)
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: 'nodes' must be a non-empty list", path);
        size_t count = st ? 0 : (size_t)(nodes->data.sequence.items.top - nodes->data.sequence.items.start);
        if (!st && !(w->nodes = calloc(count, sizeof *w->nodes))) st = hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
        for (size_t i = 0; !st && i < count; i++) {
            w->n_nodes = i + 1;
            st = parse_node(&y, yaml_document_get_node(&y.doc, nodes->data.sequence.items.start[i]), &w->nodes[i]);
        }
    }
    ydoc_free(&y);
    if (!st && !agent) st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: 'agent' (the agent.yaml to run with) is required", path);
    if (!st) {
        /* the agent file is relative to the workflow file */
        char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
        char full[4096];
        if (slash && agent[0] != '/') {
            *slash = 0;
            snprintf(full, sizeof full, "%s/%s", dir, agent);
        } else {
            snprintf(full, sizeof full, "%s", agent);
        }
        free(dir);
        st = agent_config_load(full, &w->cfg, err);
    }
    free(agent);
    if (!st) st = check_links(w, err);
    if (st) {
        agent_workflow_free(w);
        return st;
    }
    *out = w;
    return HEARTH_OK;
}

void agent_workflow_free(agent_workflow *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_nodes; i++) {
        wf_node *n = &w->nodes[i];
        free(n->id); free(n->next); free(n->prompt); free(n->role); free(n->tool); free(n->query);
        free(n->message); free(n->task); free(n->agent); free(n->output); free(n->deflt);
        json_decref(n->arguments);
        for (size_t c = 0; c < n->n_cases; c++) {
            free(n->cases[c].cond);
            free(n->cases[c].next);
        }
        free(n->cases);
    }
    free(w->nodes);
    free(w->path); free(w->name); free(w->start); free(w->output);
    agent_config_free(w->cfg);
    free(w);
}
