/*
 * chat — turning a conversation into the exact prompt text a model was trained on, and the
 * model's reply back into structured tool calls.
 *
 * Messages are JSON in the shape Hugging Face and OpenAI use:
 *   {"role": "system"|"user"|"assistant"|"tool", "content": "..." | null | [parts...],
 *    "tool_calls": [{"id": "...", "type": "function",
 *                    "function": {"name": "...", "arguments": {...} | "json text"}}],
 *    "tool_call_id": "...", "name": "..."}
 * Tools are the OpenAI list: [{"type": "function", "function": {"name", "description",
 * "parameters"}}]. The template engine is chat/jinja.h.
 */
#ifndef HEARTH_CHAT_H
#define HEARTH_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hearth.h"

typedef struct chat_render_opts {
    bool add_generation_prompt;
    int enable_thinking;      /* -1: not passed (template default), 0: false, 1: true */
    const char *bos_token;    /* NULL = "" */
    const char *eos_token;    /* NULL = "" */
    const json_t *tools;      /* JSON array, or NULL: not passed */
    int64_t now;              /* clock for strftime_now (0 = real time) */
    const json_t *extra;      /* JSON object of further variables, or NULL (never replaces
                                 messages/tools/add_generation_prompt/... above) */
} chat_render_opts;

/* The template a model without tokenizer.chat_template gets (ChatML, as llama.cpp and
 * Ollama fall back to). */
extern const char CHAT_TEMPLATE_CHATML[];

/* Checks messages (an array of message objects, see above) and tools; the error names the
 * message index and field. */
hearth_status chat_validate(const json_t *messages, const json_t *tools, hearth_error *err);

/* The variables a template sees: messages, tools, add_generation_prompt, enable_thinking,
 * bos_token, eos_token, then o->extra's. Returns a new reference. */
json_t *chat_variables(const json_t *messages, const chat_render_opts *o);

/* Validates, builds the variables and renders. *out is malloc'd (free() it). */
hearth_status chat_render(const char *template_text, const json_t *messages,
                          const chat_render_opts *o, char **out, size_t *out_len,
                          hearth_error *err);

/* ---- tool calls in model output ------------------------------------------------------- */

typedef enum chat_tool_format {
    CHAT_TOOLS_AUTO = 0, /* Hermes if "<tool_call>" appears, Mistral if "[TOOL_CALLS]" does,
                            else Llama 3 JSON if the reply is one */
    CHAT_TOOLS_HERMES,   /* Qwen 2.5/3, Hermes: <tool_call>{"name":..,"arguments":..}</tool_call> */
    CHAT_TOOLS_LLAMA3,   /* Llama 3.x: [<|python_tag|>]{"name":..,"parameters":..}[; {...}]  */
    CHAT_TOOLS_MISTRAL   /* Mistral: [TOOL_CALLS][{"name":..,"arguments":..,"id":..}, ...]      */
} chat_tool_format;

/* Parses a reply. *calls receives a new JSON array of {"name": str, "arguments": object}
 * (empty when the reply holds no tool call); *content (may be NULL) a malloc'd copy of the
 * text outside the calls, trimmed. A <tool_call> block that is not a JSON object with a
 * string "name" is an error (HEARTH_ERR_FORMAT naming the block), never a crash. */
hearth_status chat_parse_tool_calls(const char *text, size_t len, chat_tool_format fmt,
                                    json_t **calls, char **content, hearth_error *err);

#endif
