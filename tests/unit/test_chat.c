/* test_chat.c — chat templates against the reference renderer, byte for byte (every case of
 * reference/chat-<vocab>.json, through the engine and through the chat API, with the
 * template as stored in each vocab GGUF), message validation, the ChatML fallback, and
 * tool-call parsing of good and garbage model output. */
#include "testutil.h"

#include "chat/chat.h"
#include "chat/jinja.h"
#include "gguf/gguf.h"

static const char *const VOCABS[] = {"llama3", "qwen3", "gemma3"};

static json_t *load_fixture(const char *vocab)
{
    char rel[64];
    snprintf(rel, sizeof rel, "reference/chat-%s.json", vocab);
    json_error_t je;
    json_t *root = json_load_file(fixture_path(rel), 0, &je);
    if (!root) fail_msg("%s: %s", rel, je.text);
    return root;
}

/* Renders every case with `tmpl`; through the engine directly (variables as given) and
 * through chat_render (variables rebuilt from the chat options). Returns cases checked. */
static int check_cases(const char *vocab, const char *tmpl, const json_t *cases)
{
    size_t i;
    const json_t *c;
    int checked = 0;
    json_array_foreach(cases, i, c) {
        const json_t *vars = json_object_get(c, "variables");
        const json_t *want = json_object_get(c, "rendered");
        const char *want_err = json_string_value(json_object_get(c, "error"));
        for (int path = 0; path < 2; path++) {
            char *out = NULL;
            size_t n = 0;
            hearth_error err = {0};
            hearth_status st;
            if (path == 0) {
                st = jinja_render_text(tmpl, strlen(tmpl), vars, NULL, &out, &n, &err);
            } else {
                const json_t *think = json_object_get(vars, "enable_thinking");
                chat_render_opts o = {
                    .add_generation_prompt = json_is_true(json_object_get(vars, "add_generation_prompt")),
                    .enable_thinking = think ? json_is_true(think) : -1,
                    .bos_token = json_string_value(json_object_get(vars, "bos_token")),
                    .eos_token = json_string_value(json_object_get(vars, "eos_token")),
                    .tools = json_object_get(vars, "tools"),
                };
                st = chat_render(tmpl, json_object_get(vars, "messages"), &o, &out, &n, &err);
            }
            if (want_err) {
                if (st == HEARTH_OK) fail_msg("%s case %zu: expected error '%s', rendered", vocab, i, want_err);
                if (!strstr(err.message, want_err))
                    fail_msg("%s case %zu: error '%s' does not carry '%s'", vocab, i, err.message, want_err);
            } else {
                if (st != HEARTH_OK) fail_msg("%s case %zu (path %d): %s", vocab, i, path, err.message);
                if (n != json_string_length(want) || memcmp(out, json_string_value(want), n))
                    fail_msg("%s case %zu (path %d): rendered\n[%s]\nwant\n[%s]", vocab, i, path, out,
                             json_string_value(want));
            }
            free(out);
            checked++;
        }
    }
    return checked;
}

static void test_reference_cases(void **state)
{
    (void)state;
    int total = 0;
    for (size_t v = 0; v < sizeof VOCABS / sizeof VOCABS[0]; v++) {
        json_t *root = load_fixture(VOCABS[v]);
        total += check_cases(VOCABS[v], json_string_value(json_object_get(root, "template")),
                             json_object_get(root, "cases"));
        json_decref(root);
    }
    assert_true(total >= 2 * 36);
}

