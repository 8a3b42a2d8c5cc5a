/* cmd_models.c — the model store from the command line: list, pull, rm, cp, create. */
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"

/* Each command here takes only --help (and list --json), so they share one tiny parser:
 * returns -1 to go on, or the exit code. */
static int simple_opts(const char *cmd, const char *help, int argc, char **argv, bool *json)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(help, stdout);
            return 0;
        }
        if (json && !strcmp(argv[i], "--json")) {
            *json = true;
            memmove(argv + i, argv + i + 1, sizeof *argv * (size_t)(argc - i));
            argc--, i--;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) return cli_usage_error(cmd, "unknown option '%s'", argv[i]);
    }
    return -1;
}

static int count_args(int argc, char **argv)
{
    int n = 0;
    for (int i = 1; i < argc && argv[i]; i++) n += argv[i][0] != '-' || !argv[i][1];
    return n;
}

static void human_size(uint64_t b, char *buf, size_t size)
{
    if (b >= 1000000000ull) snprintf(buf, size, "%.1f GB", b / 1e9);
    else if (b >= 1000000ull) snprintf(buf, size, "%.0f MB", b / 1e6);
    else snprintf(buf, size, "%.0f KB", b / 1e3);
}

static const char *const list_help =
    "usage: hearth list [--json]\n\n"
    "Lists the models in the local store ($HEARTH_MODELS, default ~/.hearth/models): name, id\n"
    "(the first 12 hex digits of the manifest digest), size of all layers, and when it changed.\n"
    "  --json   one object: {\"models\":[{\"name\",\"digest\",\"size\",\"modified\",\"path\"},...]}\n";

int cmd_list(int argc, char **argv)
{
    bool json = false;
    int rc = simple_opts("list", list_help, argc, argv, &json);
    if (rc >= 0) return rc;
    if (count_args(argc, argv)) return cli_usage_error("list", "takes no arguments");
    hearth_store_entry *v;
    int32_t n;
    hearth_error err = {0};
    if (hearth_store_list(&v, &n, &err)) return cli_fail("list", "%s", err.message);
    if (json) {
        json_t *arr = json_array();
        for (int32_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:I,s:s}", "name", v[i].name, "digest", v[i].digest, "size",
                                                 (json_int_t)v[i].size, "modified", (json_int_t)v[i].modified, "path", v[i].model_path));
        char *text = json_dumps(json_pack("{s:o}", "models", arr), JSON_COMPACT);
        puts(text);
        free(text);
    } else {
        printf("%-40s %-14s %-10s %s\n", "NAME", "ID", "SIZE", "MODIFIED");
        for (int32_t i = 0; i < n; i++) {
            char size[32], when[32];
            human_size(v[i].size, size, sizeof size);
            time_t t = (time_t)v[i].modified;
            strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&t));
            printf("%-40s %-14.12s %-10s %s\n", v[i].name, v[i].digest + 7, size, when);
        }
    }
    free(v);
    return 0;
}

static const char *const pull_help =
    "usage: hearth pull NAME\n\n"
    "Downloads a model into the local store from the Ollama registry (\"qwen3:0.6b\",\n"
    "\"user/model:tag\") or from Hugging Face (\"hf.co/ORG/REPO:Q4_K_M\"), using Ollama's registry\n"
    "protocol. Layers already present are skipped; an interrupted download resumes where it\n"
    "stopped; every blob is checked against its sha256 digest before it is used.\n\n"
    "environment:\n"
    "  HEARTH_REGISTRY  base URL used instead of https://<host>, for every name (mirrors, tests)\n"
    "  HEARTH_MODELS    the store (default ~/.hearth/models)\n";

