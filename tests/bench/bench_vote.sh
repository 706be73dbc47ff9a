#!/usr/bin/env bash
# bench_vote: µs per SLM-MUX decision of mux.vote.mux, the Lua Algorithm 1
# (grouping through the C core.vote.top), on MATH-500 cases: k = 3 and 9
# samples, 2 and 5 models, MATH and exact equivalence (see
# tests/bench/bench_vote.lua). Median of RUNS runs, each REPS passes over
# the 500 cases. Figures only: never fails on time.
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
RUNS=${RUNS:-5}
REPS=${REPS:-4}
[ -n "${NO_MAKE:-}" ] || make -s slmmux
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$RUNS"); do
  ./slmmux run tests/bench/bench_vote.lua --no-store -s reps="$REPS" >>"$out"
done
echo "vote: µs per SLM-MUX decision, one core, median of $RUNS runs (load average $(cut -d' ' -f1 /proc/loadavg))"
python3 - "$out" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(x.split("=") for x in line.split())
    key = (f["equiv"], int(f["k"]), int(f["models"]))
    rows.setdefault(key, []).append(float(f["us"]))
for (equiv, k, m), runs in rows.items():
    print(f"  {equiv:5} k={k} models={m}:  {statistics.median(runs):7.2f} us")
PY
