#!/usr/bin/env bash
# The one door over HTTP, against the loopback fake server:
#  - every recipe end to end, with the store: every call is a transcript
#    turn of results.jsonl, and summary.json's requests and tokens are the
#    server's own counts; --seed is sent, sample i with seed + i;
#  - a debate killed with -9 mid-run and resumed decides as an
#    uninterrupted one, asking the server only for what was missing;
#  - against a server that samples (another text at every asking), three
#    agents on one model are three samples: an --offline replay of the store
#    gives back every decision of the run that filled it;
#  - invalid UTF-8 from a model is valid JSON (U+FFFD) in results.jsonl and
#    byte for byte in the store; a content that is a number fails its
#    problem, which the next run retries.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d)
spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && tail -n 15 "$2" | sed 's/^/     | /'; }

start() {   # start [fakeserver args]: sets spid, URL, OPENAI_BASE_URL
  [ -n "$spid" ] && kill $spid 2>/dev/null && wait $spid 2>/dev/null
  build/fakeserver --port 0 --max-seconds 500 --log "$tmp/server.log" "$@" >"$tmp/port" &
  spid=$!
  for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
  URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")"
  export OPENAI_BASE_URL="$URL/v1"
}
stats() { curl -s "$URL/_stats"; }
reset() { curl -s -X POST "$URL/_reset" >/dev/null; }

# --- 1. every recipe, records and accounting against the server's counts ---
start --latency-ms 2
for spec in debate "moa -s aggregator=fake-b" mav confidence "confidence -s confidence=logprob" frontier math baselines \
            "baselines -s policy=debate -s agents=3"; do
  set -- $spec
  recipe=$1; shift
  name=$(echo "$spec" | tr -c 'a-z0-9' '_')
  reset
  : >"$tmp/server.log"
  if ./slmmux run "recipes/$recipe.lua" --limit 3 -s models=fake-a,fake-b -s samples=2 -s validation=0 \
       -s aspects=general_direct,units_steps --seed 11 --store "$tmp/$name.sqlite" --out "$tmp/$name" "$@" \
       >"$tmp/$name.log" 2>&1 \
     && stats >"$tmp/$name.stats" && python3 - "$tmp/$name" "$tmp/$name.stats" "$tmp/server.log" <<'PY'
import json, sys
out, stats, log = sys.argv[1], json.load(open(sys.argv[2])), [json.loads(l) for l in open(sys.argv[3])]
lines = [json.loads(l) for l in open(out + "/results.jsonl", encoding="utf-8")]
s = json.load(open(out + "/summary.json"))
assert len(lines) == 3 and all("error" not in l for l in lines), [l.get("error") for l in lines]
assert s["backend"] == "api"
turns = [t for l in lines for t in l["transcript"]]
assert len(turns) == s["requests"]["calls"], (len(turns), s["requests"]["calls"])
for t in turns:
    assert t["model"] in ("fake-a", "fake-b") and len(t["key"]) == 64 and t["cached"] == 0
    assert t["request"]["messages"] >= 1 and "temperature" in t["request"] and t["request"]["seed"] == 11
    for i, c in enumerate(t["choices"]):
        assert isinstance(c["text"], str) and c["finish_reason"] == "stop" and c["completion_tokens"] > 0
        assert isinstance(c["seed"], int)
# what summary.json counts is what the server served
assert sum(m["requests"] for m in s["models"]) == stats["chat_requests"] == sum(t["requests"] for t in turns)
assert s["tokens"]["prompt"] == stats["prompt_tokens"], (s["tokens"], stats)
assert s["tokens"]["completion"] == stats["completion_tokens"], (s["tokens"], stats)
assert sum(m["tokens"]["total"] for m in s["models"]) == s["tokens"]["total"]
# the seeds the server saw are the ones recorded
sent = sorted(r["seed"] + k for r in log for k in range(r["n"]))
recorded = sorted(c["seed"] for t in turns for c in t["choices"])
assert sent == recorded, (sent[:6], recorded[:6])
PY
  then ok "$spec: every call in the transcript, summary.json's requests and tokens are the server's"
  else bad "$spec" "$tmp/$name.log"; fi
done

# --- 2. a debate killed mid-run and resumed decides as an uninterrupted one ---
start --latency-ms 60
debate() {  # store out [extra args]; exec: a kill of the job is a kill of slmmux
  local store=$1 out=$2; shift 2
  exec ./slmmux run recipes/debate.lua --limit 24 -s models=fake-a -s agents=3 -s rounds=2 \
    -s validation=0 --concurrency 2 --seed 5 --store "$store" --out "$out" "$@"
}
reset
(debate "$tmp/u.sqlite" "$tmp/u" >"$tmp/u.log" 2>&1)
straight=$(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["chat_requests"])')
reset
(debate "$tmp/k.sqlite" "$tmp/k" >"$tmp/k.log" 2>&1) &
kpid=$!
for _ in $(seq 200); do
  [ -s "$tmp/k/results.jsonl" ] && [ "$(wc -l <"$tmp/k/results.jsonl")" -ge 6 ] && break
  sleep 0.05
