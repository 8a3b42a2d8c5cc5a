/*
 * tools.c — the tool registry: built-ins, MCP servers' tools, and the config policy rules
 * (allow-list, deny_tools, deny_patterns) applied before any tool runs. Every call returns a
 * result object {"ok": bool, "output" | "error": ...}; nothing a tool does can fail the run.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "base/base.h"

struct agent_tools {
    const agent_config *cfg;
    agent_strlist roots;     /* realpath'd fs roots */
    agent_mcp **mcp;         /* one per configured server; NULL if it failed to start */
    char **mcp_errors;
    pcre2_code **deny_re;
    size_t n_deny;
    agent_rag *rag;
};

typedef struct builtin {
    const char *name, *description, *schema;
} builtin;

static const builtin BUILTINS[] = {
    {"calc", "Exact arithmetic on rationals: + - * / % ^, parentheses, abs/min/max.",
     "{\"type\":\"object\",\"properties\":{\"expression\":{\"type\":\"string\"}},\"required\":[\"expression\"]}"},
    {"time.now", "Current UTC date and time.", "{\"type\":\"object\",\"properties\":{}}"},
    {"fs.list", "List a directory inside the allowed roots.",
     "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}}}"},
    {"fs.read", "Read a text file inside the allowed roots.",
     "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":[\"path\"]}"},
    {"rag.search", "Search the agent's document stores.",
     "{\"type\":\"object\",\"properties\":{\"query\":{\"type\":\"string\"},\"k\":{\"type\":\"integer\"}},"
     "\"required\":[\"query\"]}"},
    {"rag.read", "Read a chunk or document from the stores by id.",
     "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"}},\"required\":[\"id\"]}"},
    {"shell", "Run a shell command in a sandbox: no network, read-only filesystem, time and memory limits.",
     "{\"type\":\"object\",\"properties\":{\"command\":{\"type\":\"string\"}},\"required\":[\"command\"]}"},
};

bool agent_tool_is_builtin(const char *name)
{
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(BUILTINS); i++)
        if (!strcmp(BUILTINS[i].name, name)) return true;
    return false;
}

static json_t *tool_error(const char *fmt, const char *a)
{
    char msg[1200];
    snprintf(msg, sizeof msg, fmt, a);
    return json_pack("{s:b, s:s}", "ok", 0, "error", agent_utf8_fix(msg)); /* a long name may be cut mid-character */
}

hearth_status agent_tools_new(const agent_config *cfg, agent_tools **out, hearth_error *err)
{
    *out = NULL;
    agent_tools *t = calloc(1, sizeof *t);
    if (!t) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    t->cfg = cfg;
    hearth_status st = HEARTH_OK;
    t->roots.items = calloc(cfg->fs_roots.n + 1, sizeof(char *));
    t->mcp = calloc(cfg->n_mcp + 1, sizeof *t->mcp);
    t->mcp_errors = calloc(cfg->n_mcp + 1, sizeof(char *));
    t->deny_re = calloc(cfg->deny_patterns.n + 1, sizeof *t->deny_re);
    if (!t->roots.items || !t->mcp || !t->mcp_errors || !t->deny_re || agent_rag_new(cfg, &t->rag, err)) {
        agent_tools_free(t);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < cfg->fs_roots.n; i++) {
        char *real = realpath(cfg->fs_roots.items[i], NULL);
        if (!real) {
            st = hearth_fail(err, HEARTH_ERR_NOT_FOUND, "%s: fs.roots: '%s' does not exist", cfg->path,
                             cfg->fs_roots.items[i]);
            break;
        }
        t->roots.items[t->roots.n++] = real;
    }
    for (size_t i = 0; !st && i < cfg->deny_patterns.n; i++) {
        int code;
        PCRE2_SIZE off;
        t->deny_re[i] = pcre2_compile((PCRE2_SPTR)cfg->deny_patterns.items[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF,
                                      &code, &off, NULL);
        if (!t->deny_re[i]) {
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(code, msg, sizeof msg);
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s: policy.deny_patterns[%zu]: %s at offset %zu", cfg->path, i,
                             (const char *)msg, (size_t)off);
        }
        t->n_deny = i + 1;
    }
    /* A server that fails to start is not fatal: its tools report the failure as observations. */
    for (size_t i = 0; !st && i < cfg->n_mcp; i++) {
        hearth_error e = {0};
        if (agent_mcp_start(&cfg->mcp[i], &t->mcp[i], &e)) {
            t->mcp_errors[i] = strdup(e.message);
            hearth_warn("%s", e.message);
        }
    }
    if (st) {
        agent_tools_free(t);
        return st;
    }
    *out = t;
    return HEARTH_OK;
}

void agent_tools_free(agent_tools *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->roots.n; i++) free(t->roots.items[i]);
    free(t->roots.items);
    for (size_t i = 0; t->mcp && i < t->cfg->n_mcp; i++) {
        agent_mcp_stop(t->mcp[i]);
        free(t->mcp_errors[i]);
    }
    free(t->mcp);
    free(t->mcp_errors);
    for (size_t i = 0; i < t->n_deny; i++) pcre2_code_free(t->deny_re[i]);
    free(t->deny_re);
    agent_rag_free(t->rag);
    free(t);
}

