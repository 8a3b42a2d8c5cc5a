/* store.c — names, paths and manifests of the local model store (see store.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/sha256.h"
#include "server/store.h"

/* ---- names -------------------------------------------------------------------------------- */

static bool name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

static hearth_status copy_part(const char *text, const char *what, const char *s, size_t n,
                               char *dst, size_t size, hearth_error *err)
{
    if (n == 0) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "model name '%s': empty %s", text, what);
    if (n >= size) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "model name '%s': %s too long", text, what);
    for (size_t i = 0; i < n; i++)
        if (!name_char_ok(s[i]))
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG,
                               "model name '%s': %s may only hold letters, digits, '.', '_' and '-'", text, what);
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') || s[0] == '-')
        return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "model name '%s': invalid %s", text, what);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return HEARTH_OK;
}

hearth_status store_name_parse(const char *text, store_name *out, hearth_error *err)
{
    if (!text || !*text) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "empty model name");
    size_t len = strlen(text);
    if (len > 400) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "model name too long (%zu bytes)", len);
    const char *slash = strrchr(text, '/');
    const char *colon = strrchr(slash ? slash : text, ':');
    size_t path_len = colon ? (size_t)(colon - text) : len;
    hearth_status st;
    if (colon) {
        if ((st = copy_part(text, "tag", colon + 1, len - path_len - 1, out->tag, sizeof out->tag, err))) return st;
    } else {
        strcpy(out->tag, STORE_DEFAULT_TAG);
    }
    const char *parts[4];
    size_t lens[4];
    int n = 0;
    const char *p = text, *end = text + path_len;
    while (p <= end) {
        const char *q = memchr(p, '/', (size_t)(end - p));
        if (!q) q = end;
        if (n == 3) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "model name '%s': too many '/' parts (at most host/namespace/model)", text);
        parts[n] = p;
        lens[n++] = (size_t)(q - p);
        p = q + 1;
    }
    strcpy(out->host, STORE_DEFAULT_HOST);
    strcpy(out->ns, STORE_DEFAULT_NAMESPACE);
    int i = 0;
    if (n == 3 && (st = copy_part(text, "host", parts[i++], lens[0], out->host, sizeof out->host, err))) return st;
    if (n >= 2 && (st = copy_part(text, "namespace", parts[i++], lens[n - 2], out->ns, sizeof out->ns, err))) return st;
    return copy_part(text, "model", parts[i], lens[n - 1], out->model, sizeof out->model, err);
}

void store_name_display(const store_name *n, char *buf, size_t size)
{
    if (!strcmp(n->host, STORE_DEFAULT_HOST) && !strcmp(n->ns, STORE_DEFAULT_NAMESPACE))
        snprintf(buf, size, "%s:%s", n->model, n->tag);
    else if (!strcmp(n->host, STORE_DEFAULT_HOST))
        snprintf(buf, size, "%s/%s:%s", n->ns, n->model, n->tag);
    else
        snprintf(buf, size, "%s/%s/%s:%s", n->host, n->ns, n->model, n->tag);
}

/* ---- paths -------------------------------------------------------------------------------- */

hearth_status store_root(char *buf, size_t size, hearth_error *err)
{
    const char *models = getenv("HEARTH_MODELS"), *home = getenv("HEARTH_HOME");
    int n;
    if (models && *models) n = snprintf(buf, size, "%s", models);
    else if (home && *home) n = snprintf(buf, size, "%s/models", home);
    else {
        const char *h = getenv("HOME");
        if (!h || !*h) return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "none of HEARTH_MODELS, HEARTH_HOME or HOME is set");
        n = snprintf(buf, size, "%s/.hearth/models", h);
    }
    if (n < 0 || (size_t)n >= size) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "model store path too long");
    while (n > 1 && buf[n - 1] == '/') buf[--n] = '\0';
    return HEARTH_OK;
}

void store_manifest_path(const char *root, const store_name *n, char *buf, size_t size)
{
    snprintf(buf, size, "%s/manifests/%s/%s/%s/%s", root, n->host, n->ns, n->model, n->tag);
}

