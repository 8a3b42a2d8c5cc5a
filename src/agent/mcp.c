/*
 * mcp.c — Model Context Protocol client over stdio, so any MCP server's tools become agent
 * tools. The stdio transport is JSON-RPC 2.0, one message per line (no Content-Length
 * framing). Lifecycle: initialize -> notifications/initialized -> tools/list (following
 * nextCursor) -> tools/call.
 *
 * A server is untrusted: every read has a deadline, lines are size-capped, unexpected
 * messages (server requests, notifications, stale responses) are skipped, and a server that
 * dies or times out is restarted on the next call (twice at most); after that its calls
 * return error observations.
 * The pipes are a socketpair so a write to a dead server is EPIPE, not a SIGPIPE that kills us.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/base.h"

#define LINE_MAX_BYTES (8 << 20)
#define MAX_RESTARTS 2 /* per agent run: a server that keeps dying stays down */

struct agent_mcp {
    const agent_mcp_server *cfg;
    pid_t pid;
    int fd;
    char *buf;
    size_t len, cap;
    long next_id;
    json_t *tools;
    int restarts;
};

static void reap(agent_mcp *m)
{
    if (m->fd >= 0) close(m->fd);
    m->fd = -1;
    if (m->pid > 0) {
        kill(m->pid, SIGTERM);
        for (int i = 0; i < 50; i++) { /* up to 0.5 s to exit politely */
            if (waitpid(m->pid, NULL, WNOHANG) != 0) {
                m->pid = 0;
                return;
            }
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
        kill(m->pid, SIGKILL);
        waitpid(m->pid, NULL, 0);
    }
    m->pid = 0;
    m->len = 0;
}

static hearth_status spawn(agent_mcp *m, hearth_error *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return hearth_fail(err, HEARTH_ERR_IO, "mcp %s: socketpair: %s", m->cfg->name, strerror(errno));
    int status[2];
    if (pipe2(status, O_CLOEXEC) != 0) {
        close(sv[0]);
        close(sv[1]);
        return hearth_fail(err, HEARTH_ERR_IO, "mcp %s: pipe: %s", m->cfg->name, strerror(errno));
    }
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (dup2(sv[1], 0) < 0 || dup2(sv[1], 1) < 0 || (devnull >= 0 && dup2(devnull, 2) < 0)) _exit(127);
        execvp(m->cfg->argv[0], m->cfg->argv);
        int e = errno;
        if (write(status[1], &e, sizeof e) < 0) _exit(127);
        _exit(127);
    }
    close(sv[1]);
    close(status[1]);
    int child_errno = 0;
    ssize_t n = pid > 0 ? read(status[0], &child_errno, sizeof child_errno) : -1;
    close(status[0]);
    if (pid < 0 || n > 0) {
        close(sv[0]);
        if (pid > 0) waitpid(pid, NULL, 0);
        return hearth_fail(err, HEARTH_ERR_IO, "mcp %s: cannot run %s: %s", m->cfg->name, m->cfg->argv[0],
                           strerror(pid < 0 ? errno : child_errno));
    }
    m->pid = pid;
    m->fd = sv[0];
    m->len = 0;
    return HEARTH_OK;
}

