/*
 * config.c — agent.yaml. Strict: unknown keys, wrong types and out-of-range values are errors
 * with the line number, because a misspelled `forbid_classes` must not quietly allow a leak.
 *
 *   name: support-bot
 *   models: {planner: m.gguf, answerer: m.gguf, embedder: e.gguf, fallback: big.gguf}
 *   stores: [docs]
 *   tools: [calc, time.now, fs.read, fs.list, rag.search, rag.read, shell, "files.*"]
 *   fs: {roots: [./data]}
 *   shell: {enabled: true, timeout_seconds: 5, memory_mb: 256}
 *   mcp: [{name: files, command: [./server, --flag], timeout_seconds: 5}]
 *   confidence: {threshold: 0.7, samples: 1, max_samples: 5}
 *   escalation: {endpoint: https://host/v1, model: m, api_key_env: KEY, allow_classes: ["*"],
 *                forbid_classes: [iban], redact: [email, phone, ...], terms: [Falcon],
 *                budget_per_day: 20, timeout_seconds: 30, retries: 2}
 *   limits: {max_steps: 6, max_seconds: 120, max_tokens: 8192, tool_timeout_seconds: 10}
 *   audit: {path: audit.jsonl, state: runs.db}
 *   policy: {deny_tools: [shell], deny_patterns: ["(?i)password"],
 *            rewrite: [{pattern: "(?i)internal-only", replace: "[withheld]"}]}
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <libgen.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "agent/yamlutil.h"
#include "base/base.h"

static hearth_status parse_mcp(ydoc *y, yaml_node_t *list, agent_config *c)
{
    hearth_status st = ydoc_expect(y, list, YAML_SEQUENCE_NODE, "mcp");
    if (st) return st;
    size_t count = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    c->mcp = calloc(count ? count : 1, sizeof *c->mcp);
    if (!c->mcp) return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
    static const char *const keys[] = {"name", "command", "timeout_seconds", NULL};
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *m = yaml_document_get_node(&y->doc, list->data.sequence.items.start[i]);
        agent_mcp_server *s = &c->mcp[i];
        c->n_mcp = i + 1;
        s->timeout_s = 0; /* unset: limits.tool_timeout_seconds applies */
        agent_strlist cmd = {0};
        if ((st = ydoc_check_keys(y, m, "mcp[]", keys)) || (st = ydoc_str(y, m, "name", &s->name)) ||
            (st = ydoc_num(y, m, "timeout_seconds", 0.01, 3600, &s->timeout_s)) ||
            (st = ydoc_strlist(y, m, "command", &cmd))) {
            agent_strlist_free(&cmd);
            return st;
        }
        if (!s->name || !*s->name || strchr(s->name, '.') || !cmd.n) {
            agent_strlist_free(&cmd);
            return hearth_fail(y->err, HEARTH_ERR_FORMAT,
                               "%s:%d: mcp: each server needs a name (no dots) and a command", y->name,
                               ydoc_line(m));
        }
        s->argv = realloc(cmd.items, (cmd.n + 1) * sizeof(char *));
        if (!s->argv) {
            agent_strlist_free(&cmd);
            return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
        }
        s->argv[cmd.n] = NULL;
        s->argc = cmd.n;
    }
    return HEARTH_OK;
}

static hearth_status check_classes(ydoc *y, yaml_node_t *esc, const char *key, const agent_strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        unsigned cls;
        if (strcmp(l->items[i], "*") && strcmp(l->items[i], "general") &&
            !agent_redact_class_parse(l->items[i], &cls))
            return hearth_fail(y->err, HEARTH_ERR_FORMAT,
                               "%s:%d: escalation.%s: unknown data class '%s' (known: email, phone, "
                               "iban, card, ip, secret, term, general, *)",
                               y->name, ydoc_line(ydoc_get(y, esc, key)), key, l->items[i]);
    }
    return HEARTH_OK;
}

