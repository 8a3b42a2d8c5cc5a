/* create.c — `hearth create NAME -f Modelfile`: a stored model from a GGUF and a Modelfile. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "base/sha256.h"
#include "server/store.h"

/* Writes bytes as a blob (if not present) and returns its digest. */
static hearth_status put_blob(const char *root, const void *data, size_t len, char digest[72],
                              hearth_error *err)
{
    memcpy(digest, "sha256:", 7);
    hearth_sha256_hex(data, len, digest + 7);
    char path[STORE_PATH_MAX];
    hearth_status s = store_blob_path(root, digest, path, sizeof path, err);
    if (s || access(path, F_OK) == 0) return s;
    if ((s = store_mkdirs_for(path, err))) return s;
    return hearth_write_file_atomic(path, data, len, err);
}

/* Copies a GGUF into the blobs, hashing as it goes; renamed into place once complete. */
static hearth_status put_file_blob(const char *root, const char *src, char digest[72], uint64_t *size,
                                   hearth_error *err)
{
    hearth_status s = store_file_digest(src, digest, size, err);
    if (s) return s;
    char path[STORE_PATH_MAX], partial[STORE_PATH_MAX + 16];
    if ((s = store_blob_path(root, digest, path, sizeof path, err))) return s;
    if (access(path, F_OK) == 0) return HEARTH_OK;
    if ((s = store_mkdirs_for(path, err))) return s;
    snprintf(partial, sizeof partial, "%s-partial", path);
    FILE *in = fopen(src, "rb"), *out = in ? fopen(partial, "wb") : NULL;
    if (!in || !out) {
        s = hearth_fail(err, HEARTH_ERR_IO, "%s: cannot open: %s", in ? partial : src, strerror(errno));
        if (in) fclose(in);
        return s;
    }
    static __thread char buf[1 << 16];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in) && fflush(out) == 0 && fsync(fileno(out)) == 0;
    fclose(in);
    if (fclose(out) != 0) ok = false;
    if (!ok || rename(partial, path) != 0) {
        unlink(partial);
        return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot write blob (disk full?): %s", path, strerror(errno));
    }
    return HEARTH_OK;
}

/* One Modelfile value: """multi-line""", "quoted", or the rest of the line. Advances *p. */
static char *read_value(const char **p, int *line, hearth_error *err)
{
    const char *s = *p;
    while (*s == ' ' || *s == '\t') s++;
    const char *start, *end;
    if (!strncmp(s, "\"\"\"", 3)) {
        start = s + 3;
        end = strstr(start, "\"\"\"");
        if (!end) {
            hearth_fail(err, HEARTH_ERR_FORMAT, "Modelfile line %d: unterminated \"\"\"", *line);
            return NULL;
        }
        for (const char *c = s; c < end; c++) *line += *c == '\n';
        *p = end + 3;
    } else if (*s == '"') {
        start = s + 1;
        end = strchr(start, '"');
        const char *nl = strchr(start, '\n');
        if (!end || (nl && nl < end)) {
            hearth_fail(err, HEARTH_ERR_FORMAT, "Modelfile line %d: unterminated quote", *line);
            return NULL;
        }
        *p = end + 1;
    } else {
        start = s;
        end = s + strcspn(s, "\n");
        while (end > start && isspace((unsigned char)end[-1])) end--;
        *p = end;
    }
    return strndup(start, (size_t)(end - start));
}

static json_t *param_value(const char *v)
{
    char *end;
    if (!strcasecmp(v, "true")) return json_true();
    if (!strcasecmp(v, "false")) return json_false();
    long long i = strtoll(v, &end, 10);
    if (*v && !*end) return json_integer(i);
    double d = strtod(v, &end);
    if (*v && !*end) return json_real(d);
    return json_string(v);
}

