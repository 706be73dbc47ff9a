#!/usr/bin/env bash
# The run manifest in summary.json: the slmmux version and the checkout's
# commit, the SHA-256 of every data file (sha256sum's) and of the prompt
# template (the reference's texts, hashed here from the fixture), the
# endpoint's base URL without the credentials it was given with, the model
# ids asked for and served, every setting with its source, the library
# versions, the host, start and end times. Against the loopback fake server.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

build/fakeserver --port 0 --max-seconds 300 >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -qs PORT "$tmp/port" && break; sleep 0.1; done
port=$(awk '/PORT/{print $2}' "$tmp/port")
export OPENAI_BASE_URL="http://slmmux-user:s3cret-pass@127.0.0.1:$port/v1"

if ! ./slmmux run recipes/math.lua --no-store --limit 3 -s samples=2 -s validation=5 \
     -s models=fake-a,fake-b -s quiet=true --out "$tmp/run" >"$tmp/run.log" 2>&1; then
  echo "FAIL the run failed"; tail -n 20 "$tmp/run.log"; echo "0 passed, 1 failed"; exit 1
fi

# The same run where `git status` fails (as a git killed by the run's
# SIGINT would): the commit is still recorded, "dirty" is unknown, not false.
mkdir -p "$tmp/bin"
real_git=$(command -v git || echo /usr/bin/git)
printf '#!/bin/sh\nfor a in "$@"; do [ "$a" = status ] && exit 128; done\nexec %s "$@"\n' "$real_git" >"$tmp/bin/git"
chmod +x "$tmp/bin/git"
PATH="$tmp/bin:$PATH" ./slmmux run recipes/math.lua --no-store --limit 1 -s samples=1 -s validation=none \
  -s models=fake-a -s quiet=true --out "$tmp/run2" >"$tmp/run2.log" 2>&1

commit=$(git rev-parse HEAD 2>/dev/null || echo none)
python3 - "$tmp/run/summary.json" "$port" "$commit" "$(uname -n)" "$tmp/run2/summary.json" <<'PY'
import hashlib, json, sys
path, port, commit, host, path2 = sys.argv[1:6]
text = open(path).read()
s = json.loads(text)
m = s["manifest"]
passed = failed = 0
def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1; print("ok   " + name)
    else:
        failed += 1; print("FAIL " + name + (": " + str(detail) if detail else ""))
def sha(p): return hashlib.sha256(open(p, "rb").read()).hexdigest()

check("the credentials of the base URL are nowhere in summary.json",
      "s3cret-pass" not in text and "slmmux-user" not in text)
url = "http://127.0.0.1:%s/v1" % port
check("the endpoint's base URL, stripped", m["endpoints"]["fake-a"]["base_url"] == url
      and s["endpoints"]["fake-b"]["base_url"] == url, m["endpoints"])
check("the version", m["slmmux"]["version"] == s["version"] and s["version"])
if commit != "none":
    check("the checkout's commit", m["slmmux"]["git"]["commit"] == commit, m["slmmux"].get("git"))
    check("whether the checkout has changes", isinstance(m["slmmux"]["git"]["dirty"], bool))
    try:
        g2 = json.load(open(path2))["manifest"]["slmmux"]["git"]
    except (OSError, ValueError, KeyError) as e:
        g2 = {"error": str(e)}
    check("a failed git status leaves dirty unknown, the commit recorded",
          g2.get("commit") == commit and "dirty" not in g2, g2)
files = {d["role"]: d for d in m["data"]}
for role, want in (("evaluated", "data/math_500.json"), ("validation", "data/math_train_500.jsonl")):
    d = files[role]
    check("%s data: %s, its SHA-256 and size" % (role, want), d["path"].endswith(want)
          and d["sha256"] == sha(want) and d["bytes"] == len(open(want, "rb").read()), d)
check("the data files' records and how many were used",
      files["evaluated"]["records"] == 500 and files["evaluated"]["used"] == 3
      and files["validation"]["used"] == 5)
ref = json.load(open("tests/fixtures/reference_prompts.json"))["iclr"]["math"]
p = m["prompt"]
check("the prompt template's SHA-256s are the reference texts'",
      p["style"] == "reference" and p["system_sha256"] == hashlib.sha256(ref["system"].encode()).hexdigest()
      and p["user_sha256"] == hashlib.sha256(ref["user"].encode()).hexdigest(), p)
check("its origin names the reference release", "SLM-MUX-ICLR@" in p["origin"], p.get("origin"))
check("the models asked for and served", m["models"]["requested"] == ["fake-a", "fake-b"]
      and m["models"]["served"]["fake-a"] == {"fake-a": 8}, m["models"])
st = m["settings"]
check("settings with their sources", st["samples"] == {"value": 2, "source": "-s"}
      and st["limit"] == {"value": 3, "source": "--limit"} and st["temperature"]["source"] == "task"
      and st["policy"]["source"] == "recipe" and st["folds"]["source"] == "default", st["samples"])
lib = m["libraries"]
check("library versions", all(lib.get(k) for k in ("lua", "libcurl", "sqlite", "pcre2", "cjson")), lib)
check("the host", m["host"]["name"] == host and m["host"]["system"] and m["host"]["machine"], m["host"])
check("start and end times", m["started_at"] <= m["ended_at"] and m["started_at"].endswith("Z"))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
