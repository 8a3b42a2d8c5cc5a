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

/* Maps the file at a 2 MB-aligned address. The page cache keeps large files in large folios
 * (ext4, xfs, btrfs on Linux 6.x), and the kernel maps a 2 MB folio with one page-table entry
 * only where file offset and address agree modulo 2 MB. A plain mmap() picks a 4 KB-aligned
 * address, and every pass over the weights then takes 512 TLB misses per 2 MB: decode reads
 * the mapping 20-30% slower (docs/performance.md). With hint, MADV_HUGEPAGE asks readahead
 * for 2 MB folios where the file is not cached yet. */
static void *map_file_aligned(int fd, size_t size, bool hint)
{
    const size_t huge = (size_t)2 << 20;
    if (size < huge || size > SIZE_MAX - huge) return mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    uint8_t *area = mmap(NULL, size + huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (area == MAP_FAILED) return MAP_FAILED;
    uint8_t *start = (uint8_t *)(((uintptr_t)area + huge - 1) & ~(uintptr_t)(huge - 1));
    void *p = mmap(start, size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED) {
        int e = errno;
        munmap(area, size + huge);
        errno = e;
        return MAP_FAILED;
    }
    /* give back the reservation on either side of the file */
    if (start > area) munmap(area, (size_t)(start - area));
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *tail_start = (uint8_t *)(((uintptr_t)(start + size) + page - 1) & ~(uintptr_t)(page - 1));
    if (area + size + huge > tail_start) munmap(tail_start, (size_t)(area + size + huge - tail_start));
    if (hint) (void)madvise(p, size, MADV_HUGEPAGE); /* harmless where THP is off */
    return p;
}

/* The process's FilePmdMapped total in kB (file memory mapped as 2 MB pages), -1 if unknown. */
static long file_pmd_mapped_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f) return -1;
    char line[128];
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "FilePmdMapped: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_GROUP 16 /* chunks checked per read of smaps_rollup */

/* How much of 2 MB chunk c is in the page cache: 0 none, 1 part (so it is in small folios: a
 * 2 MB folio is cached whole or not at all), 2 all of it. */
static int chunk_cached(const unsigned char *resident, size_t c)
{
    size_t n = 0, per = HUGE_PAGE / 4096;
    for (size_t i = 0; i < per; i++) n += resident[c * per + i] & 1;
    return n == 0 ? 0 : n < per ? 1 : 2;
}

/* Faults in the first byte of each cached 2 MB chunk in [c0, c1); returns whether the kernel
 * mapped every one of them as a whole 2 MB page (-1: it cannot say). */
static int touch_chunks(const uint8_t *p, const unsigned char *resident, size_t c0, size_t c1)
{
    long before = file_pmd_mapped_kb(), want = 0;
    if (before < 0) return -1;
    bool partial = false;
    for (size_t c = c0; c < c1; c++) {
        int cached = chunk_cached(resident, c);
        if (cached == 1) partial = true;
        if (cached == 2) {
            (void)*(const volatile uint8_t *)(p + c * HUGE_PAGE);
            want += (long)(HUGE_PAGE >> 10);
        }
    }
    long after = file_pmd_mapped_kb();
    return after < 0 ? -1 : !partial && after - before >= want;
}

/* Drops the resident chunks in [c0, c1) from our mapping and from the page cache. Only clean
 * pages no other process maps are dropped (the kernel skips the rest): nothing is lost, and
 * the next touch reads them back through the MADV_HUGEPAGE readahead in 2 MB folios. */
static void drop_chunks(int fd, uint8_t *p, size_t c0, size_t c1)
{
    (void)madvise(p + c0 * HUGE_PAGE, (c1 - c0) * HUGE_PAGE, MADV_DONTNEED);
    (void)posix_fadvise(fd, (off_t)(c0 * HUGE_PAGE), (off_t)((c1 - c0) * HUGE_PAGE), POSIX_FADV_DONTNEED);
}

/* A file already in the page cache stays in the folios it was cached in: one written by
 * `hearth synth` or a downloader, or read by a tool that maps it without the hint, sits in
 * small folios, and the aligned mapping gains nothing there. So the chunks that are cached
 * (mincore) are touched 16 at a time, and a group the kernel did not map as 2 MB pages (or
 * with a chunk only partly cached) is dropped and read back in 2 MB folios. Where three
 * groups in a row do not come back that way, the filesystem or kernel cannot, and the rest
 * is left alone. Chunks not cached are left to the run (the readahead of a MADV_HUGEPAGE
 * mapping gives them 2 MB folios). */
static void prefer_huge_folios(const char *path, int fd, uint8_t *p, size_t size)
{
    size_t chunks = size / HUGE_PAGE, pages = (size + 4095) / 4096;
    if (chunks < 16 || ((uintptr_t)p & (HUGE_PAGE - 1)) || sysconf(_SC_PAGESIZE) != 4096) return;
    unsigned char *resident = malloc(pages);
    if (!resident) return;
    if (mincore(p, size, resident) != 0) goto done;
    int failed = 0;
    size_t dropped = 0;
    for (size_t c0 = 0; c0 < chunks; c0 += HUGE_GROUP) {
        size_t c1 = HEARTH_MIN(c0 + HUGE_GROUP, chunks);
        int huge = touch_chunks(p, resident, c0, c1);
        if (huge < 0) break;
        if (huge) continue;
        drop_chunks(fd, p, c0, c1);
        dropped += c1 - c0;
        /* read back at once: a page the kernel could not drop (one another process maps, or
         * still in flight) keeps its 2 MB range in small folios; three such groups in a row
         * and this filesystem or kernel cannot give 2 MB folios at all */
        for (size_t c = c0; c < c1; c++)
            if (chunk_cached(resident, c)) memset(resident + c * (HUGE_PAGE / 4096), 1, HUGE_PAGE / 4096);
        if (touch_chunks(p, resident, c0, c1) == 1) failed = 0;
        else if (++failed == 3) break;
    }
    if (dropped)
        hearth_info("%s: %zu MB were cached in small pages; read again in 2 MB pages", path,
                    dropped * (HUGE_PAGE >> 20));
done:
    free(resident);
}

hearth_status hearth_mmap_open(const char *path, bool for_compute, hearth_mmap *map, hearth_error *err)
{
    memset(map, 0, sizeof *map);
    int fd = -1;
    size_t size = 0;
    hearth_status st = open_regular(path, &fd, &size, err);
    if (st) return st;
    void *p = map_file_aligned(fd, size, for_compute);
    int e = errno;
    if (p != MAP_FAILED && for_compute) prefer_huge_folios(path, fd, p, size);
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
