#!/usr/bin/env bash
# A batch API round trip: run --batch-out writes every missing sample as a
# request line (custom_id <= 64 characters, one file per model with
# {model}) and sends nothing; the provider's output files, in OpenAI's and
# in Together's format, go in with store import-batch (a failed line or one
# with too few choices is reported by file and line and imports nothing);
# a second --batch-out writes only what is still missing; then the same
# command --offline equals a live run, having bought every sample once.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'kill $spid $ppid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; tail -n 8 "$tmp/err"; fi; }
serve() {   # name: a fake server, its port in $tmp/name.port
  build/fakeserver --port 0 --max-seconds 120 --log "$tmp/$1.log" >"$tmp/$1.port" &
  for _ in $(seq 50); do grep -q PORT "$tmp/$1.port" && break; sleep 0.1; done
}
serve endpoint; spid=$!
serve provider; ppid=$!
export OPENAI_BASE_URL="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/endpoint.port")/v1"
provider="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/provider.port")/v1"
run() {   # store out [options]
  local store=$1 out=$2; shift 2
  ./slmmux run recipes/math.lua --limit 10 -s models=fake-a,fake-b -s samples=3 -s validation=0 \
    --store "$store" --out "$out" -s quiet=true "$@" >/dev/null 2>"$tmp/err"
}
endpoint_requests() { wc -l <"$tmp/endpoint.log"; }

run "$tmp/ref.sqlite" "$tmp/ref"
check "the live reference run succeeds" "[ $? -eq 0 ]"
live=$(endpoint_requests)
: >"$tmp/endpoint.log"

run "$tmp/s.sqlite" "$tmp/out" --batch-out "$tmp/batch-{model}.jsonl"
check "--batch-out succeeds and says what to do next" "[ $? -eq 0 ] && grep -q 'store import-batch' '$tmp/err'"
check "--batch-out sent nothing" "[ $(endpoint_requests) -eq 0 ]"
check "one file per model, one line per request a live run made ($live)" \
  "[ \$(cat '$tmp/batch-fake-a.jsonl' '$tmp/batch-fake-b.jsonl' | wc -l) -eq $live ]"
python3 - "$tmp" <<'PY' >"$tmp/err" 2>&1
import json, sys
tmp = sys.argv[1]
for m in ("fake-a", "fake-b"):
    for line in open(f"{tmp}/batch-{m}.jsonl"):
        t = json.loads(line)
        assert len(t["custom_id"]) <= 64, t["custom_id"]
        assert t["method"] == "POST" and t["url"] == "/v1/chat/completions", t
        assert t["body"]["model"] == m and t["body"]["n"] == 3, t["body"]
PY
check "request lines as OpenAI and Together take them" "[ $? -eq 0 ]"

# The provider: each body sent to another server; output lines in OpenAI's
# format for fake-a, Together's for fake-b, in another order; one line of
# fake-b failed, one came back with 2 choices of 3.
provide() {   # input-files... > output lines (python does the HTTP)
  python3 - "$provider" "$@" <<'PY'
import json, sys, urllib.request, random
url, files = sys.argv[1], sys.argv[2:]
random.seed(4)
for path in files:
    lines = [json.loads(l) for l in open(path)]
    random.shuffle(lines)
    out = open(path + ".out", "w")
    for i, t in enumerate(lines):
        req = urllib.request.Request(url + "/chat/completions", data=json.dumps(t["body"]).encode(),
                                     headers={"Content-Type": "application/json"})
        body = json.load(urllib.request.urlopen(req))
        together = "fake-b" in path
        if together:
            line = {"id": "job-%d" % i, "custom_id": t["custom_id"], "response": {"body": body}}
        else:
            line = {"id": "batch_req_%d" % i, "custom_id": t["custom_id"],
                    "response": {"status_code": 200, "request_id": "req_%d" % i, "body": body},
                    "error": None}
        out.write(json.dumps(line) + "\n")
    out.close()
PY
}
provide "$tmp/batch-fake-a.jsonl" "$tmp/batch-fake-b.jsonl"
python3 - "$tmp/batch-fake-b.jsonl.out" <<'PY'
import json, sys
path = sys.argv[1]
lines = [json.loads(l) for l in open(path)]
lines[2] = {"id": "job-x", "custom_id": lines[2]["custom_id"], "response": None,
            "error": {"code": "server_error", "message": "the model is overloaded"}}
lines[5]["response"]["body"]["choices"] = lines[5]["response"]["body"]["choices"][:2]
open(path, "w").write("".join(json.dumps(l) + "\n" for l in lines))
PY
./slmmux store import-batch "$tmp/batch-fake-a.jsonl.out" "$tmp/batch-fake-b.jsonl.out" --store "$tmp/s.sqlite" \
  >/dev/null 2>"$tmp/err"
rc=$?
check "import-batch: two bad lines, exit 1" "[ $rc -eq 1 ] && grep -q '2 lines were not imported' '$tmp/err'"
check "the failed line is reported by file and line, with the provider's message" \
  "grep -q 'batch-fake-b.jsonl.out:3: custom_id .*the model is overloaded' '$tmp/err'"
check "the short line is reported, none of it imported" \
  "grep -q 'batch-fake-b.jsonl.out:6: .*2 choices, expected 3 (nothing of it imported)' '$tmp/err'"
check "the other samples are in ($((3 * (live - 2))))" \
  "grep -q 'imported $((3 * (live - 2))) samples' '$tmp/err'"
./slmmux store import-batch "$tmp/batch-fake-a.jsonl.out" --store "$tmp/other.sqlite" >/dev/null 2>"$tmp/err"
check "output files meet a store that did not write them: every line reported" \
  "[ $? -eq 1 ] && grep -q 'its prompt is not in' '$tmp/err'"

run "$tmp/s.sqlite" "$tmp/out" --batch-out "$tmp/again-{model}.jsonl"
check "a second --batch-out writes only what is still missing (2 lines)" \
  "[ $? -eq 0 ] && [ ! -e '$tmp/again-fake-a.jsonl' ] && [ \$(wc -l < '$tmp/again-fake-b.jsonl') -eq 2 ]"
provide "$tmp/again-fake-b.jsonl"
./slmmux store import-batch "$tmp/again-fake-b.jsonl.out" --store "$tmp/s.sqlite" >/dev/null 2>"$tmp/err"
check "their output imports cleanly" "[ $? -eq 0 ] && grep -q 'imported 6 samples' '$tmp/err'"

run "$tmp/s.sqlite" "$tmp/out" --offline
check "the same command --offline completes" "[ $? -eq 0 ]"
check "the endpoint never saw a request after the reference run" "[ $(endpoint_requests) -eq 0 ]"
check "each request went to the provider once, the two that failed twice ($(wc -l < "$tmp/provider.log") for $live)" \
  "[ \$(wc -l < '$tmp/provider.log') -eq $((live + 2)) ]"
python3 - "$tmp/ref" "$tmp/out" <<'PY'
import json, sys
def load(d):
    out = {}
    for l in open(d + "/results.jsonl"):
        t = json.loads(l)
        out[t["id"]] = (t.get("final_answer"), [[ch["text"] for ch in turn["choices"]] for turn in t.get("transcript", [])])
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
sys.exit(0 if a == b and len(a) == 10 else 1)
PY
check "its results equal the live run's" "[ $? -eq 0 ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
