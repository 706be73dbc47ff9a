#!/usr/bin/env bash
# Samples damaged on disk (bytes changed inside the store file, as bit rot
# or a bad copy would): store verify reports each by key and index and
# exits 1; --offline the damaged ones are errors, never replayed; online
# they are reported and requested again (only they), after which the store
# verifies clean. No results line ever holds a damaged text.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 6 "$tmp/err"; fi; }
build/fakeserver --port 0 --max-seconds 120 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
run() {   # out [options]
  local out=$1; shift
  ./slmmux run recipes/math.lua --limit 30 -s models=fake-a,fake-b -s samples=3 -s validation=0 \
    --store "$tmp/s.sqlite" --out "$out" -s quiet=true "$@" >/dev/null 2>"$tmp/err"
}
run "$tmp/ref"
check "the first run succeeds" "[ $? -eq 0 ]"
./slmmux store verify --store "$tmp/s.sqlite" >"$tmp/out" 2>"$tmp/err"
check "store verify: a whole store exits 0 and says what it checked" \
  "[ $? -eq 0 ] && grep -q 'database integrity ok; 60 prompts.*180 samples (checksums: checked; 0 damaged)' '$tmp/out'"

# every 4th sample text: "Sample" becomes "Samp#e"
damaged=$(python3 - "$tmp/s.sqlite" <<'PY'
import sys
p = sys.argv[1]
data = bytearray(open(p, "rb").read())
at, n, i = 0, 0, 0
while True:
    at = data.find(b"Sample ", at)
    if at < 0: break
    if i % 4 == 0:
        data[at + 4] = ord("#")
        n += 1
    i += 1
    at += 1
open(p, "wb").write(data)
print(n)
PY
)
./slmmux store verify --store "$tmp/s.sqlite" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "store verify finds the $damaged damaged samples, each by key and index, and exits 1" \
  "[ $rc -eq 1 ] && [ \$(grep -c 'sample [0-9] of prompt [0-9a-f]\{64\}: checksum mismatch' '$tmp/err') -eq $damaged ] && grep -q '$damaged damaged' '$tmp/out'"

: >"$tmp/server.log"
run "$tmp/offline" --offline --max-errors 1
check "--offline: the problems with a damaged sample fail, naming it" \
  "grep -q 'is damaged in the store (checksum mismatch) and cannot be requested again offline' '$tmp/err'"
check "--offline: no damaged text in results.jsonl, no request" \
  "! grep -q 'Samp#e' '$tmp/offline/results.jsonl' && [ ! -s '$tmp/server.log' ]"

run "$tmp/online"
check "online: the run succeeds" "[ $? -eq 0 ]"
check "online: each damaged sample is reported by key" \
  "[ \$(grep -c 'store: sample [0-9] of prompt [0-9a-f]\{64\} is damaged (checksum mismatch); requesting it again' '$tmp/err') -eq $damaged ]"
asked=$(python3 -c "import json,sys; print(sum(json.loads(l)['n'] for l in open('$tmp/server.log')))")
check "online: only the damaged samples were requested ($asked for $damaged)" "[ $asked -eq $damaged ]"
check "online: no damaged text in results.jsonl" "! grep -q 'Samp#e' '$tmp/online/results.jsonl'"
./slmmux store verify --store "$tmp/s.sqlite" >"$tmp/out" 2>"$tmp/err"
check "afterwards the store verifies clean" "[ $? -eq 0 ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
