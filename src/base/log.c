/* log.c — library code reports through here, never straight to stdout/stderr. */
#include <stdio.h>

#include "base/base.h"

static void log_stderr(hearth_log_level level, const char *message, void *user)
{
    (void)user;
    static const char *const names[] = {"debug", "info", "warning", "error"};
    fprintf(stderr, "hearth: %s: %s\n", names[level], message);
}

/* Process-wide by nature (like llama_log_set): set once at start-up by the embedding program. */
static hearth_log_fn log_fn = log_stderr;
static void *log_user;
static hearth_log_level log_min = HEARTH_LOG_WARN;

void hearth_log_set(hearth_log_fn fn, void *user)
{
    log_fn = fn;
    log_user = user;
}

void hearth_log_set_level(hearth_log_level min_level) { log_min = min_level; }

void hearth_log(hearth_log_level level, const char *fmt, ...)
{
    if (!log_fn || level < log_min) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fn(level, buf, log_user);
}