hearth_status store_blob_path(const char *root, const char *digest, char *buf, size_t size,
                              hearth_error *err)
{
    if (!digest || strncmp(digest, "sha256:", 7) != 0 || strlen(digest) != 7 + 64)
        return hearth_fail(err, HEARTH_ERR_FORMAT, "digest '%s': expected sha256:<64 hex digits>", digest ? digest : "");
    for (const char *p = digest + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return hearth_fail(err, HEARTH_ERR_FORMAT, "digest '%s': expected lowercase hex digits", digest);
    snprintf(buf, size, "%s/blobs/sha256-%s", root, digest + 7);
    return HEARTH_OK;
}

hearth_status store_mkdirs_for(const char *path, hearth_error *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot create directory: %s", tmp, strerror(errno));
        *p = '/';
    }
    return HEARTH_OK;
}

hearth_status store_file_digest(const char *path, char digest[72], uint64_t *size, hearth_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    hearth_sha256_ctx h;
    hearth_sha256_init(&h);
    static __thread uint8_t buf[1 << 16];
    size_t n;
    uint64_t total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        hearth_sha256_update(&h, buf, n);
        total += n;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) return hearth_fail(err, HEARTH_ERR_IO, "%s: read error", path);
    uint8_t d[32];
    hearth_sha256_final(&h, d);
    memcpy(digest, "sha256:", 7);
    hearth_hex_encode(d, 32, digest + 7);
    if (size) *size = total;
    return HEARTH_OK;
}

/* ---- manifests ------------------------------------------------------------------------------ */

static json_t *load_manifest(const char *root, const store_name *n, char *path, size_t size,
                             hearth_error *err)
{
    store_manifest_path(root, n, path, size);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    if (!m) {
        char disp[400];
        store_name_display(n, disp, sizeof disp);
        if (access(path, F_OK) != 0)
            hearth_fail(err, HEARTH_ERR_NOT_FOUND, "model '%s' not found, try pulling it first", disp);
        else
            hearth_fail(err, HEARTH_ERR_FORMAT, "%s: manifest is not valid JSON: %s", path, je.text);
        return NULL;
    }
    if (!json_is_array(json_object_get(m, "layers"))) {
        hearth_fail(err, HEARTH_ERR_FORMAT, "%s: manifest has no \"layers\" array", path);
        json_decref(m);
        return NULL;
    }
    return m;
}

static const char *layer_digest(json_t *manifest, const char *media)
{
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(manifest, "layers"), i, l)
        if (json_is_string(json_object_get(l, "mediaType")) &&
            !strcmp(json_string_value(json_object_get(l, "mediaType")), media))
            return json_string_value(json_object_get(l, "digest"));
    return NULL;
}

static hearth_status model_blob(const char *root, json_t *m, const char *mpath, char *path,
                                size_t size, hearth_error *err)
{
    const char *d = layer_digest(m, MEDIA_MODEL);
    if (!d) return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: manifest has no model layer", mpath);
    hearth_status st = store_blob_path(root, d, path, size, err);
    if (st) return hearth_fail_wrap(err, "%s", mpath);
    if (access(path, R_OK) != 0)
        return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "%s: model blob %s is missing; pull the model again", mpath, d);
    return HEARTH_OK;
}

hearth_status hearth_store_resolve(const char *name_or_path, char *path, size_t path_size,
                                   hearth_error *err)
{
    struct stat st;
    if (name_or_path && stat(name_or_path, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((size_t)snprintf(path, path_size, "%s", name_or_path) >= path_size)
            return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "path too long");
        return HEARTH_OK;
    }
    if (!name_or_path) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "no model given");
    /* Something spelled like a path is a path: say the file is missing, not the model. */
    size_t len = strlen(name_or_path);
    bool pathlike = name_or_path[0] == '/' || name_or_path[0] == '.' || name_or_path[0] == '~' ||
                    (len > 5 && !strcmp(name_or_path + len - 5, ".gguf"));
    store_name n;
    hearth_error perr;
    if (pathlike || store_name_parse(name_or_path, &n, &perr) != HEARTH_OK) {
        int e = errno;
        if (pathlike || access(name_or_path, F_OK) == 0)
            return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot open: %s", name_or_path,
                               access(name_or_path, F_OK) == 0 ? "not a regular file" : strerror(e ? e : ENOENT));
        return hearth_fail(err, HEARTH_ERR_NOT_FOUND, "%s: no such file, and not a model name (%s)", name_or_path,
                           perr.message);
    }
    return store_resolve_name(&n, path, path_size, err);
}

