/* cli_util.c — the CLI's one error path and strict option-value parsing. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static void vreport(const char *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "hearth%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return 1;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'hearth %s --help'.\n", cmd ? cmd : "");
    return 2;
}

bool cli_parse_long(const char *cmd, const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || errno) {
        cli_usage_error(cmd, "%s expects an integer, got '%s'", opt, s ? s : "");
        return false;
    }
    if (v < min || v > max) {
        cli_usage_error(cmd, "%s must be between %ld and %ld, got %ld", opt, min, max, v);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_gpu_layers(const char *cmd, const char *s, int *out)
{
    long v;
    if (s && !strcmp(s, "all")) *out = -1;
    else if (s && !strcmp(s, "auto")) *out = -2;
    else if (cli_parse_long(cmd, "--gpu-layers", s, 0, 1 << 20, &v)) *out = (int)v;
    else return false;
    return true;
}

bool cli_parse_float(const char *cmd, const char *opt, const char *s, double min, double max, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end || errno || !isfinite(v)) {
        cli_usage_error(cmd, "%s expects a number, got '%s'", opt, s ? s : "");
        return false;
    }
    if (v < min || v > max) {
        cli_usage_error(cmd, "%s must be between %g and %g, got %g", opt, min, max, v);
        return false;
    }
    *out = v;
    return true;
}

bool cli_stderr_is_tty(void) { return isatty(2); }

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
