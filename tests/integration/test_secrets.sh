#!/usr/bin/env bash
# An API key placed in the key variable appears in no output of a failing
# verbose run: not in the HTTP trace (even in a response header whose name
# says nothing of keys), not in error messages or retry lines (even when the
# provider echoes it), not in results. And it is really sent. The key is not
# shaped like sk-...: it must be removed by its value, not its look.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
KEY="tgp_v1_$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

# model "echo" gets a 401 whose message quotes the key, as some providers do;
# model "echo500" a retryable 500 that quotes it (the verbose retry line), then a reply
echo_body="{\\\"error\\\":{\\\"message\\\":\\\"Incorrect API key provided: $KEY. Header was Bearer $KEY\\\",\\\"type\\\":\\\"invalid_request_error\\\"}}"
cat > "$tmp/script.json" <<JSON
{"rules":[{"model":"echo","then":{"status":401,"body":"$echo_body"}},
          {"model":"echo500","steps":[{"status":500,"headers":{"retry-after-ms":"10"},"body":"$echo_body"}]},
          {"model":"echohdr","then":{"headers":{"x-request-echo":"$KEY"}}}]}
JSON
build/fakeserver --port 0 --max-seconds 60 --require-key "$KEY" --script "$tmp/script.json" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
port=$(awk '/PORT/{print $2}' "$tmp/port")

cat > "$tmp/recipe.lua" <<'LUA'
local mux = require "slmmux"
local ok = assert(mux.chat{model = "good", messages = {{role = "user", content = "hi"}}})
print("good reply: " .. ok.choices[1].text)
local again = assert(mux.chat{model = "echo500", messages = {{role = "user", content = "hi"}}})
assert(mux.chat{model = "echohdr", messages = {{role = "user", content = "hi"}}})
print("retried reply after " .. again.attempts .. " attempts")
local resp, err, info = mux.chat{model = "echo", messages = {{role = "user", content = "hi"}}}
print("error: " .. tostring(err))
for k, v in pairs(info) do print("info." .. k .. " = " .. tostring(v)) end
error("failing on purpose after: " .. tostring(err))
LUA
OPENAI_BASE_URL="http://127.0.0.1:$port/v1" OPENAI_API_KEY="$KEY" \
  ./slmmux run "$tmp/recipe.lua" -v --no-store >"$tmp/out" 2>&1
rc=$?
check "the failing run exits non-zero" "[ $rc -ne 0 ]"
check "the key was sent (the server accepted it)" "grep -q 'good reply' '$tmp/out'"
check "the retryable echo was retried and logged" "grep -q 'retried reply after 2 attempts' '$tmp/out' && grep -q 'retrying in' '$tmp/out'"
check "the provider's echo of the key is reported, redacted" "grep -q 'Incorrect API key provided' '$tmp/out'"
check "the verbose trace shows the Authorization header as redacted" "grep -qi 'authorization: \[redacted\]' '$tmp/out'"
check "a response header echoing the key is traced, its value redacted" "grep -qi 'x-request-echo: \[redacted\]' '$tmp/out'"
check "the key appears nowhere in the output" "! grep -qF '$KEY' '$tmp/out'"
check "not even its tail appears" "! grep -qF '${KEY: -12}' '$tmp/out'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
