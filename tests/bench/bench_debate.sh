#!/usr/bin/env bash
# LLM-Debate through ctx.chat on all of MATH-500: 3 agents (one model) x 2
# rounds = 3,000 requests, against the loopback fake server at 50 ms with
# CONC requests in flight; beside it plain SLM-MUX on the same problems
# (2 models x 3 samples: 1,000 requests of n = 3). Figures only, never
# pass/fail: medians of RUNS runs of the wall time, its ratio to the
# latency-bound ideal ceil(requests / CONC) x 50 ms (a debate's second
# round waits for its first, so the ideal assumes problems overlap), and
# the client's CPU per request (user + sys of the whole process, start-up,
# loading, report and its figures included; gnuplot's children too). The
# run's own solving phase (summary.json wall_s: requests, policy and
# results, without start-up and report) is shown beside it against the same
# ideal. With a store and without; and, for the
# floor below the policy layer, 3,000 bare mux.chat calls (chat_floor.lua).
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
RUNS=${RUNS:-5}
CONC=${CONC:-256}
tmp=$(mktemp -d)
build/fakeserver --port 0 --latency-ms 50 --max-seconds 900 >"$tmp/port" &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
cat >"$tmp/config.lua" <<LUA
return { endpoints = { fake = { base_url = "http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1",
                                max_concurrency = $CONC } },
         default = "fake" }
LUA
export SLMMUX_CONFIG="$tmp/config.lua"
DEBATE=(recipes/debate.lua -s models=model-a -s agents=3 -s rounds=2 -s validation=0 --concurrency 500)
MUX=(recipes/math.lua -s models=model-a,model-b -s samples=3 -s validation=0 --concurrency 500)

measure() {  # label, requests, recipe args... -- [run args]
  local label=$1 requests=$2; shift 2
  local walls="" cpus="" phases=""
  for r in $(seq "$RUNS"); do
    rm -rf "$tmp/out" "$tmp/store.sqlite"*
    /usr/bin/time -f "TIME %e %U %S" -o "$tmp/time" ./slmmux run "$@" >/dev/null 2>"$tmp/err" \
      || { cat "$tmp/err"; exit 1; }
    read -r _ e u s <"$tmp/time"
    walls="$walls $e"; cpus="$cpus $(python3 -c "print($u + $s)")"
    if [ -e "$tmp/out/summary.json" ]; then
      phases="$phases $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['wall_s'])" "$tmp/out/summary.json")"
    fi
    [ ! -e "$tmp/out" ] || [ "$(wc -l <"$tmp/out/results.jsonl")" = 500 ] || { echo "not 500 lines"; exit 1; }
  done
  python3 - "$label" "$walls" "$cpus" "$CONC" "$requests" "$phases" <<'PY'
import math, statistics, sys
label, conc, n = sys.argv[1], int(sys.argv[4]), int(sys.argv[5])
phases = [float(x) for x in sys.argv[6].split()]
walls, cpus = [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()]
w, c = statistics.median(walls), statistics.median(cpus)
ideal = math.ceil(n / conc) * 0.050
print(f"{label}: {n} requests, wall {w:.3f} s (runs {' '.join(f'{x:.2f}' for x in walls)}), "
      f"ideal {ideal:.3f} s, ratio {w / ideal:.2f}; client CPU {c:.3f} s = {1e6 * c / n:.0f} us/request")
if phases:
    p = statistics.median(phases)
    print(f"{' ' * len(label)}  solving phase {p:.3f} s, ratio {p / ideal:.2f}")
PY
}

[ -n "${NO_MAKE:-}" ] || make -s slmmux build/fakeserver
echo "CONC=$CONC requests in flight, 50 ms per request, medians of $RUNS runs"
measure "LLM-Debate 3x2, no store " 3000 "${DEBATE[@]}" --no-store --out "$tmp/out"
measure "LLM-Debate 3x2, store    " 3000 "${DEBATE[@]}" --store "$tmp/store.sqlite" --out "$tmp/out"
measure "SLM-MUX 2x3,   no store  " 1000 "${MUX[@]}" --no-store --out "$tmp/out"
measure "SLM-MUX 2x3,   store     " 1000 "${MUX[@]}" --store "$tmp/store.sqlite" --out "$tmp/out"
measure "bare mux.chat, no store  " 3000 tests/bench/chat_floor.lua --no-store
