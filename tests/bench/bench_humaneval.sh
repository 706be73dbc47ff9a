#!/usr/bin/env bash
# SLM-MUX with behavioural agreement on all 164 HumanEval problems, 2
# simulated models x 5 samples: wall time (median of RUNS runs), sandbox
# executions (probe runs + test runs, distinct programs only) and executions
# per second. The simulator's latency is scaled down and problems run 64 at
# a time, so the run is bound by the sandbox: every program runs in
# bubblewrap (or the weaker isolation mux.isolation() names), at most
# 2 x cores runs at a time.
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
RUNS=${RUNS:-3}
MODELS=${MODELS:-sim/qwen2.5-7b,sim/llama-3.1-8b}
RECIPE=${RECIPE:-recipes/humaneval.lua}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ -n "${NO_MAKE:-}" ] || make -s slmmux

walls=""
for r in $(seq "$RUNS"); do
  rm -rf "$tmp/out"
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" ./slmmux run "$RECIPE" --no-store \
    -s backend=sim -s models="$MODELS" -s samples=5 --out "$tmp/out" >"$tmp/table" 2>"$tmp/err" \
    || { cat "$tmp/err"; exit 1; }
  read -r e u s <"$tmp/time"
  walls="$walls $e"
  cp "$tmp/out/summary.json" "$tmp/summary.$r.json"
  echo "run $r: wall $e s, CPU $(python3 -c "print(round($u + $s, 2))") s"
done
python3 - "$tmp" "$RUNS" "$walls" "$(nproc)" <<'PY'
import json, statistics, sys
tmp, runs, walls, cores = sys.argv[1], int(sys.argv[2]), [float(x) for x in sys.argv[3].split()], sys.argv[4]
s = json.load(open(f"{tmp}/summary.{runs}.json"))
h = s["humaneval"]
w = statistics.median(walls)
print(f"HumanEval 164 x 2 models x 5 samples (simulated), {cores} cores: "
      f"wall {w:.2f} s (median of {runs}: {' '.join(f'{x:.2f}' for x in walls)})")
print(f"  sandbox executions: {h['executions']} ({h['test_runs']} test runs, {h['probe_runs']} probe runs), "
      f"{h['executions'] / w:.1f} executions/s; {h['sandbox_errors']} failed to start (retried); "
      f"sandbox CPU {h['exec_cpu_s']:.1f} s")
print(f"  test outcomes of distinct programs: {h['outcomes']}")
k = h["k"]
print(f"  selected pass@1 {100 * h['selected_pass1']:.1f}%; "
      + "; ".join(f"{m['model']} pass@1 {100 * m['pass']['pass@1']:.1f}% "
                  f"pass@{k} {100 * m['pass']['pass@%d' % k]:.1f}%" for m in h["models"]))
print(f"  isolation: {h.get('isolation', '?')[:60]}...")
PY
