/* workflow_internal.h — the workflow graph shared by workflow.c (loading) and workflow_run.c
 * (execution). Not part of the module interface. */
#ifndef HEARTH_AGENT_WORKFLOW_INTERNAL_H
#define HEARTH_AGENT_WORKFLOW_INTERNAL_H

#include "agent/agent.h"

typedef enum { N_LLM, N_TOOL, N_RETRIEVE, N_BRANCH, N_APPROVAL, N_AGENT } node_kind;
extern const char *const KIND_NAMES_WF[6];

typedef struct wf_case {
    char *cond, *next;
} wf_case;

typedef struct wf_node {
    char *id, *next, *prompt, *role, *tool, *query, *message, *task, *agent, *output, *deflt;
    node_kind kind;
    json_t *arguments;
    long k;
    wf_case *cases;
    size_t n_cases;
} wf_node;

struct agent_workflow {
    char *path, *name, *start, *output;
    long max_steps;
    agent_config *cfg;
    wf_node *nodes;
    size_t n_nodes;
};

typedef struct wf_ctx {
    agent_config *cfg;
    const agent_run_opts *opts;
    agent_tools *tools;
    agent_audit *audit;
    char run_id[64];
    bool approve;
    int tool_calls;
} wf_ctx;

const wf_node *wf_find(const agent_workflow *w, const char *id);
void wf_emit(wf_ctx *x, const char *type, json_t *fields); /* steals fields */
bool wf_condition(const char *cond, json_t *state, char *why, size_t why_size);
bool wf_exec(wf_ctx *x, const wf_node *n, json_t *state, hearth_error *err, hearth_status *st);

#endif
