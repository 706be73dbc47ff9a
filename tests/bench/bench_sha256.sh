#!/bin/sh
# bench_sha256: SHA-256 throughput of the sample store's key function on
# request-sized inputs and on 1 MiB, the best of 3 runs of 1 s per size.
# Figures only: never fails on time.
set -eu
cd "$(dirname "$0")/../.."

make --no-print-directory -s build/libslmmux.a
mkdir -p build/bench
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Isrc -o build/bench/bench_sha256 \
   tests/bench/bench_sha256.c build/libslmmux.a $(pkg-config --libs libcrypto 2>/dev/null) -lm
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for run in 1 2 3; do build/bench/bench_sha256 1 >>"$out"; done
echo "sha256: best of 3 runs, 1 s per size"
for n in 512 2048 8192 1048576; do
    grep "^bytes=$n " "$out" | sed 's/.*us_per_call=\([0-9.]*\) mb_per_s=\([0-9.]*\)/\1 \2/' |
        sort -k2 -g | tail -1 | awk -v n="$n" '{ printf "  %8d B  %9.3f us/call  %7.1f MB/s\n", n, $1, $2 }'
done
