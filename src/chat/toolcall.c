/* toolcall.c — finding tool calls in a model's reply, for the two formats the common
 * templates teach: Hermes/Qwen `<tool_call>{json}</tool_call>` blocks and Llama 3's bare JSON
 * object (optionally after <|python_tag|>). Model output is untrusted text: anything that
 * does not parse is either plain content or a clean error, never a crash. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "chat/chat.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((*s)[*n - 1])) (*n)--;
}

static bool starts(const char *s, size_t n, const char *lit)
{
    size_t l = strlen(lit);
    return n >= l && !memcmp(s, lit, l);
}

/* {"name": str, "arguments"|"parameters": object|json-string} -> {"name", "arguments"};
 * NULL when obj is not shaped like a call (why in *why). */
static json_t *normalize_call(const json_t *obj, const char **why)
{
    if (!json_is_object(obj)) {
        *why = "not a JSON object";
        return NULL;
    }
    const json_t *fn = json_object_get(obj, "function");
    if (json_is_object(fn)) obj = fn; /* OpenAI-shaped {"function": {...}} */
    const json_t *name = json_object_get(obj, "name");
    if (!json_is_string(name) || !json_string_length(name)) {
        *why = "no string \"name\"";
        return NULL;
    }
    const json_t *args = json_object_get(obj, "arguments");
    if (!args) args = json_object_get(obj, "parameters");
    json_t *parsed = NULL;
    if (json_is_string(args)) { /* some models emit the arguments as JSON text */
        parsed = json_loadb(json_string_value(args), json_string_length(args), 0, NULL);
        if (!json_is_object(parsed)) {
            json_decref(parsed);
            *why = "\"arguments\" is a string that is not a JSON object";
            return NULL;
        }
        args = parsed;
    } else if (args && !json_is_object(args) && !json_is_null(args)) {
        *why = "\"arguments\" is not an object";
        return NULL;
    }
    json_t *call = json_object();
    json_object_set(call, "name", (json_t *)name);
    json_object_set_new(call, "arguments", json_is_object(args) ? json_deep_copy(args) : json_object());
    json_decref(parsed);
    return call;
}

typedef struct sbuf { char *d; size_t n, cap; bool oom; } sbuf;

static void sput(sbuf *b, const char *s, size_t n)
{
    if (b->oom || !n) return;
    if (b->cap - b->n < n + 1) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->n < n + 1) cap *= 2;
        char *d = realloc(b->d, cap);
        if (!d) {
            b->oom = true;
            return;
        }
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->n, s, n);
    b->n += n;
    b->d[b->n] = 0;
}

static hearth_status parse_hermes(const char *text, size_t len, json_t *calls, sbuf *content,
                                  hearth_error *err)
{
    static const char open[] = "<tool_call>", close[] = "</tool_call>";
    size_t pos = 0;
    int index = 0;
    while (pos < len) {
        const char *hit = memmem(text + pos, len - pos, open, sizeof open - 1);
        if (!hit) break;
        sput(content, text + pos, (size_t)(hit - (text + pos)));
        size_t start = (size_t)(hit - text) + sizeof open - 1;
        const char *end = memmem(text + start, len - start, close, sizeof close - 1);
        size_t stop = end ? (size_t)(end - text) : len; /* unclosed: the reply was cut off */
        const char *body = text + start;
        size_t n = stop - start;
        trim(&body, &n);
        index++;
        json_error_t je;
        json_t *obj = json_loadb(body, n, 0, &je);
        if (!obj)
            return hearth_fail(err, HEARTH_ERR_FORMAT, "tool call %d: invalid JSON (%s, column %d)%s",
                               index, je.text, je.column, end ? "" : " (no </tool_call>)");
        const char *why = NULL;
        json_t *call = normalize_call(obj, &why);
        json_decref(obj);
        if (!call) return hearth_fail(err, HEARTH_ERR_FORMAT, "tool call %d: %s", index, why);
        json_array_append_new(calls, call);
        pos = end ? stop + sizeof close - 1 : len;
    }
    if (pos < len) sput(content, text + pos, len - pos);
    return HEARTH_OK;
}

