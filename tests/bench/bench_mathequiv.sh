#!/bin/sh
# bench_mathequiv: math_normalize and math_equiv throughput on the MATH-500
# answers (see tests/bench/bench_mathequiv.c for what each figure times).
# One core, median of 3 runs. Figures only: never fails on time.
set -eu
cd "$(dirname "$0")/../.."

objs="build/libslmmux.a"
make --no-print-directory -s $objs
mkdir -p build/bench
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Isrc -o build/bench/bench_mathequiv \
   tests/bench/bench_mathequiv.c $objs $(pkg-config --libs libpcre2-8) -lm

out=$(mktemp)
trap 'rm -f "$out"' EXIT
for run in 1 2 3; do
    build/bench/bench_mathequiv "${1:-data/math_500.json}" >>"$out"
done

# median of field $1 over the three lines
median() {
    sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$out" | sort -g | sed -n 2p
}
echo "mathequiv: MATH-500 answers, one core (median of 3)"
awk -v n="$(median normalize_per_s)" -v s="$(median same_per_s)" -v d="$(median distinct_per_s)" \
    -v v="$(median variants_per_s)" -v p="$(median pairs)" -v f="$(median distinct_equiv)" \
    -v ok="$(median same_ok)" -v vok="$(median variants_ok)" 'BEGIN {
    printf "  normalize                 %9.0f /s  (%.2f us each)\n", n, 1e6 / n
    printf "  equiv answer vs own box   %9.0f /s  (%.2f us; all equivalent: %s)\n", s, 1e6 / s, ok ? "yes" : "NO"
    printf "  equiv distinct pairs      %9.0f /s  (%.2f us; %d pairs, %d judged equivalent: 1,-2 ~ -2,1 is expected)\n", d, 1e6 / d, p, f
    printf "  equiv rewritten variants  %9.0f /s  (%.2f us; all equivalent: %s)\n", v, 1e6 / v, vok ? "yes" : "NO"
}'
