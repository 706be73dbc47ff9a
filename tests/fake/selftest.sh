#!/usr/bin/env bash
# selftest: drives build/fakeserver with curl the way the client tests will
# (normal replies, n, scripted statuses and faults, stats, auth, log, exit
# bounds). Prints "N passed, N failed"; exits non-zero on any failure.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${FAKESERVER:-$HERE/../../build/fakeserver}
[ -x "$BIN" ] || { echo "selftest: $BIN missing (make build/fakeserver)" >&2; exit 2; }
TMP=$(mktemp -d)
PID=
passed=0 failed=0

cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

ok() { # ok NAME CONDITION-EXIT-STATUS
    if [ "$2" = 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1" >&2; fi
}
check() { local name=$1; shift; "$@" >/dev/null 2>&1; ok "$name" $?; }

start() { # start [fakeserver args...]; sets PID, URL
    : > "$TMP/port"
    "$BIN" --max-seconds 60 "$@" > "$TMP/port" 2> "$TMP/stderr" &
    PID=$!
    for _ in $(seq 50); do grep -q '^PORT ' "$TMP/port" && break; sleep 0.1; done
    URL="http://127.0.0.1:$(awk '/^PORT /{print $2}' "$TMP/port")"
}
stop() { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=; }

# chat MODEL CONTENT [extra JSON fields] -> body in $TMP/body, headers in $TMP/hdr,
# status in $CODE, curl's exit status in $RC, seconds in $SECS
chat() {
    local extra=${3:-}
    CODE=$(curl -s --max-time "${MAXT:-5}" -D "$TMP/hdr" -o "$TMP/body" -w '%{http_code} %{time_total}' \
        ${AUTH:+-H "Authorization: Bearer $AUTH"} "$URL/v1/chat/completions" \
        -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"$2\"}]$extra}")
    RC=$?
    SECS=${CODE#* }
    CODE=${CODE% *}
}
py() { python3 -c "$@"; }   # JSON checks

# --- a normal reply, deterministic ---
start --log "$TMP/log.jsonl"
chat m1 "What is 2+2?"
ok "normal: status 200" "$([ "$CODE" = 200 ]; echo $?)"
check "normal: OpenAI shape" py '
import json,sys; r=json.load(open(sys.argv[1]))
assert r["object"]=="chat.completion" and r["id"].startswith("chatcmpl-") and r["model"]=="m1"
assert isinstance(r["created"],int)
c=r["choices"]; assert len(c)==1 and c[0]["index"]==0 and c[0]["finish_reason"]=="stop"
m=c[0]["message"]; assert m["role"]=="assistant"
assert m["content"].startswith("Let me think step by step. Sample 0 of m1. The answer is \\boxed{") and m["content"][-3] in "012"
u=r["usage"]; assert u["total_tokens"]==u["prompt_tokens"]+u["completion_tokens"]>0
' "$TMP/body"
check "normal: content-type json" grep -qi '^content-type: application/json' "$TMP/hdr"
cp "$TMP/body" "$TMP/first"
chat m1 "What is 2+2?"
check "normal: same request, same content" py '
import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:3])
assert a["choices"]==b["choices"] and a["id"]!=b["id"]' "$TMP/first" "$TMP/body"
chat m1 "What is 3+3?"
chat m2 "What is 2+2?"

# --- n=3 with a seed: sample i is seed+i ---
chat m1 "What is 2+2?" ',"n":3,"seed":5'
check "n=3: three choices, seed+i" py '
import json,sys; r=json.load(open(sys.argv[1])); c=r["choices"]
assert [x["index"] for x in c]==[0,1,2]
assert ["Sample %d of m1"%i in x["message"]["content"] for i,x in zip((5,6,7),c)]==[True]*3' "$TMP/body"
cp "$TMP/body" "$TMP/n3"
chat m1 "What is 2+2?" ',"n":1,"seed":6'
check "n=3: choice 1 equals a single request with seed+1" py '
import json,sys; a,b=(json.load(open(f)) for f in sys.argv[1:3])
assert a["choices"][1]["message"]==b["choices"][0]["message"]' "$TMP/n3" "$TMP/body"

