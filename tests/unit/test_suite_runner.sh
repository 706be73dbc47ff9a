#!/usr/bin/env bash
# tests/run.sh itself, on a tree of its own: a copy of run.sh next to fixture
# tests. It runs at most -j tests at once and more than one when it may,
# reports them in list order whatever order they finish in, shows a failure's
# tail and exit status, fails a test whose sanitizer wrote a report even when
# the test ignored the exit status, selects by filter, rejects a bad -j, and
# stops its tests when it is stopped.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; cat "$tmp/out"; fi; }

tree=$tmp/tree
mkdir -p "$tree/tests/unit" "$tree/active"
cp tests/run.sh "$tree/tests/run.sh"
# each sleeper notes how many sleepers run with it
for t in x_a x_b y_c y_d; do
  cat >"$tree/tests/unit/test_sleep_$t.sh" <<SH
touch "$tree/active/$t"; ls "$tree/active" | wc -l >>"$tree/seen"; sleep 1; rm "$tree/active/$t"
SH
done
cat >"$tree/tests/unit/test_order_1_slow.sh" <<SH
echo slow >>"$tree/started"; sleep 1.5; echo slow done
SH
echo "echo fast >>'$tree/started'; echo fast done" >"$tree/tests/unit/test_order_2_fast.sh"
cat >"$tree/tests/unit/test_fails.sh" <<'SH'
for i in $(seq 50); do echo "line $i"; done; exit 3
SH

run() { "$tree/tests/run.sh" "$@" >"$tmp/out" 2>&1; }

: >"$tree/seen"
run -j 2 test_sleep; rc=$?
check "four sleepers pass" "[ $rc = 0 ] && tail -n 1 '$tmp/out' | grep -qx '4 passed, 0 failed'"
check "-j 2: two at once, never more" "[ \$(sort -n '$tree/seen' | tail -n 1) = 2 ]"
: >"$tree/seen"
SLMMUX_TEST_JOBS=1 run sleep_x; rc=$?
check "SLMMUX_TEST_JOBS=1: one at a time" "[ $rc = 0 ] && [ \$(sort -n '$tree/seen' | tail -n 1) = 1 ]"
: >"$tree/seen"
SLMMUX_TEST_JOBS=4 run -j1 sleep_y; rc=$?
check "-j1 overrides SLMMUX_TEST_JOBS" "[ $rc = 0 ] && [ \$(sort -n '$tree/seen' | tail -n 1) = 1 ]"

run -j 3 test_order; rc=$?
check "reported in list order although the second finished first" \
  "[ $rc = 0 ] && grep -E '^ok ' '$tmp/out' | awk '{print \$2}' | tr '\n' ' ' | grep -qx 'unit/test_order_1_slow.sh unit/test_order_2_fast.sh '"
check "a passing test's output is kept whole in build/test-logs" \
  "grep -qx 'slow done' '$tree/build/test-logs/unit_test_order_1_slow.sh.log'"
check "each test's seconds are kept for the next run" \
  "grep -qx 'unit/test_order_1_slow.sh [12]' '$tree/build/.test-seconds'"
printf 'unit/test_order_1_slow.sh 1\nunit/test_order_2_fast.sh 50\n' >"$tree/build/.test-seconds"
: >"$tree/started"
run -j 1 test_order; rc=$?
check "the test that took longest last time starts first; reports keep list order" \
  "[ $rc = 0 ] && [ \"\$(tr '\n' ' ' <'$tree/started')\" = 'fast slow ' ] &&
   grep -E '^ok ' '$tmp/out' | awk '{print \$2}' | tr '\n' ' ' | grep -qx 'unit/test_order_1_slow.sh unit/test_order_2_fast.sh '"

run _f; rc=$?   # test_order_2_fast and test_fails
check "a failure makes the run exit non-zero" "[ $rc != 0 ]"
check "the failure's line names it with its exit status" "grep -qE '^FAIL  unit/test_fails.sh +[0-9]+s \(exit 3\)$' '$tmp/out'"
check "the failure's last 40 lines are shown, no more" "grep -q '| line 50$' '$tmp/out' && grep -q '| line 11$' '$tmp/out' && ! grep -q '| line 10$' '$tmp/out'"
check "the last line counts both" "tail -n 1 '$tmp/out' | grep -qx '1 passed, 1 failed'"

run nothing_has_this_name; rc=$?
check "a filter selects tests by name" "[ $rc = 0 ] && tail -n 1 '$tmp/out' | grep -qx '0 passed, 0 failed'"
run -j 0; rc=$?
check "-j 0 is refused, naming the option" "[ $rc = 2 ] && grep -q -- '-j needs a positive number' '$tmp/out'"

# Stopped: the tests it runs stop too (they run in process groups of their own).
echo "echo \$\$ >'$tree/hang.pid'; exec sleep 60" >"$tree/tests/unit/test_hangs.sh"
"$tree/tests/run.sh" test_hangs >"$tmp/out" 2>&1 &
runner=$!
for _ in $(seq 50); do [ -s "$tree/hang.pid" ] && break; sleep 0.1; done
kill -TERM $runner; wait $runner; rc=$?
hang=$(cat "$tree/hang.pid" 2>/dev/null)
for _ in $(seq 30); do kill -0 "$hang" 2>/dev/null || break; sleep 0.1; done
check "a stopped run stops its tests and exits non-zero" "[ -n '$hang' ] && ! kill -0 '$hang' 2>/dev/null && [ $rc != 0 ]"
rm -f "$tree/tests/unit/test_hangs.sh"

# Sanitizer reports from programs whose exit status the test ignores.
if printf '#include <stdlib.h>\nint main(void){char *p = malloc(9); p[0] = 1; return p[0] - 1;}\n' >"$tmp/leak.c" &&
   cc -g -fsanitize=address "$tmp/leak.c" -o "$tmp/leak" 2>"$tmp/out" &&
   printf '#include <limits.h>\nint main(int c, char **v){(void)v; int x = INT_MAX - 1 + c; x += c; return x == 0;}\n' >"$tmp/ub.c" &&
   cc -g -fsanitize=undefined "$tmp/ub.c" -o "$tmp/ub" 2>"$tmp/out"; then
  rm -f "$tree"/tests/unit/test_*.sh
  echo "'$tmp/leak' || true" >"$tree/tests/unit/test_leaks.sh"
  echo "'$tmp/ub' || true" >"$tree/tests/unit/test_overflows.sh"
  ASAN_OPTIONS=detect_leaks=1 run; rc=$?
  check "a leak report fails the test that ignored its exit status" \
    "[ $rc != 0 ] && grep -q '^FAIL  unit/test_leaks.sh .*sanitizer report' '$tmp/out' && grep -q '! .*LeakSanitizer: detected memory leaks' '$tmp/out'"
  check "a UBSan report fails the test too" \
    "grep -q '^FAIL  unit/test_overflows.sh .*sanitizer report' '$tmp/out' && grep -q '! .*runtime error: signed integer overflow' '$tmp/out'"
else
  fail=$((fail+1)); echo "FAIL cannot build the sanitizer fixtures:"; cat "$tmp/out"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
