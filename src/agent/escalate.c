/*
 * escalate.c — the only place the agent touches the network: one OpenAI-compatible
 * POST {endpoint}/chat/completions, with a timeout and retries (connection errors, 429, 5xx)
 * with exponential backoff. The caller (run.c) has already decided that policy allows it and
 * has already redacted the text; this file only moves the bytes and parses the reply.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "base/base.h"

#define REPLY_MAX (4 << 20)

typedef struct {
    char *data;
    size_t len;
    bool overflow;
} body;

static size_t on_data(char *p, size_t size, size_t n, void *user)
{
    body *b = user;
    size_t add = size * n;
    if (b->len + add > REPLY_MAX) {
        b->overflow = true;
        return 0;
    }
    char *grown = realloc(b->data, b->len + add + 1);
    if (!grown) return 0;
    b->data = grown;
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = 0;
    return add;
}

static hearth_status parse_reply(const char *data, agent_remote_reply *out, hearth_error *err)
{
    json_error_t je;
    json_t *root = json_loads(data, 0, &je);
    json_t *msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    const char *content = json_string_value(json_object_get(msg, "content"));
    if (!content) {
        json_decref(root);
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "escalation: reply is not an OpenAI chat completion (no choices[0].message.content)");
    }
    out->text = strdup(content);
    json_decref(root);
    return out->text ? HEARTH_OK : hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
}

hearth_status agent_remote_chat(const agent_escalation *esc, const char *system, const char *user,
                                agent_remote_reply *out, hearth_error *err)
{
    memset(out, 0, sizeof *out);
    static bool curl_ready;
    if (!curl_ready) { /* not thread-safe by libcurl's design: first call is from the run loop */
        curl_global_init(CURL_GLOBAL_DEFAULT);
        curl_ready = true;
    }
    char url[2048];
    size_t n = strlen(esc->endpoint);
    while (n && esc->endpoint[n - 1] == '/') n--;
    snprintf(url, sizeof url, "%.*s/chat/completions", (int)n, esc->endpoint);
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:f}", "model", esc->model ? esc->model : "default",
                            "messages", "role", "system", "content", system, "role", "user", "content", user,
                            "temperature", 0.0);
    char *payload = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!payload) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "escalation: request is not valid UTF-8");
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    const char *key = esc->api_key_env ? getenv(esc->api_key_env) : NULL;
    char auth[1024];
    if (key && *key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        headers = curl_slist_append(headers, auth);
    }
    hearth_status st = HEARTH_ERR_IO;
    char last[512] = "no attempt";
    for (long attempt = 0; attempt <= esc->retries; attempt++) {
        if (attempt) {
            struct timespec ts = {0, (long)(100000000L << (attempt - 1 < 3 ? attempt - 1 : 3))};
            nanosleep(&ts, NULL);
        }
        CURL *c = curl_easy_init();
        if (!c) break;
        body b = {0};
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(esc->timeout_s * 1000));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L); /* a redirect must not move our data elsewhere */
        CURLcode rc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(c);
        out->attempts = (int)attempt + 1;
        out->http_status = (int)code;
        if (rc == CURLE_OK && code == 200 && b.data) {
            st = parse_reply(b.data, out, err);
            free(b.data);
            break;
        }
        free(b.data);
        if (rc != CURLE_OK) snprintf(last, sizeof last, "%s", curl_easy_strerror(rc));
        else snprintf(last, sizeof last, "HTTP status %ld", code);
        bool retry = rc != CURLE_OK || code == 429 || code >= 500;
        if (!retry) break;
    }
    curl_slist_free_all(headers);
    free(payload);
    if (st == HEARTH_ERR_IO) return hearth_fail(err, HEARTH_ERR_IO, "escalation to %s failed after %d attempt(s): %s",
                                                url, out->attempts, last);
    return st;
}
