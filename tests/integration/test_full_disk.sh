#!/usr/bin/env bash
# A full disk (a small tmpfs), under --out and under the store:
#   --out: the run stops, exit 1, naming the file; the same command with
#     room again repairs a torn last line and finishes, buying nothing
#     twice, with the results of an uninterrupted run;
#   the store: the run stops buying, exit 1, naming the store, and the
#     samples it says are lost are exactly those bought and not stored;
#     the same command with room again finishes.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
if [ "$(id -u)" != 0 ]; then echo "skipped: mounting a tmpfs needs root"; echo "0 passed, 0 failed"; exit 0; fi
tmp=$(mktemp -d)
cleanup() { kill $spid 2>/dev/null; umount "$tmp/full" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 6 "$tmp/err"; fi; }
mkdir "$tmp/full"
build/fakeserver --port 0 --latency-ms 50 --max-seconds 300 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
NEED=200   # 100 problems x 2 models, one request of n = 3 each
run() {   # store out
  ./slmmux run recipes/math.lua --limit 100 -s models=fake-a,fake-b -s samples=3 -s validation=0 \
    --concurrency 8 --store "$1" --out "$2" -s quiet=true >/dev/null 2>"$tmp/err"
}
requests() { wc -l <"$tmp/server.log"; }
samples_in() { ./slmmux store stats --store "$1" 2>/dev/null | sed -n 's/.* \([0-9]*\) samples.*/\1/p'; }
same() { python3 tests/lib/results_equal.py "$tmp/ref" "$1" 100; }
run "$tmp/ref.sqlite" "$tmp/ref"
check "the reference run succeeds" "[ $? -eq 0 ]"

# --out on a full disk
mount -t tmpfs -o size=96k tmpfs "$tmp/full"
: >"$tmp/server.log"
run "$tmp/s.sqlite" "$tmp/full/out"; rc=$?
check "--out full: exit 1, naming the file and the cause" \
  "[ $rc -eq 1 ] && grep -Eq 'cannot write $tmp/full/out/(results|summary)[.]json.*No space left on device' '$tmp/err'"
lines=$(wc -l <"$tmp/full/out/results.jsonl")
check "results.jsonl holds part of the run ($lines lines)" "[ $lines -gt 0 ] && [ $lines -lt 100 ]"
mount -o remount,size=16m "$tmp/full"
run "$tmp/s.sqlite" "$tmp/full/out"
check "with room again the same command finishes" "[ $? -eq 0 ]"
check "... with the results of an uninterrupted run" "same '$tmp/full/out'"
check "... having bought every sample once ($(requests) requests for $NEED)" "[ $(requests) -eq $NEED ]"

# a torn last line left by a crash: cut off, and the run goes on
python3 - "$tmp/full/out/results.jsonl" <<'PY'
import sys
p = sys.argv[1]
text = open(p).read().splitlines(keepends=True)
open(p, "w").write("".join(text[:50]) + text[50][:30])
PY
run "$tmp/s.sqlite" "$tmp/full/out"
check "a torn last line is cut off on resume and its problem done again" \
  "[ $? -eq 0 ] && grep -q 'cut off a torn last line' '$tmp/err' && same '$tmp/full/out'"
umount "$tmp/full"

# the store on a full disk
mount -t tmpfs -o size=400k tmpfs "$tmp/full"
: >"$tmp/server.log"
run "$tmp/full/store.sqlite" "$tmp/out2"; rc=$?
bought=$(( 3 * $(requests) ))
lost=$(sed -n 's/^slmmux: \([0-9]*\) samples received could not be committed and are lost: .*/\1/p' "$tmp/err")
check "store full: exit 1, naming the store and the cause" \
  "[ $rc -eq 1 ] && grep -q 'store $tmp/full/store.sqlite: disk full' '$tmp/err'"
check "the run stopped buying ($(requests) of $NEED requests)" "[ $(requests) -lt $NEED ]"
mount -o remount,size=16m "$tmp/full"
stored=$(samples_in "$tmp/full/store.sqlite")
check "the loss it reports is exact: $bought bought = $stored stored + ${lost:-?} lost" \
  "[ -n '$lost' ] && [ $bought -eq $((stored + lost)) ]"
: >"$tmp/server.log"
run "$tmp/full/store.sqlite" "$tmp/out2"
check "with room again the same command finishes, with the same results" "[ $? -eq 0 ] && same '$tmp/out2'"
check "... buying what was not stored ($(requests) requests, $(( (NEED * 3 - stored) / 3 )) missing)" \
  "[ $(( 3 * $(requests) )) -eq $((NEED * 3 - stored)) ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
