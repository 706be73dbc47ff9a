#!/usr/bin/env bash
# The search and the scaling study over HTTP against the loopback fake
# server, through the sample store: the search collects the pool's samples
# (one request per model and problem), a rerun with --offline sends no
# request and writes the same search; the scaling study asks only for the
# samples the store lacks (k = 3 stored, max_k = 4: one choice per model
# and problem), says with --offline how many it lacks, and offline SLM-MUX
# decides as the run did.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
unset OPENAI_API_KEY TOGETHER_API_KEY
tmp=$(mktemp -d); trap 'kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && tail -n 20 "$2"; }

# fc always answers 1 (right); fa and fb answer 0, 1 or 2 by a hash of the request
cat >"$tmp/script.json" <<'JSON'
{"rules":[{"model":"fc","then":{"content":"Sample {i}. The answer is \\boxed{1}."}}]}
JSON
build/fakeserver --port 0 --max-seconds 300 --script "$tmp/script.json" --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
port=$(awk '/PORT/{print $2}' "$tmp/port")
export OPENAI_BASE_URL="http://127.0.0.1:$port/v1"
choices() { curl -s "http://127.0.0.1:$port/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"])'; }

for i in $(seq 20); do echo "{\"q\": \"question $i\", \"a\": \"1\"}"; done >"$tmp/q.jsonl"
task='local task = dofile(require("slmmux").home .. "/tests/lib/ones_task.lua")'
printf '%s\nreturn require("slmmux.analysis.searchrun").recipe{task = task, data = "%s", models = {"fa", "fb", "fc"}, samples = 3}\n' \
  "$task" "$tmp/q.jsonl" >"$tmp/search.lua"
printf '%s\nreturn require("slmmux.analysis.scalingrun").recipe{task = task, data = "%s", models = {"fa", "fb", "fc"}, validation = "none", max_k = 4, trials = 30, prices = {fa = {input = 1, output = 2}, fb = {input = 1, output = 2}, fc = {input = 3, output = 6}}}\n' \
  "$task" "$tmp/q.jsonl" >"$tmp/scaling.lua"
store="$tmp/store.sqlite"

if ./slmmux run "$tmp/search.lua" --store "$store" --out "$tmp/s1" >"$tmp/s1.log" 2>&1 \
   && [ "$(wc -l <"$tmp/server.log")" = 60 ] && grep -q "search order: -s models=fc," "$tmp/s1.log" \
   && python3 - "$tmp/s1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1] + "/search.json"))
best = s["sizes"]["2"][0]
assert "fc" in best["models"] and best["union"] == 1.0 and s["single"]["model"] == "fc", best
PY
then ok "search over HTTP: 60 requests (3 models x 20 problems), the always-right model in the best pair"
else bad "search over HTTP" "$tmp/s1.log"; fi
if python3 tests/lib/analysis_files.py "$tmp/s1" search_objective attribution >/dev/null; then ok "search figures"
else bad "search figures"; fi

before=$(wc -l <"$tmp/server.log")
if ./slmmux run "$tmp/search.lua" --store "$store" --offline --out "$tmp/s2" >"$tmp/s2.log" 2>&1 \
   && [ "$(wc -l <"$tmp/server.log")" = "$before" ] && cmp -s "$tmp/s1/search.json" "$tmp/s2/search.json"; then
  ok "search --offline from the store: no request, the same search.json"
else bad "search --offline" "$tmp/s2.log"; fi

c0=$(choices)
if ./slmmux run "$tmp/scaling.lua" --store "$store" --out "$tmp/k4" >"$tmp/k4.log" 2>&1 \
   && [ $(( $(choices) - c0 )) = 60 ] && grep -q "^SLM-MUX  " "$tmp/k4.log"; then
  ok "scaling to max_k = 4 asks only the missing sample of each model and problem (60 choices)"
else bad "scaling over HTTP ($(( $(choices) - c0 )) choices)" "$tmp/k4.log"; fi
if python3 tests/lib/analysis_files.py "$tmp/k4" scaling_k scaling_models scaling_tokens scaling_cost >/dev/null \
   && python3 - "$tmp/k4" <<'PY'
import csv, json, sys
d = sys.argv[1]
rows = {(r["series"], r["k"]): r for r in csv.DictReader(open(d + "/scaling_cost.tsv"), delimiter="\t")}
# the single best model (the first, fa: no validation) at k = 1: its mean stored tokens per sample at $1/$2 per Mtok
lines = [json.loads(l) for l in open(d + "/results.jsonl")]
p = c = 0
for l in lines:
    fa = next(m for m in l["models"] if m["model"] == "fa")
    for call in fa["calls"][:4]:
        ch = l["transcript"][call["turn"] - 1]["choices"][call["choice"] - 1]
        p, c = p + ch["prompt_tokens"], c + ch["completion_tokens"]
want = (p * 1 + c * 2) / 4 / len(lines) / 1e6
got = float(rows[("single best model (k = 1)", "1")]["usd_per_problem"])
assert abs(got - want) < 1e-9 * max(1, want) + 1e-12, (got, want)
print("cost ok")
PY
then
  ok "scaling figures, cost per problem from the stored tokens and the prices"
else bad "scaling figures"; fi
if ./slmmux run tests/integration/analysis_replay.lua --no-store "$tmp/k4" 4 fa fb fc >"$tmp/replay.log" 2>&1 \
   && grep -q "replay ok 20" "$tmp/replay.log"; then
  ok "offline SLM-MUX decides the 20 problems as the HTTP run did"
else bad "replay" "$tmp/replay.log"; fi

before=$(wc -l <"$tmp/server.log")
./slmmux run "$tmp/scaling.lua" --store "$store" --offline -s max_k=6 --out "$tmp/k6" >"$tmp/k6.log" 2>&1
if grep -q "the store lacks 120 samples on 20 problems" "$tmp/k6.log" && [ "$(wc -l <"$tmp/server.log")" = "$before" ]; then
  ok "--offline with max_k = 6 says the store lacks 120 samples, and sends nothing"
else bad "--offline scaling" "$tmp/k6.log"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
