#!/usr/bin/env bash
# Extraction throughput (boxed, number, math, choice) on >= 100 MB of synthetic
# model replies per extractor, and the time of vote_search over every subset
# of 20 models x 500 questions. One core, median of 3 runs. Figures only:
# targets are >= 300 MB/s for boxed and number, < 1 s for the search.
# Usage: tests/bench/bench_extract.sh [MB per corpus, default 100]
set -eu
cd "$(dirname "$0")/../.."
make --no-print-directory -s build/libslmmux.a
mkdir -p build/bench
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Isrc -o build/bench/bench_extract \
  tests/bench/bench_extract.c build/libslmmux.a \
  $(pkg-config --libs libpcre2-8) -lm
exec build/bench/bench_extract "${1:-100}"
