#!/usr/bin/env bash
# A recipe's or a configuration's error prints one line, "slmmux: <message>",
# and exits 1 (3 for a configuration error); -v adds the Lua traceback (also
# of a task mux.wait re-raised).
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; cat "$tmp/out"; fi; }
run() { (cd "$tmp" && "$SLMMUX_HOME/slmmux" run "$@" --no-store) >"$tmp/out" 2>&1; echo $?; }

cat > "$tmp/misuse.lua" <<'LUA'
local mux = require "slmmux"
local answers = "A"
local groups = mux.vote.count(answers)
LUA
rc=$(run misuse.lua)
check "a misuse exits 1" "[ $rc -eq 1 ]"
check "a misuse prints one line" "[ \$(wc -l < '$tmp/out') -eq 1 ]"
check "the line names the function and the recipe's line" \
  "grep -qx 'slmmux: misuse.lua:3: mux.vote.count: answers must be a table (got string)' '$tmp/out'"
rc=$(run misuse.lua -v)
check "-v: still exit 1" "[ $rc -eq 1 ]"
check "-v: the message first" "head -1 '$tmp/out' | grep -qx 'slmmux: misuse.lua:3: mux.vote.count: .*'"
check "-v: then the traceback" "grep -q '^stack traceback:' '$tmp/out' && grep -q 'misuse.lua:3: in main chunk' '$tmp/out'"

cat > "$tmp/task.lua" <<'LUA'
local mux = require "slmmux"
local function boom() error("the task failed") end
local t = mux.spawn(function() boom() end)
mux.wait(t)
LUA
rc=$(run task.lua)
check "an error re-raised by mux.wait is one line" \
  "[ $rc -eq 1 ] && [ \$(wc -l < '$tmp/out') -eq 1 ] && grep -qx 'slmmux: task.lua:2: the task failed' '$tmp/out'"
run task.lua -v >/dev/null
check "-v: the waiting task's traceback, then the failed task's" \
  "grep -q 'task.lua:4: in main chunk' '$tmp/out' && grep -q 'raised in the task it waited for' '$tmp/out' && grep -q \"task.lua:2: in .*boom\" '$tmp/out'"

# a broken configuration: read when the first request needs an endpoint
echo 'return {endpoints = {x = {base_url = 1}}}' > "$tmp/broken.config.lua"
cat > "$tmp/chat.lua" <<'LUA'
local mux = require "slmmux"
print(mux.chat{model = "m", messages = {{role = "user", content = "hi"}}})
LUA
rc=$(SLMMUX_CONFIG="$tmp/broken.config.lua" run chat.lua)
check "a configuration error exits 3 with one line naming the file" \
  "[ $rc -eq 3 ] && [ \$(wc -l < '$tmp/out') -eq 1 ] && grep -q '^slmmux: config .*broken.config.lua: ' '$tmp/out'"

printf 'return 1 +\n' > "$tmp/syntax.lua"
rc=$(run syntax.lua)
check "a syntax error is one line" "[ $rc -eq 1 ] && [ \$(wc -l < '$tmp/out') -eq 1 ] && grep -q '^slmmux: syntax.lua:2:' '$tmp/out'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
