#!/usr/bin/env bash
# slmmux help: the usage and exit codes (from main.c), then every policy
# the registry holds and every built-in task (from the Lua library), so what
# `-s policy=NAME` accepts is what help lists.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1"; fi; }
out=$(./slmmux help); rc=$?
check "help exits 0" '[ $rc -eq 0 ]'
check "help shows the usage and the exit status" 'grep -q "^usage: slmmux run" <<<"$out" && grep -q "^exit status:" <<<"$out"'
cat >"${TMPDIR:-/tmp}/names.$$.lua" <<'LUA'
local policies = require "slmmux.policies"
local tasks = require "slmmux.tasks"
for _, n in ipairs(policies.names()) do print("policy " .. n) end
for _, t in ipairs(tasks.list()) do print("task " .. t.name) end
LUA
names=$(./slmmux run "${TMPDIR:-/tmp}/names.$$.lua" --no-store); rm -f "${TMPDIR:-/tmp}/names.$$.lua"
check "the registry has policies and tasks" '[ "$(grep -c "^policy " <<<"$names")" -ge 5 ] && grep -q "^task math" <<<"$names"'
missing=""
while read -r kind name; do
  grep -qE "^  $name " <<<"$out" || missing="$missing $kind:$name"
done <<<"$names"
check "every registered policy and task is listed${missing:+ (missing:$missing)}" '[ -z "$missing" ]'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
