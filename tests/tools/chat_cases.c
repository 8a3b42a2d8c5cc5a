/* chat_cases — splits a reference/chat-<vocab>.json into files a shell test can feed to
 * `hearth template`: for case N, N.json ({"messages", "tools"}), N.flags (the command line
 * options its variables imply) and either N.want (the reference rendering, exact bytes) or
 * N.err (the error the template raises).
 *
 * usage: chat_cases FIXTURE.json OUTDIR   (prints the number of cases) */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_file(const char *dir, size_t i, const char *ext, const char *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%zu.%s", dir, i, ext);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "chat_cases: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: chat_cases FIXTURE.json OUTDIR\n");
        return 2;
    }
    json_error_t je;
    json_t *root = json_load_file(argv[1], 0, &je);
    json_t *cases = json_object_get(root, "cases");
    if (!json_is_array(cases)) {
        fprintf(stderr, "chat_cases: %s: no \"cases\" array (%s)\n", argv[1], root ? "" : je.text);
        return 1;
    }
    size_t i;
    json_t *c;
    int rc = 0;
    json_array_foreach(cases, i, c) {
        json_t *vars = json_object_get(c, "variables");
        json_t *in = json_object();
        json_object_set(in, "messages", json_object_get(vars, "messages"));
        if (json_object_get(vars, "tools")) json_object_set(in, "tools", json_object_get(vars, "tools"));
        char *text = json_dumps(in, JSON_INDENT(1));
        rc |= write_file(argv[2], i, "json", text, strlen(text));
        free(text);
        json_decref(in);
        char flags[128] = "";
        if (json_is_true(json_object_get(vars, "add_generation_prompt")))
            strcat(flags, "--add-generation-prompt ");
        json_t *think = json_object_get(vars, "enable_thinking");
        if (think) strcat(flags, json_is_true(think) ? "--think " : "--no-think ");
        rc |= write_file(argv[2], i, "flags", flags, strlen(flags));
        json_t *want = json_object_get(c, "rendered"), *err = json_object_get(c, "error");
        if (json_is_string(err))
            rc |= write_file(argv[2], i, "err", json_string_value(err), json_string_length(err));
        else
            rc |= write_file(argv[2], i, "want", json_string_value(want), json_string_length(want));
    }
    printf("%zu\n", json_array_size(cases));
    json_decref(root);
    return rc;
}