bool agent_tools_allowed(const agent_tools *t, const char *name)
{
    if (agent_strlist_has(&t->cfg->deny_tools, name)) return false;
    if (!strcmp(name, "shell") && !t->cfg->shell_enabled) return false;
    return agent_strlist_has(&t->cfg->tools, name);
}

json_t *agent_tools_describe(agent_tools *t)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(BUILTINS); i++) {
        if (!agent_tools_allowed(t, BUILTINS[i].name)) continue;
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "name", BUILTINS[i].name, "description",
                                             BUILTINS[i].description, "input_schema",
                                             json_loads(BUILTINS[i].schema, 0, NULL)));
    }
    for (size_t i = 0; i < t->cfg->n_mcp; i++) {
        json_t *tools = t->mcp[i] ? agent_mcp_tools(t->mcp[i]) : NULL;
        for (size_t k = 0; k < json_array_size(tools); k++) {
            json_t *tool = json_array_get(tools, k);
            char name[256];
            snprintf(name, sizeof name, "%s.%s", t->cfg->mcp[i].name, json_string_value(json_object_get(tool, "name")));
            if (!agent_tools_allowed(t, name)) continue;
            json_t *d = json_object_get(tool, "description"), *s = json_object_get(tool, "inputSchema");
            json_array_append_new(arr, json_pack("{s:s, s:s, s:O}", "name", name, "description",
                                                 json_is_string(d) ? json_string_value(d) : "", "input_schema",
                                                 s ? s : json_object()));
            if (!s) json_decref(json_object_get(json_array_get(arr, json_array_size(arr) - 1), "input_schema"));
        }
    }
    return arr;
}

static const char *str_arg(json_t *args, const char *key)
{
    return json_string_value(json_object_get(args, key));
}

static json_t *call_builtin(agent_tools *t, const char *name, json_t *args)
{
    if (!strcmp(name, "calc")) {
        const char *e = str_arg(args, "expression");
        if (!e) return tool_error("calc: missing string argument '%s'", "expression");
        char out[256];
        hearth_error err = {0};
        if (agent_calc(e, out, sizeof out, &err)) return tool_error("%s", err.message);
        return json_pack("{s:b, s:s}", "ok", 1, "output", out);
    }
    if (!strcmp(name, "time.now")) {
        time_t now = time(NULL);
        struct tm tm;
        char buf[64];
        gmtime_r(&now, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ (%A)", &tm);
        return json_pack("{s:b, s:s}", "ok", 1, "output", buf);
    }
    if (!strcmp(name, "fs.list")) return agent_fs_list(&t->roots, str_arg(args, "path"));
    if (!strcmp(name, "fs.read")) return agent_fs_read(&t->roots, str_arg(args, "path"), 64 * 1024);
    if (!strcmp(name, "shell")) {
        const char *c = str_arg(args, "command");
        if (!c) return tool_error("shell: missing string argument '%s'", "command");
        agent_sandbox_opts o = {t->cfg->shell_timeout_s, t->cfg->shell_memory_mb,
                                t->roots.n ? t->roots.items[0] : "/tmp"};
        return agent_sandbox_run(c, &o);
    }
    if (!strcmp(name, "rag.search")) return agent_rag_search(t->rag, args);
    if (!strcmp(name, "rag.read")) return agent_rag_read(t->rag, args);
    return NULL;
}

json_t *agent_tools_call(agent_tools *t, const char *name, json_t *args)
{
    if (!name) return tool_error("tool call without a tool name%s", "");
    if (!agent_tools_allowed(t, name)) return tool_error("tool '%s' is not allowed by this agent's policy", name);
    if (args && !json_is_object(args)) return tool_error("%s: arguments must be a JSON object", name);
    if (t->n_deny) {
        char *text = json_dumps(args ? args : json_object(), JSON_COMPACT | JSON_SORT_KEYS);
        pcre2_match_data *md = pcre2_match_data_create(1, NULL);
        bool denied = false;
        for (size_t i = 0; text && md && i < t->n_deny && !denied; i++)
            denied = pcre2_match(t->deny_re[i], (PCRE2_SPTR)text, strlen(text), 0, 0, md, NULL) >= 0;
        pcre2_match_data_free(md);
        free(text);
        if (denied) return tool_error("tool '%s' denied: arguments match a policy deny pattern", name);
    }
    json_t *r = call_builtin(t, name, args);
    if (r) return r;
    for (size_t i = 0; i < t->cfg->n_mcp; i++) {
        size_t n = strlen(t->cfg->mcp[i].name);
        if (strncmp(name, t->cfg->mcp[i].name, n) || name[n] != '.') continue;
        if (!t->mcp[i]) return tool_error("%s", t->mcp_errors[i] ? t->mcp_errors[i] : "mcp server not running");
        return agent_mcp_call(t->mcp[i], name + n + 1, args);
    }
    return tool_error("unknown tool '%s'", name);
}