# --- logprobs, and {r3}: another value at every asking ---
chat m1 "What is 2+2?" ',"logprobs":true,"top_logprobs":2,"seed":5'
check "logprobs: tokens of up to 4 bytes that add up to the content" py '
import json,sys; c=json.load(open(sys.argv[1]))["choices"][0]
toks=c["logprobs"]["content"]; text=c["message"]["content"]
assert "".join(t["token"] for t in toks)==text and all(len(t["bytes"])<=4 for t in toks)
assert all(-2<t["logprob"]<=0 and t["top_logprobs"][0]["token"]==t["token"] and len(t["top_logprobs"])==2 for t in toks)
assert bytes(b for t in toks for b in t["bytes"])==text.encode()' "$TMP/body"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/chat/completions" \
  -d '{"model":"m1","messages":[{"role":"user","content":"x"}],"top_logprobs":3}')
ok "top_logprobs without logprobs: 400" "$([ "$CODE" = 400 ]; echo $?)"
curl -s -o /dev/null -X POST "$URL/_script" -d '{"rules":[{"model":"m9","then":{"content":"r={r3} {r}"}}]}'
for k in 1 2 3 4 5 6; do chat m9 "same"; py 'import json,sys; print(json.load(open(sys.argv[1]))["choices"][0]["message"]["content"])' "$TMP/body"; done > "$TMP/r"
check "{r}: the same request gets other values" py '
import sys; L=open(sys.argv[1]).read().split("\n")[:6]
assert len(set(L))==6 and all(l[2] in "012" for l in L)' "$TMP/r"
curl -s -o /dev/null -X POST "$URL/_script" -d '{"rules":[]}'

# --- client errors ---
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/v1/chat/completions" -d '{"messages":[]}')
ok "missing model: 400" "$([ "$CODE" = 400 ]; echo $?)"
check "missing model: OpenAI error body" py 'import json,sys; assert json.load(open(sys.argv[1]))["error"]["message"]' "$TMP/body"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/chat/completions" -d '{"model":"m1","messages":[1,]}')
ok "invalid JSON: 400" "$([ "$CODE" = 400 ]; echo $?)"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/nothing")
ok "unknown path: 404" "$([ "$CODE" = 404 ]; echo $?)"

# --- stats and log ---
curl -s "$URL/_stats" > "$TMP/stats"
check "stats: counts" py '
import json,sys; s=json.load(open(sys.argv[1]))
assert s["chat_requests"]==16 and s["choices"]==15 and s["by_model"]=={"m1":6,"m2":1,"m9":6}
assert s["by_status"]=={"200":13,"400":3} and s["requests"]==20 and s["open_connections"]==1
assert s["prompt_tokens"]>0 and s["completion_tokens"]>=s["choices"]' "$TMP/stats"
check "log: one line per valid chat request" py '
import json,sys; L=[json.loads(l) for l in open(sys.argv[1])]
assert [l["seq"] for l in L]==list(range(1,14)) and L[0]["msg_hash"]==L[1]["msg_hash"]!=L[2]["msg_hash"]
assert L[4]["n"]==3 and L[4]["seed"]==5 and L[0]["seed"] is None and all(l["status"]==200 for l in L)
assert L[0]["fields"]==["model","messages"] and L[6]["fields"]==["model","messages","logprobs","top_logprobs","seed"]' "$TMP/log.jsonl"
curl -s -X POST "$URL/_reset" > /dev/null
check "reset: counters zero" py '
import json,sys; s=json.load(sys.stdin); assert s["chat_requests"]==0 and s["by_model"]=={}' < <(curl -s "$URL/_stats")

