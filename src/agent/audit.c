/*
 * audit.c — append-only, hash-chained JSONL audit log.
 *
 * Each line is one JSON object whose last two members are "prev" (the hash of the previous
 * line, 64 zeros for the first) and "hash" = sha256(prev_hash || line-without-hash). The record
 * also carries "seq" (0, 1, 2, ...). So editing a record breaks its own hash, removing or
 * reordering one breaks the next record's "prev" and "seq", and truncating the tail is caught by
 * comparing against an optional expected count. The hash covers the exact bytes written, so
 * verification never depends on re-serializing JSON the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "base/base.h"
#include "base/sha256.h"

struct agent_audit {
    int fd;
    char *path;
    char last_hash[65];
    long next_seq;
    off_t known_size; /* file size after our last write: re-read the chain only if it changed */
};

static const char ZERO_HASH[65] = "0000000000000000000000000000000000000000000000000000000000000000";

/* The hashed text of a line is everything before `,"hash":"`; the hash is what follows. */
static bool split_line(const char *line, size_t len, size_t *body_len, char hash[65])
{
    static const char tag[] = ",\"hash\":\"";
    if (len < sizeof tag - 1 + 64 + 2) return false;
    size_t at = len - (sizeof tag - 1 + 64 + 2);
    if (memcmp(line + at, tag, sizeof tag - 1) || memcmp(line + len - 2, "\"}", 2)) return false;
    memcpy(hash, line + at + sizeof tag - 1, 64);
    hash[64] = 0;
    *body_len = at;
    return true;
}

static void chain_hash(const char *prev, const char *body, size_t body_len, char out[65])
{
    hearth_sha256_ctx h;
    uint8_t d[32];
    hearth_sha256_init(&h);
    hearth_sha256_update(&h, prev, 64);
    hearth_sha256_update(&h, body, body_len);
    hearth_sha256_final(&h, d);
    hearth_hex_encode(d, 32, out);
}

/* Walks the log; returns HEARTH_OK with the last hash and record count, or the first problem. */
static hearth_status walk(const char *path, char last[65], long *count, hearth_error *err)
{
    memcpy(last, ZERO_HASH, 65);
    *count = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return HEARTH_OK;
        return hearth_fail(err, HEARTH_ERR_IO, "%s: %s", path, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    hearth_status st = HEARTH_OK;
    while ((n = getline(&line, &cap, f)) > 0) {
        long lineno = *count + 1;
        if (line[n - 1] != '\n') {
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s:%ld: record is truncated (no newline)", path, lineno);
            break;
        }
        line[--n] = 0;
        size_t body_len;
        char hash[65], want[65];
        json_error_t je;
        json_t *rec = json_loads(line, 0, &je);
        if (!rec || !split_line(line, (size_t)n, &body_len, hash)) {
            json_decref(rec);
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s:%ld: not an audit record", path, lineno);
            break;
        }
        const char *prev = json_string_value(json_object_get(rec, "prev"));
        json_t *seq = json_object_get(rec, "seq");
        if (!json_is_integer(seq) || json_integer_value(seq) != *count) {
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s:%ld: seq is %lld, expected %ld (record removed or reordered)",
                             path, lineno, json_is_integer(seq) ? (long long)json_integer_value(seq) : -1LL, *count);
        } else if (!prev || strcmp(prev, last)) {
            st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s:%ld: prev does not match the previous record's hash "
                             "(record removed, inserted or reordered)", path, lineno);
        } else {
            chain_hash(last, line, body_len, want);
            if (strcmp(want, hash))
                st = hearth_fail(err, HEARTH_ERR_FORMAT, "%s:%ld: hash mismatch (record edited)", path, lineno);
        }
        json_decref(rec);
        if (st) break;
        memcpy(last, hash, 65);
        (*count)++;
    }
    free(line);
    fclose(f);
    return st;
}

