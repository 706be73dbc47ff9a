-- Every binding reports a misuse in one shape:
--   "<recipe file>:<line>: <public function>: <what is wrong>"
-- naming the public Lua function (never '?' or 'bad argument') and pointing
-- at this file's line, also when the call goes through init.lua's wrappers.
local mux = require "slmmux"

local src = debug.getinfo(1, "S").short_src
local passed, failed = 0, 0

local function here() return debug.getinfo(2, "l").currentline end

-- fname: the public name; detail: the rest of the message (plain text, a
-- prefix of what follows "fname: "); line: where the misuse was made.
local function shape(fname, detail, line, ok, err)
  local want = string.format("%s:%d: %s: %s", src, line, fname, detail)
  err = tostring(err)
  if not ok and err:sub(1, #want) == want and not err:find("init.lua", 1, true)
     and not err:find("bad argument", 1, true) then
    passed = passed + 1
  else
    failed = failed + 1
    print(string.format("FAIL line %d: want %q\n            got %q", line, want, ok and "no error" or err))
  end
end

-- nothing listens there, and no call below is valid enough to be sent
mux.endpoint("misuse", {base_url = "http://127.0.0.1:9/v1", max_retries = 0})
local msgs = {{role = "user", content = "hi"}}
local function req(extra)
  local r = {model = "m", messages = msgs, endpoint = "misuse"}
  for k, v in pairs(extra or {}) do r[k] = v end
  return r
end

-- mux.chat, through init.lua's wrapper
shape("mux.chat", "req must be a table", here(), pcall(mux.chat, 42))
shape("mux.chat", "unknown field req.colour", here(), pcall(mux.chat, req{colour = "red"}))
shape("mux.chat", "req.messages[2].content must be a string or an array of content parts (got number)",
      here(), pcall(mux.chat, req{messages = {msgs[1], {role = "user", content = 7}}}))
shape("mux.chat", "req.stream is not supported: replies are read whole",
      here(), pcall(mux.chat, req{stream = true}))
shape("mux.chat", "req.extra.temperature: set it as req.temperature",
      here(), pcall(mux.chat, req{extra = {temperature = 1}}))
shape("mux.chat", "req.response_format holds function, which JSON cannot send",
      here(), pcall(mux.chat, req{response_format = {type = print}}))
shape("mux.chat", "req.logprobs must be a boolean (got number)", here(), pcall(mux.chat, req{logprobs = 1}))
shape("mux.chat", "req.place must not be empty", here(), pcall(mux.chat, req{place = ""}))
shape("mux.chat", "req.messages must not be empty", here(), pcall(mux.chat, req{messages = {}}))
shape("mux.chat", "req.n must be an integer from 1 to 1024", here(), pcall(mux.chat, req{n = 0}))
shape("mux.chat", "req.model must be a string (got boolean)", here(), pcall(mux.chat, req{model = false}))
shape("mux.chat", "req.temperature must be a number (got string)",
      here(), pcall(mux.chat, req{temperature = "hot"}))
shape("mux.chat", "unknown endpoint 'nowhere'", here(), pcall(mux.chat, req{endpoint = "nowhere"}))
-- a misuse raises even when no endpoint serves the model
shape("mux.chat", "unknown field req.colour",
      here(), pcall(mux.chat, {model = "unserved", messages = msgs, colour = "red"}))
-- a recipe function that misuses mux.chat: its own line, not the caller's
-- (not a tail call: Lua drops the frame of a function that tail-calls)
local function ask() local resp = mux.chat(req{n = "five"}); return resp end
local ask_line = here() - 1
shape("mux.chat", "req.n must be an integer (got string)", ask_line, pcall(ask))
-- and from a task of mux.map, the recipe's function is still the place
shape("mux.chat", "req.n must be an integer", ask_line, pcall(mux.map, {1}, ask))

-- mux.chat_all: the requests run in tasks of the library's; the error
-- points at the chat_all call
shape("mux.chat_all", "reqs must be an array", here(), pcall(mux.chat_all, "x"))
shape("mux.chat", "req.n must be an integer from 1 to 1024",
      here(), pcall(mux.chat_all, {req{n = -1}}))

-- tasks and time
shape("mux.map", "list must be a table (got nil)", here(), pcall(mux.map, nil, print))
shape("mux.map", "fn must be a function (got string)", here(), pcall(mux.map, {}, "f"))
shape("mux.map", "opts.concurrency must be a number >= 1",
      here(), pcall(mux.map, {1}, print, {concurrency = 0}))
shape("mux.spawn", "fn must be a function (got number)", here(), pcall(mux.spawn, 1))
shape("mux.wait", "task must be a task (from mux.spawn) (got table)", here(), pcall(mux.wait, {}))
shape("mux.sleep", "seconds must be a number (got string)", here(), pcall(mux.sleep, "1"))
shape("mux.sleep", "seconds must be >= 0", here(), pcall(mux.sleep, -1))
local co_line = here() + 1
local co = coroutine.wrap(function() return pcall(mux.sleep, 0) end)
shape("mux.sleep", "must be called from a task", co_line, co())

-- the sandbox
shape("mux.exec", "spec must be a table (got string)", here(), pcall(mux.exec, "ls"))
shape("mux.exec", "spec.argv must be an array of strings (got nil)", here(), pcall(mux.exec, {}))
shape("mux.exec", "spec.argv[2] must be a string (got number)", here(), pcall(mux.exec, {argv = {"ls", 1}}))
shape("mux.exec", "unknown field spec.cmd", here(), pcall(mux.exec, {argv = {"ls"}, cmd = "ls"}))
shape("mux.exec", "spec.wall must be a positive number", here(), pcall(mux.exec, {argv = {"ls"}, wall = 0}))

-- endpoints and limits
shape("mux.endpoint", "unknown field fields.url", here(), pcall(mux.endpoint, "x", {url = "http://h"}))
shape("mux.endpoint", "fields.rps must be a number (got string)",
      here(), pcall(mux.endpoint, "x", {base_url = "http://h", rps = "many"}))
shape("mux.endpoint", "name must be a string (got nil)", here(), pcall(mux.endpoint, nil, {}))
shape("mux.set_concurrency", "n must be an integer from 1 to", here(), pcall(mux.set_concurrency, 0))

-- extraction and maths
shape("mux.extract.boxed", "text must be a string (got nil)", here(), pcall(mux.extract.boxed))
shape("mux.extract.boxed", "opts.which must be", here(), pcall(mux.extract.boxed, "x", {which = "mid"}))
shape("mux.extract.math", "text must be a string (got table)", here(), pcall(mux.extract.math, {}))
shape("mux.extract.number", "text must be a string (got boolean)", here(), pcall(mux.extract.number, true))
shape("mux.extract.choice", "letters must be upper case", here(), pcall(mux.extract.choice, "A", "ab"))
shape("mux.extract.code", "entry_point must be a string", here(), pcall(mux.extract.code, "x", {}))
shape("mux.math.normalize", "s must be a string (got nil)", here(), pcall(mux.math.normalize))
shape("mux.math.equiv", "cand must be a string (got nil)", here(), pcall(mux.math.equiv, "1"))
shape("mux.math.equiv", "opts.points must be an integer from 1 to",
      here(), pcall(mux.math.equiv, "1", "1", {points = 0}))

-- voting
shape("mux.vote.count", "answers must be a table (got string)", here(), pcall(mux.vote.count, "a"))
shape("mux.vote.count", "unknown field opts.equal", here(), pcall(mux.vote.count, {"a"}, {equal = 1}))
shape("mux.vote.majority", "answers[2] must be a string, false or nil (got number)",
      here(), pcall(mux.vote.majority, {"a", 2}))
shape("mux.vote.weighted", "weights[1] must be a number", here(), pcall(mux.vote.weighted, {"a"}, {"w"}))
shape("mux.vote.mux", "per_model[1] must be a table", here(), pcall(mux.vote.mux, {"A"}))
shape("mux.vote.mux", "opts.equiv must be", here(), pcall(mux.vote.mux, {}, {equiv = "fuzzy"}))
shape("mux.vote.search", "args.correct must be a table", here(), pcall(mux.vote.search, {}))
shape("mux.vote.search", "args.max_size must be an integer from 1 to",
      here(), pcall(mux.vote.search, {correct = {{true}}, max_size = 0}))

-- the store
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
local st = assert(mux.store.open(dir .. "/s.sqlite"))
local key = mux.store.hash("prompt")
shape("mux.store.open", "path must be a string (got nil)", here(), pcall(mux.store.open))
shape("mux.store.open", "opts.readonly must be a boolean (got string)",
      here(), pcall(mux.store.open, dir .. "/t.sqlite", {readonly = "yes"}))
shape("mux.store.hash", "text must be a string (got nil)", here(), pcall(mux.store.hash))
shape("store:lookup", "key must be 64 hex digits", here(), pcall(st.lookup, st, "xyz", 1))
shape("store:lookup", "self must be a store (from mux.store.open) (got string)",
      here(), pcall(st.lookup, "st", key, 1))
shape("store:put", "sample.text must be a string (got number)",
      here(), pcall(st.put, st, key, nil, 0, {text = 1}))
shape("store:each", "fn must be a function (got nil)", here(), pcall(st.each, st))
st:close()
shape("store:stats", "the store is closed", here(), pcall(st.stats, st))
os.execute("rm -rf '" .. dir .. "'")

print(string.format("%d passed, %d failed", passed, failed))
assert(failed == 0, "misuse errors in the wrong shape")
