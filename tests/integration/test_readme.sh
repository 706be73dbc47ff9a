#!/usr/bin/env bash
# Every code block of README.md that a user would paste runs as written, so
# a README example cannot fail. Blocks are found by their fences, in order:
#   ```sh, ```bash, ```shell or a bare ```   run with bash -e in one scratch
#                                            directory (the repository's
#                                            slmmux, recipes and data linked
#                                            in), each block in its own shell
#   ```lua                                   saved as the file its first line
#                                            names (-- trivia.lua) for a later
#                                            block to run, else run as a recipe
#   ```text (or any other tag)               not run
# Every `slmmux run` must exit 0; a benchmark run (mux.run) must leave a run
# directory whose results.jsonl and summary.json agree (problems, --limit, scores, no errors,
# the backend: the simulator unless a server is configured, and then every
# problem answered). A server is never contacted: OPENAI_BASE_URL is pointed
# at the loopback fake server, which answers in both the \boxed{} and the
# "Answer: X" form, and so is any key a block exports; proxies go nowhere.
# A data file an earlier block wrote (JSON or JSON lines of {question,
# answer} records: fields q/question/problem and a/answer) is known to the
# fake server too: it answers those questions right, and every run must then
# score them correct, so an HTTP run of a README dataset means something.
# `make T` runs T's recipe from the Makefile without make (a make here would
# rebuild the binaries other tests are running); `make test` is this suite.
set -u
cd "$(dirname "$0")/../.."
repo=$PWD
export SLMMUX_HOME="$repo"
tmp=$(mktemp -d); spid=
trap '[ -n "$spid" ] && kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0

# --- the fake server, answering in every format the README's tasks read ---
build/fakeserver --port 0 --max-seconds 600 --log "$tmp/server.log" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -qs PORT "$tmp/port" && break; sleep 0.1; done
fake_url="http://127.0.0.1:$(awk '/PORT/{print $2}' "$tmp/port")/v1"
echo '{}' >"$tmp/answers.json"

# The script: the answers of the data files in the scratch directory, then
# a reply in both forms for anything else. -> $tmp/answers.json, POST /_script
cat >"$tmp/script_fake.py" <<'PY'
import glob, json, sys, urllib.request
work, url, answers_path = sys.argv[1:4]
def records(path):
    text = open(path).read()
    try:
        data = json.loads(text)
        return data if isinstance(data, list) else []
    except ValueError:
        return [json.loads(l) for l in text.splitlines() if l.strip()]
answers = {}
for path in glob.glob(work + "/*.json") + glob.glob(work + "/*.jsonl"):
    try:
        recs = records(path)
    except ValueError:
        continue
    for r in recs:
        if not isinstance(r, dict): continue
        q = next((r[k] for k in ("q", "question", "problem") if isinstance(r.get(k), str)), None)
        a = next((r[k] for k in ("a", "answer") if isinstance(r.get(k), str)), None)
        if q and a: answers[q] = a
def esc(a): return a.replace("{", "{{").replace("}", "}}")   # literal text in a template
def reply(t):
    return {"content": "Let me think step by step. The answer is \\boxed{{" + t + "}}.\nAnswer: " + t}
rules = [{"model": "*", "contains": q, "steps": [], "then": reply(esc(a))} for q, a in answers.items()]
rules.append({"model": "*", "steps": [], "then": reply("{h10}")})
req = urllib.request.Request(url.rsplit("/v1", 1)[0] + "/_script", json.dumps({"rules": rules}).encode())
urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10).read()
json.dump(answers, open(answers_path, "w"))
PY

# --- the scratch directory a user would work in ---
work=$tmp/work
mkdir -p "$work/bin" "$tmp/home"
ln -s "$repo/recipes" "$repo/data" "$repo/lua" "$work/"
# ./slmmux and slmmux (on PATH): the real one, and after a run a check of what it wrote
cat >"$work/slmmux" <<SH
#!/usr/bin/env bash
[ "\${1:-}" = run ] || exec "$repo/slmmux" "\$@"
out= limit= prev=
for a in "\$@"; do
  case \$prev in --out) out=\$a ;; --limit) limit=\$a ;; esac
  prev=\$a