/* The template stored in each vocab GGUF is the one the references were made with. */
static void test_vocab_gguf_templates(void **state)
{
    (void)state;
    int with_template = 0;
    for (size_t v = 0; v < sizeof VOCABS / sizeof VOCABS[0]; v++) {
        char rel[64];
        snprintf(rel, sizeof rel, "vocab/%s.gguf", VOCABS[v]);
        hearth_gguf *g = NULL;
        hearth_error err = {0};
        if (hearth_gguf_open(fixture_path(rel), &g, &err)) fail_msg("%s: %s", rel, err.message);
        const char *tmpl = NULL;
        if (hearth_gguf_get_str(g, "tokenizer.chat_template", &tmpl, &err) == HEARTH_OK) {
            json_t *root = load_fixture(VOCABS[v]);
            assert_string_equal(tmpl, json_string_value(json_object_get(root, "template")));
            check_cases(VOCABS[v], tmpl, json_object_get(root, "cases"));
            json_decref(root);
            with_template++;
        }
        hearth_gguf_close(g);
    }
    assert_int_equal(with_template, 3);
    /* mistral and bert carry none: callers fall back to ChatML */
    static const char *const bare[] = {"vocab/mistral.gguf", "vocab/bert.gguf"};
    for (size_t i = 0; i < 2; i++) {
        hearth_gguf *g = NULL;
        hearth_error err = {0};
        assert_int_equal(hearth_gguf_open(fixture_path(bare[i]), &g, &err), HEARTH_OK);
        assert_null(hearth_gguf_get(g, "tokenizer.chat_template"));
        hearth_gguf_close(g);
    }
}

/* Templates of other model families (Llama 3.1 with tools, Mistral, Phi-3, DeepSeek-R1,
 * Hermes 2 Pro, Gemma 2, ...) against Python Jinja2 as transformers configures it:
 * tests/data/chat/expected.json, written by tests/data/chat/make_expected.py. */
static void test_template_corpus(void **state)
{
    (void)state;
    json_error_t je;
    json_t *exp = json_load_file("tests/data/chat/expected.json", 0, &je);
    json_t *convs = json_load_file("tests/data/chat/conversations.json", 0, &je);
    if (!exp || !convs) fail_msg("tests/data/chat: %s (run from the repository root)", je.text);
    size_t i;
    json_t *c;
    int rendered = 0, raised = 0, failed = 0;
    json_array_foreach(json_object_get(exp, "cases"), i, c) {
        char path[256], *tmpl = NULL;
        snprintf(path, sizeof path, "tests/data/chat/%s", json_string_value(json_object_get(c, "template")));
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        tmpl = calloc(1, 1 << 16);
        size_t n = fread(tmpl, 1, (1 << 16) - 1, f);
        fclose(f);
        tmpl[n] = 0;
        json_t *vars = json_deep_copy(json_object_get(convs, json_string_value(json_object_get(c, "conversation"))));
        json_object_set(vars, "bos_token", json_object_get(exp, "bos_token"));
        json_object_set(vars, "eos_token", json_object_get(exp, "eos_token"));
        json_object_set(vars, "add_generation_prompt", json_object_get(c, "add_generation_prompt"));
        char *out = NULL;
        size_t len = 0;
        hearth_error err = {0};
        hearth_status st = jinja_render_text(tmpl, n, vars, NULL, &out, &len, &err);
        const char *want = json_string_value(json_object_get(c, "rendered"));
        const char *want_raise = json_string_value(json_object_get(c, "raised"));
        const char *what = json_string_value(json_object_get(c, "conversation"));
        if (want) {
            if (st) fail_msg("%s / %s: %s", path, what, err.message);
            if (len != strlen(want) || memcmp(out, want, len))
                fail_msg("%s / %s (agp %d):\n got [%s]\nwant [%s]", path, what,
                         json_is_true(json_object_get(c, "add_generation_prompt")), out, want);
            rendered++;
        } else {
            if (!st) fail_msg("%s / %s: expected an error, rendered [%s]", path, what, out);
            if (want_raise && !strstr(err.message, want_raise))
                fail_msg("%s / %s: error '%s' lacks '%s'", path, what, err.message, want_raise);
            want_raise ? raised++ : failed++;
        }
        free(out);
        free(tmpl);
        json_decref(vars);
    }
    assert_true(rendered >= 130);
    assert_true(raised >= 20);
    assert_true(failed >= 10);
    json_decref(exp);
    json_decref(convs);
}

/* Conversations of the wrong shapes (content of every JSON type, odd roles, tool calls that
 * are not what templates expect) through every real template: output or a clean error. */
