#!/usr/bin/env bash
# Shards for a cluster: --shard i/N runs a share of the problems chosen by
# id, so N machines cover each problem exactly once, each with its own
# store; their exports merge into one store (import takes several files and
# is idempotent) and an offline run on it equals a single-machine run. Two
# shards spell the endpoint's URL with a trailing slash: the samples are
# the same ones, so they must merge. Also the plain round trip: export,
# import into an empty store, --offline: the same results.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 8 "$tmp/err"; fi; }
build/fakeserver --port 0 --max-seconds 120 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
url="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
run() {   # url store out [options]
  local u=$1 store=$2 out=$3; shift 3
  OPENAI_BASE_URL=$u ./slmmux run recipes/math.lua --limit 40 -s models=fake-a,fake-b -s samples=2 \
    -s validation=4 --store "$store" --out "$out" -s quiet=true "$@" >/dev/null 2>"$tmp/err"
}
same() { python3 tests/lib/results_equal.py "$1" "$2" 40; }   # dir dir: the same problems with the same answers and samples

run "$url" "$tmp/single.sqlite" "$tmp/single"
check "the single-machine run succeeds" "[ $? -eq 0 ]"
single=$(wc -l <"$tmp/server.log")
: >"$tmp/server.log"

ok=1
for i in 1 2 3 4; do
  u=$url; [ $i -gt 2 ] && u="$url/"
  run "$u" "$tmp/shard$i.sqlite" "$tmp/shard$i" --shard $i/4 || ok=0
done
check "four shards run" "[ $ok -eq 1 ]"
python3 - "$tmp" <<'PY' >"$tmp/err" 2>&1
import json, sys
tmp = sys.argv[1]
ids = [json.loads(l)["id"] for i in range(1, 5) for l in open(f"{tmp}/shard{i}/results.jsonl")]
single = {json.loads(l)["id"] for l in open(f"{tmp}/single/results.jsonl")}
sizes = [sum(1 for _ in open(f"{tmp}/shard{i}/results.jsonl")) for i in range(1, 5)]
assert len(ids) == len(set(ids)) == 40 and set(ids) == single, (len(ids), len(set(ids)))
assert all(s > 0 for s in sizes), sizes
print("shard sizes", sizes)
PY
check "the shards cover every problem exactly once ($(cat "$tmp/err"))" "[ $? -eq 0 ]"
sharded=$(wc -l <"$tmp/server.log")

for i in 1 2 3 4; do ./slmmux store export "$tmp/shard$i.jsonl" --store "$tmp/shard$i.sqlite" 2>/dev/null; done
./slmmux store import "$tmp"/shard{1,2,3,4}.jsonl --store "$tmp/merged.sqlite" >/dev/null 2>"$tmp/err"
check "the four exports import into one store" "[ $? -eq 0 ]"
./slmmux store import "$tmp"/shard{1,2,3,4}.jsonl --store "$tmp/merged.sqlite" >/dev/null 2>"$tmp/err"
check "importing them again adds nothing" "[ $? -eq 0 ] && grep -q '^imported 0 samples' '$tmp/err'"
: >"$tmp/server.log"
run "$url" "$tmp/merged.sqlite" "$tmp/merged" --offline
check "an offline run on the merged store completes" "[ $? -eq 0 ]"
check "... and equals the single-machine run" "same '$tmp/single' '$tmp/merged'"
check "... without a request" "[ ! -s '$tmp/server.log' ]"
echo "     requests: single run $single, four shards $sharded (each shard also answers the 4 validation problems)"

./slmmux store export "$tmp/single.jsonl" --store "$tmp/single.sqlite" 2>/dev/null
./slmmux store import "$tmp/single.jsonl" --store "$tmp/empty.sqlite" >/dev/null 2>"$tmp/err"
check "round trip: export, import into an empty store" "[ $? -eq 0 ] && grep -q '(0 already there); 0 malformed' '$tmp/err'"
run "$url" "$tmp/empty.sqlite" "$tmp/roundtrip" --offline
check "round trip: --offline gives the same results" "[ $? -eq 0 ] && same '$tmp/single' '$tmp/roundtrip'"
# bad lines are reported by file and number, the others imported
{ head -n 3 "$tmp/single.jsonl"; echo '{"key": "not hex"'; sed -n 4p "$tmp/single.jsonl" | sed 's/"idx":[0-9]*/"idx":-1/'
  sed -n 5p "$tmp/single.jsonl" | sed 's/"request":"/"request":"x/'; sed -n 6,8p "$tmp/single.jsonl"; } >"$tmp/mixed.jsonl"
./slmmux store import "$tmp/mixed.jsonl" --store "$tmp/mixed.sqlite" >/dev/null 2>"$tmp/err"
check "import: bad lines reported by number, exit 1, the good ones kept" \
  "[ $? -eq 1 ] && grep -q 'mixed.jsonl:4: malformed JSON' '$tmp/err' && grep -q 'mixed.jsonl:5: idx must be an integer >= 0' '$tmp/err' \
   && grep -q 'mixed.jsonl:6: key is not the SHA-256 of request' '$tmp/err' && grep -q '^imported 6 samples' '$tmp/err'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
