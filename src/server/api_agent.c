/*
 * api_agent.c — POST /api/agent: runs an agent (src/agent/) on a task over HTTP.
 *
 *   {"agent": "agents/helpdesk.yaml", "task": "...", "stream": true, "offline": false,
 *    "script": "agents/script.json"}
 *
 * stream true (the default, as in Ollama) answers with NDJSON: exactly the events that
 * `hearth agent run --json` prints (start, plan, tool, observation, answer, decision,
 * escalation, span, final), one per line as they happen; a failure after the first event is one
 * last {"type":"error","error":...} line. stream false answers with the final event alone
 * (answer, decision, confidence, low_confidence, escalated, run_id) plus steps, tool_calls and
 * tokens. "script" selects the scripted model backend (deterministic; tests, demos); without
 * it the local models the agent file names run through the engine (loaded per run).
 *
 * Why agent files are allow-listed: an agent file decides which models load, which files the
 * fs tools read, which MCP commands start and whether the shell tool exists, so a client must
 * never name an arbitrary file. Agent files (.yaml/.yml) and scripts (.json) must resolve —
 * symlinks and ".." included — inside $HEARTH_AGENTS (':'-separated directories) when it is
 * set, else inside the server's working directory; anything else is 403, whether or not it
 * exists (no probing of the file system through this endpoint).
 *
 * A client that disconnects stops its run before the next model call or tool call (the
 * agent's prompt and tool hooks refuse); at most MAX_RUNS runs go at once (503 beyond).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "agent/agent.h"
#include "server/api.h"

enum { MAX_RUNS = 4 };

/* Agent runs in progress, all servers of the process together: the endpoint's own bound on
 * concurrent runs (each may load models), kept here because server_state belongs to the
 * Ollama/OpenAI side. */
static atomic_int running_runs;

typedef struct agent_job {
    agent_config *cfg;
    agent_backend backend;
    bool have_backend;
    char *task;
    bool offline;
    http_stream *stream; /* streaming: events go here                         */
    int fd;              /* not streaming: the client's socket, to notice a hang-up */
    json_t *final;       /* the final event (kept for the non-streaming reply)  */
    atomic_bool gone;
} agent_job;

static void job_free(agent_job *j)
{
    if (!j) return;
    if (j->have_backend) agent_backend_free(&j->backend);
    agent_config_free(j->cfg);
    free(j->task);
    json_decref(j->final);
    free(j);
    atomic_fetch_sub(&running_runs, 1);
}

/* ---- the allow-list ---------------------------------------------------------------------- */

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/') return true;
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Is the resolved path inside one of the allowed directories? */
static bool allowed(const char *resolved)
{
    const char *list = getenv("HEARTH_AGENTS");
    char dir[PATH_MAX], real[PATH_MAX];
    if (!list || !*list) return getcwd(dir, sizeof dir) && realpath(dir, real) && under(resolved, real);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ":");
        if (n && n < sizeof dir) {
            memcpy(dir, p, n);
            dir[n] = '\0';
            if (realpath(dir, real) && under(resolved, real)) return true;
        }
        p += n;
        if (*p == ':') p++;
    }
    return false;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* Resolves a client-named file; answers 403/404/400 itself and returns false when refused. */
static bool resolve_file(const char *field, const char *given, const char *const *suffixes,
                         char *out, http_response *res)
{
    bool suffix_ok = false;
    for (const char *const *s = suffixes; *s; s++) suffix_ok |= ends_with(given, *s);
    if (!*given || !suffix_ok) {
        http_reply_error(res, 400, "%s: expected a %s file path, found '%.200s'", field, suffixes[0], given);
        return false;
    }
    if (!realpath(given, out)) {
        /* Missing: say so only when the directory it would be in is allowed. */
        char copy[PATH_MAX], dir[PATH_MAX];
        snprintf(copy, sizeof copy, "%s", given);
        char *slash = strrchr(copy, '/');
        const char *parent = slash ? (slash == copy ? "/" : (*slash = '\0', copy)) : ".";
        if (errno == ENOENT && realpath(parent, dir) && allowed(dir)) {
            http_reply_error(res, 404, "%s: '%.200s' not found", field, given);
            return false;
        }
        http_reply_error(res, 403, "%s: '%.200s' is not inside an allowed agent directory "
                         "(the server's working directory, or $HEARTH_AGENTS)", field, given);
        return false;
    }
    struct stat st;
    if (!allowed(out)) {
        http_reply_error(res, 403, "%s: '%.200s' is not inside an allowed agent directory "
                         "(the server's working directory, or $HEARTH_AGENTS)", field, given);
        return false;
    }
    if (stat(out, &st) != 0 || !S_ISREG(st.st_mode)) {
        http_reply_error(res, 400, "%s: '%.200s' is not a regular file", field, given);
        return false;
    }
    return true;
}

/* ---- the run ----------------------------------------------------------------------------- */

static bool client_gone(agent_job *j)
{
    if (atomic_load(&j->gone)) return true;
    bool gone = false;
    if (j->stream) {
        gone = http_stream_cancelled(j->stream);
    } else if (j->fd >= 0) {
        struct pollfd p = {.fd = j->fd, .events = POLLRDHUP};
        gone = poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
    }
    if (gone) atomic_store(&j->gone, true);
    return gone;
}

/* Hooks: a run whose client has gone stops before its next model call, and runs no tools. */
static bool prompt_hook(void *user, const char *role, char **prompt, char *reason, size_t size)
{
    (void)role, (void)prompt;
    if (!client_gone(user)) return true;
    snprintf(reason, size, "the HTTP client disconnected");
    return false;
}

