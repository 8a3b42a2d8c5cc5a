/*
 * mcp_test_server — a small MCP server (stdio, newline-delimited JSON-RPC 2.0) for the agent's
 * MCP client tests. Tools: echo, add, fail (isError), sleep, count, wait_file, crash, huge (a
 * 9 MiB line), weird (non-text content blocks).
 *   mcp_test_server [--log FILE] [--noisy]
 * --log: count and wait_file append a line per call to FILE (tests count real executions).
 * --noisy: prints a non-JSON line, a notification and a server->client ping before every
 *          response, and lists tools in two pages (nextCursor), to exercise the client.
 */
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PAD_1K \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

static const char *log_path;
static int noisy;

static void send_json(json_t *m)
{
    char *s = json_dumps(m, JSON_COMPACT);
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_decref(m);
}

static void log_line(const char *what)
{
    if (!log_path) return;
    FILE *f = fopen(log_path, "a");
    if (f) {
        fprintf(f, "%s\n", what);
        fclose(f);
    }
}

/* Sleeps up to ms, but returns early (and the server exits) if the client goes away. */
static void wait_ms(int ms)
{
    struct pollfd p = {0, POLLIN, 0};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) exit(0);
    usleep((useconds_t)ms * 1000);
}

static const char *str_or(const char *s) { return s ? s : ""; }

static json_t *text_result(const char *text, int is_error)
{
    return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text, "isError", is_error);
}

static json_t *call_tool(const char *name, json_t *args)
{
    char buf[256];
    if (!strcmp(name, "echo")) return text_result(str_or(json_string_value(json_object_get(args, "text"))), 0);
    if (!strcmp(name, "add")) {
        snprintf(buf, sizeof buf, "%lld", (long long)(json_integer_value(json_object_get(args, "a")) +
                                                      json_integer_value(json_object_get(args, "b"))));
        return text_result(buf, 0);
    }
    if (!strcmp(name, "fail")) return text_result("boom: the tool failed on purpose", 1);
    if (!strcmp(name, "sleep")) {
        double s = json_number_value(json_object_get(args, "seconds"));
        for (int i = 0; i < (int)(s * 100); i++) wait_ms(10);
        return text_result("slept", 0);
    }
    if (!strcmp(name, "count")) {
        log_line("count");
        return text_result("counted", 0);
    }
    if (!strcmp(name, "wait_file")) {
        log_line("wait");
        const char *path = json_string_value(json_object_get(args, "path"));
        for (int i = 0; path && i < 3000 && access(path, F_OK) != 0; i++) wait_ms(10);
        return text_result("file appeared", 0);
    }
    if (!strcmp(name, "crash")) exit(3);
    if (!strcmp(name, "huge")) { /* one 9 MiB line: more than a client should buffer */
        fputs("{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"pad\":\"", stdout);
        for (int i = 0; i < 9 * 1024; i++) fputs(PAD_1K, stdout);
        fputs("\"}}\n", stdout);
        fflush(stdout);
        return text_result("after huge", 0);
    }
    if (!strcmp(name, "weird")) /* content blocks of other types and a text block without text */
        return json_pack("{s:[{s:s, s:s}, {s:s}, {s:s, s:s}], s:{s:i}}", "content", "type", "image", "data", "AAAA",
                         "type", "text", "type", "text", "text", "only this", "structuredContent", "n", 7);
    return NULL;
}

static json_t *tool(const char *name, const char *desc)
{
    return json_pack("{s:s, s:s, s:{s:s}}", "name", name, "description", desc, "inputSchema", "type", "object");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--log") && i + 1 < argc) log_path = argv[++i];
        else if (!strcmp(argv[i], "--noisy")) noisy = 1;
    }
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_t *req = json_loads(line, 0, NULL);
        const char *method = json_string_value(json_object_get(req, "method"));
        json_t *id = json_object_get(req, "id");
        if (!method || !id) { /* notifications and responses to our pings */
            json_decref(req);
            continue;
        }
        if (noisy) {
            printf("server log: handling %s\n", method);
            send_json(json_pack("{s:s, s:s, s:{}}", "jsonrpc", "2.0", "method", "notifications/message", "params"));
            send_json(json_pack("{s:s, s:s, s:s}", "jsonrpc", "2.0", "id", "srv-1", "method", "ping"));
        }
        json_t *result = NULL;
        if (!strcmp(method, "initialize")) {
            result = json_pack("{s:s, s:{s:{}}, s:{s:s, s:s}}", "protocolVersion", "2025-06-18", "capabilities",
                               "tools", "serverInfo", "name", "mcp_test_server", "version", "1");
        } else if (!strcmp(method, "tools/list")) {
            const char *cursor = json_string_value(json_object_get(json_object_get(req, "params"), "cursor"));
            json_t *tools = json_array();
            if (!noisy || !cursor) {
                json_array_append_new(tools, tool("echo", "Echo text back."));
                json_array_append_new(tools, tool("add", "Add integers a and b."));
                json_array_append_new(tools, tool("fail", "Always fails."));
            }
            if (!noisy || cursor) {
                json_array_append_new(tools, tool("sleep", "Sleep for `seconds`."));
                json_array_append_new(tools, tool("count", "Count a call."));
                json_array_append_new(tools, tool("wait_file", "Block until `path` exists."));
                json_array_append_new(tools, tool("crash", "Exit immediately."));
                json_array_append_new(tools, tool("huge", "Send a 9 MiB line first."));
                json_array_append_new(tools, tool("weird", "Unusual content blocks."));
            }
            result = json_pack("{s:o}", "tools", tools);
            if (noisy && !cursor) json_object_set_new(result, "nextCursor", json_string("page2"));
        } else if (!strcmp(method, "tools/call")) {
            json_t *params = json_object_get(req, "params");
            result = call_tool(str_or(json_string_value(json_object_get(params, "name"))), json_object_get(params, "arguments"));
            if (!result) {
                send_json(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code", -32602,
                                    "message", "unknown tool"));
                json_decref(req);
                continue;
            }
        } else {
            send_json(json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code", -32601,
                                "message", "method not found"));
            json_decref(req);
            continue;
        }
        send_json(json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result));
        json_decref(req);
    }
    free(line);
    return 0;
}