static void test_hostile_conversations(void **state)
{
    (void)state;
    static const char *const values[] = {"\"text\"", "null", "7", "2.5", "true", "[]", "{}",
                                         "[{\"type\":\"text\",\"text\":\"x\"}]", "\"\"", "[1,[2]]",
                                         "{\"content\":\"deep\"}", "\"</think>tail\""};
    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    const char *tmpls[4];
    json_t *roots[3];
    size_t nt = 0;
    for (size_t v = 0; v < 3; v++) {
        roots[v] = load_fixture(VOCABS[v]);
        tmpls[nt++] = json_string_value(json_object_get(roots[v], "template"));
    }
    tmpls[nt++] = CHAT_TEMPLATE_CHATML;
    uint32_t seed = 99;
    int ok = 0, errors = 0;
    for (int iter = 0; iter < 300; iter++) {
        json_t *msgs = json_array();
        int n = (int)((seed = seed * 1664525u + 1013904223u) >> 16) % 6;
        for (int k = 0; k < n; k++) {
            seed = seed * 1664525u + 1013904223u;
            json_t *m = json_object();
            json_object_set_new(m, "role", json_string(roles[(seed >> 8) % 4]));
            json_object_set_new(m, "content", json_loads(values[(seed >> 16) % 12], JSON_DECODE_ANY, NULL));
            if ((seed >> 24) % 4 == 0)
                json_object_set_new(m, "tool_calls", json_loads("[{\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]", 0, NULL));
            if ((seed >> 26) % 3 == 0)
                json_object_set_new(m, "reasoning_content", json_loads(values[(seed >> 4) % 12], JSON_DECODE_ANY, NULL));
            json_array_append_new(msgs, m);
        }
        for (size_t t = 0; t < nt; t++) {
            chat_render_opts o = {.add_generation_prompt = iter & 1, .enable_thinking = iter % 3 - 1};
            char *out = NULL;
            hearth_error err = {0};
            if (chat_render(tmpls[t], msgs, &o, &out, NULL, &err) == HEARTH_OK) {
                assert_non_null(out);
                ok++;
            } else {
                assert_null(out);
                assert_true(err.message[0] != 0);
                errors++;
            }
            free(out);
        }
        json_decref(msgs);
    }
    assert_true(ok > 0 && errors > 0);
    for (size_t v = 0; v < 3; v++) json_decref(roots[v]);
}

