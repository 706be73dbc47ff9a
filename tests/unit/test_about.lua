-- mux.about() and mux.file_sha256(path): the library versions and the host
-- a run's manifest records, and a file's digest read in pieces, equal to
-- sha256sum's for a file of one piece and of many.
local mux = require "slmmux"
local home = mux.home or "."

local passed, failed = 0, 0
local function check(name, ok, detail)
  if ok then passed = passed + 1; print("ok   " .. name)
  else failed = failed + 1; print("FAIL " .. name .. (detail and (": " .. detail) or "")) end
end

local function sha256sum(path)
  local p = io.popen("sha256sum -- '" .. path .. "'")
  local out = p:read("a")
  p:close()
  return out:match("^(%x+)")
end

local function size(path)
  local f = assert(io.open(path, "rb"))
  local n = f:seek("end")
  f:close()
  return n
end

for _, rel in ipairs({"data/math_500.json", "data/gsm8k_train.jsonl", "data/README.md"}) do
  local path = home .. "/" .. rel
  local hex, bytes = mux.file_sha256(path)
  check(rel .. ": the digest is sha256sum's", hex == sha256sum(path), tostring(hex))
  check(rel .. ": the byte count is the file's", bytes == size(path), tostring(bytes))
end
local empty = os.tmpname()
check("an empty file", mux.file_sha256(empty)
  == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
os.remove(empty)
local hex, err = mux.file_sha256(home .. "/no/such/file")
check("a missing file: nil and a message naming it",
  hex == nil and tostring(err):find("no/such/file", 1, true) ~= nil, tostring(err))
local ok, misuse = pcall(mux.file_sha256, {})
check("a path that is not a string is a misuse", not ok and tostring(misuse):find("mux.file_sha256", 1, true),
  tostring(misuse))

local a = mux.about()
check("libcurl's version", type(a.libcurl) == "string" and a.libcurl:match("^%d+%.%d+") ~= nil, a.libcurl)
check("SQLite's version", type(a.sqlite) == "string" and a.sqlite:match("^3%.%d+") ~= nil, a.sqlite)
check("PCRE2's version", type(a.pcre2) == "string" and a.pcre2:match("^10%.%d+") ~= nil, a.pcre2)
check("Lua's release", a.lua == "Lua 5.4" or (type(a.lua) == "string" and a.lua:find("^Lua 5%.4") ~= nil), a.lua)
check("OpenSSL's version", type(a.openssl) == "string" and a.openssl:find("SSL") ~= nil, a.openssl)
local uname = io.popen("uname -n"):read("l")
check("the host's name is uname's", a.host.name == uname, tostring(a.host.name))
check("the host's system and machine", a.host.system == io.popen("uname -s"):read("l")
  and a.host.machine == io.popen("uname -m"):read("l"))

print(string.format("%d passed, %d failed", passed, failed))
if failed > 0 then os.exit(1) end
