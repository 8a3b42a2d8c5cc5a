/* chat.c — conversations to prompt text: checks the messages, builds the variables a chat
 * template expects (the names transformers' apply_chat_template passes) and renders them. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "chat/chat.h"
#include "chat/jinja.h"

const char CHAT_TEMPLATE_CHATML[] =
    "{%- for message in messages -%}\n"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "{%- if message['content'] is string -%}{{- message['content'] -}}{%- endif -%}\n"
    "{%- if message['tool_calls'] is defined and message['tool_calls'] -%}\n"
    "{%- for call in message['tool_calls'] -%}\n"
    "{{- '\\n' if (message['content'] or not loop.first) else '' -}}\n"
    "{{- '<tool_call>\\n' + (call['function'] | default(call)) | tojson + '\\n</tool_call>' -}}\n"
    "{%- endfor -%}\n"
    "{%- endif -%}\n"
    "{{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

static const char *const ROLES[] = {"system", "user", "assistant", "tool", "ipython", "developer", NULL};

static hearth_status check_tool_call(const json_t *call, size_t mi, size_t ci, hearth_error *err)
{
    if (!json_is_object(call))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "messages[%zu].tool_calls[%zu]: expected an object", mi, ci);
    const json_t *fn = json_object_get(call, "function");
    if (!fn) fn = call; /* {"name":..., "arguments":...} without the OpenAI wrapper */
    if (!json_is_object(fn))
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "messages[%zu].tool_calls[%zu].function: expected an object", mi, ci);
    if (!json_is_string(json_object_get(fn, "name")))
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "messages[%zu].tool_calls[%zu]: expected a string \"name\"", mi, ci);
    const json_t *args = json_object_get(fn, "arguments");
    if (args && !json_is_object(args) && !json_is_string(args))
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "messages[%zu].tool_calls[%zu].arguments: expected an object or a string",
                           mi, ci);
    return HEARTH_OK;
}

hearth_status chat_validate(const json_t *messages, const json_t *tools, hearth_error *err)
{
    if (!json_is_array(messages))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "messages: expected a JSON array of messages");
    size_t i;
    const json_t *m;
    json_array_foreach(messages, i, m) {
        if (!json_is_object(m))
            return hearth_fail(err, HEARTH_ERR_FORMAT, "messages[%zu]: expected an object", i);
        const json_t *role = json_object_get(m, "role");
        if (!json_is_string(role))
            return hearth_fail(err, HEARTH_ERR_FORMAT, "messages[%zu]: expected a string \"role\"", i);
        bool known = false;
        for (int r = 0; ROLES[r]; r++) known |= !strcmp(json_string_value(role), ROLES[r]);
        if (!known)
            return hearth_fail(err, HEARTH_ERR_FORMAT,
                               "messages[%zu].role: expected system, user, assistant or tool, found '%s'",
                               i, json_string_value(role));
        const json_t *content = json_object_get(m, "content");
        if (content && !json_is_string(content) && !json_is_null(content) && !json_is_array(content))
            return hearth_fail(err, HEARTH_ERR_FORMAT,
                               "messages[%zu].content: expected a string, null or a list of parts", i);
        const json_t *calls = json_object_get(m, "tool_calls");
        if (calls && !json_is_null(calls)) {
            if (!json_is_array(calls))
                return hearth_fail(err, HEARTH_ERR_FORMAT, "messages[%zu].tool_calls: expected an array", i);
            size_t k;
            const json_t *call;
            json_array_foreach(calls, k, call) {
                hearth_status st = check_tool_call(call, i, k, err);
                if (st) return st;
            }
        }
    }
    if (tools && !json_is_null(tools)) {
        if (!json_is_array(tools)) return hearth_fail(err, HEARTH_ERR_FORMAT, "tools: expected a JSON array");
        const json_t *t;
        json_array_foreach(tools, i, t) {
            if (!json_is_object(t)) return hearth_fail(err, HEARTH_ERR_FORMAT, "tools[%zu]: expected an object", i);
            const json_t *fn = json_object_get(t, "function");
            if (!fn) fn = t;
            if (!json_is_string(json_object_get(fn, "name")))
                return hearth_fail(err, HEARTH_ERR_FORMAT, "tools[%zu]: expected a function with a string \"name\"", i);
        }
    }
    return HEARTH_OK;
}

json_t *chat_variables(const json_t *messages, const chat_render_opts *o)
{
    json_t *v = json_object();
    json_object_set_new(v, "messages", json_deep_copy(messages));
    json_object_set_new(v, "bos_token", json_string(o && o->bos_token ? o->bos_token : ""));
    json_object_set_new(v, "eos_token", json_string(o && o->eos_token ? o->eos_token : ""));
    json_object_set_new(v, "add_generation_prompt", json_boolean(o && o->add_generation_prompt));
    if (o && o->tools && !json_is_null(o->tools)) json_object_set_new(v, "tools", json_deep_copy(o->tools));
    if (o && o->enable_thinking >= 0) json_object_set_new(v, "enable_thinking", json_boolean(o->enable_thinking));
    const char *key;
    json_t *val;
    if (o && json_is_object(o->extra))
        json_object_foreach((json_t *)o->extra, key, val)
            if (!json_object_get(v, key)) json_object_set(v, key, val);
    return v;
}

hearth_status chat_render(const char *template_text, const json_t *messages,
                          const chat_render_opts *o, char **out, size_t *out_len,
                          hearth_error *err)
{
    *out = NULL;
    if (!template_text) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "chat: no template");
    hearth_status st = chat_validate(messages, o ? o->tools : NULL, err);
    if (st) return st;
    if (o && o->extra && !json_is_object(o->extra))
        return hearth_fail(err, HEARTH_ERR_FORMAT, "template variables: expected a JSON object");
    jinja_options jo;
    jinja_default_options(&jo);
    if (o) jo.now = o->now;
    json_t *vars = chat_variables(messages, o);
    st = jinja_render_text(template_text, strlen(template_text), vars, &jo, out, out_len, err);
    /* OpenAI clients send "content": null beside tool_calls; many templates (Qwen's among
     * them) only handle a string there. If the template fails on that, render with "". */
    if (st && st != HEARTH_ERR_NOMEM && !strstr(err ? err->message : "", "raise_exception")) {
        bool replaced = false;
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(vars, "messages"), i, m) {
            if (json_is_null(json_object_get(m, "content"))) {
                json_object_set_new(m, "content", json_string(""));
                replaced = true;
            }
        }
        if (replaced) {
            hearth_debug("chat template failed on null content; rendering with \"\" instead");
            hearth_error retry = {0};
            if (jinja_render_text(template_text, strlen(template_text), vars, &jo, out, out_len,
                                  &retry) == HEARTH_OK) {
                st = HEARTH_OK;
                hearth_error_clear(err);
            }
        }
    }
    json_decref(vars);
    if (st) hearth_fail_wrap(err, "chat template");
    return st;
}
