#!/usr/bin/env bash
# Every recipe runs end to end over HTTP against the loopback fake server
# (not the simulator) with --limit: results.jsonl has one valid line per
# problem, summary.json says the backend was HTTP and counts the requests.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
build/fakeserver --port 0 --latency-ms 5 --max-seconds 300 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"

for recipe in recipes/*.lua; do
  name=$(basename "$recipe" .lua)
  case "$name" in search|scaling) continue ;; esac
  out="$tmp/$name"
  if ./slmmux run "$recipe" --limit 4 -s models=fake-a,fake-b -s samples=2 --no-store --out "$out" \
       >"$tmp/$name.log" 2>&1 \
     && python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
lines = [json.loads(l) for l in open(out + "/results.jsonl")]
s = json.load(open(out + "/summary.json"))
assert len(lines) == 4, f"{len(lines)} result lines"
assert all("id" in l for l in lines)
text = json.dumps(s)
assert s.get("backend") not in (None, "sim"), "backend: %r" % s.get("backend")
assert "accuracy" in text
PY
  then pass=$((pass + 1)); echo "ok   $name runs over HTTP"
  else fail=$((fail + 1)); echo "FAIL $name"; tail -n 20 "$tmp/$name.log"
  fi
done
requests=$(wc -l <"$tmp/server.log")
if [ "$requests" -gt 0 ]; then pass=$((pass + 1)); echo "ok   the server saw $requests chat requests"
else fail=$((fail + 1)); echo "FAIL the server saw no request"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
