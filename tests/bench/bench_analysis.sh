#!/usr/bin/env bash
# bench_analysis: the model-selection search and the scaling study from the
# store, with zero requests. The store is filled first through the loopback
# fake server (20 models x 500 questions x 3 samples; 5 models x 500
# problems x 9 samples), then each study runs --offline (the server's
# request count is checked to stay the same). Reported: the wall time of the
# whole command (mux.run replaying the store, results.jsonl, the study,
# figures, report.html) and the study's own time as it prints it (search
# with offline SLM-MUX of the top subsets and cross-validated lambda; the
# Monte-Carlo study), medians of RUNS runs. Figures only: never fails on time.
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
RUNS=${RUNS:-3}
[ -n "${NO_MAKE:-}" ] || make -s slmmux build/fakeserver
tmp=$(mktemp -d)
[ -z "${KEEP:-}" ] || echo "keeping $tmp"
trap 'kill $spid 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
build/fakeserver --port 0 --max-seconds 900 >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
port=$(awk '/PORT/{print $2}' "$tmp/port")
export OPENAI_BASE_URL="http://127.0.0.1:$port/v1"
requests() { curl -s "http://127.0.0.1:$port/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["chat_requests"])'; }

for i in $(seq 500); do echo "{\"q\": \"question $i\", \"a\": \"1\"}"; done >"$tmp/q.jsonl"
task='local task = dofile(require("slmmux").home .. "/tests/lib/ones_task.lua")'
pool=$(python3 -c 'print(", ".join("\"m%02d\"" % i for i in range(1, 21)))')
printf '%s\nreturn require("slmmux.analysis.searchrun").recipe{task = task, data = "%s", models = {%s}, samples = 3, quiet = true}\n' \
  "$task" "$tmp/q.jsonl" "$pool" >"$tmp/search.lua"
printf '%s\nreturn require("slmmux.analysis.scalingrun").recipe{task = task, data = "%s", models = {"m01", "m02", "m03", "m04", "m05"}, validation = "none", quiet = true}\n' \
  "$task" "$tmp/q.jsonl" >"$tmp/scaling.lua"
store="$tmp/store.sqlite"
fill0=$(date +%s.%N)
./slmmux run "$tmp/search.lua" --store "$store" -s concurrency=256 --out "$tmp/fill-search" >/dev/null 2>&1
./slmmux run "$tmp/scaling.lua" --store "$store" -s concurrency=256 --out "$tmp/fill-scaling" >/dev/null 2>&1
echo "store filled over HTTP in $(python3 -c "import time; print(round(time.time() - $fill0, 1))") s ($(requests) requests)"

measure() {   # name recipe pattern -> "wall study" lines
  local name=$1 recipe=$2 pattern=$3 before
  before=$(requests)
  for r in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N)
    ./slmmux run "$recipe" --store "$store" --offline --out "$tmp/$name-$r" >"$tmp/$name-$r.log" 2>&1
    t1=$(date +%s.%N)
    echo "$(python3 -c "print($t1 - $t0)") $(sed -n "s/.*$pattern: \([0-9.]*\) s.*/\1/p" "$tmp/$name-$r.log")"
  done >"$tmp/$name.times"
  [ "$(requests)" = "$before" ] || echo "  (!) $name sent $(( $(requests) - before )) requests"
  python3 - "$tmp/$name.times" "$name" "$(( $(requests) - before ))" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
wall = statistics.median(r[0] for r in rows)
study = statistics.median(r[1] for r in rows)
print(f"  {sys.argv[2]:8} whole command {wall:6.2f} s, the study itself {study:6.3f} s, requests {sys.argv[3]} "
      f"(median of {len(rows)})")
PY
}
echo "search: 20 models x 500 questions x k = 3, sizes 2-5 (21,679 subsets), top 3 each with offline SLM-MUX,"
echo "  lambda by 5-fold cross-validation over 11 values; load average $(cut -d' ' -f1 /proc/loadavg)"
measure search "$tmp/search.lua" "search and offline SLM-MUX"
echo "scaling: 5 models x k = 1..9 x 500 problems x 200 trials, and 2..5 models at k = 3 (4 rules each)"
measure scaling "$tmp/scaling.lua" "scaling study"
