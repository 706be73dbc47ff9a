#!/usr/bin/env bash
# The analysis end to end on the simulator: the model-selection search
# (recomputed here in Python from results.jsonl by the reference release's
# definitions), offline SLM-MUX equal to the run's own decisions, the
# scaling study (deterministic, no subsampling spread at k = S, a replayed
# policy equal to the C replay), a paired comparison (checked against
# accuracies, wins and an exact McNemar computed here), adaptive sampling
# (the answers of full-k SLM-MUX), the figures (valid PNG and SVG, TSV
# beside them), report.html (parses, self-contained), and a run without
# gnuplot (said once, TSVs written, the run succeeds).
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
unset OPENAI_BASE_URL OPENAI_API_KEY TOGETHER_API_KEY
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && tail -n 20 "$2"; }
POOL=sim/qwen2.5-7b,sim/mistral-small-24b,sim/llama-3.1-8b,sim/gemma-2-27b,sim/llama-3.2-3b
run() { ./slmmux run "$@" --no-store -s concurrency=1000; }

# --- search
if run recipes/search.lua -s task=gsm8k -s models=$POOL --limit 60 --out "$tmp/search" >"$tmp/search.log" 2>&1 \
   && grep -q "best single model:" "$tmp/search.log" && grep -q "lambda by 5-fold cross-validation" "$tmp/search.log" \
   && python3 - "$tmp/search" "$POOL" <<'PY'
import itertools, json, math, sys
d, pool = sys.argv[1], sys.argv[2].split(",")
lines = sorted((json.loads(l) for l in open(d + "/results.jsonl")), key=lambda l: l["id"])
s = json.load(open(d + "/search.json"))
assert sorted(s["sizes"]) == ["2", "3", "4", "5"], s["sizes"].keys()
assert all(len(s["sizes"][k]) == min(3, math.comb(5, int(k))) for k in s["sizes"]) and len(s["order"]) == 5
# the reference's definitions, here in Python: solved = >= 2 of 3 right;
# confidently wrong = 3 samples, one answer, none right
solved, wrong = {}, {}
for m in pool:
    solved[m], wrong[m] = [], []
    for l in lines:
        calls = next(e for e in l["models"] if e["model"] == m)["calls"]
        right = sum(1 for c in calls if c.get("correct"))
        answers = [c.get("answer") for c in calls]
        solved[m].append(right >= 2)
        wrong[m].append(len(answers) > 1 and answers[0] is not None and len(set(answers)) == 1 and right == 0)
Q = len(lines)
for K in (2, 3, 4, 5):
    best = None
    for combo in itertools.combinations(pool, K):
        u = sum(1 for q in range(Q) if any(solved[m][q] for m in combo))
        c = sum(1 for q in range(Q) if any(solved[m][q] for m in combo) and any(wrong[m][q] for m in combo))
        ua = u / Q
        score = ua - 0.5 * (c / u if u else 0.0)
        if best is None or score > best[0] or (score == best[0] and ua > best[1]):
            best = (score, ua, list(combo), u, c)
    got = s["sizes"][str(K)][0]
    assert got["models"] == best[2] and abs(got["score"] - best[0]) < 1e-12, (K, got["models"], best)
    assert got["solved"] == best[3] and got["contradictions"] == best[4]
print("search agrees with the reference's definitions")
PY
then ok "search: the best subsets of sizes 2-5 are the reference definitions' (recomputed in Python)"
else bad "search" "$tmp/search.log"; fi
if python3 tests/lib/analysis_files.py "$tmp/search" search_objective search_cv attribution calibration cost; then
  ok "search figures and report.html"
