/*
 * pull.c — fetching models from an Ollama-protocol registry (registry.ollama.ai, hf.co).
 *
 *   GET <base>/v2/<ns>/<model>/manifests/<tag>   Docker v2 manifest: config + layers
 *   GET <base>/v2/<ns>/<model>/blobs/<digest>    each layer, with Range to resume
 *
 * A blob is downloaded into "<blob>-partial" (kept across interruptions so the next pull
 * resumes), its sha256 checked against the digest, then renamed into place; the manifest is
 * written last, so a model name only ever points at complete, verified blobs.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "server/store.h"

#define MANIFEST_MAX (1u << 20)

typedef struct pull_job {
    const char *display, *digest;
    hearth_pull_progress_fn progress;
    void *user;
    const volatile bool *cancel;
    FILE *out;          /* blob body goes here ...                                          */
    char *mem;          /* ... or, for the manifest, into memory                            */
    size_t mem_len;
    bool write_failed;
    bool body_started; /* the first body bytes of this request have been seen          */
    CURL *curl;
    int write_errno;
    uint64_t have, total;
} pull_job;

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    pull_job *j = user;
    size_t len = size * n;
    if (j->out && !j->body_started) {
        j->body_started = true;
        long code = 0;
        curl_easy_getinfo(j->curl, CURLINFO_RESPONSE_CODE, &code);
        if (code == 200 && j->have > 0) { /* the server ignored Range: the body is the whole blob */
            if (fflush(j->out) != 0 || ftruncate(fileno(j->out), 0) != 0 || fseek(j->out, 0, SEEK_SET) != 0) {
                j->write_failed = true;
                j->write_errno = errno;
                return 0;
            }
            j->have = 0;
        }
    }
    if (j->out) {
        if (fwrite(data, 1, len, j->out) != len) {
            j->write_failed = true;
            j->write_errno = errno;
            return 0;
        }
        return len;
    }
    if (j->mem_len + len > MANIFEST_MAX) return 0;
    char *m = realloc(j->mem, j->mem_len + len + 1);
    if (!m) return 0;
    memcpy(m + j->mem_len, data, len);
    j->mem = m;
    j->mem_len += len;
    m[j->mem_len] = '\0';
    return len;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal, (void)ultotal, (void)ulnow;
    pull_job *j = user;
    if (j->cancel && *j->cancel) return 1;
    if (j->out && j->progress) j->progress("pulling", j->digest, j->have + (uint64_t)dlnow, j->total, j->user);
    return 0;
}

/* One GET. Returns the HTTP status in *code (0 when no answer came). */
static hearth_status http_get(const char *url, const char *accept, long range_from, pull_job *j,
                              long *code, hearth_error *err)
{
    CURL *c = curl_easy_init();
    if (!c) return hearth_fail(err, HEARTH_ERR_NOMEM, "cannot start libcurl");
    j->curl = c;
    j->body_started = false;
    struct curl_slist *h = NULL;
    char hdr[256];
    if (accept) {
        snprintf(hdr, sizeof hdr, "Accept: %s", accept);
        h = curl_slist_append(h, hdr);
    }
    char range[64];
    if (range_from > 0) {
        snprintf(range, sizeof range, "%ld-", range_from);
        curl_easy_setopt(c, CURLOPT_RANGE, range);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hearth/" HEARTH_VERSION_STRING);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L); /* a stalled transfer ends after 60 s */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, j);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* An error page must never land in a partial blob (the next pull would resume after it). */
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    CURLcode rc = curl_easy_perform(c);
    *code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    j->curl = NULL;
    if (j->cancel && *j->cancel) return hearth_fail(err, HEARTH_ERR_CANCELLED, "pull of %s cancelled", j->display);
    if (j->write_failed)
        return hearth_fail(err, HEARTH_ERR_IO, "writing %s: %s", j->digest, strerror(j->write_errno));
    if (rc != CURLE_OK && !(rc == CURLE_HTTP_RETURNED_ERROR && *code >= 400))
        return hearth_fail(err, HEARTH_ERR_IO, "%s: %s", url, curl_easy_strerror(rc));
    return HEARTH_OK;
}

static hearth_status fetch_blob(const char *root, const char *base, const store_name *n, const char *digest,
                                uint64_t size, pull_job *j, hearth_error *err)
{
    char path[STORE_PATH_MAX], partial[STORE_PATH_MAX + 16], url[2048];
    hearth_status s = store_blob_path(root, digest, path, sizeof path, err);
    if (s) return hearth_fail_wrap(err, "registry manifest for %s", j->display);
    if (access(path, F_OK) == 0) {
        if (j->progress) j->progress("pulling", digest, size, size, j->user);
        return HEARTH_OK;
    }
    if ((s = store_mkdirs_for(path, err))) return s;
    snprintf(partial, sizeof partial, "%s-partial", path);
    snprintf(url, sizeof url, "%s/v2/%s/%s/blobs/%s", base, n->ns, n->model, digest);
    struct stat st;
    long have = stat(partial, &st) == 0 ? (long)st.st_size : 0;
    if (size && (uint64_t)have > size) have = 0; /* longer than the blob: start over */
    j->out = fopen(partial, have ? "ab" : "wb");
    if (!j->out) return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot create: %s", partial, strerror(errno));
    j->digest = digest;
    j->have = (uint64_t)have;
    j->total = size;
    long code;
    if (!(size && (uint64_t)have == size)) {
        s = http_get(url, NULL, have, j, &code, err);
        if (!s && code != 200 && code != 206 && !(code == 416 && size && (uint64_t)have == size))
            s = hearth_fail(err, HEARTH_ERR_IO, "registry answered HTTP %ld for blob %s of %s", code, digest, j->display);
    }
    if (fflush(j->out) != 0 || fsync(fileno(j->out)) != 0) {
        if (!s) s = hearth_fail(err, HEARTH_ERR_IO, "%s: cannot write (disk full?): %s", partial, strerror(errno));
    }
    fclose(j->out);
    j->out = NULL;
    if (s) return s; /* the partial blob stays: the next pull resumes it */
    if (j->progress) j->progress("verifying sha256 digest", digest, size, size, j->user);
    char got[72];
    uint64_t got_size;
    if ((s = store_file_digest(partial, got, &got_size, err))) return s;
    if (strcmp(got, digest) != 0 || (size && got_size != size)) {
        unlink(partial); /* corrupt: never resume from it */
        return hearth_fail(err, HEARTH_ERR_FORMAT,
                           "blob %s of %s failed verification: got %s (%llu bytes), expected %llu bytes; removed, pull again",
                           digest, j->display, got, (unsigned long long)got_size, (unsigned long long)size);
    }
    if (rename(partial, path) != 0) return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot rename: %s", path, strerror(errno));
    return HEARTH_OK;
}

static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static hearth_status check_layer(json_t *l, const char *display, hearth_error *err)
{
    json_t *d = json_object_get(l, "digest"), *sz = json_object_get(l, "size");
    if (!json_is_object(l) || !json_is_string(d) || (sz && !json_is_integer(sz)) || json_integer_value(sz) < 0)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "registry manifest for %s: a layer lacks a digest or has a bad size", display);
    return HEARTH_OK;
}

