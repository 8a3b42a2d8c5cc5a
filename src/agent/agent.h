/*
 * agent — the agent manager. Plain C decides; models only propose. This module owns:
 *   config.c     agent.yaml (models per role, tools, confidence, escalation policy, limits)
 *   backend.c    the model backend interface + the scripted backend (tests, demos)
 *   engine_backend.c  the backend that runs local GGUF models through include/hearth.h
 *   run.c        the run loop: plan -> tools -> observations -> answer -> confidence -> decide
 *   confidence.c scoring of candidate answers
 *   tools.c      tool registry and dispatch; calc.c, tool_fs.c, sandbox.c, mcp.c are tools
 *   redact.c     PII/secret detection and stable placeholders
 *   escalate.c   the remote OpenAI-compatible call (the only network code in the agent)
 *   audit.c      hash-chained JSONL audit log and OpenTelemetry-named trace spans
 *   journal.c    SQLite checkpoints: every model call, tool call and escalation is journaled,
 *                so a killed run resumes (and a replay re-runs) without repeating tool calls
 *   workflow.c   YAML graphs of nodes run on the same journal
 * Everything that can fail returns hearth_status and fills a hearth_error.
 */
#ifndef HEARTH_AGENT_H
#define HEARTH_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hearth.h"

/* ------------------------------------------------------------------ configuration */

typedef struct agent_mcp_server {
    char *name;      /* tools appear as "NAME.TOOL" */
    char **argv;     /* command + arguments, NULL-terminated */
    size_t argc;
    double timeout_s;
} agent_mcp_server;

typedef struct agent_strlist {
    char **items;
    size_t n;
} agent_strlist;

typedef struct agent_escalation {
    bool configured;       /* an `escalation:` section exists */
    char *endpoint;        /* base URL, e.g. https://api.example.com/v1 */
    char *model;
    char *api_key_env;     /* name of the environment variable holding the key (may be NULL) */
    agent_strlist allow_classes;  /* data classes that may leave after redaction ("*" = all) */
    agent_strlist forbid_classes; /* a class found here blocks escalation entirely */
    agent_strlist redact;         /* classes replaced by placeholders before sending */
    agent_strlist terms;          /* user terms, always redacted */
    long budget_per_day;          /* escalations per UTC day; 0 = none allowed */
    double timeout_s;
    long retries;
} agent_escalation;

typedef struct agent_config {
    char *path;
    char *dir;            /* directory of the yaml: relative paths resolve against it */
    char *name;
    char *model_planner, *model_answerer, *model_embedder, *model_fallback;
    agent_strlist stores;
    agent_strlist tools;  /* allowed tool names; "mcp.NAME.*" style wildcards via trailing '*' */
    agent_strlist fs_roots;
    bool shell_enabled;
    double shell_timeout_s;
    long shell_memory_mb;
    agent_mcp_server *mcp;
    size_t n_mcp;
    double threshold;     /* confidence threshold, default 0.7 */
    long samples;         /* answer samples on the first try, default 1 */
    long max_samples;     /* samples on the local retry, default 5 */
    agent_escalation esc;
    long max_steps;       /* planner rounds, default 6 */
    double max_seconds;   /* wall-clock for the run, default 120 */
    long max_tokens;      /* generated tokens over the run, default 8192 */
    double tool_timeout_s;/* per tool call, default 10 */
    char *audit_path;     /* NULL = no audit log */
    char *state_path;     /* SQLite journal; NULL = in-memory (no resume) */
    agent_strlist deny_tools;      /* policy rule: these tools are always denied */
    agent_strlist deny_patterns;   /* policy rule: tool arguments / escalation payloads matching
                                    * one of these PCRE2 patterns are denied */
    agent_strlist rewrite_from, rewrite_to; /* policy rule: prompt and escalation rewrites */
} agent_config;

hearth_status agent_config_load(const char *path, agent_config **out, hearth_error *err);
hearth_status agent_config_parse(const char *text, size_t len, const char *name,
                                 agent_config **out, hearth_error *err);