static void pull_progress(const char *status, const char *digest, uint64_t done, uint64_t total, void *user)
{
    bool tty = *(bool *)user;
    if (digest && !strcmp(status, "pulling")) {
        if (!tty) return; /* byte counts only make sense as a live bar */
        int width = 30, filled = total ? (int)(width * (double)done / (double)total) : 0;
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        char a[32], b[32];
        human_size(done, a, sizeof a);
        human_size(total, b, sizeof b);
        fprintf(stderr, "\rpulling %.12s [%s] %s / %s   ", digest + 7, bar, a, b);
        if (total && done == total) fputc('\n', stderr);
        return;
    }
    fprintf(stderr, "%s%s%s\n", status, digest ? " " : "", digest ? digest : "");
}

int cmd_pull(int argc, char **argv)
{
    int rc = simple_opts("pull", pull_help, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (argc != 2) return cli_usage_error("pull", "expected one model NAME");
    bool tty = cli_stderr_is_tty();
    hearth_error err = {0};
    if (hearth_store_pull(argv[1], pull_progress, &tty, NULL, &err)) return cli_fail("pull", "%s", err.message);
    return 0;
}

static const char *const rm_help =
    "usage: hearth rm NAME...\n\n"
    "Removes models from the local store. Layers that no remaining model uses are deleted.\n";

int cmd_rm(int argc, char **argv)
{
    int rc = simple_opts("rm", rm_help, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (argc < 2) return cli_usage_error("rm", "expected at least one model NAME");
    int failed = 0;
    for (int i = 1; i < argc; i++) {
        hearth_error err = {0};
        if (hearth_store_remove(argv[i], &err)) failed = cli_fail("rm", "%s", err.message);
        else printf("deleted '%s'\n", argv[i]);
    }
    return failed;
}

static const char *const cp_help =
    "usage: hearth cp SOURCE DESTINATION\n\n"
    "Gives a stored model a second name (the layers are shared, nothing is copied).\n";

int cmd_cp(int argc, char **argv)
{
    int rc = simple_opts("cp", cp_help, argc, argv, NULL);
    if (rc >= 0) return rc;
    if (argc != 3) return cli_usage_error("cp", "expected SOURCE and DESTINATION");
    hearth_error err = {0};
    if (hearth_store_copy(argv[1], argv[2], &err)) return cli_fail("cp", "%s", err.message);
    printf("copied '%s' to '%s'\n", argv[1], argv[2]);
    return 0;
}

static const char *const create_help =
    "usage: hearth create NAME -f Modelfile\n\n"
    "Creates a model in the local store from a Modelfile, as Ollama does:\n"
    "  FROM ./model.gguf | FROM stored-name    the weights (a GGUF path, relative to the Modelfile)\n"
    "  PARAMETER temperature 0.7               default options (repeatable; stop may repeat)\n"
    "  TEMPLATE \"\"\"...\"\"\"                      prompt template, stored with the model\n"
    "  SYSTEM \"\"\"...\"\"\"                        default system message\n"
    "  LICENSE \"\"\"...\"\"\"\n"
    "The GGUF is copied into the store (content-addressed, so it is stored once).\n";

static char *read_text(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (!buf || n > max || memchr(buf, 0, n)) { /* too big or binary: not a Modelfile */
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

int cmd_create(int argc, char **argv)
{
    static const struct option opts[] = {{"file", required_argument, 0, 'f'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *file = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
        if (c == 'f') file = optarg;
        else if (c == 'h') return fputs(create_help, stdout), 0;
        else return cli_usage_error("create", "unknown option");
    }
    if (optind != argc - 1) return cli_usage_error("create", "expected one model NAME");
    if (!file) return cli_usage_error("create", "-f Modelfile is required");
    char *text = NULL;
    hearth_error err = {0};
    if (!(text = read_text(file, 1 << 20)))
        return cli_fail("create", "%s: cannot read (missing, unreadable, binary or over 1 MiB)", file);
    char *dup = strdup(file);
    hearth_status st = hearth_store_create(argv[optind], text, dirname(dup), &err);
    free(dup);
    free(text);
    if (st) return cli_fail("create", "%s", err.message);
    printf("created '%s'\n", argv[optind]);
    return 0;
}
