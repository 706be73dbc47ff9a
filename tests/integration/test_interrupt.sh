#!/usr/bin/env bash
# SIGINT/SIGTERM during a run over HTTP (the loopback fake server):
#   one signal: no new request, those in flight finish, every sample that
#     arrived is committed, summary.json says "interrupted", exit 130/143,
#     and the same command with the same --out finishes the run: the lines
#     equal an uninterrupted run's, and no sample was bought twice;
#   two signals: out at once, and the same command still finishes the run;
#   HumanEval: the sandbox's temporary directories are gone afterwards.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 5 "$tmp/err"; fi; }

build/fakeserver --port 0 --latency-ms 300 --max-seconds 300 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
PROBLEMS=60   # x 2 models, one request of n = 2 each: 120 requests, 240 samples

run() {   # store out: the command under test, in the background; sets pid
  ./slmmux run recipes/math.lua --limit $PROBLEMS -s models=fake-a,fake-b -s samples=2 -s validation=0 \
    --concurrency 8 --store "$1" --out "$2" -s quiet=true >/dev/null 2>"$tmp/err" &
  pid=$!
}
samples_in() { ./slmmux store stats --store "$1" 2>/dev/null | sed -n 's/.* \([0-9]*\) samples.*/\1/p'; }
requests() { wc -l <"$tmp/server.log"; }

# the reference, uninterrupted
run "$tmp/ref.sqlite" "$tmp/ref"; wait $pid
check "the uninterrupted reference run succeeds" "[ $? -eq 0 ]"
: >"$tmp/server.log"

# one SIGINT
t0=$SECONDS
run "$tmp/s.sqlite" "$tmp/out"
sleep 1.2
kill -INT $pid
wait $pid; rc=$?
took=$((SECONDS - t0))
check "one SIGINT: exit 130, within the grace period" "[ $rc -eq 130 ] && [ $took -lt 15 ]"
check "the message says how to finish" "grep -q 'interrupted by SIGINT' '$tmp/err' && grep -q -- '--out $tmp/out' '$tmp/err'"
bought=$(requests)
stored=$(samples_in "$tmp/s.sqlite")
check "every sample that arrived is committed ($stored of $((2 * bought)) bought)" \
  "[ '$stored' -eq $((2 * bought)) ] && [ $bought -gt 0 ] && [ $bought -lt $((2 * PROBLEMS)) ]"
python3 - "$tmp/out" >"$tmp/py" 2>&1 <<'PY'
import json, sys
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
lines = [json.loads(l) for l in open(out + "/results.jsonl")]
assert s["interrupted"]["signal"] == "SIGINT", s.get("interrupted")
assert s["interrupted"]["done"] == len(lines) < s["interrupted"]["total"] == 60, (s["interrupted"], len(lines))
assert all("error" not in l for l in lines), "a problem cut short is not recorded as an error"
PY
check "summary.json is marked interrupted and agrees with results.jsonl" "[ $? -eq 0 ] || { cat '$tmp/py'; false; }"

: >"$tmp/server.log"
run "$tmp/s.sqlite" "$tmp/out"; wait $pid
check "the same command finishes the run" "[ $? -eq 0 ]"
check "no sample was bought twice ($bought + $(requests) requests for $((2 * PROBLEMS)))" \
  "[ $((bought + $(requests))) -eq $((2 * PROBLEMS)) ]"

same() { python3 tests/lib/results_equal.py "$tmp/ref" "$1" 60; }   # dir: results equal the reference's, problem by problem
check "the finished run's results equal the uninterrupted run's" "same '$tmp/out'"
check "its summary is no longer marked interrupted" \
  "python3 -c 'import json,sys; sys.exit(\"interrupted\" in json.load(open(\"$tmp/out/summary.json\")))'"

# two signals: out at once
: >"$tmp/server.log"
run "$tmp/t.sqlite" "$tmp/out2"
sleep 1.2
t0=$SECONDS
kill -INT $pid; sleep 0.2; kill -INT $pid
wait $pid; rc=$?
check "a second SIGINT: exit 130 at once" "[ $rc -eq 130 ] && [ $((SECONDS - t0)) -lt 4 ]"
first=$(requests)
: >"$tmp/server.log"
run "$tmp/t.sqlite" "$tmp/out2"; wait $pid
check "after two signals the same command still finishes the run" "[ $? -eq 0 ] && same '$tmp/out2'"
check "bought again: at most the requests that were in flight ($((first + $(requests) - 2 * PROBLEMS)))" \
  "[ $((first + $(requests))) -le $((2 * PROBLEMS + 16)) ]"

# SIGTERM
run "$tmp/u.sqlite" "$tmp/out3"
sleep 1
kill -TERM $pid
wait $pid
check "SIGTERM: exit 143" "[ $? -eq 143 ] && grep -q 'interrupted by SIGTERM' '$tmp/err'"

# HumanEval on the simulator: programs run in the sandbox, in /tmp/slmmux-<pid>-*
./slmmux run recipes/humaneval.lua -s backend=sim --out "$tmp/he" -s quiet=true --no-store \
  >/dev/null 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do ls -d /tmp/slmmux-$pid-* >/dev/null 2>&1 && break; sleep 0.05; done
had=$(ls -d /tmp/slmmux-$pid-* 2>/dev/null | wc -l)
kill -INT $pid
wait $pid; rc=$?
left=$(ls -d /tmp/slmmux-$pid-* 2>/dev/null | wc -l)
check "HumanEval, SIGINT: exit 130, and none of its sandbox directories is left ($had seen, $left left)" \
  "[ $rc -eq 130 ] && [ $had -gt 0 ] && [ $left -eq 0 ]"
./slmmux run recipes/humaneval.lua -s backend=sim --out "$tmp/he2" -s quiet=true --no-store \
  >/dev/null 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do ls -d /tmp/slmmux-$pid-* >/dev/null 2>&1 && break; sleep 0.05; done
kill -INT $pid; sleep 0.1; kill -INT $pid
wait $pid; rc=$?
check "HumanEval, two SIGINTs: exit 130, no sandbox directory left" \
  "[ $rc -eq 130 ] && [ \$(ls -d /tmp/slmmux-$pid-* 2>/dev/null | wc -l) -eq 0 ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