void agent_config_free(agent_config *cfg);
bool agent_strlist_has(const agent_strlist *l, const char *s);

/* ------------------------------------------------------------------ model backend */

typedef struct agent_gen_request {
    const char *role;        /* "planner", "answerer", "fallback" */
    const char *model;       /* the model configured for that role (may be NULL) */
    const char *system;
    const char *prompt;
    const char *json_schema; /* constrain output to this JSON schema, or NULL */
    int n_samples;
    int max_tokens;
    uint64_t seed;
} agent_gen_request;

typedef struct agent_gen_sample {
    char *text;
    double confidence;   /* generation confidence in [0,1] (docs/confidence.md, without agreement) */
    int n_tokens;
} agent_gen_sample;

typedef struct agent_gen_result {
    agent_gen_sample *samples;
    int n;
    int tokens_in, tokens_out;
} agent_gen_result;

typedef struct agent_backend {
    const char *name;
    void *ctx;
    hearth_status (*generate)(void *ctx, const agent_gen_request *req, agent_gen_result *out,
                              hearth_error *err);
    void (*free)(void *ctx);
} agent_backend;

void agent_gen_result_clear(agent_gen_result *r);
/* Scripted backend: deterministic answers from a JSON script (see backend.c for the format). */
hearth_status agent_backend_scripted(const char *script_json, agent_backend *out, hearth_error *err);
hearth_status agent_backend_scripted_file(const char *path, agent_backend *out, hearth_error *err);
/* Number of generate calls the scripted backend has answered (tests check no re-generation). */
int agent_backend_scripted_calls(const agent_backend *b);
/* Engine backend: local GGUF models through include/hearth.h. */
hearth_status agent_backend_engine(const agent_config *cfg, agent_backend *out, hearth_error *err);
void agent_backend_free(agent_backend *b);

/* ------------------------------------------------------------------ audit and traces */

typedef struct agent_audit agent_audit;
/* Opens (creating) an append-only hash-chained JSONL log; reads the last record's hash. */
hearth_status agent_audit_open(const char *path, agent_audit **out, hearth_error *err);
/* Appends {"seq","time","type",...fields,"prev","hash"}; steals nothing (fields is borrowed). */
hearth_status agent_audit_append(agent_audit *a, const char *type, json_t *fields, hearth_error *err);
void agent_audit_close(agent_audit *a);
/* Checks every record: JSON, seq order, prev link, hash. *n_records counts good records. */
hearth_status agent_audit_verify(const char *path, size_t *n_records, hearth_error *err);
/* Escalations already recorded today (UTC) in the log — the budget counter. */
long agent_audit_count_today(const char *path, const char *type);

/* ------------------------------------------------------------------ redaction */

enum {
    REDACT_EMAIL = 1 << 0, REDACT_PHONE = 1 << 1, REDACT_IBAN = 1 << 2, REDACT_CARD = 1 << 3,
    REDACT_IP = 1 << 4, REDACT_SECRET = 1 << 5, REDACT_TERM = 1 << 6,
};
#define REDACT_ALL 0x7f

typedef struct agent_redactor agent_redactor;
agent_redactor *agent_redactor_new(unsigned classes, const agent_strlist *terms);
void agent_redactor_free(agent_redactor *r);
/* Returns a malloc'd copy of text with findings replaced by placeholders such as [EMAIL_1];
 * the same value always gets the same placeholder within one redactor. */
char *agent_redact(agent_redactor *r, const char *text);
/* Puts the original values back in place of placeholders (malloc'd). */
char *agent_unredact(const agent_redactor *r, const char *text);
/* Bitmask of classes found so far; and which classes a text contains (without recording). */
unsigned agent_redactor_found(const agent_redactor *r);
unsigned agent_detect_classes(const char *text, const agent_strlist *terms);
const char *agent_redact_class_name(unsigned cls);
bool agent_redact_class_parse(const char *name, unsigned *cls);
bool agent_luhn_ok(const char *digits, size_t n);
bool agent_iban_ok(const char *s, size_t n);

