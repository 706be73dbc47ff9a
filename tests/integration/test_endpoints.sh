#!/usr/bin/env bash
# How an endpoint is named and admitted (issues: real endpoints and real
# scale, parts 1-2; nothing lost, part 7; shards that merge): the identity of
# a base URL is normalised (scheme and host in lower case, no default port,
# no trailing slash, no userinfo) and unchanged for a normal URL, so two
# spellings share their samples; userinfo reaches neither summary.json, the
# store, an export nor a -v trace; each endpoint's in-flight limit is
# printed at a run's start and --concurrency sets it; a key_env naming an
# unset variable stops the run before any request.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
unset OPENAI_API_KEY TOGETHER_API_KEY OPENAI_BASE_URL SLMMUX_CONFIG
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
build/fakeserver --port 0 --latency-ms 5 --max-seconds 300 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
port=$(awk '/PORT/{print $2}' "$tmp/port")
requests() { wc -l <"$tmp/server.log"; }

cat >"$tmp/ids.lua" <<'LUA'
local mux = require "slmmux"
for i, url in ipairs{"http://127.0.0.1:8000/v1", "HTTP://User:Secret@LocalHost:80/v1/",
                     "https://API.Example.COM:443/v1//", "https://api.example.com:8443/V1",
                     "http://[::1]:8080/v1", "https://tok3n@api.example.com/v1?x=Y"} do
  mux.endpoint("e" .. i, {base_url = url})
  print(mux.endpoint_info("e" .. i).base_url)
end
LUA
./slmmux run "$tmp/ids.lua" --no-store >"$tmp/ids" 2>&1
check "identities: normal unchanged; scheme/host lowered, default port, slashes and userinfo dropped" \
  "[ \"\$(tr '\n' ' ' <"$tmp/ids")\" = 'http://127.0.0.1:8000/v1 http://localhost/v1 https://api.example.com/v1 https://api.example.com:8443/V1 http://[::1]:8080/v1 https://api.example.com/v1?x=Y ' ]"

# one run fills the store through one spelling; another spelling reuses it
run_math() {  # base_url, extra args...
  local url=$1; shift
  OPENAI_BASE_URL="$url" ./slmmux run recipes/math.lua --limit 3 -s models=m1,m2 -s samples=2 \
    -s validation=0 --store "$tmp/store.sqlite" "$@"
}
run_math "http://127.0.0.1:$port/v1" --out "$tmp/a" >"$tmp/a.log" 2>&1
before=$(requests)
run_math "HTTP://alice:s3cretpw@127.0.0.1:$port/v1/" --out "$tmp/b" >"$tmp/b.log" 2>&1
check "the first run asked the server" "[ $before -gt 0 ]"
check "the same endpoint spelt with userinfo, upper case and a slash reuses every sample" "[ \$(requests) -eq $before ]"
./slmmux store export "$tmp/export.jsonl" --store "$tmp/store.sqlite" >/dev/null 2>&1
check "the export holds the samples" "[ -s '$tmp/export.jsonl' ]"
OPENAI_BASE_URL="http://alice:s3cretpw@127.0.0.1:$port/v1" ./slmmux run recipes/math.lua --limit 1 \
  -s models=m1 -s validation=0 --no-store --out "$tmp/e" -v >"$tmp/e.log" 2>&1
check "the -v run traced its requests" "grep -q 'slmmux: http > POST' '$tmp/e.log'"
check "userinfo is in neither summary.json, the store, the export nor the -v trace" \
  "! grep -rqF s3cretpw '$tmp/b/summary.json' '$tmp/store.sqlite' '$tmp/export.jsonl' '$tmp/b.log' '$tmp/e.log'"
check "summary.json names the endpoint by its identity" "grep -qF '\"http://127.0.0.1:$port/v1\"' '$tmp/b/summary.json'"
check "the run's start says how many requests go in flight, and where" \
  "grep -qF 'endpoint openai at http://127.0.0.1:$port/v1: 256 requests in flight' '$tmp/a.log'"
run_math "http://127.0.0.1:$port/v1" --no-store --concurrency 300 --out "$tmp/c" >"$tmp/c.log" 2>&1
check "--concurrency N is the requests in flight, and says so" "grep -qF ': 300 requests in flight' '$tmp/c.log'"

cat >"$tmp/config.lua" <<LUA
return { endpoints = { prov = { base_url = "http://127.0.0.1:$port/v1", key_env = "SLMMUX_TEST_UNSET_KEY" } },
         default = "prov" }
LUA
before=$(requests)
SLMMUX_CONFIG="$tmp/config.lua" ./slmmux run recipes/math.lua --limit 3 -s models=m1 -s validation=0 \
  --no-store --out "$tmp/d" >"$tmp/d.log" 2>&1
rc=$?
check "a key_env naming an unset variable stops the run (exit $rc), naming it" \
  "[ $rc -ne 0 ] && grep -q 'SLMMUX_TEST_UNSET_KEY.*not set' '$tmp/d.log'"
check "... before any request" "[ \$(requests) -eq $before ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
