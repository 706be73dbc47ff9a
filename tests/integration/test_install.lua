-- make install carries the library's own files: an installed slmmux, with no
-- SLMMUX_HOME (it finds share/slmmux beside its binary), runs programs
-- through the Python harness, variant generator and test driver it reads
-- from share/slmmux/lua at run time.
local mux = require "slmmux"
local data = require "slmmux.data"

local q = data.quote
local root = (mux.home or ".")
local dest = os.tmpname()
os.remove(dest)

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1", "r")
  local out = p:read("a")
  local ok, _, code = p:close()
  return ok, out, code
end

local ok, out = sh("make -s -C " .. q(root) .. " install DESTDIR=" .. q(dest) .. " PREFIX=/opt/slmmux")
assert(ok, "make install failed:\n" .. out)
local share = dest .. "/opt/slmmux/share/slmmux/lua/slmmux/"
for _, f in ipairs({"agree/harness.py", "agree/variants.py", "tasks/humaneval/driver.py"}) do
  assert(io.open(share .. f), "not installed: " .. f)
end

local check = dest .. "/check.lua"
local f = assert(io.open(check, "w"))
f:write([[
local mux = require "slmmux"
local agree = require "slmmux.agree"
local humaneval = require "slmmux.tasks.humaneval"
assert(mux.home:find("/opt/slmmux/bin/../share/slmmux", 1, true), "home " .. mux.home)
local sig = agree.signature("def f(x):\n    return x * 2\n", "f", {"3", "'a'"})
assert(sig == '["=6","=\'aa\'"]', "harness.py: " .. tostring(sig))
local v = assert(agree.variants({"[1, 2]"}, 1))
assert(v[1] == "[2, 1]", "variants.py: " .. tostring(v[1]))
local task = humaneval.new{timeout = 5}
local p = {id = "t", prompt = "def f(x):\n", entry_point = "f",
  test = "def check(c):\n    assert c(2) == 4\n"}
assert(task.outcome("def f(x):\n    return x * 2\n", p).outcome == "pass", "driver.py: pass")
assert(task.outcome("def f(x):\n    return x\n", p).outcome == "fail", "driver.py: fail")
print("installed: ok")
]])
f:close()

ok, out = sh("cd " .. q(dest) .. " && env -u SLMMUX_HOME " .. q(dest .. "/opt/slmmux/bin/slmmux")
  .. " run " .. q(check) .. " --no-store")
os.execute("rm -rf -- " .. q(dest))
assert(ok and out:find("installed: ok", 1, true), "the installed slmmux failed:\n" .. out)
print("test_install: ok")