# --- a scripted status sequence, then normal replies ---
cat > "$TMP/script.json" <<'EOF'
{"rules":[
 {"model":"m1","contains":"flaky","steps":[
   {"status":429,"headers":{"retry-after":"1"}},
   {"status":503,"headers":{"retry-after-ms":"50","x-should-retry":"true"},
    "body":"{\"object\":\"error\",\"message\":\"busy\",\"type\":\"ServiceUnavailable\",\"code\":503}"}]},
 {"model":"m1","contains":"faults","steps":[
   {"reset":true},{"empty_reply":true},{"drip_ms":30,"drip_bytes":40},{"hang":true},
   {"invalid_utf8":true},{"content_null":true,"finish_reason":"length","omit":["usage"]},
   {"big_body_bytes":10000000},{"latency_ms":300,"content":"{{x}} {echo}|{i}|{h10}"}]},
 {"model":"*","contains":"always","steps":[],"then":{"status":500}}
]}
EOF
stop
start --script "$TMP/script.json"
chat m1 "flaky one"
ok "script: first 429" "$([ "$CODE" = 429 ]; echo $?)"
check "script: retry-after header" grep -qi '^retry-after: 1' "$TMP/hdr"
chat m1 "flaky one"
ok "script: then 503" "$([ "$CODE" = 503 ]; echo $?)"
check "script: extra headers" grep -qi '^retry-after-ms: 50' "$TMP/hdr"
check "script: verbatim body" grep -q '"object":"error","message":"busy"' "$TMP/body"
chat m1 "flaky one"
ok "script: steps exhausted -> normal 200" "$([ "$CODE" = 200 ]; echo $?)"
chat m2 "flaky one"
ok "script: other model unaffected" "$([ "$CODE" = 200 ]; echo $?)"
chat m9 "always fails"
ok "script: then step forever (1)" "$([ "$CODE" = 500 ]; echo $?)"
chat m9 "always fails"
ok "script: then step forever (2)" "$([ "$CODE" = 500 ]; echo $?)"

# --- faults ---
chat m1 "faults"
ok "reset: curl sees a reset (56)" "$([ "$RC" = 56 ]; echo $?)"
chat m1 "faults"
ok "empty_reply: curl sees an empty reply (52)" "$([ "$RC" = 52 ]; echo $?)"
chat m1 "faults"
ok "drip: whole valid reply, slowly" "$([ "$CODE" = 200 ] && py "assert $SECS >= 0.2"; echo $?)"
check "drip: body parses" py 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/body"
MAXT=0.5 chat m1 "faults"
ok "hang: no answer until the client gives up (28)" "$([ "$RC" = 28 ]; echo $?)"
chat m1 "faults"
check "invalid_utf8: raw bytes inside the string" py '
import sys; b=open(sys.argv[1],"rb").read(); assert b"\xff\xfe" in b and b"\xe2\x82\"" in b' "$TMP/body"
chat m1 "faults"
check "content_null, finish_reason, omit" py '
import json,sys; r=json.load(open(sys.argv[1])); c=r["choices"][0]
assert c["message"]["content"] is None and c["finish_reason"]=="length" and "usage" not in r' "$TMP/body"
chat m1 "faults"
check "big_body_bytes: 10 MB of content" py '
import json,sys; r=json.load(open(sys.argv[1])); assert len(r["choices"][0]["message"]["content"])==10000000' "$TMP/body"
chat m1 "faults"
ok "latency_ms: step latency" "$([ "$CODE" = 200 ] && py "assert $SECS >= 0.29"; echo $?)"
check "template: braces, echo, i, h10" py '
import json,sys; c=json.load(open(sys.argv[1]))["choices"][0]["message"]["content"]
assert c.startswith("{x} faults|0|") and c[-1] in "0123456789"' "$TMP/body"
curl -s "$URL/_stats" > "$TMP/stats"
check "stats: faults counted" py '
import json,sys; s=json.load(open(sys.argv[1]))["by_status"]
assert s["reset"]==1 and s["empty_reply"]==1 and s["hang"]==1 and s["429"]==1 and s["503"]==1' "$TMP/stats"
curl -s -X POST "$URL/_script" -d '{"rules":[{"model":"m1","steps":[{"status":402}]}]}' > /dev/null
chat m1 "x"
ok "POST /_script replaces the script" "$([ "$CODE" = 402 ]; echo $?)"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/_script" -d '{"rules":[{"steps":[{"stauts":500}]}]}')
ok "bad script: 400 naming the field" "$([ "$CODE" = 400 ] && grep -q stauts "$TMP/body"; echo $?)"

# --- HTTP details ---
python3 -c "import json; print(json.dumps({'model':'m1','messages':[{'role':'user','content':'a'*300000}]}))" > "$TMP/big.json"
curl -s -v -H 'Expect: 100-continue' --data-binary @"$TMP/big.json" "$URL/v1/chat/completions" -o /dev/null 2> "$TMP/v"
check "Expect: 100-continue answered" grep -q '< HTTP/1.1 100 Continue' "$TMP/v"
check "keep-alive + pipelining: 4 answers on one connection, in order" py '
import socket,sys
b=b"{\"model\":\"m1\",\"messages\":[{\"role\":\"user\",\"content\":\"p\"}],\"seed\":%d}"
reqs=b"".join(b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s"%(len(b%i),b%i) for i in range(4))
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.settimeout(5); s.sendall(reqs)
data=b""
while data.count(b"\"usage\"")<4: data+=s.recv(65536)
idx=[data.index(b"Sample %d of"%i) for i in range(4)]; assert idx==sorted(idx)' "${URL##*:}"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' "$URL/v1/chat/completions" -d '{}')
ok "chunked request body: 411" "$([ "$CODE" = 411 ]; echo $?)"
stop