hearth_status store_resolve_name(const store_name *n, char *path, size_t path_size, hearth_error *err)
{
    char root[4096], mpath[STORE_PATH_MAX];
    hearth_status s = store_root(root, sizeof root, err);
    if (s) return s;
    json_t *m = load_manifest(root, n, mpath, sizeof mpath, err);
    if (!m) return err ? err->status : HEARTH_ERR_NOT_FOUND;
    s = model_blob(root, m, mpath, path, path_size, err);
    json_decref(m);
    return s;
}

hearth_status hearth_store_layer(const char *name, const char *kind, char **out, hearth_error *err)
{
    *out = NULL;
    static const struct { const char *kind, *media; } kinds[] = {
        {"params", MEDIA_PARAMS}, {"template", MEDIA_TEMPLATE}, {"system", MEDIA_SYSTEM}, {"license", MEDIA_LICENSE}};
    const char *media = NULL;
    for (size_t i = 0; i < HEARTH_ARRAY_LEN(kinds); i++)
        if (!strcmp(kinds[i].kind, kind)) media = kinds[i].media;
    if (!media) return hearth_fail(err, HEARTH_ERR_INVALID_ARG, "unknown layer kind '%s'", kind);
    store_name n;
    char root[4096], mpath[STORE_PATH_MAX], bpath[STORE_PATH_MAX];
    hearth_status s;
    if ((s = store_name_parse(name, &n, err)) || (s = store_root(root, sizeof root, err))) return s;
    json_t *m = load_manifest(root, &n, mpath, sizeof mpath, err);
    if (!m) return err ? err->status : HEARTH_ERR_NOT_FOUND;
    const char *d = layer_digest(m, media);
    if (d && !(s = store_blob_path(root, d, bpath, sizeof bpath, err)))
        s = hearth_read_file(bpath, 1 << 24, out, NULL, err);
    json_decref(m);
    return s;
}

/* ---- listing -------------------------------------------------------------------------------- */

typedef struct entry_list {
    hearth_store_entry *v;
    int32_t n, cap;
} entry_list;

static void add_entry(entry_list *l, const char *root, const store_name *n, const char *mpath)
{
    hearth_error e;
    json_t *m = load_manifest(root, n, (char[STORE_PATH_MAX]){0}, 4600, &e);
    if (!m) return; /* a broken manifest is not a model; `hearth list` stays usable */
    if (l->n == l->cap) {
        int32_t cap = l->cap ? l->cap * 2 : 16;
        hearth_store_entry *v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) {
            json_decref(m);
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    hearth_store_entry *en = &l->v[l->n];
    memset(en, 0, sizeof *en);
    store_name_display(n, en->name, sizeof en->name);
    model_blob(root, m, mpath, en->model_path, sizeof en->model_path, &e);
    size_t i;
    json_t *layer;
    json_array_foreach(json_object_get(m, "layers"), i, layer)
        en->size += (uint64_t)json_integer_value(json_object_get(layer, "size"));
    char *text = json_dumps(m, JSON_COMPACT);
    if (text) {
        memcpy(en->digest, "sha256:", 7);
        hearth_sha256_hex(text, strlen(text), en->digest + 7);
        free(text);
    }
    struct stat st;
    if (stat(mpath, &st) == 0) en->modified = (int64_t)st.st_mtime;
    json_decref(m);
    l->n++;
}

/* Walks manifests/<host>/<ns>/<model>/<tag>: depth-limited, so a strange tree cannot loop. */
static void walk(entry_list *l, const char *root, const char *dir, int depth, store_name *n)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof n->host) continue;
        char path[STORE_PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path) continue;
        char *slot = depth == 0 ? n->host : depth == 1 ? n->ns : depth == 2 ? n->model : n->tag;
        strcpy(slot, de->d_name);
        if (depth < 3) walk(l, root, path, depth + 1, n);
        else add_entry(l, root, n, path);
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const hearth_store_entry *)a)->name, ((const hearth_store_entry *)b)->name);
}