/* Replaces every byte that is not part of valid UTF-8 with '?', in place; returns s. */
char *agent_utf8_fix(char *s);

/* ------------------------------------------------------------------ tools */

typedef struct agent_tools agent_tools;
typedef struct agent_journal agent_journal;

/* Policy hook: called before each tool call (may deny or rewrite args) and after (may rewrite
 * the observation). Return false to deny; *reason then says why. */
typedef bool (*agent_tool_hook)(void *user, const char *tool, json_t *args, json_t *result,
                                char *reason, size_t reason_size);
typedef bool (*agent_prompt_hook)(void *user, const char *role, char **prompt, char *reason,
                                  size_t reason_size);

hearth_status agent_tools_new(const agent_config *cfg, agent_tools **out, hearth_error *err);
void agent_tools_free(agent_tools *t);
/* Runs one tool. Always returns a result object {"ok":bool, "output"|"error":...}: tool errors
 * are observations, never failures of the run. */
json_t *agent_tools_call(agent_tools *t, const char *name, json_t *args);
/* Tool descriptions (name + description + input schema) for the planner prompt. */
json_t *agent_tools_describe(agent_tools *t);
bool agent_tools_allowed(const agent_tools *t, const char *name);
/* calc, time.now, fs.list, fs.read, rag.search, rag.read, shell. */
bool agent_tool_is_builtin(const char *name);

/* Individual built-ins (also used by tests). */
hearth_status agent_calc(const char *expr, char *out, size_t out_size, hearth_error *err);
json_t *agent_fs_list(const agent_strlist *roots, const char *path);
json_t *agent_fs_read(const agent_strlist *roots, const char *path, size_t max_bytes);
typedef struct agent_sandbox_opts {
    double timeout_s;
    long memory_mb;
    const char *workdir;  /* read-only bind of the whole tree; workdir is the cwd */
} agent_sandbox_opts;
json_t *agent_sandbox_run(const char *command, const agent_sandbox_opts *opts);

/* rag.search / rag.read over the agent's stores (opened lazily). */
typedef struct agent_rag agent_rag;
hearth_status agent_rag_new(const agent_config *cfg, agent_rag **out, hearth_error *err);
void agent_rag_free(agent_rag *r);
json_t *agent_rag_search(agent_rag *r, json_t *args);
json_t *agent_rag_read(agent_rag *r, json_t *args);

/* MCP client over stdio (newline-delimited JSON-RPC 2.0). */
typedef struct agent_mcp agent_mcp;
hearth_status agent_mcp_start(const agent_mcp_server *srv, agent_mcp **out, hearth_error *err);
json_t *agent_mcp_tools(agent_mcp *m); /* borrowed array of {name,description,inputSchema} */
json_t *agent_mcp_call(agent_mcp *m, const char *tool, json_t *args); /* result object */
void agent_mcp_stop(agent_mcp *m);

/* Applies policy.rewrite rules (PCRE2, global, $1 references) to text; malloc'd result, or
 * NULL when out of memory. */
char *agent_policy_rewrite(const agent_config *cfg, const char *text);

/* ------------------------------------------------------------------ escalation */

typedef struct agent_remote_reply {
    char *text;
    int http_status;
    int attempts;
} agent_remote_reply;
hearth_status agent_remote_chat(const agent_escalation *esc, const char *system, const char *user,
                                agent_remote_reply *out, hearth_error *err);

/* ------------------------------------------------------------------ confidence */

typedef struct agent_confidence {
    double generation;      /* mean sample confidence of the chosen cluster */
    double consistency;     /* share of samples agreeing with the chosen answer; <0 = n/a */
    double support;         /* share of the answer's facts found in observations; <0 = n/a */
    double citations;       /* share of citations pointing at real observations; <0 = n/a */
    double score;           /* weighted mean of the available parts */
    int chosen;             /* index of the chosen sample */
} agent_confidence;
/* obs: array of observation strings (index i is citation [i+1]); ok[i]: observation succeeded. */
void agent_confidence_score(const agent_gen_result *r, const char *const *obs, const bool *ok,
                            size_t n_obs, agent_confidence *out);