static bool tool_hook(void *user, const char *tool, json_t *args, json_t *result, char *reason, size_t size)
{
    (void)tool, (void)args, (void)result;
    return prompt_hook(user, NULL, NULL, reason, size);
}

static void on_event(void *user, json_t *ev)
{
    agent_job *j = user;
    const char *type = json_string_value(json_object_get(ev, "type"));
    if (type && !strcmp(type, "final")) {
        json_decref(j->final);
        j->final = json_deep_copy(ev);
    }
    if (j->stream && !atomic_load(&j->gone) && !http_stream_push_json_line(j->stream, json_incref(ev)))
        atomic_store(&j->gone, true);
}

static hearth_status run(agent_job *j, agent_run_result *r, hearth_error *err)
{
    agent_run_opts opts = {.backend = &j->backend, .on_event = on_event, .event_user = j, .tool_hook = tool_hook,
                           .prompt_hook = prompt_hook, .hook_user = j, .allow_network = !j->offline};
    return agent_run(j->cfg, j->task, &opts, r, err);
}

static void *stream_thread(void *arg)
{
    agent_job *j = arg;
    agent_run_result r;
    hearth_error err = {0};
    if (run(j, &r, &err)) {
        json_t *ev = json_pack("{s:s, s:s}", "type", "error", "error", err.message);
        if (r.run_id[0]) json_object_set_new(ev, "run_id", json_string(r.run_id));
        http_stream_push_json_line(j->stream, ev);
    }
    agent_run_result_clear(&r);
    http_stream_close(j->stream);
    job_free(j);
    return NULL;
}

static void reply_final(agent_job *j, const agent_run_result *r, http_response *res)
{
    json_t *o = j->final ? json_incref(j->final) : json_pack("{s:s, s:s}", "type", "final", "run_id", r->run_id);
    json_object_set_new(o, "steps", json_integer(r->steps));
    json_object_set_new(o, "tool_calls", json_integer(r->tool_calls));
    json_object_set_new(o, "tokens", json_integer(r->tokens));
    http_reply_json(res, 200, o);
}

/* ---- the handler ------------------------------------------------------------------------- */

static void post_agent(const http_request *req, http_response *res)
{
    static const api_field fields[] = {{"agent", F_STR}, {"task", F_STR}, {"stream", F_BOOL},
                                       {"offline", F_BOOL}, {"script", F_STR}, {NULL, 0}};
    static const char *const yaml[] = {".yaml", ".yml", NULL}, *const json[] = {".json", NULL};
    json_t *body = api_parse_body(req, res, false);
    if (!body) return;
    agent_job *j = NULL;
    if (!api_check_fields(body, fields, false, res)) goto out;
    const char *spec = json_string_value(json_object_get(body, "agent"));
    const char *task = json_string_value(json_object_get(body, "task"));
    const char *script = json_string_value(json_object_get(body, "script"));
    json_t *stream_v = json_object_get(body, "stream");
    bool stream = !stream_v || json_is_null(stream_v) || json_is_true(stream_v);
    if (!spec) {
        http_reply_error(res, 400, "agent: required (the path of an agent .yaml file)");
        goto out;
    }
    if (!task || !*task) {
        http_reply_error(res, 400, "task: required (a non-empty string)");
        goto out;
    }
    char spec_path[PATH_MAX], script_path[PATH_MAX];
    if (!resolve_file("agent", spec, yaml, spec_path, res)) goto out;
    if (script && !resolve_file("script", script, json, script_path, res)) goto out;
    if (atomic_fetch_add(&running_runs, 1) >= MAX_RUNS) {
        atomic_fetch_sub(&running_runs, 1);
        http_reply_error(res, 503, "server busy: %d agent runs in progress; try again later", MAX_RUNS);
        goto out;
    }
    if (!(j = calloc(1, sizeof *j)) || !(j->task = strdup(task))) {
        if (!j) atomic_fetch_sub(&running_runs, 1);
        http_reply_error(res, 500, "out of memory");
        goto out;
    }
    j->fd = -1;
    j->offline = json_is_true(json_object_get(body, "offline"));
    hearth_error err = {0};
    hearth_status st = agent_config_load(spec_path, &j->cfg, &err);
    if (!st) st = script ? agent_backend_scripted_file(script_path, &j->backend, &err)
                         : agent_backend_engine(j->cfg, &j->backend, &err);
    if (st) {
        http_reply_error(res, api_status_for(st), "%s", err.message);
        goto out;
    }
    j->have_backend = true;
    if (stream) {
        pthread_t t;
        if (!(j->stream = http_stream_new("application/x-ndjson"))) {
            http_reply_error(res, 500, "out of memory");
            goto out;
        }
        http_stream_attach(res, j->stream);
        if (pthread_create(&t, NULL, stream_thread, j) != 0) {
            http_stream_detach(res);
            http_stream_close(j->stream);
            http_reply_error(res, 503, "cannot start a thread for the run");
            goto out;
        }
        pthread_detach(t);
        j = NULL; /* the thread owns it now */
        goto out;
    }
    const union MHD_ConnectionInfo *ci =
        req->conn ? MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
    j->fd = ci ? ci->connect_fd : -1;
    agent_run_result r;
    if ((st = run(j, &r, &err))) http_reply_error(res, api_status_for(st), "%s", err.message);
    else reply_final(j, &r, res);
    agent_run_result_clear(&r);
out:
    job_free(j);
    json_decref(body);
}

bool api_agent_route(server_state *s, const http_request *req, http_response *res)
{
    (void)s;
    if (strcmp(req->path, "/api/agent") != 0) return false;
    if (strcmp(req->method, "POST") != 0) http_reply_error(res, 405, "method %s not allowed on %s", req->method, req->path);
    else post_agent(req, res);
    return true;
}