static void test_chatml_fallback(void **state)
{
    (void)state;
    json_error_t je;
    json_t *msgs = json_loads(
        "[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"U\"},"
        "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":{\"a\":1}}}]},"
        "{\"role\":\"tool\",\"content\":\"R\"}]", 0, &je);
    assert_non_null(msgs);
    chat_render_opts o = {.add_generation_prompt = true, .enable_thinking = -1};
    char *out;
    hearth_error err = {0};
    assert_int_equal(chat_render(CHAT_TEMPLATE_CHATML, msgs, &o, &out, NULL, &err), HEARTH_OK);
    assert_string_equal(out, "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n"
                             "<|im_start|>assistant\n<tool_call>\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n"
                             "</tool_call><|im_end|>\n<|im_start|>tool\nR<|im_end|>\n<|im_start|>assistant\n");
    free(out);
    json_decref(msgs);
}

/* "content": null beside tool_calls (as OpenAI clients send it) renders as "" where the
 * template cannot take null, and stays null where it can. */
static void test_null_content(void **state)
{
    (void)state;
    json_t *root = load_fixture("qwen3");
    const char *qwen = json_string_value(json_object_get(root, "template"));
    json_t *msgs = json_loads("[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":null,"
                              "\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]}]",
                              0, NULL);
    chat_render_opts o = {.enable_thinking = -1};
    char *out;
    hearth_error err = {0};
    assert_int_equal(chat_render(qwen, msgs, &o, &out, NULL, &err), HEARTH_OK);
    assert_non_null(strstr(out, "</think>\n\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>"));
    free(out);
    assert_int_equal(chat_render("{{ messages[1].content is none }}", msgs, &o, &out, NULL, &err), HEARTH_OK);
    assert_string_equal(out, "True");
    free(out);
    /* a template's own exception is not retried away */
    assert_int_equal(chat_render("{% if messages[1].content is none %}{{ raise_exception('no') }}{% endif %}",
                                 msgs, &o, &out, NULL, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "raise_exception: no"));
    json_decref(msgs);
    json_decref(root);
}

static void expect_invalid(const char *messages_json, const char *tools_json, const char *want)
{
    json_error_t je;
    json_t *msgs = json_loads(messages_json, JSON_DECODE_ANY, &je);
    json_t *tools = tools_json ? json_loads(tools_json, JSON_DECODE_ANY, &je) : NULL;
    assert_non_null(msgs);
    chat_render_opts o = {.enable_thinking = -1, .tools = tools};
    char *out = (char *)"unchanged";
    hearth_error err = {0};
    assert_int_equal(chat_render(CHAT_TEMPLATE_CHATML, msgs, &o, &out, NULL, &err), HEARTH_ERR_FORMAT);
    assert_null(out);
    if (!strstr(err.message, want)) fail_msg("error '%s' lacks '%s'", err.message, want);
    json_decref(msgs);
    json_decref(tools);
}

static void test_message_validation(void **state)
{
    (void)state;
    expect_invalid("{\"role\":\"user\"}", NULL, "messages: expected a JSON array");
    expect_invalid("[\"hi\"]", NULL, "messages[0]: expected an object");
    expect_invalid("[{\"content\":\"x\"}]", NULL, "messages[0]: expected a string \"role\"");
    expect_invalid("[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"robot\",\"content\":\"x\"}]", NULL,
                   "messages[1].role: expected system, user, assistant or tool, found 'robot'");
    expect_invalid("[{\"role\":\"user\",\"content\":5}]", NULL, "messages[0].content");
    expect_invalid("[{\"role\":\"assistant\",\"tool_calls\":{}}]", NULL, "messages[0].tool_calls: expected an array");
    expect_invalid("[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":{}}}]}]", NULL,
                   "messages[0].tool_calls[0]: expected a string \"name\"");
    expect_invalid("[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":{\"name\":\"f\",\"arguments\":3}}]}]", NULL,
                   "messages[0].tool_calls[0].arguments");
    expect_invalid("[]", "{\"a\":1}", "tools: expected a JSON array");
    expect_invalid("[]", "[{\"type\":\"function\",\"function\":{}}]", "tools[0]: expected a function");
    /* a template error is wrapped with its origin */
    json_t *msgs = json_loads("[]", 0, NULL);
    char *out;
    hearth_error err = {0};
    assert_int_equal(chat_render("{{ messages[0]['content'] }}", msgs, NULL, &out, NULL, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "chat template: template line 1, col"));
    json_decref(msgs);
}

/* ---- tool calls ----------------------------------------------------------------------- */

static void expect_calls(const char *text, chat_tool_format fmt, const char *want_calls,
                         const char *want_content)
{
    json_t *calls;
    char *content;
    hearth_error err = {0};
    hearth_status st = chat_parse_tool_calls(text, strlen(text), fmt, &calls, &content, &err);
    if (st) fail_msg("'%s': %s", text, err.message);
    char *got = json_dumps(calls, JSON_COMPACT);
    if (strcmp(got, want_calls)) fail_msg("'%s':\n got calls %s\nwant calls %s", text, got, want_calls);
    if (strcmp(content, want_content)) fail_msg("'%s':\n got content [%s]\nwant [%s]", text, content, want_content);
    free(got);
    free(content);
    json_decref(calls);
}

static void expect_call_error(const char *text, const char *want)
{
    json_t *calls = NULL;
    char *content = NULL;
    hearth_error err = {0};
    assert_int_equal(chat_parse_tool_calls(text, strlen(text), CHAT_TOOLS_AUTO, &calls, &content, &err),
                     HEARTH_ERR_FORMAT);
    assert_null(calls);
    assert_null(content);
    if (!strstr(err.message, want)) fail_msg("'%s': error '%s' lacks '%s'", text, err.message, want);
}

