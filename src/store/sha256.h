/* sha256: SHA-256 (FIPS 180-4), the hash behind every prompt key of the
 * sample store. One-shot sha256(), or init/update/final for data that
 * arrives in pieces; both give the same 32-byte digest. */
#ifndef SLMMUX_SHA256_H
#define SLMMUX_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    uint32_t h[8];          /* running hash value */
    uint64_t nbytes;        /* message length so far */
    uint8_t block[64];      /* partial block not yet compressed */
    size_t fill;            /* bytes used in block */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/* Writes the digest; c must be re-initialised before reuse. */
void sha256_final(sha256_ctx *c, uint8_t out[32]);

void sha256(const void *data, size_t len, uint8_t out[32]);

/* Lowercase hex of a digest: hex gets 64 characters and a NUL. */
void sha256_hex(const uint8_t digest[32], char hex[65]);
/* Parses exactly 64 hex digits (either case) into digest: 0, or -1 if the
 * string is not that. */
int sha256_unhex(const char *hex, size_t len, uint8_t digest[32]);

#endif