/* ------------------------------------------------------------------ journal (durable runs) */

hearth_status agent_journal_open(const char *path, agent_journal **out, hearth_error *err);
void agent_journal_close(agent_journal *j);
/* Creates a run row; run_id is written as text ("r" + time + counter). */
hearth_status agent_journal_new_run(agent_journal *j, const char *kind, const char *spec_path,
                                    const char *task, char *run_id, size_t run_id_size,
                                    hearth_error *err);
hearth_status agent_journal_get_run(agent_journal *j, const char *run_id, char **kind,
                                    char **spec_path, char **task, char **status, hearth_error *err);
hearth_status agent_journal_set_status(agent_journal *j, const char *run_id, const char *status,
                                       const char *result, hearth_error *err);
/* Recorded output of step seq, or NULL (new reference) if the step never completed. */
json_t *agent_journal_lookup(agent_journal *j, const char *run_id, long seq, const char *kind);
/* Commits one step; steals `input` (may be NULL), borrows `output`. */
hearth_status agent_journal_record(agent_journal *j, const char *run_id, long seq,
                                   const char *kind, json_t *input, json_t *output,
                                   hearth_error *err);
/* Copies steps < from_seq of src into dst (replay). */
hearth_status agent_journal_copy_prefix(agent_journal *j, const char *src, const char *dst,
                                        long from_seq, hearth_error *err);
/* Array of {run_id, kind, spec, task, status, created, steps}. */
json_t *agent_journal_list(agent_journal *j);
json_t *agent_journal_steps(agent_journal *j, const char *run_id);

/* ------------------------------------------------------------------ runs */

/* Events stream out as JSON objects: {"type":"plan"|"tool"|"answer"|"decision"|..., ...}. */
typedef void (*agent_event_fn)(void *user, json_t *event);

typedef struct agent_run_opts {
    agent_backend *backend;
    agent_event_fn on_event;
    void *event_user;
    agent_tool_hook tool_hook;     /* optional C policy callbacks */
    agent_prompt_hook prompt_hook;
    void *hook_user;
    const char *resume_run_id;     /* continue this journaled run */
    bool allow_network;            /* false = escalation is refused even if configured (tests) */
} agent_run_opts;

typedef struct agent_run_result {
    char run_id[64];
    char *answer;          /* placeholders restored */
    double confidence;
    bool low_confidence;
    bool escalated;
    char *decision;        /* "accepted", "accepted_after_retry", "escalated", "low_confidence" */
    int steps;
    int tool_calls;        /* tool calls executed in this process (not replayed) */
    int tokens;
} agent_run_result;

hearth_status agent_run(const agent_config *cfg, const char *task, const agent_run_opts *opts,
                        agent_run_result *out, hearth_error *err);
void agent_run_result_clear(agent_run_result *r);
/* Starts a new run with the task of journaled run `run_id`, reusing its steps < from_step
 * (model answers and tool results) and executing everything after them again. */
hearth_status agent_run_replay(const agent_config *cfg, const char *run_id, long from_step,
                               const agent_run_opts *opts, agent_run_result *out, hearth_error *err);

/* ------------------------------------------------------------------ workflows */

typedef struct agent_workflow agent_workflow;
hearth_status agent_workflow_load(const char *path, agent_workflow **out, hearth_error *err);
void agent_workflow_free(agent_workflow *w);
/* The agent configuration the workflow runs with (models, tools, audit, state); owned by w. */
agent_config *agent_workflow_config(agent_workflow *w);
/* Runs (or resumes) a workflow; an approval node stops with status "waiting" until resumed
 * with approve=true. */
hearth_status agent_workflow_run(agent_workflow *w, const char *input, const agent_run_opts *opts,
                                 bool approve, agent_run_result *out, hearth_error *err);

#endif
