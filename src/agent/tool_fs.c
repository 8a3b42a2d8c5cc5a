/*
 * tool_fs.c — `fs.list` and `fs.read`, confined to allow-listed roots.
 *
 * Confinement does not trust string checks on the path: it opens the root directory and walks
 * the remaining components one openat() at a time with O_NOFOLLOW, refusing "..", and refusing
 * any component that is a symlink. So neither "../../etc/passwd" nor a symlink planted inside
 * the root (to a file or a directory) can reach outside, and there is no check-then-use race on
 * the path string.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"

static json_t *fs_error(const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, b);
    return json_pack("{s:b, s:s}", "ok", 0, "error", agent_utf8_fix(msg));
}

/* Which root a path falls under, and the remainder relative to it. Relative paths are taken
 * relative to the first root. */
static const char *pick_root(const agent_strlist *roots, const char *path, const char **rest)
{
    if (!roots->n) return NULL;
    if (path[0] != '/') {
        *rest = path;
        return roots->items[0];
    }
    for (size_t i = 0; i < roots->n; i++) {
        const char *r = roots->items[i];
        size_t n = strlen(r);
        while (n > 1 && r[n - 1] == '/') n--;
        if (!strncmp(path, r, n) && (path[n] == '/' || path[n] == 0)) {
            *rest = path + n;
            return r;
        }
    }
    return NULL;
}

/* Opens path under the roots; returns an fd (O_RDONLY, or directory) or -1 with *why set. */
static int open_confined(const agent_strlist *roots, const char *path, bool want_dir, const char **why)
{
    for (const char *p = path; *p;) { /* ".." anywhere is refused before touching the disk */
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            *why = "'..' is not allowed";
            return -1;
        }
        p += n;
        while (*p == '/') p++;
    }
    const char *rest = NULL;
    const char *root = pick_root(roots, path, &rest);
    if (!root) {
        *why = "outside the allowed roots";
        return -1;
    }
    int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        *why = "root directory cannot be opened";
        return -1;
    }
    char comp[256];
    for (const char *p = rest; *p;) {
        while (*p == '/') p++;
        if (!*p) break;
        size_t n = strcspn(p, "/");
        if (n >= sizeof comp) {
            close(fd);
            *why = "path component too long";
            return -1;
        }
        memcpy(comp, p, n);
        comp[n] = 0;
        p += n;
        if (!strcmp(comp, ".")) continue;
        if (!strcmp(comp, "..")) {
            close(fd);
            *why = "'..' is not allowed";
            return -1;
        }
        while (*p == '/') p++;
        bool last = !*p;
        int flags = O_NOFOLLOW | O_CLOEXEC | O_RDONLY | (last && !want_dir ? 0 : O_DIRECTORY);
        int next = openat(fd, comp, flags | O_NONBLOCK);
        if (next < 0) {
            int e = errno;
            struct stat st;
            bool link = fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
            close(fd);
            *why = link || e == ELOOP ? "symbolic links are not followed"
                 : e == ENOTDIR ? "not a directory"
                 : e == ENOENT ? "no such file or directory"
                 : "cannot be opened";
            return -1;
        }
        close(fd);
        fd = next;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
        close(fd);
        *why = want_dir ? "not a directory" : "not a regular file";
        return -1;
    }
    return fd;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
                  json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

json_t *agent_fs_list(const agent_strlist *roots, const char *path)
{
    const char *why = NULL;
    int fd = open_confined(roots, path && *path ? path : ".", true, &why);
    if (fd < 0) return fs_error("fs.list: %s: %s", path, why);
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return fs_error("fs.list: %s: %s", path, "cannot read directory");
    }
    json_t **items = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 10000) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        const char *type = "other";
        long long size = 0;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
            type = S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink" : "other";
            size = (long long)st.st_size;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            json_t **grown = realloc(items, cap * sizeof *items);
            if (!grown) break;
            items = grown;
        }
        items[n++] = json_pack("{s:s, s:s, s:I}", "name", e->d_name, "type", type, "size", (json_int_t)size);
    }
    closedir(d);
    qsort(items, n, sizeof *items, by_name); /* deterministic order for plans and replays */
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, items[i]);
    free(items);
    return json_pack("{s:b, s:o}", "ok", 1, "output", arr);
}

json_t *agent_fs_read(const agent_strlist *roots, const char *path, size_t max_bytes)
{
    const char *why = NULL;
    if (!path || !*path) return fs_error("fs.read: %s%s", "missing 'path'", "");
    int fd = open_confined(roots, path, false, &why);
    if (fd < 0) return fs_error("fs.read: %s: %s", path, why);
    char *buf = malloc(max_bytes + 1);
    size_t n = 0;
    ssize_t r;
    while (buf && n < max_bytes && (r = read(fd, buf + n, max_bytes - n)) > 0) n += (size_t)r;
    char probe;
    bool truncated = read(fd, &probe, 1) == 1;
    close(fd);
    if (!buf) return fs_error("fs.read: %s: %s", path, "out of memory");
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        free(buf);
        return fs_error("fs.read: %s: %s", path, "binary file");
    }
    json_t *s = json_stringn(buf, n); /* NULL when not valid UTF-8 */
    free(buf);
    if (!s) return fs_error("fs.read: %s: %s", path, "not UTF-8 text");
    json_t *out = json_pack("{s:b, s:o}", "ok", 1, "output", s);
    if (truncated) json_object_set_new(out, "truncated", json_true());
    return out;
}
