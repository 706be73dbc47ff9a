#!/usr/bin/env bash
# The exit status a batch script can trust, as `slmmux help` documents it:
# 0 success, 1 runtime failure, 2 usage, 3 configuration, 128 + the signal
# for an interrupted run (130 SIGINT, 143 SIGTERM).
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); spid=; trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; cat "$tmp/out"; fi; }
status() { "$@" >"$tmp/out" 2>&1; echo $?; }

echo 'print("fine")' > "$tmp/ok.lua"
echo 'error("the recipe failed")' > "$tmp/boom.lua"
cat > "$tmp/settings.lua" <<'LUA'
local mux = require "slmmux"
return mux.run{task = "math", models = {"m"}, backend = "sim", limit = 1, quiet = true}
LUA

check "success: 0" "[ $(status ./slmmux run "$tmp/ok.lua" --no-store) -eq 0 ]"
check "a recipe error: 1" "[ $(status ./slmmux run "$tmp/boom.lua" --no-store) -eq 1 ]"
check "no such command: 2" "[ $(status ./slmmux frobnicate) -eq 2 ]"
check "an unknown option: 2" "[ $(status ./slmmux run "$tmp/ok.lua" --frobnicate) -eq 2 ]"
check "no such recipe file: 2" "[ $(status ./slmmux run "$tmp/missing.lua") -eq 2 ] && grep -q missing.lua '$tmp/out'"
check "a malformed -s value: 2" \
  "[ $(status ./slmmux run "$tmp/settings.lua" --no-store -s samples=many --out "$tmp/o1") -eq 2 ] && grep -q 'samples=many' '$tmp/out'"
check "an unknown setting: 2" \
  "[ $(status ./slmmux run "$tmp/settings.lua" --no-store -s sampels=3 --out "$tmp/o2") -eq 2 ]"
check "an unknown task: 2" \
  "[ $(status ./slmmux run "$tmp/settings.lua" --no-store -s task=trivia --out "$tmp/o3") -eq 2 ]"

echo 'return {endpoints = {x = {base_url = 1}}}' > "$tmp/broken.config.lua"
cat > "$tmp/chat.lua" <<'LUA'
local mux = require "slmmux"
print(mux.chat{model = "m", messages = {{role = "user", content = "hi"}}})
LUA
check "a broken config file: 3" \
  "[ $(SLMMUX_CONFIG="$tmp/broken.config.lua" status ./slmmux run "$tmp/chat.lua" --no-store) -eq 3 ]"
echo 'return {endpoints = {x = {base_url = "http://127.0.0.1:9/v1"}}, models = {a = "x"}}' > "$tmp/half.config.lua"
check "an endpoint for some models only: 3" \
  "[ $(SLMMUX_CONFIG="$tmp/half.config.lua" status ./slmmux run "$tmp/settings.lua" --no-store -s models=a,b -s backend=auto --out "$tmp/o4") -eq 3 ]"

# Every request refused (a wrong key): every problem fails, and so does the run.
build/fakeserver --port 0 --max-seconds 60 --require-key sk-right >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
url="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
check "a 401 on every request: 1, saying so" \
  "[ $(OPENAI_BASE_URL=$url OPENAI_API_KEY=sk-wrong status ./slmmux run recipes/math.lua --limit 3 -s validation=0 \
       -s models=m1 --no-store --out "$tmp/o5" -s quiet=true) -eq 1 ] && grep -q 'all 3 problems failed; the first error: .*API key' '$tmp/out' \
   && [ -s '$tmp/o5/summary.json' ]"
check "--max-errors 1 accepts some failures, not all" \
  "[ $(OPENAI_BASE_URL=$url OPENAI_API_KEY=sk-wrong status ./slmmux run recipes/math.lua --limit 3 -s validation=0 \
       -s models=m1 --no-store --out "$tmp/o6" -s quiet=true --max-errors 1) -eq 1 ]"
check "with the right key: 0" \
  "[ $(OPENAI_BASE_URL=$url OPENAI_API_KEY=sk-right status ./slmmux run recipes/math.lua --limit 3 -s validation=0 \
       -s models=m1 --no-store --out "$tmp/o7" -s quiet=true) -eq 0 ]"
kill $spid
check "a malformed --max-errors: 2" "[ $(status ./slmmux run "$tmp/ok.lua" --max-errors 5) -eq 2 ]"
check "a malformed --shard: 2" "[ $(status ./slmmux run "$tmp/ok.lua" --shard 5/4) -eq 2 ]"

# Interruptions. A recipe that watches mux.interrupted() stops by itself
# after one signal; one that does not is stopped by a second signal at once.
cat > "$tmp/polite.lua" <<'LUA'
local mux = require "slmmux"
io.stdout:write("ready\n") io.stdout:flush()
while not mux.interrupted() do mux.sleep(0.02) end
print("saw " .. mux.interrupted())
LUA
cat > "$tmp/stubborn.lua" <<'LUA'
local mux = require "slmmux"
io.stdout:write("ready\n") io.stdout:flush()
mux.sleep(60)
LUA
# $1 recipe, $2.. signals to send, one every 0.3 s once it is ready; prints
# the exit status and the seconds it took
interrupt() {
  local recipe=$1; shift
  local t0=$SECONDS
  ./slmmux run "$recipe" --no-store >"$tmp/out" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q ready "$tmp/out" && break; sleep 0.05; done
  for sig in "$@"; do kill -"$sig" $pid; sleep 0.3; done
  wait $pid
  echo "$? $((SECONDS - t0))"
}
read -r rc secs <<<"$(interrupt "$tmp/polite.lua" INT)"
check "one SIGINT, the recipe stops: 130" "[ $rc -eq 130 ] && grep -q 'saw SIGINT' '$tmp/out'"
read -r rc secs <<<"$(interrupt "$tmp/polite.lua" TERM)"
check "one SIGTERM, the recipe stops: 143" "[ $rc -eq 143 ] && grep -q 'saw SIGTERM' '$tmp/out'"
read -r rc secs <<<"$(interrupt "$tmp/stubborn.lua" INT INT)"
check "a second SIGINT stops at once: 130" "[ $rc -eq 130 ] && [ $secs -lt 10 ] && grep -q 'stopped (a second SIGINT)' '$tmp/out'"
read -r rc secs <<<"$(interrupt "$tmp/stubborn.lua" TERM TERM)"
check "a second SIGTERM stops at once: 143" "[ $rc -eq 143 ] && [ $secs -lt 10 ]"

./slmmux help >"$tmp/out" 2>&1
check "slmmux help documents every status" \
  "grep -q '^exit status:' '$tmp/out' && grep -Eq '^  2 +usage' '$tmp/out' && grep -Eq '^  3 +configuration' '$tmp/out' && grep -q '130' '$tmp/out' && grep -q '143' '$tmp/out'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
