#!/usr/bin/env bash
# One job against the loopback fake server, interrupted every way at once:
# KILLS kill -9 at random moments, SIGINTS SIGINTs, and one full disk under
# the store (its tmpfs shrunk to what it holds plus 64 KB, then grown back),
# each followed by the same command, until the job finishes. Reports the
# samples bought against the samples needed and whether the results equal
# those of an uninterrupted run (exit 1 if not, or if a round misbehaved).
#
#   tests/bench/bench_chaos.sh                  2,000 requests: 500 MATH problems x 4 models,
#                                               10 kill -9, 2 SIGINT, 1 full disk
#   PROBLEMS=50 MODELS=2 KILLS=3 SIGINTS=1 tests/bench/bench_chaos.sh     (the test's size)
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
PROBLEMS=${PROBLEMS:-500} MODELS=${MODELS:-4} KILLS=${KILLS:-10} SIGINTS=${SIGINTS:-2}
LATENCY_MS=${LATENCY_MS:-200} CONC=${CONC:-8} FULL_MUST_FAIL=${FULL_MUST_FAIL:-1}
if [ "$(id -u)" != 0 ]; then echo "bench_chaos: mounting a tmpfs needs root"; exit 1; fi
tmp=$(mktemp -d)
cleanup() { kill $spid 2>/dev/null; umount "$tmp/disk" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir "$tmp/disk"
mount -t tmpfs -o size=64m tmpfs "$tmp/disk"
build/fakeserver --port 0 --latency-ms "$LATENCY_MS" --max-seconds 1800 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
models=$(seq -s, -f 'fake-%g' "$MODELS")
NEED=$((PROBLEMS * MODELS))     # requests, one of n = 2 per problem and model
start() {   # store out: the job, in the background; sets pid
  ./slmmux run recipes/math.lua --limit "$PROBLEMS" -s models="$models" -s samples=2 -s validation=0 \
    --concurrency "$CONC" --store "$1" --out "$2" --quiet -s quiet=true >>"$tmp/log" 2>&1 &
  pid=$!
}
requests() { wc -l <"$tmp/server.log"; }
bad=0
fault() { echo "bench_chaos: $*"; bad=1; }

t0=$SECONDS
start "$tmp/ref.sqlite" "$tmp/ref"; wait $pid || fault "the reference run failed"
ref_s=$((SECONDS - t0))
: >"$tmp/server.log"

# the plan: kills, with the SIGINTs spread among them, and the full disk
plan=()
for i in $(seq "$KILLS"); do plan+=(kill); done
for i in $(seq "$SIGINTS"); do plan=("${plan[@]:0:$(( (i * KILLS) / (SIGINTS + 1) ))}" int "${plan[@]:$(( (i * KILLS) / (SIGINTS + 1) ))}"); done
plan=("${plan[@]:0:$(( ${#plan[@]} / 2 ))}" full "${plan[@]:$(( ${#plan[@]} / 2 ))}")
store="$tmp/disk/store.sqlite" out="$tmp/out"
rounds=0 lost=0
printf '%-6s %9s %9s %s\n' round requests samples "what happened"
for what in "${plan[@]}"; do
  rounds=$((rounds + 1))
  before=$(requests)
  case $what in
    kill|int)
      start "$store" "$out"
      sleep "0.$(( RANDOM % 6 + 3 ))$(( RANDOM % 10 ))"
      if [ $what = kill ]; then kill -9 $pid 2>/dev/null; else kill -INT $pid 2>/dev/null; fi
      wait $pid 2>/dev/null; rc=$?
      if [ $what = int ] && [ $rc -ne 130 ] && [ $rc -ne 0 ]; then fault "SIGINT round: exit $rc"; fi
      note="$what: exit $rc" ;;
    full)
      used=$(df --output=used -B1 "$tmp/disk" | tail -1)
      mount -o remount,size=$((used + 65536)) "$tmp/disk"
      start "$store" "$out"; wait $pid; rc=$?
      mount -o remount,size=64m "$tmp/disk"
      n=$(sed -n 's/^slmmux: \([0-9]*\) samples received could not be committed and are lost: .*/\1/p' "$tmp/log" | tail -1)
      lost=$((lost + ${n:-0}))
      # exit 0 only if the job ended before the disk filled
      [ $rc -eq 1 ] || [ $rc -eq 0 ] || fault "full disk round: exit $rc"
      [ $rc -eq 1 ] || [ "$FULL_MUST_FAIL" = 0 ] || fault "full disk round: exit $rc, the disk did not fill"
      note="full disk: exit $rc, ${n:-0} samples lost" ;;
  esac
  samples=$(./slmmux store stats --store "$store" 2>/dev/null | sed -n 's/.* \([0-9]*\) samples.*/\1/p')
  printf '%-6s %9s %9s %s\n' $rounds $(( $(requests) - before )) "${samples:-0}" "$note"
done
before=$(requests)
start "$store" "$out"; wait $pid || fault "the final run failed"
printf '%-6s %9s %9s %s\n' final $(( $(requests) - before )) \
  "$(./slmmux store stats --store "$store" 2>/dev/null | sed -n 's/.* \([0-9]*\) samples.*/\1/p')" "to the end"

bought=$(requests)
python3 - "$tmp/ref" "$out" <<'PY' || fault "the results differ from the uninterrupted run's"
import json, sys
def load(d):
    out = {}
    for l in open(d + "/results.jsonl"):
        t = json.loads(l)
        out[t["id"]] = (t.get("final_answer"), t.get("correct"),
                        [[ch["text"] for ch in turn["choices"]] for turn in t.get("transcript", [])])
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
print(f"results: {len(b)} problems, {'identical to' if a == b else 'DIFFERENT from'} the uninterrupted run's")
sys.exit(0 if a == b else 1)
PY
torn=$(grep -c 'cut off a torn last line' "$tmp/log")
echo "requests bought: $bought for $NEED needed ($((bought - NEED)) again: $((lost / 2)) for the $lost samples the" \
  "full disk lost, the rest in flight at a kill -9); $torn torn results lines repaired;" \
  "uninterrupted: ${ref_s} s"
[ $bad -eq 0 ]
