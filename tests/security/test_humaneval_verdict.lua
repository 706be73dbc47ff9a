-- The HumanEval verdict is the judge's, not the candidate's, and it is
-- labelled right. Hostile candidates try to pass without computing the
-- answers: by reading the pass token out of the caller's frames or gc, by
-- returning an object whose __eq__ is always true, by reading the expected
-- values out of the files of the run or the judge's memory. Each must fail. Then the labels: a
-- correct program printing 64 KiB on every channel passes, a CPU-limit kill
-- is a timeout (with or without SIGXCPU ignored), an output flood is
-- truncated, an OOM kill is a crash of the memory limit; and every one of
-- the 164 canonical solutions passes.
--   ./slmmux run tests/security/test_humaneval_verdict.lua --no-store
-- SLMMUX_TEST_ONLY=name runs one case (tests/security/mutation.sh does, with
-- a protection of driver.py removed, and expects it to fail).
local mux = require "slmmux"
local humaneval = require "slmmux.tasks.humaneval"

local only = os.getenv("SLMMUX_TEST_ONLY")
local task = humaneval.new{timeout = 20, cpu = 2}
local problems = task.load("data/HumanEval.jsonl.gz")
local p0 = problems[1]          -- has_close_elements(numbers, threshold)

local cases = {}
local function case(name, fn) cases[#cases + 1] = {name = name, fn = fn} end

local function expect(code, want, why, p, t)
  local r = (t or task).outcome(code, p or p0)
  assert(r.outcome == want and (why == nil or r.reason == why),
    string.format("want %s (%s), got %s (%s)", want, tostring(why), r.outcome, tostring(r.reason)))
  return r
end

-- Every 32-hex-digit string reachable from the candidate's frames, their
-- globals and gc, written as a passing verdict to every fd it has.
local FRAME_THIEF = [[
import gc, os, re, sys
def has_close_elements(numbers, threshold):
    hexes = set()
    def look(v):
        if isinstance(v, str) and re.fullmatch('[0-9a-f]{32}', v):
            hexes.add(v)
        elif isinstance(v, dict):
            for x in list(v.values()):
                if isinstance(x, str) and re.fullmatch('[0-9a-f]{32}', x):
                    hexes.add(x)
    f = sys._getframe()
    while f:
        for v in list(f.f_locals.values()) + list(f.f_globals.values()):
            look(v)
        f = f.f_back
    for o in gc.get_objects():
        look(o)
    for tok in hexes:
        line = ('\n%s ["pass", null]\n' % tok).encode()
        for fd in range(64):
            try:
                os.write(fd, line)
            except OSError:
                pass
    os._exit(0)
]]
case("frame_token", function()
  expect(FRAME_THIEF, "fail")
end)

local ALWAYS_EQUAL = [[
class Yes:
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __bool__(self):
        return True
    __hash__ = object.__hash__
def has_close_elements(numbers, threshold):
    return Yes()
]]
case("always_equal", function()
  expect(ALWAYS_EQUAL, "fail", "TypeError")
  -- a subclass of a plain type crosses as its plain value: __eq__ stays behind
  expect("class B(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\n"
    .. "def has_close_elements(numbers, threshold):\n    return B(7)\n", "fail", "AssertionError")
end)

-- The expected values, read out of every file the run can see and out of
-- the judge's memory (its parent's /proc/<pid>/mem): the asserts of check()
-- parsed, each call answered from them. A judge that was dumpable, or a
-- test in a file, would be robbed like this.
local THIEF = [[
import ast, os, re
def _blobs():
    for root, dirs, files in os.walk('.'):
        for name in files:
            try:
                yield open(os.path.join(root, name), 'rb').read()
            except OSError:
                pass
    pp = os.getppid()
    try:
        maps = open('/proc/%d/maps' % pp).read().splitlines()
        mem = open('/proc/%d/mem' % pp, 'rb')
    except OSError:
        return
    for line in maps:
        span, perms = line.split()[:2]
        lo, hi = (int(x, 16) for x in span.split('-'))
        if perms.startswith('rw') and hi - lo <= (64 << 20):
            try:
                mem.seek(lo)
                yield mem.read(hi - lo)
            except (OSError, ValueError, OverflowError):
                pass
def _steal():
    answers = {}
    for blob in _blobs():
        at = blob.find(b'def check(candidate):')
        while at >= 0:
            text = blob[at:at + 20000].split(b'\0')[0].decode('latin-1')
            for m in re.finditer(r'assert candidate\((.*)\) == (\w+)', text):
                try:
                    answers[repr(ast.literal_eval('(' + m.group(1) + ',)'))] = ast.literal_eval(m.group(2))
                except Exception:
                    pass
            at = blob.find(b'def check(candidate):', at + 1)
    return answers
_answers = None
def has_close_elements(numbers, threshold):
    global _answers
    if _answers is None:
        _answers = _steal()
    return _answers.get(repr((numbers, threshold)), 0)
]]
case("test_forge", function()
  expect(THIEF, "fail", "AssertionError")
end)

