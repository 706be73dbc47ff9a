-- The statistics of the analysis: a seedable generator, quantiles, the
-- Wilson interval, the exact McNemar test and the paired bootstrap. Pure
-- Lua, no state between calls.
local M = {}

local MASK = 0xFFFFFFFFFFFFFFFF

-- splitmix64 (the generator of src/answers/replay.c): one 64-bit step
local function mix(x)
  x = (x + 0x9e3779b97f4a7c15) & MASK
  x = ((x ~ (x >> 30)) * 0xbf58476d1ce4e5b9) & MASK
  x = ((x ~ (x >> 27)) * 0x94d049bb133111eb) & MASK
  return x ~ (x >> 31)
end

--- rng(seed) -> function(n) returning an integer 1..n, deterministic in seed.
function M.rng(seed)
  local state = mix(math.tointeger(seed) or 0)
  return function(n)
    state = mix(state)
    return ((state >> 32) * n >> 32) + 1
  end
end

--- The q-quantile (0..1) of a sorted array: linear interpolation between
-- order statistics (Hyndman and Fan's type 7, R's and numpy's default).
function M.quantile(sorted, q)
  local n = #sorted
  if n == 0 then return nil end
  local h = (n - 1) * q + 1
  local lo = math.floor(h)
  if lo >= n then return sorted[n] end
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo])
end

--- mean, and the 2.5% and 97.5% quantiles of values (a percentile interval).
function M.percentile_interval(values)
  local sorted, sum = {}, 0
  for i, v in ipairs(values) do sorted[i], sum = v, sum + v end
  table.sort(sorted)
  return sum / #sorted, M.quantile(sorted, 0.025), M.quantile(sorted, 0.975)
end

--- The Wilson score interval of `right` successes in n trials (95%: z = 1.959964):
-- lo, hi; nil when n = 0.
function M.wilson(right, n, z)
  if n == 0 then return nil end
  z = z or 1.959963984540054
  local p, z2 = right / n, z * z
  local centre = (p + z2 / (2 * n)) / (1 + z2 / n)
  local half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
  return math.max(0, centre - half), math.min(1, centre + half)
end

--- The exact McNemar test: b pairs where only the first is right, c where
-- only the second is; two-sided binomial p-value of min(b, c) under p = 1/2,
-- 2 * P(X <= min), at most 1 (1 when b = c = 0).
function M.mcnemar(b, c)
  local n = b + c
  if n == 0 then return 1 end
  local lo = math.min(b, c)
  -- terms in logs: C(n, i) / 2^n underflows a double past n = 1074
  local log_c, log_half, sum = 0, n * math.log(0.5), 0
  for i = 0, lo do
    if i > 0 then log_c = log_c + math.log(n - i + 1) - math.log(i) end
    sum = sum + math.exp(log_c + log_half)
  end
  return math.min(1, 2 * sum)
end

--- The paired bootstrap of the difference of two accuracies over the same
-- problems: a[i], b[i] booleans (right or not). Resamples the problems with
-- replacement `reps` times (default 10000) with seed; returns {diff =
-- mean(a) - mean(b), lo =, hi = (percentile 95% interval), reps =, seed =}.
function M.paired_bootstrap(a, b, opts)
  opts = opts or {}
  local n, reps = #a, opts.reps or 10000
  if n == 0 then return nil end
  local d = {}
  local total = 0
  for i = 1, n do
    d[i] = (a[i] and 1 or 0) - (b[i] and 1 or 0)
    total = total + d[i]
  end
  local draw, diffs = M.rng(opts.seed or 0), {}
  for r = 1, reps do
    local s = 0
    for _ = 1, n do s = s + d[draw(n)] end
    diffs[r] = s / n
  end
  table.sort(diffs)
  return {diff = total / n, lo = M.quantile(diffs, 0.025), hi = M.quantile(diffs, 0.975),
    reps = reps, seed = opts.seed or 0}
end

--- Wins, losses, ties of a over b (booleans per problem): a right and b
-- wrong, the reverse, and the rest.
function M.wins(a, b)
  local w, l = 0, 0
  for i = 1, #a do
    if a[i] and not b[i] then w = w + 1 elseif b[i] and not a[i] then l = l + 1 end
  end
  return w, l, #a - w - l
end

return M
