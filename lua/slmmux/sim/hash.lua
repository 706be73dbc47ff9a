-- The simulator's randomness: every draw is a hash of what it is about
-- (model, question id, sample index, seed), never of call order, so a
-- simulated run gives the same samples however its requests interleave.
local M = {}

--- 64-bit hash of its arguments (FNV-1a, then the splitmix64 finalizer).
function M.hash(...)
  local h = 0xcbf29ce484222325
  for i = 1, select("#", ...) do
    local s = tostring((select(i, ...)))
    for j = 1, #s do h = (h ~ s:byte(j)) * 0x100000001b3 end
    h = (h ~ 0xff) * 0x100000001b3
  end
  h = (h ~ (h >> 30)) * 0xbf58476d1ce4e5b9
  h = (h ~ (h >> 27)) * 0x94d049bb133111eb
  return h ~ (h >> 31)
end

--- Uniform float in [0, 1) determined by the arguments.
function M.uniform(...)
  return (M.hash(...) >> 11) * 2.0 ^ -53
end

return M
