#!/bin/sh
# bench_sandbox.sh: sandboxed executions per second (sequential and 8 at a
# time) against plain python3 starts. A figure, never pass/fail on time.
# Usage: tests/bench/bench_sandbox.sh [runs-per-round]
set -eu
cd "$(dirname "$0")/../.."
make -s build/libslmmux.a
mkdir -p build/tests
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Isrc \
    -o build/tests/bench_sandbox tests/bench/bench_sandbox.c \
    build/libslmmux.a -lm
exec build/tests/bench_sandbox "${1:-40}"
