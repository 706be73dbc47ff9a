#!/usr/bin/env bash
# Comparable with the paper: recipes/math.lua scores all 500 MATH-500
# problems on the simulator, with the reference's prompts and tie-break
# accuracies from the 500 disjoint training problems; over HTTP (the
# loopback fake server) with a sample store, a baseline after its task's
# SLM-MUX run requests nothing — on MATH, GSM8K, GPQA (cross-fitted) and
# HumanEval — because every recipe of a task takes the task's settings,
# validation samples included; compat=reference scores the same samples the
# reference's way, beside slmmux's equivalence.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && tail -n 20 "$2"; }
json() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print($2)" "$1"; }

# --- 1. the whole of MATH-500 on the simulator -----------------------------
if ./slmmux run recipes/math.lua --no-store --concurrency 256 -s quiet=true --out "$tmp/sim" \
     >"$tmp/sim.log" 2>&1; then
  got=$(json "$tmp/sim/summary.json" '(s["counts"]["total"], s["counts"]["scored"],
    s["validation"]["kind"], s["validation"]["problems"], s["manifest"]["prompt"]["style"],
    s["manifest"]["data"][1]["path"].endswith("math_train_500.jsonl"),
    [c["check"] for c in s.get("checks", []) if c["check"] == "validation_overlap"])')
  [ "$got" = "(500, 500, 'data', 500, 'reference', True, [])" ] \
    && ok "recipes/math.lua scores 500 problems, reference prompts, 500 disjoint validation problems" \
    || bad "the full MATH run: $got" "$tmp/sim.log"
  lines=$(wc -l <"$tmp/sim/results.jsonl")
  [ "$lines" -eq 500 ] && ok "results.jsonl has 500 lines" || bad "results.jsonl has $lines lines"
else
  bad "recipes/math.lua on the simulator failed" "$tmp/sim.log"
fi

# --- 2. over HTTP with a store: baselines after SLM-MUX request nothing ----
build/fakeserver --port 0 --max-seconds 500 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -qs PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
store=$tmp/store.sqlite
requests() { wc -l <"$tmp/server.log"; }

run() {   # name recipe args...: a run against the fake server with the store
  local name=$1; shift
  ./slmmux run "$@" --store "$store" -s quiet=true --out "$tmp/$name" >"$tmp/$name.log" 2>&1
}

# free name: runs `run name ...` and checks it sent no request
free() {
  local name=$1 before after; shift
  before=$(requests)
  if run "$name" "$@"; then
    after=$(requests)
    [ "$after" -eq "$before" ] && ok "$name requests nothing" \
      || bad "$name sent $((after - before)) requests" "$tmp/$name.log"
  else
    bad "$name failed" "$tmp/$name.log"
  fi
}

if run math recipes/math.lua --limit 12; then
  n=$(requests)
  # 500 validation problems x 2 models x 1 sample, 12 problems x 2 models (n = 3)
  [ "$n" -eq 1024 ] && ok "SLM-MUX on MATH: 1000 validation + 24 evaluation requests" \
    || bad "SLM-MUX on MATH sent $n requests"
  free "majority on MATH" recipes/baselines.lua --limit 12
  free "single (k=1) on MATH" recipes/baselines.lua --limit 12 -s policy=single -s samples=1
  free "weighted on MATH" recipes/baselines.lua --limit 12 -s policy=weighted
  free "compat=reference on MATH" recipes/math.lua --limit 12 -s compat=reference
else
  bad "SLM-MUX on MATH failed" "$tmp/math.log"
fi
if run gsm8k recipes/gsm8k.lua --limit 5; then
  free "majority on GSM8K" recipes/baselines.lua -s task=gsm8k --limit 5
  free "single on GSM8K" recipes/baselines.lua -s task=gsm8k --limit 5 -s policy=single
else
  bad "SLM-MUX on GSM8K failed" "$tmp/gsm8k.log"
fi
before=$(requests)
if run gpqa recipes/gpqa.lua --limit 10; then
  n=$(( $(requests) - before ))
  [ "$n" -eq 20 ] && ok "GPQA cross-fitted: its validation samples are the evaluation's (20 requests)" \
    || bad "GPQA sent $n requests, want 20"
  folds=$(json "$tmp/gpqa/summary.json" '(s["validation"]["kind"], len(s["validation"]["folds"]))')
  [ "$folds" = "('crossfit', 5)" ] && ok "GPQA's tie-breaks: 5-fold cross-fitting" || bad "GPQA: $folds"
  free "majority on GPQA" recipes/baselines.lua -s task=gpqa --limit 10
else
  bad "SLM-MUX on GPQA failed" "$tmp/gpqa.log"
fi
if run humaneval recipes/humaneval.lua --limit 3; then
  free "majority on HumanEval" recipes/baselines.lua -s task=humaneval --limit 3
else
  bad "SLM-MUX on HumanEval failed" "$tmp/humaneval.log"
fi

# --- 3. compat: the reference's scoring beside slmmux's on the same samples
cat >"$tmp/half.json" <<'EOF'
[{"problem": "What is one half?", "answer": "\\frac{1}{2}", "unique_id": "half"}]
EOF
curl -s -X POST --data '{"rules":[{"contains":"one half","then":{"content":"So \\boxed{0.50}."}}]}' \
  "${OPENAI_BASE_URL%/v1}/_script" >/dev/null
if run compat recipes/math.lua -s data="$tmp/half.json" -s validation=none -s compat=reference; then
  got=$(json "$tmp/compat/summary.json" '(s["compat"]["accuracy"]["correct"],
    s["compat"]["equivalence"]["correct"], s["accuracy"]["correct"])')
  [ "$got" = "(0, 1, 0)" ] && ok "compat: 0.50 is wrong by the reference's string equality, right by equivalence" \
    || bad "compat: $got" "$tmp/compat.log"
else
  bad "the compat run failed" "$tmp/compat.log"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
