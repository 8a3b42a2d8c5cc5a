/* cmd_template.c — `hearth template MODEL MESSAGES.json`: the exact prompt text a model's chat
 * template makes of a conversation, with nothing added (not even a final newline). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *template_help =
    "usage: hearth template MODEL MESSAGES.json [options]\n"
    "       hearth template --template-file FILE MESSAGES.json [options]\n"
    "\n"
    "Renders a conversation with the model's chat template (tokenizer.chat_template, a Jinja\n"
    "program) and prints the prompt exactly as the model will see it: no newline is added.\n"
    "A model without a template gets ChatML, with a warning on stderr. Only the tokenizer and\n"
    "metadata are read, never the weights.\n"
    "\n"
    "MESSAGES.json ('-' for stdin) is a JSON array of messages, or an object with \"messages\"\n"
    "(and optionally \"tools\"). A message is\n"
    "  {\"role\": \"system\" | \"user\" | \"assistant\" | \"tool\", \"content\": \"...\",\n"
    "   \"tool_calls\": [{\"type\": \"function\", \"function\": {\"name\": \"...\", \"arguments\": {...}}}],\n"
    "   \"tool_call_id\": \"...\", \"name\": \"...\"}\n"
    "\n"
    "options:\n"
    "  --add-generation-prompt  end with the opening of an assistant turn, ready for generation\n"
    "  --tools FILE             JSON array of tool definitions ({\"type\": \"function\",\n"
    "                           \"function\": {\"name\", \"description\", \"parameters\"}})\n"
    "  --no-think               pass enable_thinking=false (Qwen3: an empty <think> block)\n"
    "  --think                  pass enable_thinking=true\n"
    "  --vars JSON              further template variables as a JSON object, e.g.\n"
    "                           '{\"date_string\": \"26 Jul 2024\"}' (the ones above win)\n"
    "  --template-file FILE     render this Jinja template instead of a model's (then MODEL\n"
    "                           is optional; bos/eos tokens are empty)\n"
    "  --json                   print {\"prompt\": \"...\"} and a newline instead\n"
    "  --help                   this text\n"
    "\n"
    "exit status: 0 on success, 1 if the model, the messages or the template fail (the\n"
    "message names the field, or the template line and column), 2 on a usage error.\n"
    "\n"
    "example:\n"
    "  hearth template qwen3.gguf chat.json --add-generation-prompt --no-think\n";

/* A whole file ('-': stdin) as a NUL-terminated string; NULL with err filled on failure. */
static char *read_input(const char *path, hearth_error *err)
{
    bool is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        err->status = HEARTH_ERR_IO;
        snprintf(err->message, sizeof err->message, "%s: cannot open", path);
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (cap - n < 2) {
            char *b2 = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);
            if (!b2) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b2;
            cap *= 2;
        }
    }
    bool failed = ferror(f);
    if (!is_stdin) fclose(f);
    if (!buf || failed) {
        free(buf);
        err->status = HEARTH_ERR_IO;
        snprintf(err->message, sizeof err->message, "%s: %s", path,
                 failed ? "read error" : "larger than 128 MiB");
        return NULL;
    }
    buf[n] = 0;
    return buf;
}

int cmd_template(int argc, char **argv)
{
    const char *pos[2] = {NULL, NULL}, *tools_path = NULL, *tmpl_path = NULL;
    int npos = 0;
    bool json_out = false;
    hearth_chat_options opt = hearth_chat_default_options();
    opt.add_generation_prompt = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(template_help, stdout);
            return 0;
        } else if (!strcmp(a, "--add-generation-prompt")) {
            opt.add_generation_prompt = true;
        } else if (!strcmp(a, "--no-think")) {
            opt.enable_thinking = 0;
        } else if (!strcmp(a, "--think")) {
            opt.enable_thinking = 1;
        } else if (!strcmp(a, "--json")) {
            json_out = true;
        } else if (!strcmp(a, "--vars")) {
            if (i + 1 >= argc) return cli_usage_error("template", "--vars needs a JSON object");
            opt.vars_json = argv[++i];
        } else if (!strcmp(a, "--tools") || !strcmp(a, "--template-file")) {
            if (i + 1 >= argc) return cli_usage_error("template", "%s needs a file", a);
            if (a[2] == 't' && a[3] == 'o') tools_path = argv[++i];
            else tmpl_path = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("template", "unknown option '%s'", a);
        } else if (npos < 2) {
            pos[npos++] = a;
        } else {
            return cli_usage_error("template", "unexpected argument '%s'", a);
        }
    }
    const char *model_path = npos == 2 ? pos[0] : NULL;
    const char *msgs_path = npos == 2 ? pos[1] : pos[0];
    if (!msgs_path || (!model_path && !tmpl_path))
        return cli_usage_error("template", "expected MODEL and MESSAGES.json");

    hearth_error err = {0};
    char *msgs = NULL, *tools = NULL, *tmpl = NULL, *out = NULL;
    hearth_model *model = NULL;
    int rc = 1;
    if (!(msgs = read_input(msgs_path, &err))) {
        cli_fail("template", "%s", err.message);
        goto done;
    }
    if (tools_path && !(tools = read_input(tools_path, &err))) {
        cli_fail("template", "%s", err.message);
        goto done;
    }
    if (tmpl_path && !(tmpl = read_input(tmpl_path, &err))) {
        cli_fail("template", "%s", err.message);
        goto done;
    }
    if (model_path) {
        hearth_model_params mp = hearth_model_default_params();
        mp.vocab_only = true;
        if (!(model = hearth_model_load(model_path, &mp, &err))) {
            cli_fail("template", "%s", err.message);
            goto done;
        }
    }
    opt.tools_json = tools;
    opt.template_text = tmpl;
    if (hearth_chat_render(model, msgs, &opt, &out, &err)) {
        cli_fail("template", "%s", err.message);
        goto done;
    }
    if (json_out) {
        json_t *o = json_pack("{s:s}", "prompt", out);
        char *s = o ? json_dumps(o, JSON_ENSURE_ASCII) : NULL;
        if (s) printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        fwrite(out, 1, strlen(out), stdout);
    }
    rc = fflush(stdout) ? cli_fail("template", "cannot write the output") : 0;
done:
    free(out);
    free(msgs);
    free(tools);
    free(tmpl);
    hearth_model_free(model);
    return rc;
}