case("print_64k", function()
  expect(p0.reference .. "\nimport os, sys\nos.write(1, b'x' * 65536)\nprint('y' * 65536)\n"
    .. "sys.stderr.write('z' * 65536)\nsys.__stdout__.write('w' * 65536)\n", "pass")
end)

case("cpu_limit_timeout", function()
  expect(p0.prompt .. "    while True:\n        pass\n", "timeout", "cpu limit")
  -- SIGXCPU ignored: SIGKILL at the hard limit, a second later
  expect(p0.prompt .. "    import signal\n    signal.signal(signal.SIGXCPU, signal.SIG_IGN)\n"
    .. "    while True:\n        pass\n", "timeout", "cpu limit")
end)

case("flood_truncated", function()
  expect(p0.reference .. "\nimport os\nwhile True:\n    os.write(1, b'x' * 65536)\n", "truncated", "output flood")
  expect(p0.prompt .. "    import sys\n    while True:\n        sys.stderr.write('y' * 65536)\n",
    "truncated", "output flood")
end)

case("memory_limit_crash", function()
  if not mux.isolation():find("memory: cgroup", 1, true) then
    print("skip memory_limit_crash: no memory cgroup here")
    return
  end
  -- memfd pages are not in RLIMIT_AS: only the run's cgroup sees them
  local small = humaneval.new{timeout = 20, cpu = 5, mem_mb = 128}
  expect(p0.prompt .. "    import os\n    fds = []\n    for i in range(40):\n"
    .. "        fds.append(os.memfd_create('m'))\n        os.write(fds[-1], b'x' * (15 << 20))\n"
    .. "    return False\n", "crash", "memory limit", p0, small)
end)

case("canonical_164", function()
  local outcomes = mux.map(problems, function(p) return task.outcome(p.reference, p) end,
    {concurrency = 8})
  local bad = {}
  for i, r in ipairs(outcomes) do
    if r.outcome ~= "pass" then bad[#bad + 1] = problems[i].id .. " " .. r.outcome .. " " .. tostring(r.reason) end
  end
  print(string.format("canonical_164: %d of %d pass", #problems - #bad, #problems))
  assert(#bad == 0, table.concat(bad, "; "))
end)

local passed, failed = 0, 0
for _, c in ipairs(cases) do
  if not only or only == c.name then
    local t0 = mux.now()
    local ok, err = pcall(c.fn)
    if ok then passed = passed + 1 else failed = failed + 1 end
    print(string.format("%-22s %s (%.0f ms)%s", c.name, ok and "ok" or "FAILED", (mux.now() - t0) * 1000,
      ok and "" or ": " .. tostring(err)))
  end
end
print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 or passed == 0 then error("test_humaneval_verdict: " .. failed .. " failed", 0) end
