/*
 * base — what every module uses: error reporting, logging, checked size arithmetic,
 * files (mmap and whole-file reads), monotonic time.
 */
#ifndef HEARTH_BASE_H
#define HEARTH_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hearth.h"

#define HEARTH_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define HEARTH_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HEARTH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HEARTH_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Fills err (which may be NULL) and returns status, so callers can write
 *     return hearth_fail(err, HEARTH_ERR_FORMAT, "%s: tensor '%s': ...", path, name);
 * The message is one line; a later call overwrites an earlier one. */
hearth_status hearth_fail(hearth_error *err, hearth_status status, const char *fmt, ...)
    HEARTH_PRINTF(3, 4);
/* Prefixes an existing error message ("context: old message"), keeping its status. */
hearth_status hearth_fail_wrap(hearth_error *err, const char *fmt, ...) HEARTH_PRINTF(2, 3);
void hearth_error_clear(hearth_error *err);

void hearth_log(hearth_log_level level, const char *fmt, ...) HEARTH_PRINTF(2, 3);
#define hearth_debug(...) hearth_log(HEARTH_LOG_DEBUG, __VA_ARGS__)
#define hearth_info(...) hearth_log(HEARTH_LOG_INFO, __VA_ARGS__)
#define hearth_warn(...) hearth_log(HEARTH_LOG_WARN, __VA_ARGS__)

/* Overflow-checked size arithmetic: return false (and leave *out unspecified) on overflow. */
static inline bool hearth_size_mul(size_t a, size_t b, size_t *out) { return !__builtin_mul_overflow(a, b, out); }
static inline bool hearth_size_add(size_t a, size_t b, size_t *out) { return !__builtin_add_overflow(a, b, out); }

/* A whole file in memory, read-only: mapped from the page cache, or read into memory of our
 * own (`mapped` is what hearth_mmap_close unmaps: the file's size, or more when rounded up
 * to whole huge pages). */
typedef struct hearth_mmap {
    const uint8_t *data;
    size_t size, mapped;
} hearth_mmap;

/* Maps the file (pages shared with the page cache and other processes; nothing copied), at a
 * 2 MB-aligned address so the kernel can map the page cache's 2 MB folios whole. For weights
 * that will be computed with (for_compute), also asks readahead for 2 MB folios and steers a
 * file cached in small folios to them, which reads those cached parts again (file.c). A pass
 * over the weights then misses the TLB 512x less often: decode from the mapping ran 25-30%
 * slower without. */
hearth_status hearth_mmap_open(const char *path, bool for_compute, hearth_mmap *map, hearth_error *err);
/* Reads the file into anonymous memory the kernel may back with 2 MB transparent huge pages
 * (--no-mmap): costs the read and a private copy; the same speed as the mapping where the
 * page cache gives 2 MB folios, faster where it cannot (older kernels, some filesystems). */
hearth_status hearth_mmap_read(const char *path, hearth_mmap *map, hearth_error *err);
void hearth_mmap_close(hearth_mmap *map);

/* Reads a whole file into a NUL-terminated malloc'd buffer; refuses files over max_size. */
hearth_status hearth_read_file(const char *path, size_t max_size, char **out, size_t *out_len,
                               hearth_error *err);
/* Writes data to path atomically (temp file in the same directory, fsync, rename). */
hearth_status hearth_write_file_atomic(const char *path, const void *data, size_t len,
                                       hearth_error *err);

double hearth_time_sec(void); /* monotonic seconds */
int hearth_physical_cores(void);

#endif