static void test_tool_calls_hermes(void **state)
{
    (void)state;
    expect_calls("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
                 CHAT_TOOLS_AUTO, "[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}]", "");
    expect_calls("Let me check.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n</tool_call>\n"
                 "<tool_call>{\"name\": \"b\", \"arguments\": \"{\\\"x\\\": [1, 2]}\"}</tool_call>",
                 CHAT_TOOLS_HERMES, "[{\"name\":\"a\",\"arguments\":{}},{\"name\":\"b\",\"arguments\":{\"x\":[1,2]}}]",
                 "Let me check.");
    expect_calls("<think>\nhmm\n</think>\n\n<tool_call>\n{\"name\": \"f\"}\n</tool_call>", CHAT_TOOLS_AUTO,
                 "[{\"name\":\"f\",\"arguments\":{}}]", "<think>\nhmm\n</think>");
    /* a reply cut off before </tool_call> still yields a complete call */
    expect_calls("<tool_call>\n{\"name\": \"f\", \"arguments\": {\"q\": 1}}\n", CHAT_TOOLS_AUTO,
                 "[{\"name\":\"f\",\"arguments\":{\"q\":1}}]", "");
    expect_calls("No tools needed: the answer is 4.", CHAT_TOOLS_HERMES, "[]", "No tools needed: the answer is 4.");
    expect_calls("", CHAT_TOOLS_AUTO, "[]", "");
    expect_call_error("<tool_call>{\"name\": \"f\", \"arguments\": {</tool_call>", "tool call 1: invalid JSON");
    expect_call_error("<tool_call>{\"name\": \"f\"}</tool_call><tool_call>not json</tool_call>",
                      "tool call 2: invalid JSON");
    expect_call_error("<tool_call>[1, 2]</tool_call>", "tool call 1: not a JSON object");
    expect_call_error("<tool_call>{\"arguments\": {}}</tool_call>", "tool call 1: no string \"name\"");
    expect_call_error("<tool_call>{\"name\": 7}</tool_call>", "no string \"name\"");
    expect_call_error("<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>", "\"arguments\" is not an object");
    expect_call_error("<tool_call>{\"name\": \"f\", \"arguments\": \"{oops\"}</tool_call>", "is a string that is not a JSON object");
    expect_call_error("<tool_call>", "tool call 1: invalid JSON");
}

static void test_tool_calls_llama3(void **state)
{
    (void)state;
    expect_calls("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", CHAT_TOOLS_AUTO,
                 "[{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}]", "");
    expect_calls("<|python_tag|>{\"name\": \"f\", \"parameters\": {}}<|eom_id|>", CHAT_TOOLS_LLAMA3,
                 "[{\"name\":\"f\",\"arguments\":{}}]", "");
    expect_calls("  {\"name\": \"a\", \"parameters\": {\"x\": 1}}; {\"name\": \"b\", \"arguments\": {}}\n",
                 CHAT_TOOLS_AUTO, "[{\"name\":\"a\",\"arguments\":{\"x\":1}},{\"name\":\"b\",\"arguments\":{}}]", "");
    /* JSON that is an answer, not a call, stays content */
    expect_calls("{\"name\": \"Alice\", \"age\": 3}", CHAT_TOOLS_AUTO, "[]", "{\"name\": \"Alice\", \"age\": 3}");
    expect_calls("{\"name\": \"f\", \"parameters\": {\"x\": ", CHAT_TOOLS_AUTO, "[]", "{\"name\": \"f\", \"parameters\": {\"x\":");
    expect_calls("{{{{", CHAT_TOOLS_LLAMA3, "[]", "{{{{");
    expect_calls("Sure! {\"name\": \"f\", \"parameters\": {}}", CHAT_TOOLS_AUTO, "[]",
                 "Sure! {\"name\": \"f\", \"parameters\": {}}");
    expect_calls("{\"name\": \"f\", \"parameters\": {}} and then some text", CHAT_TOOLS_AUTO,
                 "[{\"name\":\"f\",\"arguments\":{}}]", "and then some text");
}

