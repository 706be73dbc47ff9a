/* sha256: SHA-256 through libcrypto's EVP interface (the SHA256_Init
 * family is deprecated in OpenSSL 3). */
#include "store/sha256.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "base/oom.h"

void sha256_init(sha256_ctx *c)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    /* with a built-in digest, init fails only for want of memory */
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
        oom_abort(sizeof(void *));
    c->md = md;
}

void sha256_update(sha256_ctx *c, const void *data, size_t len)
{
    if (len && !EVP_DigestUpdate(c->md, data, len))
        oom_abort(len);
}

void sha256_final(sha256_ctx *c, uint8_t out[32])
{
    unsigned n = 0;
    if (!EVP_DigestFinal_ex(c->md, out, &n) || n != 32)
        oom_abort(32);
    EVP_MD_CTX_free(c->md);
    c->md = NULL;
}

void sha256(const void *data, size_t len, uint8_t out[32])
{
    /* the one-shot call: no context to allocate, hence nothing to fail */
    SHA256(data, len, out);
}

void sha256_hex(const uint8_t digest[32], char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

int sha256_unhex(const char *hex, size_t len, uint8_t digest[32])
{
    if (len != 64)
        return -1;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        digest[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
