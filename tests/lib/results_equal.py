"""Exit 0 when two run directories hold the same results: the same problems
(exactly N of them), each with the same final answer, verdict and sample
texts, turn by turn. Used by the tests that interrupt, fill a disk, lock a
store or shard a run and then compare it with an unhindered one.

    python3 tests/lib/results_equal.py DIR_A DIR_B N
"""
import json
import sys


def load(directory):
    out = {}
    with open(directory + "/results.jsonl") as lines:
        for line in lines:
            t = json.loads(line)
            out[t["id"]] = (t.get("final_answer"), t.get("correct"),
                            [[ch["text"] for ch in turn["choices"]] for turn in t.get("transcript", [])])
    return out


a, b, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
sys.exit(0 if a == b and len(a) == n else 1)
