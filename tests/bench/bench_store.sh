#!/bin/sh
# bench_store: CPU per stored sample (put + its share of the batch commit,
# synchronous=FULL), bytes on disk per 1,000 samples and lookup cost of the
# sample store. 100,000 samples of ~1 KB text, 4 per prompt, batches of 100;
# median of 3 runs, each in a fresh store. Figures only: never fails on time.
set -eu
cd "$(dirname "$0")/../.."

make --no-print-directory -s build/libslmmux.a
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Isrc -o build/bench_store \
   tests/bench/bench_store.c build/libslmmux.a $(pkg-config --libs sqlite3 libcrypto) -lm

# On the repository's disk, not a tmpfs, so the commit fsyncs are real.
dir=$(mktemp -d build/bench_store.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for run in 1 2 3; do
    rm -rf "$dir/run" && mkdir "$dir/run"
    build/bench_store "$dir/run" 100000 100 1024 4 >>"$dir/out"
done

# median of field $1 over the three lines
median() {
    sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$dir/out" | sort -g | sed -n 2p
}
cpu=$(median put_cpu_us_per_sample)
wall=$(median put_wall_us_per_sample)
bytes=$(median bytes_per_1000)
lps=$(median lookups_per_s)
lcpu=$(median lookup_cpu_us)
mcpu=$(median miss_cpu_us)
echo "store: 100000 samples x 1024 B, 4 per prompt, batches of 100, synchronous=FULL (median of 3)"
awk -v c="$cpu" -v w="$wall" -v b="$bytes" -v l="$lps" -v lc="$lcpu" -v mc="$mcpu" 'BEGIN {
    printf "  put+commit CPU   %6.2f us/sample  (%.2fx the 20 us target)\n", c, c / 20
    printf "  put+commit wall  %6.2f us/sample  (includes fsync waits)\n", w
    printf "  disk             %6.0f bytes per 1000 samples (%.2f x the text bytes)\n", b, b / 1024000
    printf "  lookup (4 found) %6.0f per second, %.2f us CPU each; miss %.2f us CPU\n", l, lc, mc
}'
