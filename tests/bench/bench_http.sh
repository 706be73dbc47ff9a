#!/usr/bin/env bash
# Benchmark of the host's HTTP path (issues: the slmmux host, part 7; real
# endpoints and real scale, part 1). N requests with C in flight
# (max_concurrency = C) against the loopback fake server with a fixed
# latency; reports wall time against the latency-bound ideal
# ceil(N/C) x latency (target 1.3x), req/s, client CPU per request (from the
# client's rusage, startup included) and peak RSS (target 256 MB at 2,000).
# Medians of RUNS runs (the machine is shared and noisy).
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
RUNS=${RUNS:-5}

bench() {   # requests concurrency latency_ms
  local n=$1 c=$2 lat=$3
  local port_file; port_file=$(mktemp)
  build/fakeserver --port 0 --latency-ms "$lat" --max-seconds 600 >"$port_file" &
  local spid=$!
  for _ in $(seq 50); do grep -q PORT "$port_file" && break; sleep 0.1; done
  local port; port=$(awk '/PORT/{print $2}' "$port_file")
  local walls="" cpus="" rsss="" errs=0 srv0 srv1
  srv0=$(awk '{print $14+$15}' /proc/$spid/stat)
  for r in $(seq "$RUNS"); do
    out=$( { /usr/bin/time -f "TIME %e %U %S %M" ./slmmux run tests/bench/http_load.lua --no-store \
             -s url="http://127.0.0.1:$port/v1" -s requests="$n" -s concurrency="$c"; } 2>&1 )
    wall=$(sed -n 's/^RESULT wall=\([0-9.]*\).*/\1/p' <<<"$out")
    e=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$out")
    read -r _ _ u s rss < <(grep '^TIME' <<<"$out")
    walls="$walls $wall"; cpus="$cpus $(python3 -c "print(($u + $s) * 1e6 / $n)")"; rsss="$rss $rsss"
    errs=$((errs + e))
  done
  srv1=$(awk '{print $14+$15}' /proc/$spid/stat)
  kill $spid; wait $spid 2>/dev/null || true; rm -f "$port_file"
  local ideal
  ideal=$(python3 -c "import math; print(math.ceil($n/$c)*$lat/1000)")
  python3 - "$n" "$c" "$lat" "$ideal" "$errs" "$(( (srv1 - srv0) * 10 ))" "$RUNS" "$walls" "$cpus" "$rsss" <<'PY'
import statistics, sys
n, c, lat, ideal, errs, srv_ms, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
walls = [float(x) for x in sys.argv[8].split()]
cpus = [float(x) for x in sys.argv[9].split()]
rss = [int(x) for x in sys.argv[10].split()]
w = statistics.median(walls)
print(f"{n} requests, concurrency {c}, latency {lat} ms, {runs} runs")
print(f"  wall (median)        {w:.3f} s   ideal {ideal:.3f} s   ratio {w/ideal:.2f}   (runs: {' '.join(f'{x:.3f}' for x in walls)})")
print(f"  completed req/s      {n/w:.0f}")
print(f"  client CPU/request   {statistics.median(cpus):.1f} us (user+sys, whole process incl. startup)")
print(f"  client peak RSS      {max(rss)/1024:.1f} MB (max of runs)")
print(f"  server CPU/request   {srv_ms*1000/(n*runs):.1f} us")
print(f"  errors               {errs}")
PY
}

[ -n "${NO_MAKE:-}" ] || make -s slmmux build/fakeserver
bench 3000 256 50
bench 3000 1000 50
bench 20000 2000 200
