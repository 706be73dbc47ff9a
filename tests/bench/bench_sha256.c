/* bench_sha256: throughput of sha256() (src/store/sha256.h) on what it
 * hashes in a run — one canonical request per mux.chat, typically 0.5 to
 * 8 KB — and on 1 MiB. Prints one line of key=value figures per size.
 * Usage: bench_sha256 [SECONDS_PER_SIZE] */
#include "store/sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 1.0;
    static const size_t sizes[] = {512, 2048, 8192, 1 << 20};
    char *buf = malloc(1 << 20);
    if (!buf)
        return 1;
    for (size_t i = 0; i < 1 << 20; i++)
        buf[i] = (char)('a' + i % 26);
    unsigned sink = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        size_t n = sizes[s];
        long calls = 0;
        uint8_t d[32];
        double start = now_s(), elapsed;
        do {
            for (int j = 0; j < 64; j++, calls++) {
                buf[calls % n] ^= 1;        /* a different message each time */
                sha256(buf, n, d);
                sink += d[0];
            }
            elapsed = now_s() - start;
        } while (elapsed < budget);
        printf("bytes=%zu calls=%ld us_per_call=%.3f mb_per_s=%.1f\n", n, calls, elapsed * 1e6 / calls,
               (double)n * calls / elapsed / 1e6);
    }
    free(buf);
    return sink == 0xffffffffu;     /* keeps the digests live */
}