hearth_status hearth_store_pull(const char *name, hearth_pull_progress_fn progress, void *user,
                                const volatile bool *cancel, hearth_error *err)
{
    store_name n;
    char root[4096], display[400], base[1024], url[2048];
    hearth_status s;
    if ((s = store_name_parse(name, &n, err)) || (s = store_root(root, sizeof root, err))) return s;
    store_name_display(&n, display, sizeof display);
    const char *reg = getenv("HEARTH_REGISTRY");
    if (reg && *reg) snprintf(base, sizeof base, "%s", reg);
    else snprintf(base, sizeof base, "https://%s", n.host);
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') base[--bl] = '\0';
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT; /* the server pulls from many threads */
    pthread_once(&curl_once, curl_init_once);

    if (progress) progress("pulling manifest", NULL, 0, 0, user);
    snprintf(url, sizeof url, "%s/v2/%s/%s/manifests/%s", base, n.ns, n.model, n.tag);
    pull_job j = {.display = display, .progress = progress, .user = user, .cancel = cancel};
    long code;
    s = http_get(url, MEDIA_MANIFEST, 0, &j, &code, err);
    if (!s && code == 404) s = hearth_fail(err, HEARTH_ERR_NOT_FOUND, "model '%s' not found in the registry (%s)", display, base);
    else if (!s && code != 200) s = hearth_fail(err, HEARTH_ERR_IO, "registry %s answered HTTP %ld for the manifest of %s", base, code, display);
    json_t *m = NULL;
    if (!s) {
        json_error_t je;
        m = j.mem ? json_loads(j.mem, 0, &je) : NULL;
        if (!m || !json_is_array(json_object_get(m, "layers")))
            s = hearth_fail(err, HEARTH_ERR_FORMAT, "registry manifest for %s is not a valid manifest", display);
    }
    free(j.mem);
    j.mem = NULL;
    json_t *config = m ? json_object_get(m, "config") : NULL;
    if (!s && config) s = check_layer(config, display, err);
    size_t i;
    json_t *l;
    if (!s) json_array_foreach(json_object_get(m, "layers"), i, l) if (!s) s = check_layer(l, display, err);
    if (!s && !json_array_size(json_object_get(m, "layers")))
        s = hearth_fail(err, HEARTH_ERR_FORMAT, "registry manifest for %s has no layers", display);
    if (!s && config)
        s = fetch_blob(root, base, &n, json_string_value(json_object_get(config, "digest")),
                       (uint64_t)json_integer_value(json_object_get(config, "size")), &j, err);
    if (!s) json_array_foreach(json_object_get(m, "layers"), i, l) {
        if (s) break;
        s = fetch_blob(root, base, &n, json_string_value(json_object_get(l, "digest")),
                       (uint64_t)json_integer_value(json_object_get(l, "size")), &j, err);
    }
    if (!s) {
        if (progress) progress("writing manifest", NULL, 0, 0, user);
        char mpath[STORE_PATH_MAX];
        store_manifest_path(root, &n, mpath, sizeof mpath);
        char *text = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!(s = store_mkdirs_for(mpath, err))) s = hearth_write_file_atomic(mpath, text, strlen(text), err);
        free(text);
    }
    json_decref(m);
    if (!s && progress) progress("success", NULL, 0, 0, user);
    return s;
}