static hearth_status parse_rewrites(ydoc *y, yaml_node_t *policy, agent_config *c)
{
    yaml_node_t *list = ydoc_get(y, policy, "rewrite");
    if (!list) return HEARTH_OK;
    hearth_status st = ydoc_expect(y, list, YAML_SEQUENCE_NODE, "rewrite");
    if (st) return st;
    size_t count = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    c->rewrite_from.items = calloc(count + 1, sizeof(char *));
    c->rewrite_to.items = calloc(count + 1, sizeof(char *));
    if (!c->rewrite_from.items || !c->rewrite_to.items) return hearth_fail(y->err, HEARTH_ERR_NOMEM, "out of memory");
    static const char *const keys[] = {"pattern", "replace", NULL};
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *m = yaml_document_get_node(&y->doc, list->data.sequence.items.start[i]);
        char *from = NULL, *to = NULL;
        st = ydoc_check_keys(y, m, "rewrite[]", keys);
        if (!st) st = ydoc_str(y, m, "pattern", &from);
        if (!st) st = ydoc_str(y, m, "replace", &to);
        if (!st && (!from || !to))
            st = hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: rewrite[]: needs 'pattern' and 'replace'", y->name,
                             ydoc_line(m));
        if (st) {
            free(from);
            free(to);
            return st;
        }
        c->rewrite_from.items[c->rewrite_from.n++] = from;
        c->rewrite_to.items[c->rewrite_to.n++] = to;
    }
    return HEARTH_OK;
}

/* Bad regular expressions are configuration errors, reported with the pattern's line. */
static hearth_status check_patterns(ydoc *y, yaml_node_t *policy, const agent_config *c)
{
    const agent_strlist *lists[] = {&c->deny_patterns, &c->rewrite_from};
    const char *keys[] = {"deny_patterns", "rewrite"};
    for (size_t l = 0; l < 2; l++)
        for (size_t i = 0; i < lists[l]->n; i++) {
            int code;
            PCRE2_SIZE off;
            pcre2_code *re = pcre2_compile((PCRE2_SPTR)lists[l]->items[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
                                           &off, NULL);
            if (re) {
                pcre2_code_free(re);
                continue;
            }
            PCRE2_UCHAR msg[128];
            pcre2_get_error_message(code, msg, sizeof msg);
            return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s:%d: policy.%s: '%s': %s at offset %zu", y->name,
                               ydoc_line(ydoc_get(y, policy, keys[l])), keys[l], lists[l]->items[i],
                               (const char *)msg, (size_t)off);
        }
    return HEARTH_OK;
}

/* A misspelled tool name would silently never be allowed: every entry must name a built-in,
 * a configured MCP server's tool (SERVER.TOOL), or be a wildcard ("SERVER.*"). */
static hearth_status check_tools(ydoc *y, yaml_node_t *root, const agent_config *c)
{
    for (size_t i = 0; i < c->tools.n; i++) {
        const char *t = c->tools.items[i];
        bool ok = agent_tool_is_builtin(t) || t[strlen(t) - 1] == '*';
        for (size_t k = 0; !ok && k < c->n_mcp; k++) {
            size_t n = strlen(c->mcp[k].name);
            ok = !strncmp(t, c->mcp[k].name, n) && t[n] == '.' && t[n + 1];
        }
        if (!ok)
            return hearth_fail(y->err, HEARTH_ERR_FORMAT,
                               "%s:%d: tools: unknown tool '%s' (built-ins: calc, time.now, fs.list, fs.read, "
                               "rag.search, rag.read, shell; MCP tools are SERVER.TOOL)",
                               y->name, ydoc_line(ydoc_get(y, root, "tools")), t);
    }
    return HEARTH_OK;
}

