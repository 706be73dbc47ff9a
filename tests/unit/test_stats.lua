-- slmmux.analysis.stats against values computed by hand: McNemar's exact
-- p-value, the Wilson interval, type-7 quantiles, and a paired bootstrap
-- whose exact distribution is enumerable.
local stats = require "slmmux.analysis.stats"

local pass, fail = 0, 0
local function check(cond, msg)
  if cond then pass = pass + 1 else fail = fail + 1; print("FAIL " .. msg) end
end
local function near(a, b, tol) return a ~= nil and math.abs(a - b) <= (tol or 1e-9) end

-- McNemar: b = 1, c = 5: 2 * (1 + 6) / 64 = 0.21875; b = 0, c = 6: 2/64;
-- b = c = 3: 2 * (1 + 6 + 15 + 20) / 64 = 1.3125 -> 1; b = 2, c = 8:
-- 2 * (1 + 10 + 45) / 1024 = 0.109375; none discordant: 1
check(near(stats.mcnemar(1, 5), 0.21875), "mcnemar 1,5")
check(near(stats.mcnemar(5, 1), 0.21875), "mcnemar is symmetric")
check(near(stats.mcnemar(0, 6), 2 / 64), "mcnemar 0,6")
check(stats.mcnemar(3, 3) == 1, "mcnemar 3,3 is capped at 1")
check(near(stats.mcnemar(2, 8), 0.109375), "mcnemar 2,8")
check(stats.mcnemar(0, 0) == 1, "mcnemar with no discordant pair")
-- large n: 600 vs 500 discordant pairs stays finite and small; 1200/1200 is 1
local big = stats.mcnemar(500, 600)
check(big > 0.002 and big < 0.004, "mcnemar 500,600 (normal approximation 0.0026): " .. big)
check(near(stats.mcnemar(1200, 1200), 1, 1e-9), "mcnemar 1200,1200")

-- Wilson 95%: 8/10 -> (0.4901625, 0.9433178); 0/10 -> (0, 0.2775328); 5/5 upper 1
local lo, hi = stats.wilson(8, 10)
check(near(lo, 0.4901625, 1e-6) and near(hi, 0.9433178, 1e-6), "wilson 8/10")
lo, hi = stats.wilson(0, 10)
check(lo == 0 and near(hi, 0.2775328, 1e-6), "wilson 0/10")
lo, hi = stats.wilson(5, 5)
check(hi == 1 and near(lo, 0.5655175, 1e-6), "wilson 5/5")
check(stats.wilson(0, 0) == nil, "wilson of nothing")

-- type-7 quantiles: {1,2,3,4}: 0.5 -> 2.5, 0.25 -> 1.75; {1,2,3,4,5}: 0.975 -> 4.9
check(stats.quantile({1, 2, 3, 4}, 0.5) == 2.5 and stats.quantile({1, 2, 3, 4}, 0.25) == 1.75, "quantile")
check(near(stats.quantile({1, 2, 3, 4, 5}, 0.975), 4.9), "quantile 0.975")
local mean, plo, phi = stats.percentile_interval({3, 1, 2, 5, 4})
check(mean == 3 and near(plo, 1.1) and near(phi, 4.9), "percentile interval")

-- wins, losses, ties
local a = {true, true, false, false, true}
local b = {true, false, true, false, false}
local w, l, t = stats.wins(a, b)
check(w == 2 and l == 1 and t == 2, "wins 2, losses 1, ties 2")

-- paired bootstrap. All pairs equal: the interval is the point.
local r = stats.paired_bootstrap({true, false, true}, {true, false, true}, {reps = 500, seed = 1})
check(r.diff == 0 and r.lo == 0 and r.hi == 0, "bootstrap of identical runs")
r = stats.paired_bootstrap({true, true}, {false, false}, {reps = 500, seed = 1})
check(r.diff == 1 and r.lo == 1 and r.hi == 1, "bootstrap where a always wins")
-- d = {1, 0}: the mean of two draws is 0 (1/4), 1/2 (1/2), 1 (1/4):
-- quantiles 2.5% = 0 and 97.5% = 1 (with 20000 replicates, both ends are
-- hit hundreds of times; the type-7 interpolation stays on them)
r = stats.paired_bootstrap({true, false}, {false, false}, {reps = 20000, seed = 3})
check(r.diff == 0.5 and r.lo == 0 and r.hi == 1, "bootstrap of {1, 0}: " .. r.lo .. " " .. r.hi)
-- d = {1, 1, 0, -1} over 4 draws: of the 4^4 equally likely resamples,
-- 5 have a sum <= -3 (1.95%) and 19 a sum <= -2 (7.4%), so the 2.5%
-- quantile is a mean of -2/4; 16 have the sum 4 (6.25%), so the 97.5%
-- quantile is 1. The enumeration below checks those counts.
local exact = {}
local d = {1, 1, 0, -1}
for i1 = 1, 4 do for i2 = 1, 4 do for i3 = 1, 4 do for i4 = 1, 4 do
  local s = d[i1] + d[i2] + d[i3] + d[i4]
  exact[s] = (exact[s] or 0) + 1
end end end end
check(exact[-4] + exact[-3] == 5 and exact[-2] == 14 and exact[4] == 16, "enumeration")
r = stats.paired_bootstrap({true, true, false, false}, {false, false, false, true}, {reps = 40000, seed = 9})
check(r.diff == 0.25 and r.lo == -0.5 and r.hi == 1, "bootstrap of {1,1,0,-1}: " .. r.lo .. " " .. r.hi)
-- seeded: the same seed, the same interval; another seed may differ only by noise
local r1 = stats.paired_bootstrap({true, false, true, false, true}, {false, false, true, true, false}, {reps = 999, seed = 5})
local r2 = stats.paired_bootstrap({true, false, true, false, true}, {false, false, true, true, false}, {reps = 999, seed = 5})
check(r1.lo == r2.lo and r1.hi == r2.hi, "the bootstrap is seedable")
-- the generator: 1..n, roughly uniform
local draw, seen = stats.rng(42), {0, 0, 0}
for _ = 1, 30000 do local x = draw(3); seen[x] = seen[x] + 1 end
check(seen[1] > 9500 and seen[2] > 9500 and seen[3] > 9500, "rng is uniform on 1..3")

print(string.format("%d passed, %d failed", pass, fail))
if fail > 0 then os.exit(1) end
