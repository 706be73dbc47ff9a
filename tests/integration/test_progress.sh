#!/usr/bin/env bash
# Progress off a terminal (nohup, a Slurm log): one plain line every
# --progress-every seconds and one at the end, with done/total, rates,
# tokens, errors, retries, rate-limit waits and the ETA; --quiet: none.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; cat "$tmp/err"; fi; }

# fake-a's first two requests are rate limited: two retries, two waits
cat > "$tmp/script.json" <<'JSON'
{"rules":[{"model":"fake-a","steps":[{"status":429,"headers":{"retry-after-ms":"50"}},
                                     {"status":429,"headers":{"retry-after-ms":"50"}}]}]}
JSON
build/fakeserver --port 0 --latency-ms 150 --max-seconds 120 --script "$tmp/script.json" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
run() {
  ./slmmux run recipes/math.lua --limit 40 -s models=fake-a,fake-b -s samples=1 -s validation=0 \
    --concurrency 4 --no-store -s quiet=true "$@" >/dev/null 2>"$tmp/err"
}
line='^slmmux: math [0-9]+/40 problems · [0-9.]+ problems/s · [0-9.]+ req/s · [0-9.kM]+ tokens · [0-9]+ errors · [0-9]+ retries · [0-9]+ rate-limit waits · ETA [-0-9hms]+$'

run --out "$tmp/a" --progress-every 0.3
check "the run succeeds" "[ $? -eq 0 ]"
n=$(grep -Ec "$line" "$tmp/err")
check "plain progress lines at the interval ($n lines over a ~1.5 s run)" "[ $n -ge 3 ]"
check "no terminal escape codes in the log" "! grep -q \$'\\e' '$tmp/err' && ! grep -q \$'\\r' '$tmp/err'"
check "the last line is the end: 40/40, ETA -" "grep -E \"$line\" '$tmp/err' | tail -n 1 | grep -q '40/40 problems.*ETA -$'"
check "retries and rate-limit waits are counted" \
  "grep -E \"$line\" '$tmp/err' | tail -n 1 | grep -q ' 2 retries · 2 rate-limit waits'"

run --out "$tmp/b" --progress-every 0.3 --quiet
check "--quiet: no progress line" "[ \$(grep -Ec 'problems ·' '$tmp/err') -eq 0 ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
