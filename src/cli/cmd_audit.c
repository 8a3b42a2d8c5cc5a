/* cmd_audit.c — `hearth audit verify FILE`: checks an agent audit log's hash chain. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *audit_help =
    "usage: hearth audit verify FILE [--json]\n"
    "\n"
    "Verifies an agent audit log (audit.path in agent.yaml): every line must be a JSON record\n"
    "whose \"seq\" counts up from 0, whose \"prev\" equals the previous record's \"hash\", and whose\n"
    "\"hash\" is sha256(prev || the record's bytes). An edited record fails its own hash; a\n"
    "removed, inserted or reordered record breaks the chain at the next line. The first bad\n"
    "line is reported as FILE:LINE. (Cutting records off the end cannot be seen from the file\n"
    "alone: compare the count with one you kept, e.g. in your monitoring.)\n"
    "\n"
    "options:\n"
    "  --json   print {\"file\", \"ok\", \"records\", \"error\"} instead of a sentence\n"
    "  --help   this text\n"
    "\n"
    "exit status: 0 when the chain is intact, 1 when it is not (or the file cannot be read),\n"
    "2 on a usage error.\n"
    "\n"
    "example:\n"
    "  hearth audit verify ~/.hearth/audit.jsonl\n";

int cmd_audit(int argc, char **argv)
{
    const char *sub = NULL, *file = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(audit_help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("audit", "unknown option '%s'", argv[i]);
        } else if (!sub) {
            sub = argv[i];
        } else if (!file) {
            file = argv[i];
        } else {
            return cli_usage_error("audit", "unexpected argument '%s'", argv[i]);
        }
    }
    if (!sub || strcmp(sub, "verify")) return cli_usage_error("audit", "expected: hearth audit verify FILE");
    if (!file) return cli_usage_error("audit", "verify needs FILE");
    int64_t n = 0;
    hearth_error err = {0};
    hearth_status st = hearth_audit_verify(file, &n, &err);
    if (json) {
        json_t *o = json_pack("{s:s, s:b, s:I}", "file", file, "ok", st == HEARTH_OK, "records", (json_int_t)n);
        if (st) json_object_set_new(o, "error", json_string(err.message));
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s ? s : "{}");
        free(s);
        json_decref(o);
        return st ? 1 : 0;
    }
    if (st) return cli_fail("audit", "%s", err.message);
    printf("%s: %lld record(s), hash chain intact\n", file, (long long)n);
    return 0;
}