hearth_status hearth_store_list(hearth_store_entry **entries, int32_t *n, hearth_error *err)
{
    *entries = NULL;
    *n = 0;
    char root[4096], dir[4200];
    hearth_status s = store_root(root, sizeof root, err);
    if (s) return s;
    snprintf(dir, sizeof dir, "%s/manifests", root);
    entry_list l = {0};
    store_name name;
    walk(&l, root, dir, 0, &name);
    if (l.n) qsort(l.v, (size_t)l.n, sizeof *l.v, by_name);
    *entries = l.v;
    *n = l.n;
    return HEARTH_OK;
}

/* ---- remove / copy ---------------------------------------------------------------------------- */

static bool digest_used(const char *root, const char *digest)
{
    hearth_store_entry *v;
    int32_t n;
    if (hearth_store_list(&v, &n, NULL) != HEARTH_OK) return true;
    bool used = false;
    for (int32_t i = 0; i < n && !used; i++) {
        char *text = NULL;
        store_name sn;
        char mpath[STORE_PATH_MAX];
        if (store_name_parse(v[i].name, &sn, NULL) != HEARTH_OK) continue;
        store_manifest_path(root, &sn, mpath, sizeof mpath);
        if (hearth_read_file(mpath, 1 << 20, &text, NULL, NULL) == HEARTH_OK) used = strstr(text, digest) != NULL;
        free(text);
    }
    free(v);
    return used;
}

hearth_status hearth_store_remove(const char *name, hearth_error *err)
{
    store_name n;
    char root[4096], mpath[STORE_PATH_MAX];
    hearth_status s;
    if ((s = store_name_parse(name, &n, err)) || (s = store_root(root, sizeof root, err))) return s;
    json_t *m = load_manifest(root, &n, mpath, sizeof mpath, err);
    if (!m) return err ? err->status : HEARTH_ERR_NOT_FOUND;
    if (unlink(mpath) != 0) {
        json_decref(m);
        return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot remove: %s", mpath, strerror(errno));
    }
    size_t i;
    json_t *layer;
    json_array_foreach(json_object_get(m, "layers"), i, layer) {
        const char *d = json_string_value(json_object_get(layer, "digest"));
        char bpath[STORE_PATH_MAX];
        if (d && store_blob_path(root, d, bpath, sizeof bpath, NULL) == HEARTH_OK && !digest_used(root, d))
            unlink(bpath);
    }
    json_decref(m);
    return HEARTH_OK;
}

hearth_status hearth_store_copy(const char *src, const char *dst, hearth_error *err)
{
    store_name a, b;
    char root[4096], apath[STORE_PATH_MAX], bpath[STORE_PATH_MAX];
    hearth_status s;
    if ((s = store_name_parse(src, &a, err)) || (s = store_name_parse(dst, &b, err)) ||
        (s = store_root(root, sizeof root, err)))
        return s;
    json_t *m = load_manifest(root, &a, apath, sizeof apath, err);
    if (!m) return err ? err->status : HEARTH_ERR_NOT_FOUND;
    store_manifest_path(root, &b, bpath, sizeof bpath);
    char *text = json_dumps(m, JSON_INDENT(0) | JSON_PRESERVE_ORDER);
    json_decref(m);
    if (!text) return hearth_fail(err, HEARTH_ERR_NOMEM, "out of memory");
    if (!(s = store_mkdirs_for(bpath, err))) s = hearth_write_file_atomic(bpath, text, strlen(text), err);
    free(text);
    return s;
}
