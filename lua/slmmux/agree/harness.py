# The harness of behavioural agreement (slmmux.agree): runs prog.py in a
# fresh namespace with stdout sent to /dev/null, then calls the function on
# each probe under a CPU-time alarm (CPU, not wall clock, so that a loaded
# machine does not change a signature) and writes one line per probe,
# prefixed by a token read from stdin (so a program's own output to fd 1
# cannot pass for a result by accident).
# Values are made canonical where == would not tell them apart: sets and
# dict keys sorted (string hashing is randomized per process), integral
# floats written as ints, floats to 10 significant digits, reprs holding
# an address replaced by the type name, long reprs hashed.
import sys, os, json, signal

class _Slow(BaseException):
    pass

def _alarm(signum, frame):
    raise _Slow()

def _canon(v, depth=0):
    if depth > 40:
        return "..."
    t = type(v)
    if t is float:
        if v == v and abs(v) < 1e15 and v == int(v):
            return str(int(v))
        return "%.10g" % v
    if t in (list, tuple):
        inner = ", ".join(_canon(x, depth + 1) for x in v)
        return "[" + inner + "]" if t is list else "(" + inner + ")"
    if t in (set, frozenset):
        return "{" + ", ".join(sorted(_canon(x, depth + 1) for x in v)) + "}"
    if t is dict:
        items = sorted(_canon(k, depth + 1) + ": " + _canon(x, depth + 1) for k, x in v.items())
        return "{" + ", ".join(items) + "}"
    try:
        r = repr(v)
    except BaseException as e:
        return "<repr raised " + type(e).__name__ + ">"
    if " at 0x" in r:
        return "<" + t.__name__ + ">"
    return r

def _short(s):
    if len(s) <= 2000:
        return s
    import hashlib
    return s[:200] + "#" + hashlib.sha256(s.encode("utf-8", "replace")).hexdigest()[:16]

def _main():
    token = sys.stdin.readline().strip()
    with open("probes.json") as f:
        spec = json.load(f)
    out = sys.stdout
    def emit(kind, i, value):
        out.write(token + " " + json.dumps([kind, i, value]) + "\n")
        out.flush()
    sys.stdout = open(os.devnull, "w")
    signal.signal(signal.SIGPROF, _alarm)
    ns = {"__name__": "__candidate__"}
    try:
        with open("prog.py") as f:
            src = f.read()
        exec(compile(src, "prog.py", "exec"), ns)
        fn = ns[spec["entry_point"]]
        if not callable(fn):
            raise TypeError("not callable")
    except BaseException as e:
        emit("nodef", 0, type(e).__name__)
        return
    emit("def", 0, "")
    for i, args in enumerate(spec["probes"]):
        try:
            call = compile("__fn(" + args + ")", "<probe>", "eval")
            signal.setitimer(signal.ITIMER_PROF, spec["timeout"])
            try:
                value = "=" + _short(_canon(eval(call, {"__fn": fn})))
            finally:
                signal.setitimer(signal.ITIMER_PROF, 0)
        except _Slow:
            value = "!Timeout"
        except BaseException as e:
            value = "!" + type(e).__name__
        emit("r", i, value)

_main()