done
kill -9 $kpid 2>/dev/null; wait $kpid 2>/dev/null
cp "$tmp/k/results.jsonl" "$tmp/killed.jsonl"
(debate "$tmp/k.sqlite" "$tmp/k" >"$tmp/r.log" 2>&1)
both=$(stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["chat_requests"])')
if python3 - "$tmp/u/results.jsonl" "$tmp/k/results.jsonl" "$tmp/killed.jsonl" "$straight" "$both" <<'PY'
import json, sys
load = lambda p: {l["id"]: l for l in map(json.loads, open(p))}
u, r, k = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[3])
straight, both = int(sys.argv[4]), int(sys.argv[5])
assert len(u) == len(r) == 24 and 6 <= len(k) < 24, (len(u), len(r), len(k))
assert all(u[i]["final_answer"] == r[i]["final_answer"] for i in u), "decisions differ"
# the problems done before the kill are kept as they were written (resume)
assert all(r[i] == k[i] for i in k)
# only what was missing was asked again (a request in flight at the kill may be asked twice)
assert straight == 24 * 6 and straight <= both <= straight + 2 * 2 * 3, (straight, both)
PY
then ok "a debate killed with -9 and resumed: the uninterrupted run's decisions, no sample paid twice"
else bad "kill and resume" "$tmp/r.log"; fi

# --- 3. a sampling server: three same-model agents are three samples, replay is exact ---
start --latency-ms 2 --script <(echo '{"rules":[{"model":"*","then":{"content":"Thinking. \\boxed{{{r3}}}"}}]}')
(debate "$tmp/s.sqlite" "$tmp/s" >"$tmp/s.log" 2>&1)
(debate "$tmp/s.sqlite" "$tmp/replay" --offline >"$tmp/replay.log" 2>&1)
if python3 - "$tmp/s/results.jsonl" "$tmp/replay/results.jsonl" <<'PY'
import json, sys
load = lambda p: {l["id"]: l for l in map(json.loads, open(p))}
a, b = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == len(b) == 24 and not any("error" in l for l in b.values())
changed = [i for i in a if a[i]["final_answer"] != b[i]["final_answer"]]
assert not changed, "%d of 24 decisions changed on replay" % len(changed)
# the three agents' first answers are three samples (the server drew each anew)
spread = sum(len({t["choices"][0]["text"] for t in l["transcript"][:3]}) > 1 for l in a.values())
assert spread >= 12, spread
assert all(t["cached"] == 1 for l in b.values() for t in l["transcript"])
PY
then ok "three agents on one sampling model are three samples; an --offline replay decides exactly as the run"
else bad "sampling server replay" "$tmp/replay.log"; fi

# --- 4. bad data: invalid UTF-8 and a content that is a number ---
start --latency-ms 2 --script <(echo '{"rules":[
  {"model":"utf8-m","then":{"invalid_utf8":true}},
  {"model":"num-m","steps":[{"body":"{\"choices\":[{\"index\":0,\"message\":{\"content\":42}}]}",
                             "headers":{"x-should-retry":"false"}}]}]}')
./slmmux run recipes/math.lua --limit 2 -s models=utf8-m -s samples=1 -s validation=0 --store "$tmp/b.sqlite" \
  --out "$tmp/utf8" >"$tmp/utf8.log" 2>&1
if python3 - "$tmp/utf8/results.jsonl" "$tmp/b.sqlite" <<'PY'
import json, sqlite3, sys
raw = open(sys.argv[1], "rb").read()
lines = [json.loads(l) for l in raw.decode("utf-8").splitlines()]   # strict: invalid UTF-8 raises
texts = [t["choices"][0]["text"] for l in lines for t in l["transcript"]]
assert len(texts) == 2 and all("\ufffd" in t for t in texts), texts
stored = [r[0] for r in sqlite3.connect(sys.argv[2]).execute("SELECT text FROM samples")]
assert len(stored) == 2 and all(b"\xff\xfe x\xe2\x82" in t for t in stored), stored
PY
then ok "invalid UTF-8: valid JSON with U+FFFD in results.jsonl, byte for byte in the store"
else bad "invalid UTF-8" "$tmp/utf8.log"; fi
num() { ./slmmux run recipes/math.lua --limit 1 -s models=num-m -s samples=1 -s validation=0 \
          --store "$tmp/n.sqlite" --out "$tmp/num$1" >"$tmp/num$1.log" 2>&1; }
num 1; num 2
if python3 - "$tmp/num1/results.jsonl" "$tmp/num2/results.jsonl" <<'PY'
import json, sys
first, second = (json.loads(open(p).read()) for p in sys.argv[1:3])
assert "content of type a number" in first["error"], first.get("error")
assert first["transcript"][0]["error_kind"] == "protocol"
assert "error" not in second and second["transcript"][0]["cached"] == 0, second
PY
then ok "a content that is a number fails its problem, stores nothing, and the next run retries it"
else bad "number content" "$tmp/num2.log"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
