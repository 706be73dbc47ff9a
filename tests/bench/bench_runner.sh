#!/usr/bin/env bash
# SLM-MUX on all of MATH-500 with 2 models x 3 samples (3,000 samples) against
# the loopback fake server at 50 ms latency: wall time, client CPU, peak RSS
# (issue: SLM-MUX on MATH..., part 7). Then the same run replayed --offline
# from the sample store it filled (issue: durable sample store, part 6).
# Medians of RUNS runs, at the default settings (issue: real endpoints and
# real scale, part 1: a local server gets 256 requests in flight; the issue
# measured the reference code at 16 s for this run, target >= 20x), or with
# CONC=N requests in flight (--concurrency N). The ideal wall time with n
# batching is one latency per wave of requests: 2 models x 500 problems =
# 1,000 requests (n = 3 each), ceil(1000 / in flight) x 50 ms.
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
RUNS=${RUNS:-5}
CONC=${CONC:-}
tmp=$(mktemp -d)
build/fakeserver --port 0 --latency-ms 50 --max-seconds 900 >"$tmp/port" &
spid=$!
trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
# the endpoint as a user would write it, nothing else
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
ARGS=(recipes/math.lua -s models=model-a,model-b -s samples=3 -s validation=0 ${CONC:+--concurrency $CONC})

measure() {  # label, extra args...
  local label=$1; shift
  local walls="" cpus="" rss=""
  for r in $(seq "$RUNS"); do
    rm -rf "$tmp/out"
    /usr/bin/time -f "TIME %e %U %S %M" -o "$tmp/time" ./slmmux run "${ARGS[@]}" --out "$tmp/out" "$@" >/dev/null 2>"$tmp/err" \
      || { cat "$tmp/err"; exit 1; }
    read -r _ e u s m <"$tmp/time"
    walls="$walls $e"; cpus="$cpus $(python3 -c "print($u + $s)")"; rss="$rss $m"
  done
  python3 - "$label" "$walls" "$cpus" "$rss" "${CONC:-256}" <<'PY'
import statistics, sys, math
label, walls, cpus, rss, conc = sys.argv[1], [float(x) for x in sys.argv[2].split()], [float(x) for x in sys.argv[3].split()], [int(x) for x in sys.argv[4].split()], int(sys.argv[5])
w, c = statistics.median(walls), statistics.median(cpus)
print(f"{label}: wall {w:.3f} s (runs {' '.join(f'{x:.2f}' for x in walls)}), client CPU {c:.3f} s, peak RSS {max(rss)/1024:.1f} MB")
if "offline" not in label:
    ideal = math.ceil(1000 / conc) * 0.050
    print(f"  {conc} in flight: latency-bound ideal {ideal:.3f} s -> ratio {w/ideal:.2f}; "
          f"16 s (the reference code, as the issue measured it) / wall = {16/w:.1f}x")
PY
  grep -q '"accuracy"' "$tmp/out/summary.json" || { echo "no summary.json"; exit 1; }
  echo "  problems in results.jsonl: $(wc -l <"$tmp/out/results.jsonl")"
}

[ -n "${NO_MAKE:-}" ] || make -s slmmux build/fakeserver
measure "MATH-500, 2 models x 3 samples, no store" --no-store
./slmmux run "${ARGS[@]}" --store "$tmp/store.sqlite" --out "$tmp/fill" >/dev/null 2>&1
measure "offline replay from the store" --offline --store "$tmp/store.sqlite"
ls -l "$tmp/store.sqlite" | awk '{print "  store file: " $5 " bytes for 3,000 samples"}'