static void parse_llama3(const char *text, size_t len, json_t *calls, sbuf *content)
{
    const char *s = text;
    size_t n = len;
    trim(&s, &n);
    if (starts(s, n, "<|python_tag|>")) {
        s += 14;
        n -= 14;
        trim(&s, &n);
    }
    while (n && s[0] == '{') {
        json_error_t je;
        json_t *obj = json_loadb(s, n, JSON_DISABLE_EOF_CHECK, &je);
        const char *why = NULL;
        /* a bare JSON answer is not a call: it needs "parameters" or "arguments" too */
        bool shaped = json_object_get(obj, "parameters") || json_object_get(obj, "arguments");
        json_t *call = shaped ? normalize_call(obj, &why) : NULL;
        json_decref(obj);
        if (!call) break; /* not a call: what is left is plain content */
        json_array_append_new(calls, call);
        size_t used = je.position;
        s += used;
        n -= used;
        trim(&s, &n);
        while (n && s[0] == ';') {
            s++;
            n--;
            trim(&s, &n);
        }
        static const char *const tails[] = {"<|eom_id|>", "<|eot_id|>", NULL};
        for (int i = 0; tails[i]; i++)
            if (starts(s, n, tails[i])) {
                s += strlen(tails[i]);
                n -= strlen(tails[i]);
                trim(&s, &n);
            }
    }
    if (!json_array_size(calls)) sput(content, text, len);
    else sput(content, s, n);
}

/* [TOOL_CALLS] followed by a JSON array of calls; text before it is content. An array that
 * does not parse is an error: the marker says the model meant to call. */
static hearth_status parse_mistral(const char *text, size_t len, json_t *calls, sbuf *content,
                                   hearth_error *err)
{
    static const char mark[] = "[TOOL_CALLS]";
    const char *hit = memmem(text, len, mark, sizeof mark - 1);
    if (!hit) {
        sput(content, text, len);
        return HEARTH_OK;
    }
    sput(content, text, (size_t)(hit - text));
    const char *s = hit + sizeof mark - 1;
    size_t n = len - (size_t)(s - text);
    trim(&s, &n);
    json_error_t je;
    json_t *arr = json_loadb(s, n, JSON_DISABLE_EOF_CHECK, &je);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return hearth_fail(err, HEARTH_ERR_FORMAT, "[TOOL_CALLS]: expected a JSON array of calls (%s)",
                           arr ? "not an array" : je.text);
    }
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item) {
        const char *why = NULL;
        json_t *call = normalize_call(item, &why);
        if (!call) {
            json_decref(arr);
            return hearth_fail(err, HEARTH_ERR_FORMAT, "tool call %zu: %s", i + 1, why);
        }
        const json_t *id = json_object_get(item, "id");
        if (json_is_string(id)) json_object_set(call, "id", (json_t *)id);
        json_array_append_new(calls, call);
    }
    json_decref(arr);
    sput(content, s + je.position, n - je.position);
    return HEARTH_OK;
}

hearth_status chat_parse_tool_calls(const char *text, size_t len, chat_tool_format fmt,
                                    json_t **calls, char **content, hearth_error *err)
{
    *calls = NULL;
    if (content) *content = NULL;
    if (!text && len) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "tool calls: no text");
    json_t *arr = json_array();
    sbuf b = {0};
    if (fmt == CHAT_TOOLS_AUTO)
        fmt = len && memmem(text, len, "<tool_call>", 11)    ? CHAT_TOOLS_HERMES
              : len && memmem(text, len, "[TOOL_CALLS]", 12) ? CHAT_TOOLS_MISTRAL
                                                             : CHAT_TOOLS_LLAMA3;
    hearth_status st = HEARTH_OK;
    if (fmt == CHAT_TOOLS_HERMES) st = parse_hermes(text, len, arr, &b, err);
    else if (fmt == CHAT_TOOLS_MISTRAL) st = parse_mistral(text, len, arr, &b, err);
    else if (len) parse_llama3(text, len, arr, &b);
    if (!st && b.oom) st = hearth_fail(err, HEARTH_ERR_NOMEM, "tool calls: out of memory");
    if (st) {
        json_decref(arr);
        free(b.d);
        return st;
    }
    if (content) {
        const char *s = b.d ? b.d : "";
        size_t n = b.n;
        trim(&s, &n);
        *content = strndup(s, n);
        if (!*content) {
            json_decref(arr);
            free(b.d);
            return hearth_fail(err, HEARTH_ERR_NOMEM, "tool calls: out of memory");
        }
    }
    free(b.d);
    *calls = arr;
    return HEARTH_OK;
}
