/* http.c — libmicrohttpd glue: body accumulation with limits, dispatch, replies, streams. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "server/http.h"

struct http_server {
    struct MHD_Daemon *daemon;
    http_handler_fn handler;
    void *app;
};

/* Per-request state across the access handler's calls (headers, body chunks, final). */
typedef struct conn_state {
    char *body;
    size_t len, cap;
    bool too_big;
} conn_state;

struct http_stream {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *buf;          /* pending bytes not yet handed to MHD */
    size_t len, cap, off;
    bool closed;        /* the producer is done                        */
    atomic_bool gone;   /* the client disconnected or the reply ended  */
    int refs;
    char content_type[64];
};

/* ---- streams -------------------------------------------------------------------------------- */

http_stream *http_stream_new(const char *content_type)
{
    http_stream *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    st->refs = 1;
    snprintf(st->content_type, sizeof st->content_type, "%s", content_type);
    return st;
}

static void stream_unref(http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    int left = --st->refs;
    pthread_mutex_unlock(&st->mu);
    if (left) return;
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv);
    free(st->buf);
    free(st);
}

void http_stream_attach(http_response *res, http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    st->refs++;
    pthread_mutex_unlock(&st->mu);
    res->status = 200;
    res->stream = st;
    res->content_type = st->content_type;
}

void http_stream_detach(http_response *res)
{
    if (!res->stream) return;
    stream_unref(res->stream);
    res->stream = NULL;
    res->content_type = NULL;
}

bool http_stream_push(http_stream *st, const char *data, size_t len)
{
    if (atomic_load(&st->gone)) return false;
    pthread_mutex_lock(&st->mu);
    if (st->off == st->len) st->off = st->len = 0;
    if (st->len + len > st->cap) {
        size_t cap = (st->len + len) * 2 + 256;
        char *b = realloc(st->buf, cap);
        if (!b) {
            pthread_mutex_unlock(&st->mu);
            return false;
        }
        st->buf = b;
        st->cap = cap;
    }
    memcpy(st->buf + st->len, data, len);
    st->len += len;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return true;
}

bool http_stream_push_json_line(http_stream *st, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!text) return false;
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps leaves room for the NUL we overwrite, and we send n + 1 */
    bool ok = http_stream_push(st, text, n + 1);
    free(text);
    return ok;
}

bool http_stream_push_sse(http_stream *st, json_t *json)
{
    char *text = json_dumps(json, JSON_COMPACT);
    json_decref(json);
    if (!text) return false;
    bool ok = http_stream_push(st, "data: ", 6) && http_stream_push(st, text, strlen(text)) &&
              http_stream_push(st, "\n\n", 2);
    free(text);
    return ok;
}

void http_stream_close(http_stream *st)
{
    pthread_mutex_lock(&st->mu);
    st->closed = true;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
    stream_unref(st);
}

bool http_stream_cancelled(const http_stream *st) { return atomic_load(&st->gone); }

/* MHD pulls the body from here on the connection's own thread, so blocking is fine. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    http_stream *st = cls;
    pthread_mutex_lock(&st->mu);
    while (st->off == st->len && !st->closed) pthread_cond_wait(&st->cv, &st->mu);
    ssize_t n;
    if (st->off == st->len) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        size_t k = HEARTH_MIN(max, st->len - st->off);
        memcpy(out, st->buf + st->off, k);
        st->off += k;
        n = (ssize_t)k;
    }
    pthread_mutex_unlock(&st->mu);
    return n;
}

static void stream_done(void *cls)
{
    http_stream *st = cls;
    atomic_store(&st->gone, true); /* finished or the client went away: the producer stops */
    stream_unref(st);
}

/* ---- replies --------------------------------------------------------------------------------- */

void http_reply_json(http_response *res, int status, json_t *json)
{
    res->status = status;
    res->content_type = "application/json; charset=utf-8";
    res->body = json ? json_dumps(json, JSON_COMPACT) : NULL;
    res->body_len = res->body ? strlen(res->body) : 0;
    json_decref(json);
}

void http_reply_error(http_response *res, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    http_reply_json(res, status, json_pack("{s:s}", "error", msg));
}

/* ---- the access handler -------------------------------------------------------------------- */

static enum MHD_Result send_response(struct MHD_Connection *conn, http_response *res)
{
    struct MHD_Response *r;
    if (res->stream)
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, res->stream, stream_done);
    else
        r = MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (char *)"",
                                            res->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    if (res->content_type) MHD_add_response_header(r, "Content-Type", res->content_type);
    if (res->stream) MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    (void)version;
    http_server *s = cls;
    conn_state *cs = *con_cls;
    if (!cs) { /* headers only: set up the body buffer */
        if (!(cs = calloc(1, sizeof *cs))) return MHD_NO;
        *con_cls = cs;
        /* A declared length over the limit is refused before a byte of it is read. */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > HTTP_MAX_BODY) {
            cs->too_big = true;
            http_response res = {.status = 413};
            http_reply_error(&res, 413, "request body larger than %u bytes", HTTP_MAX_BODY);
            return send_response(conn, &res);
        }
        return MHD_YES;
    }
    if (*upload_size) { /* a body chunk */
        if (!cs->too_big) {
            if (cs->len + *upload_size > HTTP_MAX_BODY) {
                cs->too_big = true;
            } else {
                if (cs->len + *upload_size + 1 > cs->cap) {
                    size_t cap = (cs->len + *upload_size + 1) * 2;
                    char *b = realloc(cs->body, cap);
                    if (!b) return MHD_NO;
                    cs->body = b;
                    cs->cap = cap;
                }
                memcpy(cs->body + cs->len, upload, *upload_size);
                cs->len += *upload_size;
                cs->body[cs->len] = '\0';
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    http_response res = {.status = 500};
    if (cs->too_big) {
        http_reply_error(&res, 413, "request body larger than %u bytes", HTTP_MAX_BODY);
    } else {
        http_request req = {.method = method, .path = url, .body = cs->body ? cs->body : "",
                            .body_len = cs->len, .conn = conn};
        s->handler(s->app, &req, &res);
    }
    return send_response(conn, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)conn, (void)toe;
    conn_state *cs = *con_cls;
    if (cs) {
        free(cs->body);
        free(cs);
    }
    *con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    hearth_debug("http: %s", msg);
}

http_server *http_server_start(const char *host, int port, int max_connections,
                               http_handler_fn handler, void *app, hearth_error *err)
{
    struct sockaddr_storage ss = {0};
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "listen address '%s' is not an IPv4 or IPv6 address", host);
        return NULL;
    }
    http_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->handler = handler;
    s->app = app;
    s->daemon = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_access, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_connections,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)max_connections,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u, /* idle or trickling clients */
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        free(s);
        hearth_fail(err, HEARTH_ERR_IO, "cannot listen on %s:%d (port in use, or no permission)", host, port);
        return NULL;
    }
    return s;
}

int http_server_port(http_server *s)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : 0;
}

void http_server_stop(http_server *s)
{
    if (!s) return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