done
if [ -n "\${OPENAI_BASE_URL:-}" ] && [ "\$OPENAI_BASE_URL" != "$fake_url" ]; then
  echo "readme test: OPENAI_BASE_URL=\$OPENAI_BASE_URL is not the fake server; not run" >&2; exit 1
fi
ls -d runs/*/ 2>/dev/null | sort >"$tmp/runs.before"
echo "\$2" >>"$tmp/recipes.run"
"$repo/slmmux" "\$@" || exit
if [ -z "\$out" ]; then
  ls -d runs/*/ 2>/dev/null | sort | comm -13 "$tmp/runs.before" - >"$tmp/runs.new"
  case \$(wc -l <"$tmp/runs.new") in
    0) echo "readme test: slmmux run \$2: no run directory (not a benchmark run)"; exit 0 ;;
    1) out=\$(cat "$tmp/runs.new") ;;
    *) echo "readme test: slmmux run \$* made several run directories" >&2; exit 1 ;;
  esac
fi
python3 "$tmp/check_run.py" "\$out" "\$limit" "\${OPENAI_BASE_URL:+http}" "$tmp/answers.json"
SH
chmod +x "$work/slmmux"
ln -s ../slmmux "$work/bin/slmmux"

cat >"$tmp/check_run.py" <<'PY'
import json, sys
out, limit, http = sys.argv[1], sys.argv[2], sys.argv[3] == "http"
answers = json.load(open(sys.argv[4])) if http else {}
def fail(msg):
    print(f"readme test: {out}: {msg}", file=sys.stderr)
    sys.exit(1)
try:
    lines = [json.loads(l) for l in open(out + "/results.jsonl")]
    s = json.load(open(out + "/summary.json"))
except (OSError, ValueError) as e:
    fail(f"unreadable results: {e}")
c, acc = s["counts"], s["accuracy"]
if not lines or c["total"] != len(lines): fail(f"{len(lines)} result lines, summary counts {c['total']}")
if limit and len(lines) != int(limit): fail(f"--limit {limit} but {len(lines)} results")
if c["errors"]: fail(f"{c['errors']} problems failed")
correct = sum(1 for l in lines if l.get("correct"))
if acc["correct"] != correct or not 0 <= acc["value"] <= 1: fail(f"accuracy {acc} but {correct} results correct")
if http and s["backend"] == "sim": fail("a server was configured but the simulator answered")
if not http and s["backend"] != "sim": fail(f"no server configured but backend {s['backend']}")
if http and c["unanswered"]: fail(f"{c['unanswered']} problems without an answer from replies in the task's format")
known = [l for l in lines if l.get("problem") in answers]
wrong = [l["id"] for l in known if not l.get("correct")]
if wrong: fail(f"the server answered {wrong} right, but they were scored wrong")
print(f"readme test: {out}: {len(lines)} problems ({len(known)} the server knew), accuracy {acc['value']:.2f}, backend {s['backend']}")
PY

# make T without make: T's own recipe lines, less its sub-makes
cat >"$tmp/make.sh" <<SH
make() {
  local t
  for t in "\$@"; do
    if [ "\$t" = test ]; then echo "readme test: make test is the suite this test belongs to"; continue; fi
    awk -v t="\$t" '\$0 ~ "^" t ":" {on = 1; next} on && /^\t/ {print; next} {on = 0}' "$repo/Makefile" |
      sed 's/^\t[@-]*//' | { grep -v '\$(MAKE)' || true; } >"$tmp/make.\$t"
    [ -s "$tmp/make.\$t" ] || { echo "readme test: no recipe for make \$t in the Makefile" >&2; return 1; }
    if grep -q '\\\$[({]' "$tmp/make.\$t"; then echo "readme test: make \$t uses make variables" >&2; return 1; fi
    bash -e "$tmp/make.\$t" || return
  done
}
SH

