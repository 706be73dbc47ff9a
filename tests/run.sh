#!/usr/bin/env bash
# The test suite: every C test program, every Lua test and every shell test,
# each with a time limit, several at once.
#
#   tests/run.sh [-j N] [FILTER]   N tests at a time (default $SLMMUX_TEST_JOBS,
#                                  else 3); only tests whose name contains FILTER
#
# Most tests wait (timers, retry pauses, subprocesses, a fake server), so 3 at
# once keeps the machine's 2 cores busy without starving the timing margins.
# Each test's output is kept whole (build/test-logs/NAME.log) and reported in
# the order of the list below, as soon as it and every test before it are done:
# one line per test, the last 40 lines of a failure, then "N passed, N failed";
# the exit status is non-zero when anything failed.
#
# Sanitizer reports (make asan) are written through log_path to a directory of
# the test's own, and any report fails the test: a process whose exit status
# the test ignores (a run expected to fail, the fake server) is still caught.
set -u
cd "$(dirname "$0")/.."
export SLMMUX_HOME="$PWD"

jobs=${SLMMUX_TEST_JOBS:-3} filter=""
while [ $# -gt 0 ]; do
  case $1 in
    -j) jobs=${2:-}; shift 2 || shift ;;
    -j*) jobs=${1#-j}; shift ;;
    -h|--help) sed -n '5,6s/^# \{0,3\}//p' "$0"; exit 0 ;;
    -*) echo "tests/run.sh: unknown option $1 (tests/run.sh [-j N] [FILTER])" >&2; exit 2 ;;
    *) filter=$1; shift ;;
  esac
done
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
  echo "tests/run.sh: -j needs a positive number of jobs, not '$jobs'" >&2; exit 2
fi

logs=build/test-logs
rm -rf "$logs" && mkdir -p "$logs" || exit 2

# The list: name, time limit in seconds, command (repository-relative paths).
names=() limits=() cmds=()
add() {
  [ -n "$filter" ] && [[ "$1" != *"$filter"* ]] && return
  names+=("$1") limits+=("$2") cmds+=("$3")
}
for t in build/tests/test_*; do
  [ -x "$t" ] && [ -f "$t" ] && add "c/$(basename "$t")" 300 "$t"
done
for dir in unit integration security; do
  for t in tests/$dir/test_*.lua; do
    [ -e "$t" ] && add "$dir/$(basename "$t")" 300 "./slmmux run $t --no-store"
  done
  for t in tests/$dir/test_*.sh; do
    [ -e "$t" ] && add "$dir/$(basename "$t")" 600 "bash $t"
  done
done
[ -e tests/fake/selftest.sh ] && add "fake/selftest.sh" 120 "bash tests/fake/selftest.sh"

file_of() { echo "$logs/${names[$1]//\//_}"; }   # c/test_x -> build/test-logs/c_test_x

run_test() {   # index; writes NAME.log, NAME.san/ and last NAME.done ("exit seconds")
  local f start=$SECONDS rc
  f=$(file_of "$1")
  mkdir -p "$f.san"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$PWD/$f.san/asan" \
  UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$PWD/$f.san/ubsan" \
    timeout -k 5 "${limits[$1]}" ${cmds[$1]} </dev/null >"$f.log" 2>&1 &
  echo $! >"$f.pid"   # timeout runs the test in a process group of its own: see stop_all
  wait $!
  rc=$?
  rm -f "$f.pid"
  echo "$rc $((SECONDS - start))" >"$f.tmp" && mv "$f.tmp" "$f.done"
}

passed=0 failed=0 failures=""
report() {   # index
  local f rc secs name=${names[$1]} sanitizer
  f=$(file_of "$1")
  read -r rc secs <"$f.done"
  last[$name]=$secs
  sanitizer=$(find "$f.san" -type f -size +0 | sort)
  if [ "$rc" = 0 ] && [ -z "$sanitizer" ]; then
    passed=$((passed + 1)); printf 'ok    %-48s %3ds\n' "$name" "$secs"
    return
  fi
  failed=$((failed + 1)); failures="$failures $name"
  if [ -n "$sanitizer" ]; then
    printf 'FAIL  %-48s %3ds (exit %d, sanitizer report)\n' "$name" "$secs" "$rc"
    for s in $sanitizer; do head -n 40 "$s" | sed 's/^/      ! /'; done
  else
    printf 'FAIL  %-48s %3ds (exit %d)\n' "$name" "$secs" "$rc"
  fi
  tail -n 40 "$f.log" | sed 's/^/      | /'
  echo "      (whole output: $f.log)"
}

# Start order: the longest first, by the seconds each took last time
# (build/.test-seconds; a test not seen before counts as the longest), so a
# long test does not start last and keep the others waiting; the list order
# when there is no history. Reports stay in list order.
n=${#names[@]}
declare -A last
if [ -r build/.test-seconds ]; then
  while read -r name secs; do last[$name]=$secs; done <build/.test-seconds
fi
order=($(for ((i = 0; i < n; i++)); do echo "${last[${names[$i]}]:-99999} $i"; done |
         sort -s -k1,1nr | awk '{print $2}'))

# A bounded pool: start tests while fewer than $jobs run; report in list order.
started=0 reported=0
# Interrupted: a Ctrl-C does not reach the tests (each timeout made its own
# process group), so stop each running test's timeout, which passes it on.
stop_all() {
  local p
  for p in "$logs"/*.pid; do [ -e "$p" ] && kill "$(cat "$p" 2>/dev/null)" 2>/dev/null; done
  kill $(jobs -p) 2>/dev/null
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT
while [ "$reported" -lt "$n" ]; do
  while [ "$started" -lt "$n" ] && [ "$(jobs -rp | wc -l)" -lt "$jobs" ]; do
    run_test "${order[$started]}" &
    started=$((started + 1))
  done
  wait -n 2>/dev/null
  while [ "$reported" -lt "$n" ] && [ -e "$(file_of "$reported").done" ]; do
    report "$reported"
    reported=$((reported + 1))
  done
done

for name in "${!last[@]}"; do echo "$name ${last[$name]}"; done >build/.test-seconds

echo
[ "$failed" -gt 0 ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