static hearth_status parse_sections(ydoc *y, yaml_node_t *root, agent_config *c)
{
    static const char *const top[] = {"name", "models", "stores", "tools", "fs", "shell", "mcp",
                                       "confidence", "escalation", "limits", "audit", "policy", NULL};
    static const char *const models[] = {"planner", "answerer", "embedder", "fallback", NULL};
    static const char *const fs[] = {"roots", NULL};
    static const char *const shell[] = {"enabled", "timeout_seconds", "memory_mb", NULL};
    static const char *const conf[] = {"threshold", "samples", "max_samples", NULL};
    static const char *const esc[] = {"endpoint", "model", "api_key_env", "allow_classes",
                                      "forbid_classes", "redact", "terms", "budget_per_day",
                                      "timeout_seconds", "retries", NULL};
    static const char *const lim[] = {"max_steps", "max_seconds", "max_tokens", "tool_timeout_seconds", NULL};
    static const char *const aud[] = {"path", "state", NULL};
    static const char *const pol[] = {"deny_tools", "deny_patterns", "rewrite", NULL};
    hearth_status st;
    yaml_node_t *n;
    if ((st = ydoc_check_keys(y, root, "agent", top)) || (st = ydoc_str(y, root, "name", &c->name)) ||
        (st = ydoc_strlist(y, root, "stores", &c->stores)) || (st = ydoc_strlist(y, root, "tools", &c->tools)))
        return st;
    if ((n = ydoc_get(y, root, "models")) &&
        ((st = ydoc_check_keys(y, n, "models", models)) || (st = ydoc_str(y, n, "planner", &c->model_planner)) ||
         (st = ydoc_str(y, n, "answerer", &c->model_answerer)) ||
         (st = ydoc_str(y, n, "embedder", &c->model_embedder)) ||
         (st = ydoc_str(y, n, "fallback", &c->model_fallback))))
        return st;
    if ((n = ydoc_get(y, root, "fs")) &&
        ((st = ydoc_check_keys(y, n, "fs", fs)) || (st = ydoc_strlist(y, n, "roots", &c->fs_roots))))
        return st;
    if ((n = ydoc_get(y, root, "shell")) &&
        ((st = ydoc_check_keys(y, n, "shell", shell)) || (st = ydoc_bool(y, n, "enabled", &c->shell_enabled)) ||
         (st = ydoc_num(y, n, "timeout_seconds", 0.01, 3600, &c->shell_timeout_s)) ||
         (st = ydoc_int(y, n, "memory_mb", 8, 1 << 20, &c->shell_memory_mb))))
        return st;
    if ((n = ydoc_get(y, root, "mcp")) && (st = parse_mcp(y, n, c))) return st;
    for (size_t i = 0; i < c->tools.n; i++)
        if (!c->tools.items[i][0]) return hearth_fail(y->err, HEARTH_ERR_FORMAT, "%s: tools: empty tool name", y->name);
    if ((st = check_tools(y, root, c))) return st;
    if ((n = ydoc_get(y, root, "confidence")) &&
        ((st = ydoc_check_keys(y, n, "confidence", conf)) ||
         (st = ydoc_num(y, n, "threshold", 0, 1, &c->threshold)) ||
         (st = ydoc_int(y, n, "samples", 1, 64, &c->samples)) ||
         (st = ydoc_int(y, n, "max_samples", 1, 64, &c->max_samples))))
        return st;
    if ((n = ydoc_get(y, root, "escalation"))) {
        agent_escalation *e = &c->esc;
        e->configured = true;
        if ((st = ydoc_check_keys(y, n, "escalation", esc)) || (st = ydoc_str(y, n, "endpoint", &e->endpoint)) ||
            (st = ydoc_str(y, n, "model", &e->model)) || (st = ydoc_str(y, n, "api_key_env", &e->api_key_env)) ||
            (st = ydoc_strlist(y, n, "allow_classes", &e->allow_classes)) ||
            (st = ydoc_strlist(y, n, "forbid_classes", &e->forbid_classes)) ||
            (st = ydoc_strlist(y, n, "redact", &e->redact)) || (st = ydoc_strlist(y, n, "terms", &e->terms)) ||
            (st = ydoc_int(y, n, "budget_per_day", 0, 1000000, &e->budget_per_day)) ||
            (st = ydoc_num(y, n, "timeout_seconds", 0.01, 3600, &e->timeout_s)) ||
            (st = ydoc_int(y, n, "retries", 0, 10, &e->retries)) ||
            (st = check_classes(y, n, "allow_classes", &e->allow_classes)) ||
            (st = check_classes(y, n, "forbid_classes", &e->forbid_classes)) ||
            (st = check_classes(y, n, "redact", &e->redact)))
            return st;
        if (!e->endpoint || strncmp(e->endpoint, "http", 4))
            return hearth_fail(y->err, HEARTH_ERR_FORMAT,
                               "%s:%d: escalation.endpoint: expected an http(s) URL", y->name, ydoc_line(n));
    }
    if ((n = ydoc_get(y, root, "limits")) &&
        ((st = ydoc_check_keys(y, n, "limits", lim)) || (st = ydoc_int(y, n, "max_steps", 1, 1000, &c->max_steps)) ||
         (st = ydoc_num(y, n, "max_seconds", 0.01, 86400, &c->max_seconds)) ||
         (st = ydoc_int(y, n, "max_tokens", 1, 100000000, &c->max_tokens)) ||
         (st = ydoc_num(y, n, "tool_timeout_seconds", 0.01, 3600, &c->tool_timeout_s))))
        return st;
    if ((n = ydoc_get(y, root, "audit")) &&
        ((st = ydoc_check_keys(y, n, "audit", aud)) || (st = ydoc_str(y, n, "path", &c->audit_path)) ||
         (st = ydoc_str(y, n, "state", &c->state_path))))
        return st;
    if ((n = ydoc_get(y, root, "policy")) &&
        ((st = ydoc_check_keys(y, n, "policy", pol)) || (st = ydoc_strlist(y, n, "deny_tools", &c->deny_tools)) ||
         (st = ydoc_strlist(y, n, "deny_patterns", &c->deny_patterns)) || (st = parse_rewrites(y, n, c)) ||
         (st = check_patterns(y, n, c))))
        return st;
    return HEARTH_OK;
}