static void test_tool_calls_mistral(void **state)
{
    (void)state;
    expect_calls("[TOOL_CALLS][{\"name\": \"search\", \"arguments\": {\"q\": \"x\"}, \"id\": \"abcdef123\"}, "
                 "{\"name\": \"now\", \"arguments\": {}}]</s>", CHAT_TOOLS_AUTO,
                 "[{\"name\":\"search\",\"arguments\":{\"q\":\"x\"},\"id\":\"abcdef123\"},"
                 "{\"name\":\"now\",\"arguments\":{}}]", "</s>");
    expect_calls("Checking. [TOOL_CALLS] [{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}]", CHAT_TOOLS_MISTRAL,
                 "[{\"name\":\"f\",\"arguments\":{\"a\":1}}]", "Checking.");
    expect_calls("plain answer", CHAT_TOOLS_MISTRAL, "[]", "plain answer");
    expect_call_error("[TOOL_CALLS]{\"name\": \"f\"}", "[TOOL_CALLS]: expected a JSON array");
    expect_call_error("[TOOL_CALLS][{\"name\": \"f\", ", "[TOOL_CALLS]: expected a JSON array");
    expect_call_error("[TOOL_CALLS][{\"name\": \"f\"}, {\"x\": 1}]", "tool call 2: no string \"name\"");
}

/* Garbage in: random bytes with tag fragments never crash and always end. */
static void test_tool_calls_fuzz(void **state)
{
    (void)state;
    static const char *const bits[] = {"<tool_call>", "</tool_call>", "[TOOL_CALLS]", "{", "}", "\"name\"", ":", "\"f\"",
                                       ",", "\"arguments\"", "[", "]", "<|python_tag|>", ";", " ",
                                       "\\", "\"", "\xff", "null", "1e999", "\n"};
    uint32_t seed = 7;
    char buf[300];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 0;
        for (int k = 0; k < 20; k++) {
            seed = seed * 1664525u + 1013904223u;
            const char *b = bits[(seed >> 16) % (sizeof bits / sizeof bits[0])];
            if (n + strlen(b) >= sizeof buf) break;
            memcpy(buf + n, b, strlen(b));
            n += strlen(b);
        }
        json_t *calls = NULL;
        char *content = NULL;
        hearth_error err = {0};
        hearth_status st = chat_parse_tool_calls(buf, n, CHAT_TOOLS_AUTO, &calls, &content, &err);
        if (st == HEARTH_OK) {
            assert_true(json_is_array(calls));
            assert_non_null(content);
        } else {
            assert_null(calls);
            assert_true(err.message[0] != 0);
        }
        json_decref(calls);
        free(content);
    }
}

/* What the Qwen3 template writes for an assistant's tool call parses back to the same call. */
static void test_tool_call_round_trip(void **state)
{
    (void)state;
    json_t *root = load_fixture("qwen3");
    const char *tmpl = json_string_value(json_object_get(root, "template"));
    json_t *msgs = json_loads("[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"\","
                              "\"tool_calls\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup\","
                              "\"arguments\":{\"term\":\"caf\\u00e9\",\"n\":[1,2.5,null]}}}]}]", 0, NULL);
    char *out;
    hearth_error err = {0};
    chat_render_opts o = {.enable_thinking = -1};
    assert_int_equal(chat_render(tmpl, msgs, &o, &out, NULL, &err), HEARTH_OK);
    const char *turn = strstr(out, "<|im_start|>assistant\n");
    assert_non_null(turn);
    json_t *calls;
    assert_int_equal(chat_parse_tool_calls(turn, strlen(turn), CHAT_TOOLS_AUTO, &calls, NULL, &err), HEARTH_OK);
    assert_int_equal(json_array_size(calls), 1);
    json_t *call = json_array_get(json_object_get(json_array_get(msgs, 1), "tool_calls"), 0);
    json_t *want = json_object_get(json_object_get(call, "function"), "arguments");
    assert_true(json_equal(json_object_get(json_array_get(calls, 0), "arguments"), want));
    assert_string_equal(json_string_value(json_object_get(json_array_get(calls, 0), "name")), "lookup");
    json_decref(calls);
    free(out);
    json_decref(msgs);
    json_decref(root);
}

