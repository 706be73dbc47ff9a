/* bench_store: one run of the sample-store benchmark (tests/bench/bench_store.sh
 * runs it three times and takes medians). Writes N samples of ~TEXT bytes,
 * K per prompt, in batches of BATCH with a commit after each, into a fresh
 * store in DIR; then reopens it and times LOOKUPS lookups of stored prompts
 * and as many of missing ones. Prints one line of key=value figures.
 * Usage: bench_store DIR [N BATCH TEXT K LOOKUPS] */
#include "store/sha256.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void prompt_key(long p, uint8_t key[32])
{
    char s[32];
    int n = snprintf(s, sizeof s, "prompt %ld", p);
    sha256(s, (size_t)n, key);
}

static void die(const char *what, const char *msg)
{
    fprintf(stderr, "bench_store: %s: %s\n", what, msg);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_store DIR [N BATCH TEXT K LOOKUPS]\n");
        return 2;
    }
    long n = argc > 2 ? atol(argv[2]) : 100000;
    long batch = argc > 3 ? atol(argv[3]) : 100;
    long text_len = argc > 4 ? atol(argv[4]) : 1024;
    int k = argc > 5 ? atoi(argv[5]) : 4;
    long lookups = argc > 6 ? atol(argv[6]) : 200000;
    char path[4096], err[600];
    snprintf(path, sizeof path, "%s/bench.sqlite", argv[1]);

    /* Printable pseudo-random text: model output, not a compressible run. */
    char *text = malloc((size_t)text_len + 64);
    unsigned seed = 12345;
    for (long i = 0; i < text_len + 64; i++) {
        seed = seed * 1103515245u + 12345u;
        text[i] = (char)(' ' + (seed >> 16) % 95);
    }
    /* A canonical request of ~600 bytes, as a short math prompt would be. */
    char request[700];
    memset(request, 'r', sizeof request);

    store_t *s = store_open(path, NULL, err, sizeof err);
    if (!s)
        die("open", err);
    double c0 = cpu_us(), w0 = wall_us();
    for (long i = 0; i < n; i++) {
        uint8_t key[32];
        prompt_key(i / k, key);
        int rl = snprintf(request, sizeof request, "prompt %ld ", i / k);
        request[rl] = 'r';
        store_sample sm = {text + i % 64, (size_t)text_len, 1, "stop", 120, (long)text_len / 4, 850.0, "model-x", 0};
        if (store_put(s, key, request, 600, (int)(i % k), &sm) != 1)
            die("put", store_errmsg(s));
        if ((i + 1) % batch == 0 && store_commit(s) < 0)
            die("commit", store_errmsg(s));
    }
    if (store_commit(s) < 0)
        die("commit", store_errmsg(s));
    double put_cpu = cpu_us() - c0, put_wall = wall_us() - w0;
    if (store_close(s, err, sizeof err) < 0)
        die("close", err);

    /* Closing the last connection checkpoints and removes the WAL; count it anyway. */
    struct stat st;
    long bytes = stat(path, &st) == 0 ? (long)st.st_size : 0;
    char wal[4200];
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &st) == 0)
        bytes += (long)st.st_size;

    s = store_open(path, NULL, err, sizeof err);
    if (!s)
        die("reopen", err);
    store_sample out[16];
    unsigned char have[16];
    long prompts = (n + k - 1) / k, found = 0;
    c0 = cpu_us();
    w0 = wall_us();
    for (long i = 0; i < lookups; i++) {
        uint8_t key[32];
        seed = seed * 1103515245u + 12345u;
        prompt_key((long)(seed % (unsigned)prompts), key);
        int r = store_lookup(s, key, k, out, have);
        if (r < 0)
            die("lookup", store_errmsg(s));
        found += r;
    }
    double look_cpu = cpu_us() - c0, look_wall = wall_us() - w0;
    /* A miss: the common case of a fresh run. */
    c0 = cpu_us();
    for (long i = 0; i < lookups; i++) {
        uint8_t key[32];
        prompt_key(-1 - i, key);
        if (store_lookup(s, key, k, out, have) != 0)
            die("lookup", "a missing prompt was found");
    }
    double miss_cpu = cpu_us() - c0;
    store_close(s, NULL, 0);
    if (found != lookups * k && n % k == 0)
        die("lookup", "stored samples were not all found");

    printf("put_cpu_us_per_sample=%.2f put_wall_us_per_sample=%.2f bytes_per_1000=%.0f "
           "lookups_per_s=%.0f lookup_cpu_us=%.2f miss_cpu_us=%.2f\n",
           put_cpu / n, put_wall / n, bytes * 1000.0 / n, lookups / (look_wall / 1e6 + 1e-9), look_cpu / (lookups + 1e-9),
           miss_cpu / (lookups + 1e-9));
    free(text);
    return 0;
}
