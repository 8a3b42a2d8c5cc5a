/*
 * http — the HTTP layer of `hearth serve` on libmicrohttpd: one thread per connection (so a
 * handler may block while a model generates), bounded bodies, idle timeouts, a connection cap,
 * JSON replies, and streams (NDJSON or SSE) fed by the scheduler thread through a queue.
 */
#ifndef HEARTH_SERVER_HTTP_H
#define HEARTH_SERVER_HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/base.h"

#define HTTP_MAX_BODY (32u << 20) /* requests over this are 413: no prompt needs more */

typedef struct http_request {
    const char *method;
    const char *path;      /* without the query string */
    const char *body;      /* NUL-terminated */
    size_t body_len;
    struct MHD_Connection *conn;
} http_request;

/* A response the handler fills: either a complete body, or a stream. */
typedef struct http_stream http_stream;
typedef struct http_response {
    int status;
    const char *content_type;
    char *body;            /* malloc'd; the HTTP layer frees it */
    size_t body_len;
    http_stream *stream;   /* set instead of body for streaming replies */
} http_response;

typedef void (*http_handler_fn)(void *app, const http_request *req, http_response *res);

typedef struct http_server http_server;

/* Listens on host:port ("127.0.0.1", "0.0.0.0", "::1"); handler runs on connection threads. */
http_server *http_server_start(const char *host, int port, int max_connections,
                               http_handler_fn handler, void *app, hearth_error *err);
void http_server_stop(http_server *s);
int http_server_port(http_server *s); /* the bound port (useful when asked for port 0) */

/* Replies. json is consumed (decref'd). */
void http_reply_json(http_response *res, int status, json_t *json);
/* {"error": message} — the shape Ollama uses; OpenAI's is built by its handlers. */
void http_reply_error(http_response *res, int status, const char *fmt, ...) HEARTH_PRINTF(3, 4);

/* Streams: the handler creates one, attaches it to the response (the HTTP layer takes its own
 * reference) and hands its reference to a producer (the scheduler), which pushes chunks and
 * finally closes it. If the client goes away, http_stream_cancelled() turns true and the
 * producer stops. The stream is freed when both sides are done with it. */
http_stream *http_stream_new(const char *content_type);
void http_stream_attach(http_response *res, http_stream *st);
bool http_stream_push(http_stream *st, const char *data, size_t len); /* false: client gone */
bool http_stream_push_json_line(http_stream *st, json_t *json);       /* NDJSON; consumes json */
bool http_stream_push_sse(http_stream *st, json_t *json);             /* "data: {...}\n\n"; consumes */
void http_stream_close(http_stream *st);      /* the producer is done: drops its reference */
/* Undoes http_stream_attach (the handler decided to answer with an error after all). */
void http_stream_detach(http_response *res);
bool http_stream_cancelled(const http_stream *st);

#endif
