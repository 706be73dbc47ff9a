#!/usr/bin/env bash
# The test suite: every C test program, every Lua test and every shell test,
# each with a time limit. Prints one line per test and ends with
# "N passed, N failed"; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.."
export SLMMUX_HOME="$PWD"
filter="${1:-}"
passed=0 failed=0 failures=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

run_one() {   # name, time limit, command...
  local name=$1 limit=$2; shift 2
  [ -n "$filter" ] && [[ "$name" != *"$filter"* ]] && return
  local start=$SECONDS out="$log/out"
  if timeout -k 5 "$limit" "$@" >"$out" 2>&1; then
    passed=$((passed + 1)); printf 'ok    %-48s %3ds\n' "$name" $((SECONDS - start))
  else
    local rc=$?
    failed=$((failed + 1)); failures="$failures $name"
    printf 'FAIL  %-48s %3ds (exit %d)\n' "$name" $((SECONDS - start)) "$rc"
    tail -n 40 "$out" | sed 's/^/      | /'
  fi
}

for t in build/tests/test_*; do
  [ -x "$t" ] && run_one "c/$(basename "$t")" 300 "$t"
done
for dir in unit integration security; do
  for t in tests/$dir/test_*.lua; do
    [ -e "$t" ] && run_one "$dir/$(basename "$t")" 300 ./slmmux run "$t" --no-store
  done
  for t in tests/$dir/test_*.sh; do
    [ -e "$t" ] && run_one "$dir/$(basename "$t")" 600 bash "$t"
  done
done
[ -e tests/fake/selftest.sh ] && run_one "fake/selftest.sh" 120 bash tests/fake/selftest.sh

echo
[ "$failed" -gt 0 ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
