/*
 * sha256 — FIPS 180-4 SHA-256, streaming and one-shot. Own implementation so hashing (audit
 * chains, pulled blobs, store content ids) does not depend on whichever TLS library libcurl
 * happens to link.
 */
#ifndef HEARTH_SHA256_H
#define HEARTH_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct hearth_sha256_ctx {
    uint32_t state[8];
    uint64_t n_bytes;
    uint8_t block[64];
    size_t n_block;
} hearth_sha256_ctx;

void hearth_sha256_init(hearth_sha256_ctx *h);
void hearth_sha256_update(hearth_sha256_ctx *h, const void *data, size_t len);
void hearth_sha256_final(hearth_sha256_ctx *h, uint8_t digest[32]);
/* One shot; hex is 64 lowercase hex digits + NUL. */
void hearth_sha256(const void *data, size_t len, uint8_t digest[32]);
void hearth_sha256_hex(const void *data, size_t len, char hex[65]);
void hearth_hex_encode(const uint8_t *bytes, size_t n, char *hex /* 2n+1 */);

#endif
