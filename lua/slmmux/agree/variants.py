# Variants of the probes (slmmux.agree.variants), read as literals by
# ast.literal_eval: each argument changed by a rule chosen by variant and
# position. The rules keep values in the usual domain (no negatives, no
# empties), so that correct programs still agree: numbers grow, sequences
# are reversed, rotated or repeat their first item.
import ast, json

def _rules(v):
    t = type(v)
    if t is bool:
        return [lambda x: not x]
    if t is int:
        return [lambda x: x + 1, lambda x: x * 2, lambda x: x + 2]
    if t is float:
        return [lambda x: x * 1.5, lambda x: x + 0.5]
    if t in (str, list, tuple):
        return [lambda x: x[::-1], lambda x: x[1:] + x[:1], lambda x: x + x[:1]]
    return [lambda x: x]

with open("probes.json") as f:
    spec = json.load(f)
seen, out = set(spec["probes"]), []
for args in spec["probes"]:
    try:
        values = ast.literal_eval("(" + args + ",)")
    except Exception:
        continue
    for j in range(spec["n"]):
        new = []
        for i, v in enumerate(values):
            rules = _rules(v)
            new.append(rules[(j + i) % len(rules)](v))
        text = ", ".join(repr(v) for v in new)
        if text not in seen:
            seen.add(text)
            out.append(text)
print(json.dumps(out))
