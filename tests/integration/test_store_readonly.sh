#!/usr/bin/env bash
# A store this user may read but not write (an archive, a colleague's
# files, a read-only mount): store stats, verify, export and an --offline
# run work, and the store is left as it was. Root ignores file modes, so the
# commands run as nobody.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
  echo "skipped: needs root and setpriv to run as another user"; echo "0 passed, 0 failed"; exit 0
fi
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 6 "$tmp/err"; fi; }
build/fakeserver --port 0 --max-seconds 120 >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
run() {   # store out [options]
  local store=$1 out=$2; shift 2
  ./slmmux run recipes/math.lua --limit 10 -s models=fake-a,fake-b -s samples=2 -s validation=0 \
    --store "$store" --out "$out" -s quiet=true "$@" >/dev/null 2>"$tmp/err"
}
mkdir "$tmp/archive"
run "$tmp/archive/store.sqlite" "$tmp/ref"
check "the run that fills the store succeeds" "[ $? -eq 0 ]"
chmod 755 "$tmp/archive" && chmod 644 "$tmp/archive"/* && chmod 555 "$tmp/archive"
sum_before=$(cat "$tmp/archive"/* | md5sum)
mkdir -m 777 "$tmp/work"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$tmp/work" "$@"; }

as_nobody ./slmmux store stats --store "$tmp/archive/store.sqlite" >"$tmp/out" 2>"$tmp/err"
check "store stats on a store in a read-only directory" "[ $? -eq 0 ] && grep -q '20 prompts, 40 samples' '$tmp/out'"
as_nobody ./slmmux store verify --store "$tmp/archive/store.sqlite" >"$tmp/out" 2>"$tmp/err"
check "store verify too" "[ $? -eq 0 ]"
as_nobody ./slmmux store export "$tmp/work/export.jsonl" --store "$tmp/archive/store.sqlite" >/dev/null 2>"$tmp/err"
check "store export too" "[ $? -eq 0 ] && [ \$(wc -l < '$tmp/work/export.jsonl') -eq 40 ]"
(cd "$tmp/work" && as_nobody "$SLMMUX_HOME/slmmux" run math --limit 10 -s models=fake-a,fake-b \
  -s samples=2 -s validation=0 --store "$tmp/archive/store.sqlite" --out "$tmp/work/out" -s quiet=true \
  --offline) >/dev/null 2>"$tmp/err"
check "an --offline run on it" "[ $? -eq 0 ] && [ \$(wc -l < '$tmp/work/out/results.jsonl') -eq 10 ]"
check "the store is left as it was" "[ \"\$(cat '$tmp/archive'/* | md5sum)\" = '$sum_before' ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
