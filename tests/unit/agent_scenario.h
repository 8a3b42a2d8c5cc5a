/* agent_scenario.h — shared by the agent scenario tests: a temp directory per test, agent.yaml
 * writing, an event recorder, and a loopback OpenAI-compatible server (libmicrohttpd) that
 * records every request body it receives. */
#ifndef HEARTH_TEST_AGENT_SCENARIO_H
#define HEARTH_TEST_AGENT_SCENARIO_H

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>

#include "agent/agent.h"

static char scn_dir[256];

static inline void scn_mkdir(void)
{
    snprintf(scn_dir, sizeof scn_dir, "/tmp/hearth-agent-scn-XXXXXX");
    assert_non_null(mkdtemp(scn_dir));
}

static inline void scn_rmdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", scn_dir);
    assert_int_equal(system(cmd), 0);
}

static inline const char *scn_path(const char *name)
{
    static char buf[4][512];
    static int slot;
    char *out = buf[slot++ & 3];
    snprintf(out, sizeof buf[0], "%s/%s", scn_dir, name);
    return out;
}

static inline void scn_write(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void scn_write(const char *name, const char *fmt, ...)
{
    FILE *f = fopen(scn_path(name), "w");
    assert_non_null(f);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static inline agent_config *scn_config(const char *yaml)
{
    scn_write("agent.yaml", "%s", yaml);
    agent_config *c = NULL;
    hearth_error err = {0};
    if (agent_config_load(scn_path("agent.yaml"), &c, &err)) fail_msg("%s", err.message);
    return c;
}

/* Events: keeps all of them for inspection. */
typedef struct scn_events {
    json_t *all;
} scn_events;

static inline void scn_on_event(void *user, json_t *ev)
{
    json_array_append(((scn_events *)user)->all, ev);
}

static inline int scn_count(scn_events *e, const char *type, const char *key, const char *value)
{
    int n = 0;
    for (size_t i = 0; i < json_array_size(e->all); i++) {
        json_t *ev = json_array_get(e->all, i);
        if (strcmp(json_string_value(json_object_get(ev, "type")), type)) continue;
        const char *v = key ? json_string_value(json_object_get(ev, key)) : NULL;
        if (!key || (v && strstr(v, value))) n++;
    }
    return n;
}

/* Loopback OpenAI-compatible server. */
typedef struct scn_server {
    struct MHD_Daemon *d;
    int port;
    pthread_mutex_t mu;
    char bodies[8][16384];
    char auth[8][256];
    int n_requests;
    int fail_first; /* answer 503 to this many requests first */
    const char *reply;
} scn_server;

typedef struct {
    char buf[16384];
    size_t len;
} scn_upload;

static inline enum MHD_Result scn_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                   const char *version, const char *data, size_t *size, void **con_cls)
{
    (void)version;
    scn_server *s = cls;
    scn_upload *u = *con_cls;
    if (!u) {
        *con_cls = calloc(1, sizeof(scn_upload));
        return MHD_YES;
    }
    if (*size) {
        size_t take = *size < sizeof u->buf - 1 - u->len ? *size : sizeof u->buf - 1 - u->len;
        memcpy(u->buf + u->len, data, take);
        u->len += take;
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    int k = s->n_requests++;
    if (k < 8) {
        memcpy(s->bodies[k], u->buf, u->len + 1);
        const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        snprintf(s->auth[k], sizeof s->auth[k], "%s", a ? a : "");
    }
    bool fail = k < s->fail_first;
    pthread_mutex_unlock(&s->mu);
    char body[4096];
    if (fail || strcmp(method, "POST") || strcmp(url, "/v1/chat/completions")) {
        snprintf(body, sizeof body, "{\"error\":\"unavailable\"}");
    } else {
        json_t *r = json_pack("{s:[{s:{s:s, s:s}}]}", "choices", "message", "role", "assistant", "content", s->reply);
        char *t = json_dumps(r, JSON_COMPACT);
        snprintf(body, sizeof body, "%s", t);
        free(t);
        json_decref(r);
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(conn, fail ? 503 : 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static inline void scn_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls, (void)c, (void)t;
    free(*con_cls);
    *con_cls = NULL;
}

static inline void scn_server_start(scn_server *s, const char *reply, int fail_first)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->reply = reply;
    s->fail_first = fail_first;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, scn_handler, s, MHD_OPTION_SOCK_ADDR,
                            (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, scn_completed, NULL, MHD_OPTION_END);
    assert_non_null(s->d);
    s->port = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT)->port;
}

static inline void scn_server_stop(scn_server *s)
{
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
}

#endif