/* Relative paths in the file are relative to the file, not to wherever hearth was started. */
static hearth_status resolve(agent_config *c, char **p, hearth_error *err)
{
    if (!*p || (*p)[0] == '/' || !c->dir || !strcmp(c->dir, ".")) return HEARTH_OK;
    size_t n = strlen(c->dir) + strlen(*p) + 2;
    char *s = malloc(n);
    if (!s) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    snprintf(s, n, "%s/%s", c->dir, *p);
    free(*p);
    *p = s;
    return HEARTH_OK;
}

hearth_status agent_config_parse(const char *text, size_t len, const char *name, agent_config **out,
                                 hearth_error *err)
{
    *out = NULL;
    agent_config *c = calloc(1, sizeof *c);
    if (!c) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    c->threshold = 0.7;
    c->samples = 1;
    c->max_samples = 5;
    c->max_steps = 6;
    c->max_seconds = 120;
    c->max_tokens = 8192;
    c->tool_timeout_s = 10;
    c->shell_timeout_s = 5;
    c->shell_memory_mb = 256;
    c->esc.timeout_s = 30;
    c->esc.retries = 2;
    c->path = strdup(name);
    char *tmp = strdup(name);
    c->dir = tmp ? strdup(dirname(tmp)) : NULL;
    free(tmp);
    if (!c->path || !c->dir) {
        agent_config_free(c);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    ydoc y;
    hearth_status st = ydoc_load(&y, text, len, name, err);
    if (st) {
        agent_config_free(c);
        return st;
    }
    st = parse_sections(&y, ydoc_root(&y), c);
    ydoc_free(&y);
    for (size_t i = 0; !st && i < c->fs_roots.n; i++) st = resolve(c, &c->fs_roots.items[i], err);
    for (size_t i = 0; !st && i < c->stores.n; i++) /* a store given as a path is relative to the file */
        if (strchr(c->stores.items[i], '/')) st = resolve(c, &c->stores.items[i], err);
    if (!st && !c->model_answerer && c->model_planner) c->model_answerer = strdup(c->model_planner);
    if (!st && !c->model_planner && c->model_answerer) c->model_planner = strdup(c->model_answerer);
    char **models[] = {&c->model_planner, &c->model_answerer, &c->model_embedder, &c->model_fallback};
    for (size_t i = 0; !st && i < HEARTH_ARRAY_LEN(models); i++) st = resolve(c, models[i], err);
    if (!st) st = resolve(c, &c->audit_path, err);
    if (!st) st = resolve(c, &c->state_path, err);
    if (!st && c->max_samples < c->samples) c->max_samples = c->samples;
    for (size_t i = 0; !st && i < c->n_mcp; i++)
        if (c->mcp[i].timeout_s <= 0) c->mcp[i].timeout_s = c->tool_timeout_s;
    if (st) {
        agent_config_free(c);
        return st;
    }
    *out = c;
    return HEARTH_OK;
}

hearth_status agent_config_load(const char *path, agent_config **out, hearth_error *err)
{
    char *text;
    size_t len;
    hearth_status st = hearth_read_file(path, 1 << 20, &text, &len, err);
    if (st) return st;
    st = agent_config_parse(text, len, path, out, err);
    free(text);
    return st;
}

void agent_config_free(agent_config *c)
{
    if (!c) return;
    free(c->path); free(c->dir); free(c->name);
    free(c->model_planner); free(c->model_answerer); free(c->model_embedder); free(c->model_fallback);
    agent_strlist_free(&c->stores); agent_strlist_free(&c->tools); agent_strlist_free(&c->fs_roots);
    for (size_t i = 0; i < c->n_mcp; i++) {
        free(c->mcp[i].name);
        for (size_t k = 0; k < c->mcp[i].argc; k++) free(c->mcp[i].argv[k]);
        free(c->mcp[i].argv);
    }
    free(c->mcp);
    agent_escalation *e = &c->esc;
    free(e->endpoint); free(e->model); free(e->api_key_env);
    agent_strlist_free(&e->allow_classes); agent_strlist_free(&e->forbid_classes);
    agent_strlist_free(&e->redact); agent_strlist_free(&e->terms);
    free(c->audit_path); free(c->state_path);
    agent_strlist_free(&c->deny_tools); agent_strlist_free(&c->deny_patterns);
    agent_strlist_free(&c->rewrite_from); agent_strlist_free(&c->rewrite_to);
    free(c);
}
