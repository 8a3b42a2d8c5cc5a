/*
 * cli — the `hearth` command line. One file per subcommand (cmd_<name>.c), each a thin client
 * of include/hearth.h. Conventions every command follows:
 *   - `--help` prints man-page style usage to stdout and exits 0;
 *   - errors print one line "hearth CMD: message" to stderr and exit 1 (usage errors exit 2);
 *   - `--json` where a script would want the output; progress only when stderr is a TTY.
 */
#ifndef HEARTH_CLI_H
#define HEARTH_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "hearth.h"

typedef int (*cli_command_fn)(int argc, char **argv);

/* The subcommands (argv[0] is the subcommand name). */
/* (one declaration per subcommand; add yours here and a line in main.c's table) */
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_template(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cli_bench_tokenize(const char *model_path, double mb, int reps, bool json); /* bench --tokenize */
int cmd_serve(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_cp(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_rag(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* Prints "hearth CMD: message" to stderr; returns 1 so callers can `return cli_fail(...)`. */
int cli_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, for a usage error: also points at --help; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Strict number parsing for option values: whole string must parse and lie in [min, max]. */
bool cli_parse_long(const char *cmd, const char *opt, const char *s, long min, long max, long *out);
/* --gpu-layers: "all" (-1), "auto" (-2) or a count >= 0 */
bool cli_parse_gpu_layers(const char *cmd, const char *s, int *out);
bool cli_parse_float(const char *cmd, const char *opt, const char *s, double min, double max, double *out);
bool cli_stderr_is_tty(void);
double cli_now(void); /* monotonic seconds, for the speed lines */

#endif
