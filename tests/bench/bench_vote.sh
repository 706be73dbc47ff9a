#!/usr/bin/env bash
# bench_vote: µs per SLM-MUX decision, the Lua Algorithm 1 (slmmux.vote.mux,
# grouping through mux.vote.count) against the C one (mux.vote.mux), on the
# same MATH-500 cases: k = 3 and 9 samples, 2 and 5 models, MATH and exact
# equivalence (see tests/bench/bench_vote.lua). Median of RUNS runs, each
# REPS passes over the 500 cases. Figures only: never fails on time.
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
    rows.setdefault(key, []).append((float(f["lua_us"]), float(f["c_us"])))
for (equiv, k, m), runs in rows.items():
    lua = statistics.median(r[0] for r in runs)
    c = statistics.median(r[1] for r in runs)
    print(f"  {equiv:5} k={k} models={m}:  Lua {lua:7.2f} us   C {c:7.2f} us   Lua/C {lua / c:4.2f}")
PY
