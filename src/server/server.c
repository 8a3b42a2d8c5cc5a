/* server.c — `hearth serve`'s front door: auth, routing, /metrics, start and stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "server/api.h"

struct hearth_server {
    server_state state;
    http_server *http;
    int port;
};

hearth_server_params hearth_server_default_params(void)
{
    return (hearth_server_params){.host = "127.0.0.1", .port = 11434, .n_slots = 4, .n_ctx = 4096,
                                  .max_queue = 64, .max_connections = 128, .keep_alive = 300};
}

/* Compares in time independent of where the strings differ (no timing oracle for the key). */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++) diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return diff == 0;
}

static long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void metrics(server_state *s, http_response *res)
{
    sched_metrics m;
    sched_get_metrics(s->sched, &m);
    pthread_mutex_lock(&s->mu);
    uint64_t reqs = s->http_requests, errs = s->http_errors;
    pthread_mutex_unlock(&s->mu);
    char *buf = malloc(4096);
    if (!buf) return http_reply_error(res, 500, "out of memory");
    int n = snprintf(buf, 4096,
        "# HELP hearth_http_requests_total HTTP requests received.\n# TYPE hearth_http_requests_total counter\n"
        "hearth_http_requests_total %llu\n"
        "# HELP hearth_http_errors_total HTTP replies with status >= 400.\n# TYPE hearth_http_errors_total counter\n"
        "hearth_http_errors_total %llu\n"
        "# HELP hearth_generation_requests_total Generations queued.\n# TYPE hearth_generation_requests_total counter\n"
        "hearth_generation_requests_total %llu\n"
        "# HELP hearth_rejected_requests_total Generations refused because the queue was full.\n# TYPE hearth_rejected_requests_total counter\n"
        "hearth_rejected_requests_total %llu\n"
        "# HELP hearth_prompt_tokens_total Prompt tokens processed.\n# TYPE hearth_prompt_tokens_total counter\n"
        "hearth_prompt_tokens_total %llu\n"
        "# HELP hearth_generated_tokens_total Tokens generated.\n# TYPE hearth_generated_tokens_total counter\n"
        "hearth_generated_tokens_total %llu\n"
        "# HELP hearth_decode_steps_total Batched decode steps; generated tokens / steps = mean batch size.\n# TYPE hearth_decode_steps_total counter\n"
        "hearth_decode_steps_total %llu\n"
        "# HELP hearth_generation_seconds_total Seconds spent in batched decode steps.\n# TYPE hearth_generation_seconds_total counter\n"
        "hearth_generation_seconds_total %.6f\n"
        "# HELP hearth_generation_tokens_per_second Generated tokens per second of decode time, all requests together.\n# TYPE hearth_generation_tokens_per_second gauge\n"
        "hearth_generation_tokens_per_second %.3f\n"
        "# HELP hearth_active_requests Generations in a slot now.\n# TYPE hearth_active_requests gauge\n"
        "hearth_active_requests %d\n"
        "# HELP hearth_queued_requests Generations waiting for a slot.\n# TYPE hearth_queued_requests gauge\n"
        "hearth_queued_requests %d\n"
        "# HELP hearth_loaded_models Models in memory.\n# TYPE hearth_loaded_models gauge\n"
        "hearth_loaded_models %d\n"
        "# HELP hearth_resident_memory_bytes Resident set size of the server.\n# TYPE hearth_resident_memory_bytes gauge\n"
        "hearth_resident_memory_bytes %ld\n",
        (unsigned long long)reqs, (unsigned long long)errs, (unsigned long long)m.requests, (unsigned long long)m.rejected,
        (unsigned long long)m.prompt_tokens, (unsigned long long)m.generated_tokens, (unsigned long long)m.decode_steps, m.gen_seconds,
        m.gen_seconds > 0 ? m.generated_tokens / m.gen_seconds : 0.0, m.active, m.queued, m.loaded, resident_bytes());
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4";
    res->body = buf;
    res->body_len = (size_t)(n < 4096 ? n : 4095);
}

static void handle(void *app, const http_request *req, http_response *res)
{
    server_state *s = app;
    pthread_mutex_lock(&s->mu);
    s->http_requests++;
    pthread_mutex_unlock(&s->mu);
    bool root = !strcmp(req->path, "/");
    if (s->api_key && !root) {
        const char *auth = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Authorization");
        if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !same_secret(auth + 7, s->api_key)) {
            if (!strncmp(req->path, "/v1/", 4)) api_openai_error(res, 401, "invalid_request_error", "missing or wrong API key");
            else http_reply_error(res, 401, "unauthorized: missing or wrong API key");
            goto done;
        }
    }
    if (root && (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))) {
        res->status = 200;
        res->content_type = "text/plain; charset=utf-8";
        res->body = strdup("Ollama is running"); /* clients probe for exactly this text */
        res->body_len = strlen(res->body);
    } else if (!strcmp(req->path, "/metrics") && !strcmp(req->method, "GET")) {
        metrics(s, res);
    } else if (!api_ollama_route(s, req, res) && !api_openai_route(s, req, res) && !api_agent_route(s, req, res)) {
        http_reply_error(res, 404, "unknown endpoint %s %s", req->method, req->path);
    }
done:
    if (res->status >= 400) {
        pthread_mutex_lock(&s->mu);
        s->http_errors++;
        pthread_mutex_unlock(&s->mu);
    }
}

hearth_server *hearth_server_start(const hearth_server_params *params, hearth_error *err)
{
    hearth_server_params p = params ? *params : hearth_server_default_params();
    hearth_server_params d = hearth_server_default_params();
    if (!p.host || !*p.host) p.host = d.host;
    if (p.n_slots <= 0) p.n_slots = d.n_slots;
    if (p.n_ctx <= 0) p.n_ctx = d.n_ctx;
    if (p.max_queue <= 0) p.max_queue = d.max_queue;
    if (p.max_connections <= 0) p.max_connections = d.max_connections;
    if (p.port < 0 || p.port > 65535) {
        hearth_fail(err, HEARTH_ERR_INVALID_ARG, "port %d is outside 0..65535", p.port);
        return NULL;
    }
    hearth_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    sched_params sp = {.n_slots = p.n_slots, .n_ctx = p.n_ctx, .n_threads = p.n_threads, .max_queue = p.max_queue,
                       .keep_alive = p.keep_alive, .no_mmap = p.no_mmap};
    s->state.sched = sched_new(&sp);
    s->state.api_key = p.api_key && *p.api_key ? strdup(p.api_key) : NULL;
    s->state.started = hearth_time_sec();
    pthread_mutex_init(&s->state.mu, NULL);
    if (!s->state.sched || !(s->http = http_server_start(p.host, p.port, p.max_connections, handle, &s->state, err))) {
        sched_free(s->state.sched);
        free((char *)s->state.api_key);
        free(s);
        return NULL;
    }
    s->port = p.port ? p.port : http_server_port(s->http);
    return s;
}

int32_t hearth_server_port(const hearth_server *s) { return s->port; }

void hearth_server_stop(hearth_server *s)
{
    if (!s) return;
    sched_close(s->state.sched); /* handlers waiting on generations return, streams end */
    http_server_stop(s->http);
    sched_free(s->state.sched);
    pthread_mutex_destroy(&s->state.mu);
    free((char *)s->state.api_key);
    free(s);
}
