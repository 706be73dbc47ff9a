#!/usr/bin/env bash
# HTTP/2 through nginx (issue: real endpoints and real scale, part 3): N
# requests, C in flight, over TLS to nginx (tests/lib/nginx.sh) in front of
# the loopback fake server at 50 ms. Reports the wall time against the
# latency-bound ideal, the connections the client opened, and the most
# requests in flight at once over one connection (from nginx's access log:
# each request's [end - request_time, end] interval, per connection).
# Medians of RUNS runs.
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
. tests/lib/nginx.sh
RUNS=${RUNS:-5}
tmp=$(mktemp -d)
trap 'nginx_stop; kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
[ -n "${NO_MAKE:-}" ] || make -s slmmux build/fakeserver
build/fakeserver --port 0 --latency-ms 50 --max-seconds 900 >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
mkdir -p "$tmp/ngx"
nginx_start "$tmp/ngx" "$(awk '/PORT/{print $2}' "$tmp/port")"

bench() {  # requests in_flight
  local n=$1 c=$2 walls="" conns="" peaks=""
  for _ in $(seq "$RUNS"); do
    : >"$tmp/ngx/access.log"
    out=$(./slmmux run tests/integration/https_load.lua --no-store -s url="https://127.0.0.1:$nginx_port/v1" \
            -s ca="$tmp/ngx/cert.pem" -s requests="$n" -s concurrency="$c" -s time=1 2>&1)
    walls="$walls $(sed -n 's/.*wall=\([0-9.]*\).*/\1/p' <<<"$out")"
    sleep 0.2   # nginx writes its log as requests end
    read -r k p < <(python3 - "$tmp/ngx/access.log" <<'PY'
import sys, collections
spans = collections.defaultdict(list)
for line in open(sys.argv[1]):
    conn, _, end, took, proto, status = line.split()
    spans[conn].append((float(end) - float(took), float(end)))
peak = 0
for s in spans.values():
    ev = sorted([(a, 1) for a, _ in s] + [(b, -1) for _, b in s], key=lambda e: (e[0], e[1]))
    cur = 0
    for _, d in ev:
        cur += d
        peak = max(peak, cur)
print(len(spans), peak)
PY
)
    conns="$conns $k"; peaks="$peaks $p"
  done
  python3 - "$n" "$c" "$walls" "$conns" "$peaks" "$RUNS" <<'PY'
import math, statistics, sys
n, c = int(sys.argv[1]), int(sys.argv[2])
w = statistics.median(float(x) for x in sys.argv[3].split())
k = [int(x) for x in sys.argv[4].split()]
p = [int(x) for x in sys.argv[5].split()]
ideal = math.ceil(n / c) * 0.050
print(f"{n} requests, {c} in flight, HTTP/2 over TLS via nginx, {sys.argv[6]} runs")
print(f"  wall (median) {w:.3f} s   ideal {ideal:.3f} s   ratio {w/ideal:.2f}")
print(f"  connections opened (median) {statistics.median(k):.0f}   most in flight on one connection (max) {max(p)}")
PY
}
bench 2000 256
bench 5000 1000
