#!/usr/bin/env bash
# The short version of tests/bench/bench_chaos.sh: one job through kill -9,
# SIGINT and a full disk under the store, resumed each time by the same
# command, ends with the results of an uninterrupted run.
set -u
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then echo "skipped: mounting a tmpfs needs root"; echo "0 passed, 0 failed"; exit 0; fi
PROBLEMS=200 MODELS=2 KILLS=3 SIGINTS=1 tests/bench/bench_chaos.sh >"${TMPDIR:-/tmp}/chaos.$$" 2>&1
rc=$?
cat "${TMPDIR:-/tmp}/chaos.$$"
pass=0 fail=0
if [ $rc -eq 0 ] && grep -q 'identical to the uninterrupted run' "${TMPDIR:-/tmp}/chaos.$$"; then
  pass=1; echo "ok   kill -9, SIGINT and a full disk: the same results as an uninterrupted run"
else
  fail=1; echo "FAIL the interrupted job (exit $rc)"
fi
rm -f "${TMPDIR:-/tmp}/chaos.$$"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
