#!/usr/bin/env bash
# The sanity checks: each is triggered by what it looks for — a server that
# ignores temperature (byte-identical samples), replies with no extractable
# answer, replies cut off (finish_reason "length"), a seed the server ignores
# (its samples with different seeds are identical), duplicate problem ids, validation problems that are evaluated
# too, temperature 0 — prints one line once, and lands in summary.json
# "checks"; a clean run reports nothing. Against the loopback fake server
# (models scripted by name) and the simulator.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && tail -n 20 "$2"; }
checks() {   # summary.json -> "check:model" per finding, sorted, one line
  python3 -c "import json,sys; s=json.load(open(sys.argv[1]))
print(' '.join(sorted(c['check'] + ':' + str(c.get('model', '')) for c in s.get('checks', []))))" "$1"
}

cat >"$tmp/script.json" <<'EOF'
{"rules":[
  {"model":"same", "then":{"content":"Always the same reply. \\boxed{1}"}},
  {"model":"mute", "then":{"content":"I cannot say ({i})."}},
  {"model":"cut",  "then":{"content":"Partial work {i} so far \\boxed{1", "finish_reason":"length"}}
]}
EOF
build/fakeserver --port 0 --max-seconds 300 --script "$tmp/script.json" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -qs PORT "$tmp/port" && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"

run() {   # name args...
  local name=$1; shift
  ./slmmux run recipes/math.lua --no-store -s quiet=true -s validation=none --out "$tmp/$name" "$@" \
    >"$tmp/$name.log" 2>&1
}

# A: four models, one per server behaviour; "same" also ignores the seed it is sent.
if run a --limit 6 --seed 5 -s models=ok,same,mute,cut; then
  got=$(checks "$tmp/a/summary.json")
  want="identical_samples:same seed_no_effect:same truncated:cut unextracted:cut unextracted:mute"
  [ "$got" = "$want" ] && ok "each behaviour is found, for its model only" || bad "checks: '$got'" "$tmp/a.log"
  for pat in "byte-identical samples on 6 of 6 problems" "from 18 of 18 samples (100%) of mute" \
             "18 of 18 samples of cut were cut off at max_tokens=2048" "seed 5 changes nothing for same"; do
    n=$(grep -c "^slmmux: check: .*$pat" "$tmp/a.log")
    [ "$n" -eq 1 ] && ok "printed once: $pat" || bad "'$pat' printed $n times" "$tmp/a.log"
  done
  n=$(grep -c "^slmmux: check: " "$tmp/a.log")
  [ "$n" -eq 5 ] && ok "one line per finding" || bad "$n check lines, want 5" "$tmp/a.log"
else
  bad "run a failed" "$tmp/a.log"
fi

# B: the seed chooses which problems a shuffled, limited run evaluates.
if run b --limit 3 --seed 5 --shuffle -s models=ok; then
  got=$(checks "$tmp/b/summary.json")
  [ -z "$got" ] && ok "a seed that picks the problems is not reported" || bad "checks: '$got'" "$tmp/b.log"
else
  bad "run b failed" "$tmp/b.log"
fi

# C: the data and the settings (on the simulator): duplicate ids, the
# evaluated file as validation, temperature 0.
cat >"$tmp/dups.json" <<'EOF'
[{"problem": "1+1?", "answer": "2", "unique_id": "q1"},
 {"problem": "2+2?", "answer": "4", "unique_id": "q1"},
 {"problem": "3+3?", "answer": "6", "unique_id": "q3"}]
EOF
if run c -s backend=sim -s data="$tmp/dups.json" -s validation="$tmp/dups.json" -s temperature=0 \
     -s models=m1,m2; then
  got=$(checks "$tmp/c/summary.json")
  want="duplicate_ids: duplicate_ids: temperature_zero: validation_overlap:"
  [ "$got" = "$want" ] && ok "duplicate ids (evaluated and validation), overlap, temperature 0 are found" \
    || bad "checks: '$got'" "$tmp/c.log"
  grep -q "^slmmux: check: .*dups.json (evaluated) holds 1 problem id more than once ('q1' x2)" "$tmp/c.log" \
    && ok "the duplicate id is named" || bad "no line names q1" "$tmp/c.log"
  grep -q "^slmmux: check: 3 of the 3 validation problems .* are evaluated problems too" "$tmp/c.log" \
    && ok "the overlap is counted" || bad "no overlap line" "$tmp/c.log"
else
  bad "run c failed" "$tmp/c.log"
fi

# D: a clean run reports nothing, and says nothing.
if run d --limit 4 -s models=ok1,ok2; then
  got=$(checks "$tmp/d/summary.json")
  [ -z "$got" ] && ! grep -q "check:" "$tmp/d.log" && ok "a clean run has no findings" \
    || bad "checks: '$got'" "$tmp/d.log"
else
  bad "run d failed" "$tmp/d.log"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
