/*
 * run_internal.h — state shared by the run loop (run.c), its journaled effects
 * (run_effects.c) and the escalation policy (policy.c). Not part of the module interface.
 */
#ifndef HEARTH_AGENT_RUN_INTERNAL_H
#define HEARTH_AGENT_RUN_INTERNAL_H

#include "agent/agent.h"

typedef struct run_state {
    const agent_config *cfg;
    const agent_run_opts *opts;
    agent_tools *tools;
    agent_journal *journal;
    agent_audit *audit;
    char run_id[64];
    long seq;              /* next effect's sequence number in the journal */
    json_t *observations;  /* [{"id","tool","arguments","ok","text"}] */
    double start;
    int tokens;
    int tool_calls;
    int steps;
    char trace_id[33];
    char root_span[17];
    hearth_error *err;
} run_state;

/* Events and OpenTelemetry-named spans. emit() steals `fields`. */
void run_emit(run_state *rs, const char *type, json_t *fields);
void run_span_id(char out[17]);
uint64_t run_now_unix_nano(void);
void run_span(run_state *rs, const char *name, uint64_t start_ns, json_t *attributes);

/* Journaled effects: on resume they answer from the journal instead of acting again. */
hearth_status run_generate(run_state *rs, agent_gen_request *req, agent_gen_result *out);
json_t *run_tool(run_state *rs, const char *name, json_t *args, const char *purpose);
bool run_over_limits(run_state *rs, const char **which);
void run_audit(run_state *rs, const char *type, json_t *fields); /* steals fields */

/* Escalation: decides by policy, redacts, sends, restores. Returns true with *answer set when
 * a remote answer was obtained; otherwise *why says why not (for the decision record). */
bool run_escalate(run_state *rs, const char *task, double confidence, char **answer, char *why, size_t why_size);

/* The observations as text for prompts: "[1] calc({...}): 42\n..." (malloc'd). */
char *run_observations_text(run_state *rs, bool only_ok, size_t max_each);

#endif