static bool send_msg(agent_mcp *m, json_t *msg)
{
    char *s = json_dumps(msg, JSON_COMPACT);
    if (!s) return false;
    size_t n = strlen(s);
    s[n++] = '\n'; /* replaces the NUL; length is explicit from here on */
    size_t off = 0;
    while (off < n) {
        ssize_t w = send(m->fd, s + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    free(s);
    return off == n;
}

/* Next complete line as JSON, or NULL on timeout / EOF / garbage (why says which). */
static json_t *read_msg(agent_mcp *m, double deadline, const char **why)
{
    for (;;) {
        char *nl = m->len ? memchr(m->buf, '\n', m->len) : NULL;
        if (nl) {
            size_t line = (size_t)(nl - m->buf);
            json_t *msg = json_loadb(m->buf, line, 0, NULL);
            memmove(m->buf, nl + 1, m->len - line - 1);
            m->len -= line + 1;
            if (msg) return msg;
            if (line == 0 || (line == 1 && m->buf[0] == '\r')) continue;
            continue; /* a log line on stdout: not ours to interpret */
        }
        double left = deadline - hearth_time_sec();
        if (left <= 0) {
            *why = "timed out";
            return NULL;
        }
        struct pollfd p = {m->fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        if (m->len + 65536 > m->cap) {
            if (m->cap >= LINE_MAX_BYTES) {
                *why = "message larger than 8 MiB";
                return NULL;
            }
            size_t cap = m->cap ? m->cap * 2 : 65536 * 2;
            char *grown = realloc(m->buf, cap);
            if (!grown) {
                *why = "out of memory";
                return NULL;
            }
            m->buf = grown;
            m->cap = cap;
        }
        ssize_t n = read(m->fd, m->buf + m->len, m->cap - m->len);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            *why = "server exited";
            return NULL;
        }
        m->len += (size_t)n;
    }
}

/* Sends a request and waits for the response with the same id; returns its "result"
 * (new reference) or NULL with a message in why_buf. */
static json_t *request(agent_mcp *m, const char *method, json_t *params, char *why_buf, size_t why_size)
{
    long id = ++m->next_id;
    json_t *msg = json_pack("{s:s, s:I, s:s, s:O}", "jsonrpc", "2.0", "id", (json_int_t)id, "method", method,
                            "params", params ? params : json_object());
    if (!params) json_decref(json_object_get(msg, "params")); /* json_pack's O took a reference */
    bool sent = m->fd >= 0 && send_msg(m, msg);
    json_decref(msg);
    if (!sent) {
        snprintf(why_buf, why_size, "mcp %s: %s: server is not running (it exited)", m->cfg->name, method);
        return NULL;
    }
    double deadline = hearth_time_sec() + m->cfg->timeout_s;
    for (;;) {
        const char *why = NULL;
        json_t *r = read_msg(m, deadline, &why);
        if (!r) {
            snprintf(why_buf, why_size, "mcp %s: %s: %s", m->cfg->name, method, why);
            /* After a timeout the server is busy with a call nobody waits for: stop it, so the
             * next call gets a fresh server instead of queueing behind the hung one. */
            reap(m);
            return NULL;
        }
        json_t *rid = json_object_get(r, "id");
        const char *rmethod = json_string_value(json_object_get(r, "method"));
        if (rmethod && rid) { /* a request from the server (ping, roots/list): we offer nothing */
            json_t *reply = !strcmp(rmethod, "ping")
                ? json_pack("{s:s, s:O, s:{}}", "jsonrpc", "2.0", "id", rid, "result")
                : json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", rid, "error", "code", -32601,
                            "message", "method not found");
            send_msg(m, reply);
            json_decref(reply);
        } else if (json_is_integer(rid) && json_integer_value(rid) == id) {
            json_t *res = json_object_get(r, "result"), *e = json_object_get(r, "error");
            if (json_is_object(res)) {
                json_incref(res);
                json_decref(r);
                return res;
            }
            const char *em = json_string_value(json_object_get(e, "message"));
            snprintf(why_buf, why_size, "mcp %s: %s: %s", m->cfg->name, method, em ? em : "malformed response");
            json_decref(r);
            return NULL;
        }
        json_decref(r); /* notifications and stale responses */
    }
}

static hearth_status handshake(agent_mcp *m, hearth_error *err)
{
    char why[512];
    json_t *params = json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", "2025-06-18", "capabilities",
                               "clientInfo", "name", "hearth", "version", hearth_version());
    json_t *init = request(m, "initialize", params, why, sizeof why);
    json_decref(params);
    if (!init) return hearth_fail(err, HEARTH_ERR_IO, "%s", why);
    json_decref(init);
    json_t *note = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", "notifications/initialized");
    send_msg(m, note);
    json_decref(note);
    json_t *tools = json_array();
    json_t *cursor = NULL;
    for (int page = 0; page < 100; page++) {
        json_t *p = cursor ? json_pack("{s:O}", "cursor", cursor) : NULL;
        json_t *list = request(m, "tools/list", p, why, sizeof why);
        json_decref(p);
        json_decref(cursor);
        cursor = NULL;
        if (!list) {
            json_decref(tools);
            return hearth_fail(err, HEARTH_ERR_IO, "%s", why);
        }
        json_t *arr = json_object_get(list, "tools");
        for (size_t i = 0; i < json_array_size(arr); i++)
            if (json_is_string(json_object_get(json_array_get(arr, i), "name")))
                json_array_append(tools, json_array_get(arr, i));
        if (json_is_string(json_object_get(list, "nextCursor"))) cursor = json_incref(json_object_get(list, "nextCursor"));
        json_decref(list);
        if (!cursor) break;
    }
    json_decref(cursor);
    json_decref(m->tools);
    m->tools = tools;
    return HEARTH_OK;
}

hearth_status agent_mcp_start(const agent_mcp_server *srv, agent_mcp **out, hearth_error *err)
{
    *out = NULL;
    agent_mcp *m = calloc(1, sizeof *m);
    if (!m) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    m->cfg = srv;
    m->fd = -1;
    hearth_status st = spawn(m, err);
    if (!st) st = handshake(m, err);
    if (st) {
        agent_mcp_stop(m);
        return st;
    }
    *out = m;
    return HEARTH_OK;
}

json_t *agent_mcp_tools(agent_mcp *m) { return m->tools; }

json_t *agent_mcp_call(agent_mcp *m, const char *tool, json_t *args)
{
    char why[512];
    if (m->fd < 0 && m->restarts < MAX_RESTARTS) { /* crashed or timed out earlier */
        hearth_error e;
        m->restarts++;
        if (spawn(m, &e) || handshake(m, &e)) {
            reap(m);
            return json_pack("{s:b, s:s}", "ok", 0, "error", e.message);
        }
    }
    json_t *params = json_pack("{s:s, s:O}", "name", tool, "arguments", args ? args : json_object());
    if (!args) json_decref(json_object_get(params, "arguments"));
    json_t *res = request(m, "tools/call", params, why, sizeof why);
    json_decref(params);
    if (!res) return json_pack("{s:b, s:s}", "ok", 0, "error", why);
    /* Flatten the content blocks' text; keep the structured content if present. */
    json_t *content = json_object_get(res, "content");
    size_t total = 1;
    for (size_t i = 0; i < json_array_size(content); i++)
        total += json_string_length(json_object_get(json_array_get(content, i), "text")) + 1;
    char *text = malloc(total);
    size_t w = 0;
    for (size_t i = 0; text && i < json_array_size(content); i++) {
        json_t *t = json_object_get(json_array_get(content, i), "text");
        if (!json_is_string(t)) continue;
        if (w) text[w++] = '\n';
        memcpy(text + w, json_string_value(t), json_string_length(t));
        w += json_string_length(t);
    }
    if (text) text[w] = 0;
    bool is_error = json_is_true(json_object_get(res, "isError"));
    json_t *out = json_pack("{s:b, s:s}", "ok", !is_error, is_error ? "error" : "output", text ? text : "");
    json_t *structured = json_object_get(res, "structuredContent");
    if (structured) json_object_set(out, "structured", structured);
    free(text);
    json_decref(res);
    return out;
}

void agent_mcp_stop(agent_mcp *m)
{
    if (!m) return;
    reap(m);
    json_decref(m->tools);
    free(m->buf);
    free(m);
}
