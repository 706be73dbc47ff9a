#!/usr/bin/env bash
# bench_adaptive: the samples adaptive SLM-MUX (policy slm_mux_adaptive)
# saves on a 500-problem simulated MATH-500 run against asking k of every
# model, for k = 3 and 9 and the task's 2 models or 5, with the tokens
# (completion and prompt: each round sends the prompt again) and a check
# that every answer equals full-k SLM-MUX's. Figures only.
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
unset OPENAI_BASE_URL OPENAI_API_KEY TOGETHER_API_KEY
[ -n "${NO_MAKE:-}" ] || make -s slmmux
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
FIVE=sim/qwen2.5-7b,sim/mistral-small-24b,sim/llama-3.1-8b,sim/gemma-2-27b,sim/llama-3.2-3b
echo "adaptive SLM-MUX on 500 simulated MATH-500 problems (samples used, saved; tokens; answers equal to full k)"
for models in default "$FIVE"; do
  for k in 3 9; do
    set -- -s samples=$k -s concurrency=1000 --no-store -s validation=none
    [ "$models" = default ] || set -- "$@" -s models="$models"
    # fresh run directories: a --out holding a run of other settings is refused
    rm -rf "$tmp/full" "$tmp/ad"
    ./slmmux run recipes/baselines.lua -s policy=slm_mux "$@" --out "$tmp/full" >/dev/null 2>"$tmp/err" \
      || { tail -3 "$tmp/err"; exit 1; }
    ./slmmux run recipes/baselines.lua -s policy=slm_mux_adaptive "$@" --out "$tmp/ad" >/dev/null 2>"$tmp/err" \
      || { tail -3 "$tmp/err"; exit 1; }
    python3 - "$tmp" "$k" "$models" <<'PY'
import json, sys
t, k, models = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def load(d):
    return {l["id"]: l for l in map(json.loads, open(d + "/results.jsonl"))}
full, ad = load(t + "/full"), load(t + "/ad")
same = sum(1 for i in full if full[i].get("final_answer") == ad[i].get("final_answer"))
used = sum(len(m["calls"]) for l in ad.values() for m in l["models"])
n_models = len(next(iter(full.values()))["models"])
every = k * n_models * len(full)
def tokens(d, key):
    s = json.load(open(d + "/summary.json"))
    return sum(m["tokens"][key] for m in s["models"])
acc_full = json.load(open(t + "/full/summary.json"))["accuracy"]["value"]
acc_ad = json.load(open(t + "/ad/summary.json"))["accuracy"]["value"]
print(f"  {n_models} models k={k}: {used} of {every} samples ({100 * (every - used) / every:.1f}% saved); "
      f"completion tokens {tokens(t + '/ad', 'completion') / tokens(t + '/full', 'completion') * 100:.1f}%, "
      f"prompt tokens {tokens(t + '/ad', 'prompt') / tokens(t + '/full', 'prompt') * 100:.1f}% of full k; "
      f"answers equal {same}/{len(full)}; accuracy {100 * acc_ad:.1f}% = {100 * acc_full:.1f}%")
PY
  done
done
