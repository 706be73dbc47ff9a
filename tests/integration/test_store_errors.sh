#!/usr/bin/env bash
# A corrupt or unusable store gives a clear error naming the file, before any
# request is paid for, and the file is left exactly as it was.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; cat "$tmp/out"; fi; }

cat > "$tmp/recipe.lua" <<'LUA'
local mux = require "slmmux"
mux.endpoint("nowhere", { base_url = "http://127.0.0.1:9/v1", max_retries = 0 })
print(mux.chat{ endpoint = "nowhere", model = "m", messages = { { role = "user", content = "x" } } })
LUA
head -c 8192 /dev/urandom > "$tmp/corrupt.sqlite"
sum_before=$(md5sum < "$tmp/corrupt.sqlite")
./slmmux run "$tmp/recipe.lua" --store "$tmp/corrupt.sqlite" >"$tmp/out" 2>&1
rc=$?
check "a corrupt store stops the run" "[ $rc -ne 0 ]"
check "the error names the store file" "grep -q 'corrupt.sqlite' '$tmp/out'"
check "the error says it is not a valid store" "grep -qiE 'not a (valid )?(sample )?store|not a database|corrupt' '$tmp/out'"
check "the corrupt file is left as it was" "[ \"\$(md5sum < '$tmp/corrupt.sqlite')\" = '$sum_before' ]"

mkdir -p "$tmp/ro" && touch "$tmp/ro/store.sqlite" && chmod 000 "$tmp/ro"
./slmmux run "$tmp/recipe.lua" --store "$tmp/ro/sub/store.sqlite" >"$tmp/out" 2>&1
rc=$?
chmod 755 "$tmp/ro"
if [ "$(id -u)" != 0 ]; then
  check "an unwritable store path stops the run with its name" "[ $rc -ne 0 ] && grep -q 'ro/sub/store.sqlite' '$tmp/out'"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
