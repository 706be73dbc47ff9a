/* test_sha256: the NIST FIPS 180-4 example vectors, padding boundaries
 * (lengths around 55/56/64 bytes, reference digests from Python's hashlib),
 * incremental == one-shot for every split, and the hex helpers. */
#include "check.h"
#include "store/sha256.h"

#include <stdlib.h>

static const char *hex_of(const void *data, size_t len)
{
    static char hex[65];
    uint8_t d[32];
    sha256(data, len, d);
    sha256_hex(d, hex);
    return hex;
}

static void test_nist_vectors(void)
{
    CHECK_STR(hex_of("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK_STR(hex_of("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_STR(hex_of(m448, strlen(m448)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    CHECK_STR(hex_of(m896, strlen(m896)), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

    /* One million 'a', fed through the incremental API in uneven pieces. */
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    sha256_ctx c;
    sha256_init(&c);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    char hex[65];
    sha256_final(&c, d);
    sha256_hex(d, hex);
    CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_padding_boundaries(void)
{
    static const struct { size_t n; const char *hex; } v[] = {
        {55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"},
        {56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"},
        {57, "2fe741af801cc238602ac0ec6a7b0c3a8a87c7fc7d7f02a3fe03d1c12eac4d8f"},
        {63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"},
        {64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"},
        {65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"},
        {119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"},
        {120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"},
    };
    uint8_t msg[120];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i % 251);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        CHECK_STR(hex_of(msg, v[i].n), v[i].hex);
}

static void test_incremental_matches_oneshot(void)
{
    uint8_t msg[200], want[32], got[32];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 3);
    sha256(msg, sizeof msg, want);
    int bad = 0;
    for (size_t a = 0; a <= sizeof msg; a++)
        for (size_t b = a; b <= sizeof msg; b += 13) {
            sha256_ctx c;
            sha256_init(&c);
            sha256_update(&c, msg, a);
            sha256_update(&c, msg + a, b - a);
            sha256_update(&c, msg + b, sizeof msg - b);
            sha256_final(&c, got);
            bad += memcmp(got, want, 32) != 0;
        }
    CHECK_MSG(bad == 0, "%d splits disagree with the one-shot digest", bad);
}

static void test_hex(void)
{
    uint8_t d[32], back[32];
    char hex[65];
    sha256("abc", 3, d);
    sha256_hex(d, hex);
    CHECK(sha256_unhex(hex, 64, back) == 0 && memcmp(d, back, 32) == 0);
    CHECK(sha256_unhex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 64, back) == 0 &&
          memcmp(d, back, 32) == 0);
    CHECK(sha256_unhex(hex, 63, back) == -1);
    hex[10] = 'g';
    CHECK(sha256_unhex(hex, 64, back) == -1);
}

int main(void)
{
    test_nist_vectors();
    test_padding_boundaries();
    test_incremental_matches_oneshot();
    test_hex();
    return check_report();
}