# --- auth ---
start --require-key sk-right
AUTH=sk-wrong-secret chat m1 "x"
ok "auth: wrong key 401" "$([ "$CODE" = 401 ]; echo $?)"
check "auth: invalid_api_key body" grep -q '"code":"invalid_api_key"' "$TMP/body"
check "auth: key never echoed" bash -c "! grep -q sk-wrong $TMP/body $TMP/hdr"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sk-right' "$URL/v1/chat/completions" \
    -d '{"model":"m","messages":[{"role":"user","content":"x"}]}')
ok "auth: right key 200" "$([ "$CODE" = 200 ]; echo $?)"

# --- imitations (--mimic), limits, truncated replies ---
start --mimic llamacpp
chat m "x" ',"n":2'
ok "mimic llamacpp: n=2 is a 500" "$([ "$CODE" = 500 ]; echo $?)"
check "mimic llamacpp: its wording" grep -q '"message":"Only one completion choice is allowed","type":"server_error"' "$TMP/body"
stop
start --mimic vllm
chat m "x" ',"n":3,"temperature":0'
ok "mimic vllm: greedy n=3 is a 400" "$([ "$CODE" = 400 ]; echo $?)"
check "mimic vllm: object:error shape" grep -q '"object":"error","message":"n must be 1 when using greedy sampling, got 3."' "$TMP/body"
chat m "x" ',"n":3,"temperature":0.5'
ok "mimic vllm: sampled n=3 is fine" "$([ "$CODE" = 200 ]; echo $?)"
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' "$URL/chat/completions" -d '{"model":"m","messages":[]}')
ok "mimic vllm: no /v1, 404 detail" "$([ "$CODE" = 404 ] && grep -q '"detail":"Not Found"' "$TMP/body"; echo $?)"
stop
start --mimic ollama
chat m "x" ',"n":3'
check "mimic ollama: n ignored, one choice" py "import json; assert len(json.load(open('$TMP/body'))['choices']) == 1"
stop
cat > "$TMP/limit.json" <<'JSON'
{"rules":[{"model":"r","limit":{"rps":1,"retry_after":"ms"}},
          {"model":"c","limit":{"concurrency":1,"status":503},"then":{"latency_ms":400}},
          {"model":"t","then":{"truncate":100}}]}
JSON
start --script "$TMP/limit.json"
chat r "x"; chat r "x"
ok "limit rps: the second is a 429" "$([ "$CODE" = 429 ]; echo $?)"
check "limit rps: retry-after-ms" grep -qi '^retry-after-ms: [0-9]' "$TMP/hdr"
check "limit rps: rate_limit_exceeded" grep -q '"code":"rate_limit_exceeded"' "$TMP/body"
(chat c "slow") & sleep 0.15
chat c "x"
ok "limit concurrency: a second while one is pending is a 503" "$([ "$CODE" = 503 ]; echo $?)"
wait $!
chat c "x"
ok "limit concurrency: free again once answered" "$([ "$CODE" = 200 ]; echo $?)"
chat t "x"
ok "truncate: curl sees a partial reply" "$([ "$RC" = 18 ]; echo $?)"
stop

# --- it never outlives a test ---
t0=$(date +%s%N)
stop
ok "SIGTERM: exits" "$(py "assert ($(date +%s%N) - $t0) / 1e9 < 2"; echo $?)"
start --max-requests 3
for _ in 1 2 3; do curl -s -o /dev/null "$URL/_stats"; done
for _ in $(seq 30); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
ok "--max-requests: exits by itself" "$(! kill -0 "$PID" 2>/dev/null; echo $?)"
stop
"$BIN" --max-seconds 1 > /dev/null &
PID=$!
for _ in $(seq 30); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
ok "--max-seconds: exits by itself" "$(! kill -0 "$PID" 2>/dev/null; echo $?)"
stop

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
