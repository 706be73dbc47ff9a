#!/usr/bin/env bash
# The discussion recipes end to end on the simulator, as written (their
# models, their papers' settings), with --limit: one line per problem, a
# transcript of every call, summary.json's tokens and requests per model
# equal to the transcripts', and the run announced as simulated.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
unset OPENAI_BASE_URL OPENAI_API_KEY TOGETHER_API_KEY
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for spec in debate moa "moa -s layers=2" mav confidence "confidence -s confidence=logprob" frontier; do
  set -- $spec
  recipe=$1; shift
  name=$(echo "$spec" | tr -c 'a-z0-9' '_')
  if ./slmmux run "recipes/$recipe.lua" --limit 3 -s validation=0 --no-store --out "$tmp/$name" "$@" \
       >"$tmp/$name.log" 2>&1 \
     && grep -q "simulator" "$tmp/$name.log" \
     && python3 - "$tmp/$name" <<'PY'
import json, sys
out = sys.argv[1]
lines = [json.loads(l) for l in open(out + "/results.jsonl")]
s = json.load(open(out + "/summary.json"))
assert len(lines) == 3 and not any("error" in l for l in lines)
assert s["simulated"] is True and s["counts"]["scored"] == 3
tokens, requests = {}, {}
for l in lines:
    assert l["transcript"] and all(t["choices"] for t in l["transcript"])
    for t in l["transcript"]:
        tokens[t["model"]] = tokens.get(t["model"], 0) + t["usage"]["prompt_tokens"] + t["usage"]["completion_tokens"]
        requests[t["model"]] = requests.get(t["model"], 0) + t["requests"]
rows = {m["model"]: m for m in s["models"]}
assert set(rows) == set(tokens), (set(rows), set(tokens))
assert all(rows[m]["tokens"]["total"] == tokens[m] > 0 and rows[m]["requests"] == requests[m] for m in tokens)
assert s["requests"]["calls"] == sum(len(l["transcript"]) for l in lines)
PY
  then pass=$((pass + 1)); echo "ok   $spec on the simulator: every call recorded and counted"
  else fail=$((fail + 1)); echo "FAIL $spec"; tail -n 15 "$tmp/$name.log"
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
