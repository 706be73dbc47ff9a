#!/usr/bin/env bash
# kill -9 during a 2,000-request run at 10 random moments: no committed
# sample is lost, no stored sample is requested again (the fake server logs
# every request), and the final results equal those of an uninterrupted run.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
PROMPTS=1000   # x 2 samples, one request each

build/fakeserver --port 0 --latency-ms 30 --max-seconds 300 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
url="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
run() { ./slmmux run tests/integration/store_load.lua --store "$1" -s url="$url" -s prompts=$PROMPTS -s result="$2"; }

# the reference: one uninterrupted run on its own store
run "$tmp/ref.sqlite" "$tmp/ref.txt" || { echo "reference run failed"; exit 1; }

: >"$tmp/server.log"
kills=0
for i in $(seq 10); do
  ./slmmux store export "$tmp/before.$i.jsonl" --store "$tmp/s.sqlite" 2>/dev/null || : >"$tmp/before.$i.jsonl"
  lines_before=$(wc -l <"$tmp/server.log")
  # slmmux itself in the background (not a function's subshell), so -9 hits it
  ./slmmux run tests/integration/store_load.lua --store "$tmp/s.sqlite" -s url="$url" \
    -s prompts=$PROMPTS -s result="$tmp/out.txt" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$(( RANDOM % 7 + 2 ))$(( RANDOM % 10 ))"
  kill -9 $pid 2>/dev/null && kills=$((kills + 1))
  wait $pid 2>/dev/null
  tail -n +$((lines_before + 1)) "$tmp/server.log" >"$tmp/requests.$i.jsonl"
done
lines_before=$(wc -l <"$tmp/server.log")
./slmmux store export "$tmp/before.final.jsonl" --store "$tmp/s.sqlite" 2>/dev/null
run "$tmp/s.sqlite" "$tmp/out.txt" || { echo "final run failed"; exit 1; }
tail -n +$((lines_before + 1)) "$tmp/server.log" >"$tmp/requests.final.jsonl"

python3 - "$tmp" "$kills" <<'PY'
import json, sys, glob, os
tmp, kills = sys.argv[1], int(sys.argv[2])
passed = failed = 0
def check(name, ok, detail=""):
    global passed, failed
    if ok: passed += 1; print("ok   " + name)
    else: failed += 1; print("FAIL " + name + (": " + detail if detail else ""))
def stored(path):
    out = set()
    for line in open(path):
        t = json.loads(line)
        model = json.loads(t["request"].split("\n", 1)[1])["model"]
        out.add((model, t["idx"]))
    return out
rounds = [str(i) for i in range(1, 11)] + ["final"]
twice, lost, prev = [], [], set()
for r in rounds:
    have = stored(f"{tmp}/before.{r}.jsonl")
    if not prev <= have:
        lost.append(r)
    prev = have
    for line in open(f"{tmp}/requests.{r}.jsonl"):
        q = json.loads(line)
        sample = (q["model"], q["seed"] - 100)
        if sample in have:
            twice.append((r, sample))
check(f"{kills} of 10 runs were killed with -9 mid-run", kills >= 10)
check("no committed sample was lost between runs", not lost, str(lost))
check("no stored sample was requested again", not twice, str(twice[:5]))
ref, out = open(f"{tmp}/ref.txt").read(), open(f"{tmp}/out.txt").read()
check("final results equal an uninterrupted run's", ref == out and len(ref.splitlines()) == 1000)
final = stored(f"{tmp}/before.final.jsonl")
check("the killed runs had stored part of the work", 0 < len(final) < 2000, str(len(final)))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
