-- A task for the analysis tests over HTTP: JSON Lines {"q": ..., "a": ...},
-- the fake server's scripted replies box the answer, scored by equality.
-- A recipe loads it with dofile(mux.home .. "/tests/lib/ones_task.lua").
local data = require "slmmux.data"
local mux = require "slmmux"

return {name = "ones", equiv = "exact",
  load = function(path)
    local ps = data.load(path, {fields = {q = "string", a = "string"}})
    for i, p in ipairs(ps) do p.id, p.text, p.reference = string.format("q%03d", i), p.q, p.a end
    return ps
  end,
  prompt = function(p) return {{role = "user", content = p.text}} end,
  extract = function(text) return text and mux.extract.boxed(text) end,
  score = function(answer, p) return answer == p.reference end}