hearth_status hearth_store_create(const char *name, const char *modelfile, const char *base_dir,
                                  hearth_error *err)
{
    store_name n;
    char root[4096];
    hearth_status s;
    if ((s = store_name_parse(name, &n, err)) || (s = store_root(root, sizeof root, err))) return s;
    char *from = NULL, *text[3] = {NULL, NULL, NULL}; /* template, system, license */
    static const char *const text_cmd[3] = {"TEMPLATE", "SYSTEM", "LICENSE"};
    static const char *const text_media[3] = {MEDIA_TEMPLATE, MEDIA_SYSTEM, MEDIA_LICENSE};
    json_t *params = json_object(), *layers = json_array();
    const char *p = modelfile;
    int line = 1;
    while (!s && *p) {
        while (*p == ' ' || *p == '\t' || *p == '\r') p++;
        if (*p == '\n') { p++; line++; continue; }
        if (*p == '#') { p += strcspn(p, "\n"); continue; }
        size_t wl = strcspn(p, " \t\n");
        char cmd[16] = {0};
        memcpy(cmd, p, wl < 15 ? wl : 15);
        p += wl;
        int t = -1;
        for (int i = 0; i < 3; i++) if (!strcasecmp(cmd, text_cmd[i])) t = i;
        if (!strcasecmp(cmd, "FROM")) {
            free(from);
            if (!(from = read_value(&p, &line, err))) s = err ? err->status : HEARTH_ERR_FORMAT;
        } else if (t >= 0) {
            free(text[t]);
            if (!(text[t] = read_value(&p, &line, err))) s = err ? err->status : HEARTH_ERR_FORMAT;
        } else if (!strcasecmp(cmd, "PARAMETER")) {
            while (*p == ' ' || *p == '\t') p++;
            size_t kl = strcspn(p, " \t\n");
            char key[64] = {0};
            if (kl == 0 || kl >= sizeof key) {
                s = hearth_fail(err, HEARTH_ERR_FORMAT, "Modelfile line %d: PARAMETER needs a name and a value", line);
                break;
            }
            memcpy(key, p, kl);
            p += kl;
            char *v = read_value(&p, &line, err);
            if (!v || !*v) {
                s = v ? hearth_fail(err, HEARTH_ERR_FORMAT, "Modelfile line %d: PARAMETER %s has no value", line, key) : HEARTH_ERR_FORMAT;
                free(v);
                break;
            }
            if (!strcmp(key, "stop")) { /* stop may repeat: Ollama keeps them all */
                json_t *arr = json_object_get(params, "stop");
                if (!arr) json_object_set_new(params, "stop", arr = json_array());
                json_array_append_new(arr, json_string(v));
            } else {
                json_object_set_new(params, key, param_value(v));
            }
            free(v);
        } else {
            s = hearth_fail(err, HEARTH_ERR_UNSUPPORTED, "Modelfile line %d: unknown or unsupported instruction '%s'", line, cmd);
        }
        if (!s && *p && *p != '\n') {
            while (*p == ' ' || *p == '\t' || *p == '\r') p++;
            if (*p && *p != '\n') s = hearth_fail(err, HEARTH_ERR_FORMAT, "Modelfile line %d: unexpected text after the value", line);
        }
    }
    if (!s && !from) s = hearth_fail(err, HEARTH_ERR_FORMAT, "Modelfile: no FROM line");

    char digest[72];
    uint64_t size = 0;
    if (!s) { /* FROM: a file (relative to the Modelfile) or a stored model */
        char path[STORE_PATH_MAX];
        if (from[0] == '/' || !base_dir) snprintf(path, sizeof path, "%s", from);
        else snprintf(path, sizeof path, "%s/%s", base_dir, from);
        if (access(path, R_OK) == 0) {
            s = put_file_blob(root, path, digest, &size, err);
        } else {
            char blob[4096];
            s = hearth_store_resolve(from, blob, sizeof blob, err);
            if (!s) s = store_file_digest(blob, digest, &size, err);
            if (!s) { /* inherit the base model's text layers unless this Modelfile sets them */
                for (int i = 0; i < 3; i++) {
                    static const char *const kinds[3] = {"template", "system", "license"};
                    if (!text[i]) hearth_store_layer(from, kinds[i], &text[i], NULL);
                }
            }
        }
        if (!s) json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType", MEDIA_MODEL, "digest", digest, "size", (json_int_t)size));
    }
    for (int i = 0; i < 3 && !s; i++) {
        if (!text[i]) continue;
        if (!(s = put_blob(root, text[i], strlen(text[i]), digest, err)))
            json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType", text_media[i], "digest", digest, "size", (json_int_t)strlen(text[i])));
    }
    if (!s && json_object_size(params)) {
        char *pj = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
        if (!(s = put_blob(root, pj, strlen(pj), digest, err)))
            json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType", MEDIA_PARAMS, "digest", digest, "size", (json_int_t)strlen(pj)));
        free(pj);
    }
    if (!s) {
        const char *config = "{\"model_format\":\"gguf\"}";
        char cdigest[72];
        if (!(s = put_blob(root, config, strlen(config), cdigest, err))) {
            json_t *m = json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:O}", "schemaVersion", 2, "mediaType", MEDIA_MANIFEST,
                                  "config", "mediaType", MEDIA_CONFIG, "digest", cdigest, "size", (json_int_t)strlen(config),
                                  "layers", layers);
            char *mt = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
            char mpath[STORE_PATH_MAX];
            store_manifest_path(root, &n, mpath, sizeof mpath);
            if (!(s = store_mkdirs_for(mpath, err))) s = hearth_write_file_atomic(mpath, mt, strlen(mt), err);
            free(mt);
            json_decref(m);
        }
    }
    free(from);
    for (int i = 0; i < 3; i++) free(text[i]);
    json_decref(params);
    json_decref(layers);
    return s;
}
