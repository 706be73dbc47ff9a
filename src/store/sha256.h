/* sha256: SHA-256 (FIPS 180-4), the hash behind every prompt key of the
 * sample store. One-shot sha256(), or init/update/final for data that
 * arrives in pieces; both give the same 32-byte digest.
 *
 * The digest is libcrypto's (OpenSSL), which libcurl already loads: its
 * assembly runs at 600 MB/s on 512 B and 1.4 GB/s on 1 MiB on this
 * project's machine, 3 to 7 times the portable C it replaced
 * (tests/bench/bench_sha256.sh). */
#ifndef SLMMUX_SHA256_H
#define SLMMUX_SHA256_H
#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
    void *md;               /* libcrypto's EVP_MD_CTX, from init until final */
} sha256_ctx;

/* Allocates the context (aborts when out of memory, see base/oom.h):
 * every sha256_init must be followed by one sha256_final, which frees it. */
void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and frees the context; re-initialise it before reuse. */
void sha256_final(sha256_ctx *c, uint8_t out[32]);

void sha256(const void *data, size_t len, uint8_t out[32]);

/* Lowercase hex of a digest: hex gets 64 characters and a NUL. */
void sha256_hex(const uint8_t digest[32], char hex[65]);
/* Parses exactly 64 hex digits (either case) into digest: 0, or -1 if the
 * string is not that. */
int sha256_unhex(const char *hex, size_t len, uint8_t digest[32]);

#endif