/* The public entry with a template override (no model), both input shapes, and bad input. */
static void test_public_api(void **state)
{
    (void)state;
    hearth_chat_options o = hearth_chat_default_options();
    assert_true(o.add_generation_prompt);
    o.template_text = "{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}"
                      "{% if tools %}T{{ tools | length }}{% endif %}{% if add_generation_prompt %}>{% endif %}";
    char *out;
    hearth_error err = {0};
    assert_int_equal(hearth_chat_render(NULL, "[{\"role\":\"user\",\"content\":\"hi\"}]", &o, &out, &err), HEARTH_OK);
    assert_string_equal(out, "user:hi;>");
    free(out);
    o.add_generation_prompt = false;
    assert_int_equal(hearth_chat_render(NULL, "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],"
                                              "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}",
                                        &o, &out, &err), HEARTH_OK);
    assert_string_equal(out, "user:a;T1");
    free(out);
    assert_int_equal(hearth_chat_render(NULL, "[{\"role\":", &o, &out, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "messages: invalid JSON"));
    assert_int_equal(hearth_chat_render(NULL, "{\"msgs\":[]}", &o, &out, &err), HEARTH_ERR_FORMAT);
    o.tools_json = "[";
    assert_int_equal(hearth_chat_render(NULL, "[]", &o, &out, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "tools: invalid JSON"));
    o.tools_json = NULL;
    o.template_text = "{{ date_string }}|{{ messages | length }}|{{ add_generation_prompt }}";
    o.vars_json = "{\"date_string\": \"26 Jul 2024\", \"messages\": [], \"add_generation_prompt\": true}";
    assert_int_equal(hearth_chat_render(NULL, "[{\"role\":\"user\",\"content\":\"a\"}]", &o, &out, &err), HEARTH_OK);
    assert_string_equal(out, "26 Jul 2024|1|False"); /* extra variables never replace the chat's */
    free(out);
    o.vars_json = "[1]";
    assert_int_equal(hearth_chat_render(NULL, "[]", &o, &out, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "template variables: expected a JSON object"));
    o.vars_json = "{";
    assert_int_equal(hearth_chat_render(NULL, "[]", &o, &out, &err), HEARTH_ERR_FORMAT);
    assert_non_null(strstr(err.message, "template variables: invalid JSON"));
    o.vars_json = NULL;
    o.template_text = NULL;
    assert_int_equal(hearth_chat_render(NULL, "[]", &o, &out, &err), HEARTH_ERR_INVALID_ARG);

    char *calls, *content;
    const char *reply = "ok <tool_call>{\"name\":\"f\",\"arguments\":{\"a\":\"\\u00e9\"}}</tool_call>";
    assert_int_equal(hearth_chat_parse_tool_calls(reply, strlen(reply), &calls, &content, &err), HEARTH_OK);
    assert_string_equal(calls, "[{\"name\":\"f\",\"arguments\":{\"a\":\"\xc3\xa9\"}}]");
    assert_string_equal(content, "ok");
    free(calls);
    free(content);
    assert_int_equal(hearth_chat_parse_tool_calls("<tool_call>x", 12, &calls, NULL, &err), HEARTH_ERR_FORMAT);
    assert_null(calls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_cases),
        cmocka_unit_test(test_vocab_gguf_templates),
        cmocka_unit_test(test_template_corpus),
        cmocka_unit_test(test_hostile_conversations),
        cmocka_unit_test(test_chatml_fallback),
        cmocka_unit_test(test_null_content),
        cmocka_unit_test(test_message_validation),
        cmocka_unit_test(test_tool_calls_hermes),
        cmocka_unit_test(test_tool_calls_llama3),
        cmocka_unit_test(test_tool_calls_mistral),
        cmocka_unit_test(test_tool_calls_fuzz),
        cmocka_unit_test(test_tool_call_round_trip),
        cmocka_unit_test(test_public_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
