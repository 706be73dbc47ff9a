#!/usr/bin/env bash
# Installed like a tool: after make install PREFIX=..., slmmux run NAME finds
# the installed recipe from any directory and slmmux recipes lists them;
# make uninstall removes everything it installed. make demo runs on the
# simulator even when the environment names a real endpoint.
set -u
cd "$(dirname "$0")/../.."
root=$PWD
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 5 "$tmp/out"; fi; }

# make rebuilds with its own flags: under make asan that would swap the
# sanitized binary the other tests run for a plain one, mid-suite.
if grep -q fsanitize build/.flags 2>/dev/null; then
  echo "skipped under the sanitizers (make would rebuild without them)"
  echo "0 passed, 0 failed"
  exit 0
fi

prefix="$tmp/prefix"
make -s -C "$root" install PREFIX="$prefix" >"$tmp/out" 2>&1
check "make install PREFIX=... succeeds" "[ $? -eq 0 ] && [ -x '$prefix/bin/slmmux' ]"
mkdir "$tmp/elsewhere"
(cd "$tmp/elsewhere" && env -u SLMMUX_HOME "$prefix/bin/slmmux" recipes) >"$tmp/out" 2>&1
check "slmmux recipes lists the installed recipes" \
  "grep -q '^  math ' '$tmp/out' && grep -q '^  humaneval ' '$tmp/out' && grep -q '$prefix' '$tmp/out'"
(cd "$tmp/elsewhere" && env -u SLMMUX_HOME -u OPENAI_BASE_URL -u OPENAI_API_KEY -u TOGETHER_API_KEY \
  "$prefix/bin/slmmux" run math --limit 3 -s backend=sim --no-store --out run -s quiet=true) >"$tmp/out" 2>&1
check "slmmux run math finds the installed recipe and its data" \
  "[ $? -eq 0 ] && [ \$(wc -l < '$tmp/elsewhere/run/results.jsonl') -eq 3 ]"
(cd "$tmp/elsewhere" && env -u SLMMUX_HOME "$prefix/bin/slmmux" run nosuch) >"$tmp/out" 2>&1
check "an unknown recipe name is a usage error naming it" "[ $? -eq 2 ] && grep -q \"named 'nosuch'\" '$tmp/out'"
make -s -C "$root" uninstall PREFIX="$prefix" >"$tmp/out" 2>&1
check "make uninstall removes the binary and share/slmmux" \
  "[ $? -eq 0 ] && [ ! -e '$prefix/bin/slmmux' ] && [ ! -e '$prefix/share/slmmux' ]"

# make demo with a server in the environment: not one request reaches it
"$root/build/fakeserver" --port 0 --max-seconds 120 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
: >"$tmp/server.log"
OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1" OPENAI_API_KEY=sk-demo \
  make -s -C "$root" demo >"$tmp/out" 2>&1
rc=$?
run_dir=$(sed -n 's|^results: \(.*\)/results.jsonl$|\1|p' "$tmp/out")
check "make demo succeeds on the simulator" "[ $rc -eq 0 ] && grep -q 'simulated models' '$tmp/out'"
check "make demo sent no request to the endpoint in the environment" "[ ! -s '$tmp/server.log' ]"
[ -n "$run_dir" ] && rm -rf "${root:?}/$run_dir"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
