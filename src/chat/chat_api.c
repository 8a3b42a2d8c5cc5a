/* chat_api.c — the public chat entry points of include/hearth.h: a model's template and
 * special tokens plus a JSON conversation in, the prompt text out; a reply in, tool calls out. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "chat/chat.h"
#include "model/model.h"

hearth_chat_options hearth_chat_default_options(void)
{
    hearth_chat_options o = {.add_generation_prompt = true, .enable_thinking = -1};
    return o;
}

/* The text of the token whose id is stored under `key`, or "" (as transformers passes an
 * empty string for a token the tokenizer does not have). */
static const char *special_token(const hearth_model *model, const char *key)
{
    const hearth_gguf *g = model ? hearth_model_gguf(model) : NULL;
    const hearth_gguf_value *id = g ? hearth_gguf_get(g, key) : NULL;
    const hearth_gguf_value *toks = g ? hearth_gguf_get(g, "tokenizer.ggml.tokens") : NULL;
    if (!id || !toks || toks->type != HEARTH_GGUF_ARRAY || toks->v.arr.type != HEARTH_GGUF_STRING)
        return "";
    uint64_t i;
    switch (id->type) {
    case HEARTH_GGUF_UINT8: case HEARTH_GGUF_UINT16: case HEARTH_GGUF_UINT32: case HEARTH_GGUF_UINT64:
        i = id->v.u64;
        break;
    case HEARTH_GGUF_INT8: case HEARTH_GGUF_INT16: case HEARTH_GGUF_INT32: case HEARTH_GGUF_INT64:
        if (id->v.i64 < 0) return "";
        i = (uint64_t)id->v.i64;
        break;
    default: return "";
    }
    return i < toks->v.arr.n ? toks->v.arr.strs[i].s : "";
}

hearth_status hearth_chat_render(const hearth_model *model, const char *messages_json,
                                 const hearth_chat_options *opt, char **out, hearth_error *err)
{
    *out = NULL;
    hearth_chat_options o = opt ? *opt : hearth_chat_default_options();
    if (!messages_json) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "chat: no messages");
    const char *tmpl = o.template_text;
    if (!tmpl) {
        if (!model) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "chat: no model and no template");
        hearth_model_info info;
        hearth_model_get_info(model, &info);
        tmpl = info.chat_template;
        if (!tmpl || !*tmpl) {
            hearth_warn("model has no tokenizer.chat_template; using ChatML");
            tmpl = CHAT_TEMPLATE_CHATML;
        }
    }
    json_error_t je;
    json_t *doc = json_loads(messages_json, 0, &je);
    if (!doc)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "messages: invalid JSON at line %d, column %d: %s",
                           je.line, je.column, je.text);
    json_t *messages = doc, *tools = NULL;
    if (json_is_object(doc)) {
        messages = json_object_get(doc, "messages");
        tools = json_object_get(doc, "tools");
        if (!messages) {
            json_decref(doc);
            return hearth_fail(err, HEARTH_ERR_FORMAT, "messages: expected an array or an object with \"messages\"");
        }
    }
    json_t *tools_doc = NULL;
    if (o.tools_json) {
        tools_doc = json_loads(o.tools_json, 0, &je);
        if (!tools_doc) {
            json_decref(doc);
            return hearth_fail(err, HEARTH_ERR_FORMAT, "tools: invalid JSON at line %d, column %d: %s",
                               je.line, je.column, je.text);
        }
        tools = tools_doc;
    }
    json_t *extra = NULL;
    if (o.vars_json && !(extra = json_loads(o.vars_json, 0, &je))) {
        json_decref(tools_doc);
        json_decref(doc);
        return hearth_fail(err, HEARTH_ERR_FORMAT, "template variables: invalid JSON at line %d, column %d: %s",
                           je.line, je.column, je.text);
    }
    chat_render_opts ro = {
        .add_generation_prompt = o.add_generation_prompt,
        .enable_thinking = o.enable_thinking < 0 ? -1 : o.enable_thinking != 0,
        .bos_token = special_token(model, "tokenizer.ggml.bos_token_id"),
        .eos_token = special_token(model, "tokenizer.ggml.eos_token_id"),
        .tools = tools,
        .extra = extra,
    };
    hearth_status st = chat_render(tmpl, messages, &ro, out, NULL, err);
    json_decref(extra);
    json_decref(tools_doc);
    json_decref(doc);
    return st;
}

hearth_status hearth_chat_parse_tool_calls(const char *text, size_t len, char **calls_json,
                                           char **content, hearth_error *err)
{
    *calls_json = NULL;
    json_t *calls;
    hearth_status st = chat_parse_tool_calls(text, len, CHAT_TOOLS_AUTO, &calls, content, err);
    if (st) return st;
    *calls_json = json_dumps(calls, JSON_COMPACT);
    json_decref(calls);
    if (!*calls_json) {
        if (content) {
            free(*content);
            *content = NULL;
        }
        return hearth_fail(err, HEARTH_ERR_NOMEM, "tool calls: out of memory");
    }
    return HEARTH_OK;
}
