-- The simulator's randomness: every draw is a hash of what it is about
-- (model, question id, sample index, seed), never of call order, so a
-- simulated run gives the same samples however its requests interleave.
local core = require "slmmux.core"

local M = {}

--- 64-bit hash of its arguments, each as tostring() spells it: FNV-1a
-- (each argument followed by the byte 0xff), then the splitmix64
-- finalizer. In C (src/bind/hash.c): whole conversations are hashed.
M.hash = core.hash64

--- Uniform float in [0, 1) determined by the arguments.
function M.uniform(...)
  return (core.hash64(...) >> 11) * 2.0 ^ -53
end

return M
