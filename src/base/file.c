/* file.c — mapping (or reading) model files, reading small files whole, writing files atomically. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

/* Opens path for reading and checks it is a non-empty regular file. */
static hearth_status open_regular(const char *path, int *fd_out, size_t *size, hearth_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return hearth_fail(err, HEARTH_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: file is empty", path);
    }
    *fd_out = fd;
    *size = (size_t)st.st_size;
    return HEARTH_OK;
}

hearth_status hearth_mmap_open(const char *path, hearth_mmap *map, hearth_error *err)
{
    memset(map, 0, sizeof *map);
    int fd = -1;
    size_t size = 0;
    hearth_status st = open_regular(path, &fd, &size, err);
    if (st) return st;
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file alive */
    if (p == MAP_FAILED) return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot mmap: %s", path, strerror(e));
    map->data = p;
    map->size = map->mapped = size;
    return HEARTH_OK;
}

hearth_status hearth_mmap_read(const char *path, hearth_mmap *map, hearth_error *err)
{
    memset(map, 0, sizeof *map);
    int fd = -1;
    size_t size = 0;
    hearth_status st = open_regular(path, &fd, &size, err);
    if (st) return st;
    const size_t huge = (size_t)2 << 20;
    size_t mapped = size > SIZE_MAX - huge ? size : (size + huge - 1) & ~(huge - 1);
    uint8_t *p = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        close(fd);
        return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: cannot allocate %zu bytes to read it into: %s", path, size,
                           strerror(e));
    }
    (void)madvise(p, mapped, MADV_HUGEPAGE); /* a hint: without THP the copy still works */
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(fd, p + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            close(fd);
            munmap(p, mapped);
            return hearth_fail(err, HEARTH_ERR_IO, "%s: read failed at byte %zu of %zu: %s", path, got, size,
                               e ? strerror(e) : "file shrank");
        }
        got += (size_t)r;
    }
    close(fd);
    (void)mprotect(p, mapped, PROT_READ); /* the weights are as read-only as a mapping's */
    map->data = p;
    map->size = size;
    map->mapped = mapped;
    return HEARTH_OK;
}

void hearth_mmap_close(hearth_mmap *map)
{
    if (map->data) munmap((void *)map->data, map->mapped);
    memset(map, 0, sizeof *map);
}

hearth_status hearth_read_file(const char *path, size_t max_size, char **out, size_t *out_len,
                               hearth_error *err)
{
    *out = NULL;
    if (out_len) *out_len = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return hearth_fail(err, HEARTH_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    hearth_status st = HEARTH_OK;
    while (buf) {
        if (len == cap) {
            if (cap >= max_size) {
                st = hearth_fail(err, HEARTH_ERR_INVALID_ARG, "%s: larger than the %zu-byte limit", path, max_size);
                break;
            }
            cap = HEARTH_MIN(cap * 2, max_size);
            char *nb = realloc(buf, cap + 1);
            if (!nb) break;
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) st = hearth_fail(err, HEARTH_ERR_IO, "%s: read error", path);
            break;
        }
    }
    if (f != stdin) fclose(f);
    if (!buf) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory reading file", path);
    if (st != HEARTH_OK) {
        free(buf);
        return st;
    }
    buf[len] = '\0';
    *out = buf;
    if (out_len) *out_len = len;
    return HEARTH_OK;
}

hearth_status hearth_write_file_atomic(const char *path, const void *data, size_t len,
                                       hearth_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp) return hearth_fail(err, HEARTH_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        hearth_status st = hearth_fail(err, HEARTH_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    const uint8_t *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            hearth_status st = hearth_fail(err, HEARTH_ERR_IO, "%s: write failed: %s", path,
                                           n < 0 ? strerror(errno) : "no progress");
            close(fd);
            unlink(tmp);
            free(tmp);
            return st;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        hearth_status st = hearth_fail(err, HEARTH_ERR_IO, "%s: cannot finish writing: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    return HEARTH_OK;
}