hearth_status agent_audit_verify(const char *path, size_t *n_records, hearth_error *err)
{
    char last[65];
    long count;
    FILE *probe = fopen(path, "rb");
    if (!probe) return hearth_fail(err, HEARTH_ERR_IO, "%s: %s", path, strerror(errno));
    fclose(probe);
    hearth_status st = walk(path, last, &count, err);
    if (n_records) *n_records = (size_t)count;
    return st;
}

hearth_status agent_audit_open(const char *path, agent_audit **out, hearth_error *err)
{
    *out = NULL;
    agent_audit *a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(path))) {
        free(a);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        hearth_fail(err, HEARTH_ERR_IO, "%s: cannot open audit log: %s", path, strerror(errno));
        free(a->path);
        free(a);
        return HEARTH_ERR_IO;
    }
    /* Refuse to extend a log that no longer verifies: appending would bless the tampering. */
    hearth_status st = walk(path, a->last_hash, &a->next_seq, err);
    if (st) {
        hearth_fail_wrap(err, "audit log does not verify, refusing to append");
        agent_audit_close(a);
        return st;
    }
    struct stat sb;
    a->known_size = fstat(a->fd, &sb) == 0 ? sb.st_size : -1;
    *out = a;
    return HEARTH_OK;
}

hearth_status agent_audit_append(agent_audit *a, const char *type, json_t *fields, hearth_error *err)
{
    /* Another process may have appended since we opened: take the lock, re-read the tail. */
    if (flock(a->fd, LOCK_EX) != 0)
        return hearth_fail(err, HEARTH_ERR_IO, "%s: lock: %s", a->path, strerror(errno));
    struct stat sb;
    hearth_status st = HEARTH_OK;
    if (fstat(a->fd, &sb) != 0 || sb.st_size != a->known_size)
        st = walk(a->path, a->last_hash, &a->next_seq, err);
    if (st) {
        flock(a->fd, LOCK_UN);
        return st;
    }
    json_t *rec = json_object();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(rec, "seq", json_integer(a->next_seq));
    json_object_set_new(rec, "time", json_string(when));
    json_object_set_new(rec, "type", json_string(type));
    if (fields) json_object_update_missing(rec, fields); /* fields cannot override seq/time/type */
    json_object_del(rec, "prev");
    json_object_del(rec, "hash");
    json_object_set_new(rec, "prev", json_string(a->last_hash));
    char *body = json_dumps(rec, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(rec);
    if (!body) {
        flock(a->fd, LOCK_UN);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    size_t body_len = strlen(body) - 1; /* drop the closing brace: the hash goes inside */
    char hash[65];
    chain_hash(a->last_hash, body, body_len, hash);
    size_t line_len = body_len + 9 + 64 + 3;
    char *line = malloc(line_len + 1);
    if (!line) {
        free(body);
        flock(a->fd, LOCK_UN);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    }
    memcpy(line, body, body_len);
    snprintf(line + body_len, line_len + 1 - body_len, ",\"hash\":\"%s\"}\n", hash);
    free(body);
    ssize_t w = write(a->fd, line, line_len);
    free(line);
    if (w != (ssize_t)line_len || fdatasync(a->fd) != 0) { /* the record is on disk before the action goes on */
        flock(a->fd, LOCK_UN);
        return hearth_fail(err, HEARTH_ERR_IO, "%s: write failed: %s", a->path, strerror(errno));
    }
    memcpy(a->last_hash, hash, 65);
    a->next_seq++;
    a->known_size = fstat(a->fd, &sb) == 0 ? sb.st_size : -1;
    flock(a->fd, LOCK_UN);
    return HEARTH_OK;
}

void agent_audit_close(agent_audit *a)
{
    if (!a) return;
    if (a->fd >= 0) close(a->fd);
    free(a->path);
    free(a);
}

long agent_audit_count_today(const char *path, const char *type)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) return 0;
    char today[16];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    long count = 0;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *rec = json_loads(line, 0, NULL);
        const char *t = json_string_value(json_object_get(rec, "type"));
        const char *when = json_string_value(json_object_get(rec, "time"));
        if (t && when && !strcmp(t, type) && !strncmp(when, today, 10)) count++;
        json_decref(rec);
    }
    free(line);
    fclose(f);
    return count;
}