# --- the blocks, by fence ---
python3 - "$repo/README.md" "$tmp/blocks" <<'PY'
import os, re, sys
readme, outdir = sys.argv[1], sys.argv[2]
os.makedirs(outdir)
lang, start, body, n = None, 0, [], 0
for lineno, line in enumerate(open(readme), 1):
    m = re.match(r"^```\s*([\w+-]*)\s*$", line)
    if m and lang is None:
        lang, start, body = m.group(1) or "sh", lineno, []
    elif m and not m.group(1):
        n += 1
        kind = {"sh": "sh", "bash": "sh", "shell": "sh", "lua": "lua"}.get(lang, "skip")
        with open(f"{outdir}/{n:02d}-{start}.{kind}", "w") as f:
            f.write("".join(body))
        lang = None
    elif lang is not None:
        body.append(line)
if lang is not None:
    sys.exit(f"README.md:{start}: a code block is never closed")
PY
[ $? = 0 ] || { echo "FAIL the README's code blocks could not be read"; echo "0 passed, 1 failed"; exit 1; }

as_user() {   # command...: run in the scratch directory with a user's clean environment
  (cd "$work" && env -u OPENAI_BASE_URL -u OPENAI_API_KEY -u TOGETHER_API_KEY -u SLMMUX_CONFIG \
     -u SLMMUX_STORE HOME="$tmp/home" PATH="$work/bin:$PATH" \
     https_proxy=http://127.0.0.1:9 http_proxy=http://127.0.0.1:9 all_proxy=http://127.0.0.1:9 \
     HTTPS_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 no_proxy=127.0.0.1 NO_PROXY=127.0.0.1 \
     "$@")
}

run_block() {   # file -> output in $tmp/out
  python3 "$tmp/script_fake.py" "$work" "$fake_url" "$tmp/answers.json" >"$tmp/out" 2>&1 || return
  case $1 in
    *.sh)
      # a server address or a provider key is pointed at the fake server
      sed -E "s#OPENAI_BASE_URL=[^ ]*#OPENAI_BASE_URL=$fake_url#g;
              s#^(export [A-Z_]*_API_KEY=.*)#\1\nexport OPENAI_BASE_URL=$fake_url#" "$1" >"$tmp/block.sh"
      as_user bash -e -o pipefail -c "source '$tmp/make.sh'; set -x; source '$tmp/block.sh'" >"$tmp/out" 2>&1 ;;
    *.lua)
      local name
      name=$(sed -n '1s/^-- *\([A-Za-z0-9_.-]*\.lua\).*/\1/p' "$1")
      if [ -n "$name" ]; then
        cp "$1" "$work/$name" && echo "saved as $name" >"$tmp/out"
        saved="$saved $name"
      else
        name=readme-$(basename "$1" .lua).lua
        cp "$1" "$work/$name" && as_user ./slmmux run "$name" >"$tmp/out" 2>&1
      fi ;;
  esac
}

saved="" ran=0
for b in "$tmp"/blocks/*; do
  [[ "$b" == *.skip ]] && continue
  line=${b##*-}; line=${line%.*}
  what="README.md:$line (${b##*.}): $(grep -m1 -v '^ *$' "$b" | cut -c1-60)"
  ran=$((ran + 1))
  if run_block "$b"; then pass=$((pass + 1)); echo "ok   $what"; grep '^readme test: ' "$tmp/out" | sed 's/^/     /'
  else fail=$((fail + 1)); echo "FAIL $what"; tail -n 30 "$tmp/out" | sed 's/^/     | /'
  fi
done

if [ "$ran" -ge 2 ]; then pass=$((pass + 1)); echo "ok   $ran blocks found by their fences"
else fail=$((fail + 1)); echo "FAIL only $ran runnable blocks found in README.md"; fi
for name in $saved; do
  if grep -qx "$name" "$tmp/recipes.run" 2>/dev/null; then pass=$((pass + 1)); echo "ok   $name was run by a later block"
  else fail=$((fail + 1)); echo "FAIL $name is saved by a block but no block runs it"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