else bad "search figures"; fi
if ./slmmux run tests/integration/analysis_replay.lua --no-store "$tmp/search" 3 ${POOL//,/ } >"$tmp/replay.log" 2>&1 \
   && grep -q "replay ok 60" "$tmp/replay.log"; then
  ok "offline SLM-MUX decides the 60 problems as the run did"
else bad "offline SLM-MUX replay" "$tmp/replay.log"; fi

# --- scaling
M3=sim/qwen2.5-7b,sim/mistral-small-24b,sim/llama-3.2-3b
for i in 1 2; do
  run recipes/scaling.lua -s models=$M3 --limit 30 -s max_k=5 -s trials=40 -s policies=slm_mux \
    --out "$tmp/scale$i" >"$tmp/scale$i.log" 2>&1 || bad "scaling run $i" "$tmp/scale$i.log"
done
if cmp -s "$tmp/scale1/scaling_k.tsv" "$tmp/scale2/scaling_k.tsv" && python3 - "$tmp/scale1" <<'PY'
import csv, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/scaling_k.tsv"), delimiter="\t"))
series = {}
for r in rows:
    series.setdefault(r["series"], {})[int(r["x"])] = r
names = {"SLM-MUX", "Agent Forest (majority)", "self-consistency (best model)", "single best model (k = 1)",
         "slm_mux (replayed)"}
assert set(series) == names, set(series)
assert all(sorted(v) == [1, 2, 3, 4, 5] for v in series.values())
for k in range(1, 6):   # the policy replayed in Lua sees the subsets the C replay sees
    assert series["SLM-MUX"][k]["mean"] == series["slm_mux (replayed)"][k]["mean"], k
top = series["SLM-MUX"][5]
assert top["lo"] == top["hi"] == top["mean"], "k = S leaves nothing to subsample"
assert int(top["trials"]) == 40 and float(series["SLM-MUX"][1]["tokens_per_problem"]) < float(top["tokens_per_problem"])
m = list(csv.DictReader(open(d + "/scaling_models.tsv"), delimiter="\t"))
assert sorted({int(r["x"]) for r in m}) == [2, 3] and len(m) == 8
print("scaling tables ok")
PY
then ok "scaling: deterministic, 5 rules x k = 1..5, replayed SLM-MUX = C replay, models axis"
else bad "scaling" "$tmp/scale1.log"; fi
if python3 tests/lib/analysis_files.py "$tmp/scale1" scaling_k scaling_models scaling_tokens; then
  ok "scaling figures and report.html"
else bad "scaling figures"; fi

# --- compare
run recipes/math.lua --limit 40 -s validation=none --out "$tmp/mux" >"$tmp/mux.log" 2>&1
run recipes/baselines.lua --limit 30 -s validation=none --out "$tmp/maj" >"$tmp/maj.log" 2>&1
if ./slmmux compare "$tmp/mux" "$tmp/maj" --out "$tmp/cmp" >"$tmp/cmp.log" 2>&1 \
   && grep -q "10 of its 40 decided problems are not in every run" "$tmp/cmp.log" \
   && python3 - "$tmp" <<'PY'
import json, math, sys
t = sys.argv[1]
def verdicts(d):
    return {l["id"]: l["correct"] for l in map(json.loads, open(d + "/results.jsonl"))}
a, b = verdicts(t + "/mux"), verdicts(t + "/maj")
ids = [i for i in a if i in b]
c = json.load(open(t + "/cmp/compare.json"))
assert c["shared"] == len(ids) == 30
assert c["runs"][0]["right"] == sum(a[i] for i in ids) and c["runs"][1]["right"] == sum(b[i] for i in ids)
w = sum(1 for i in ids if a[i] and not b[i]); l = sum(1 for i in ids if b[i] and not a[i])
p = c["pairs"][0]
assert (p["wins"], p["losses"], p["ties"]) == (w, l, 30 - w - l)
n = w + l
exact = 1.0 if n == 0 else min(1.0, 2 * sum(math.comb(n, i) for i in range(min(w, l) + 1)) / 2 ** n)
assert abs(p["p"] - exact) < 1e-12, (p["p"], exact)
assert abs(p["diff"] - (w - l) / 30) < 1e-12 and p["lo"] <= p["diff"] <= p["hi"]
print("compare ok")
PY
then ok "compare: shared problems, accuracies, wins/losses, exact McNemar, interval around the difference"
else bad "compare" "$tmp/cmp.log"; fi
if python3 tests/lib/analysis_files.py "$tmp/cmp" compare compare_diff; then ok "compare figures and report.html"
else bad "compare figures"; fi

# --- adaptive sampling
run recipes/baselines.lua -s policy=slm_mux_adaptive -s samples=5 --limit 80 -s validation=none --out "$tmp/ad" >"$tmp/ad.log" 2>&1
run recipes/baselines.lua -s policy=slm_mux -s samples=5 --limit 80 -s validation=none --out "$tmp/full" >"$tmp/full.log" 2>&1
if grep -Eq "adaptive sampling: [0-9]+ of 800 samples requested" "$tmp/ad.log" && python3 - "$tmp" <<'PY'
import json, sys
t = sys.argv[1]
def answers(d):
    return {l["id"]: (l.get("final_answer"), l["correct"]) for l in map(json.loads, open(d + "/results.jsonl"))}
a, f = answers(t + "/ad"), answers(t + "/full")
assert len(a) == len(f) == 80 and a == f, [i for i in a if a[i] != f.get(i)][:5]
used = sum(len(m["calls"]) for l in map(json.loads, open(t + "/ad/results.jsonl")) for m in l["models"])
assert used < 800, used
print("adaptive ok", used)
PY
then ok "adaptive sampling: the answers of full-k SLM-MUX on 80 problems, fewer samples"
else bad "adaptive" "$tmp/ad.log"; fi

# --- without gnuplot
if SLMMUX_GNUPLOT=/nonexistent/gnuplot ./slmmux run recipes/math.lua --limit 5 --no-store -s validation=none \
     --out "$tmp/nogp" >"$tmp/nogp.log" 2>&1 \
   && [ "$(grep -c "figures not drawn" "$tmp/nogp.log")" = 1 ] \
   && [ -s "$tmp/nogp/attribution.tsv" ] && [ -s "$tmp/nogp/calibration.tsv" ] && ! ls "$tmp/nogp"/*.png 2>/dev/null \
   && python3 tests/lib/analysis_files.py "$tmp/nogp" >/dev/null; then
  ok "without gnuplot: the run succeeds, says so once, writes the TSVs and report.html"
else bad "without gnuplot" "$tmp/nogp.log"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
