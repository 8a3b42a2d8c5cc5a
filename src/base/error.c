/* error.c — the one error path: every failure becomes a status plus a one-line message. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r') *s = ' ';
}

hearth_status hearth_fail(hearth_error *err, hearth_status status, const char *fmt, ...)
{
    if (!err) return status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    one_line(err->message);
    err->status = status;
    return status;
}

hearth_status hearth_fail_wrap(hearth_error *err, const char *fmt, ...)
{
    if (!err) return HEARTH_ERR_INTERNAL;
    char prefix[512], old[sizeof err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof err->message - 3) n = sizeof err->message - 3;
    memcpy(err->message, prefix, n);
    memcpy(err->message + n, ": ", 2);
    size_t room = sizeof err->message - n - 3, m = strlen(old);
    if (m > room) m = room;
    memcpy(err->message + n + 2, old, m);
    err->message[n + 2 + m] = '\0';
    one_line(err->message);
    return err->status;
}

void hearth_error_clear(hearth_error *err)
{
    if (!err) return;
    err->status = HEARTH_OK;
    err->message[0] = '\0';
}

const char *hearth_status_name(hearth_status status)
{
    switch (status) {
    case HEARTH_OK: return "ok";
    case HEARTH_ERR_INVALID_ARG: return "invalid argument";
    case HEARTH_ERR_IO: return "i/o error";
    case HEARTH_ERR_FORMAT: return "malformed input";
    case HEARTH_ERR_UNSUPPORTED: return "unsupported";
    case HEARTH_ERR_NOMEM: return "out of memory";
    case HEARTH_ERR_CONTEXT_FULL: return "context full";
    case HEARTH_ERR_NOT_FOUND: return "not found";
    case HEARTH_ERR_CANCELLED: return "cancelled";
    case HEARTH_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

const char *hearth_version(void) { return HEARTH_VERSION_STRING; }
