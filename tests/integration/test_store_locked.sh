#!/usr/bin/env bash
# A store another process keeps locked: the run's loop does not freeze
# (requests go on while the lock is held), the samples received wait in
# memory and are committed once it is released, nothing is bought twice,
# and the results equal an unhindered run's. Two runs sharing one store buy
# twice only what both had in flight at the same moment.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 6 "$tmp/err"; fi; }
build/fakeserver --port 0 --latency-ms 100 --max-seconds 300 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
NEED=160   # 80 problems x 2 models, one request of n = 2 each
run() {   # store out [options]
  local store=$1 out=$2; shift 2
  ./slmmux run recipes/math.lua --limit 80 -s models=fake-a,fake-b -s samples=2 -s validation=0 \
    --concurrency 4 --store "$store" --out "$out" -s quiet=true "$@" >/dev/null 2>>"$tmp/err"
}
requests() { wc -l <"$tmp/server.log"; }
samples_in() { ./slmmux store stats --store "$1" 2>/dev/null | sed -n 's/.* \([0-9]*\) samples.*/\1/p'; }
same() { python3 tests/lib/results_equal.py "$tmp/ref" "$1" 80; }
t0=$(date +%s.%N)
run "$tmp/ref.sqlite" "$tmp/ref"
check "the reference run succeeds" "[ $? -eq 0 ]"
ref_s=$(python3 -c "import time; print(round(time.time() - $t0, 1))")

# hold the write lock of the run's store for 6 s (more than a busy timeout), from 0.8 s into the run
./slmmux store stats --store "$tmp/s.sqlite" >/dev/null 2>&1   # creates nothing: read-only
: >"$tmp/server.log"
t0=$(date +%s.%N)
run "$tmp/s.sqlite" "$tmp/out" &
pid=$!
python3 - "$tmp/s.sqlite" "$tmp/server.log" >"$tmp/lock" <<'PY'
import sqlite3, sys, time, os
path, log = sys.argv[1], sys.argv[2]
for _ in range(100):
    if os.path.exists(path): break
    time.sleep(0.05)
time.sleep(0.8)
db = sqlite3.connect(path, timeout=10, isolation_level=None)
db.execute("BEGIN IMMEDIATE")
before = sum(1 for _ in open(log))
time.sleep(6)
during = sum(1 for _ in open(log)) - before
db.execute("ROLLBACK")
print(during)
PY
wait $pid; rc=$?
took=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
during=$(cat "$tmp/lock")
check "the run succeeds" "[ $rc -eq 0 ]"
check "it went on requesting while the store was locked ($during requests in those 6 s)" "[ $during -ge 20 ]"
check "nothing was bought twice ($(requests) requests for $NEED)" "[ $(requests) -eq $NEED ]"
check "every sample was committed once the lock was gone" "[ '$(samples_in "$tmp/s.sqlite")' -eq $((2 * NEED)) ]"
check "the results equal the unhindered run's (${took} s, unhindered ${ref_s} s)" "same '$tmp/out'"

# two runs on one store, the second started 1 s after the first: it takes
# what the first has committed, then both work at the same frontier
: >"$tmp/server.log"
run "$tmp/shared.sqlite" "$tmp/a" &
a=$!
sleep 1
run "$tmp/shared.sqlite" "$tmp/b" &
b=$!
wait $a; ra=$?
wait $b; rb=$?
check "two runs sharing a store both succeed with the same results" \
  "[ $ra -eq 0 ] && [ $rb -eq 0 ] && same '$tmp/a' && same '$tmp/b'"
check "the shared store holds every sample" "[ '$(samples_in "$tmp/shared.sqlite")' -eq $((2 * NEED)) ]"
# A sample bought twice was asked for by both runs within one round trip and
# commit (100 ms + 100 ms): at the ~70 requests/s of both runs together,
# fewer than 40 requests apart in the server's order of arrival; a sample
# thrown away and bought again later would be far apart.
python3 - "$tmp/server.log" >"$tmp/twice" <<'PY'
import json, sys
first, twice, far = {}, 0, []
for line in open(sys.argv[1]):
    t = json.loads(line)
    k = (t["model"], t["msg_hash"], t["seed"])
    if k in first:
        twice += 1
        if t["seq"] - first[k] >= 40: far.append(t["seq"] - first[k])
    else:
        first[k] = t["seq"]
print(twice, len(far))
PY
read -r twice far <"$tmp/twice"
check "bought twice: only what both had in flight at once ($twice of $NEED requests, $far later)" \
  "[ $far -eq 0 ] && [ $twice -lt $NEED ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
