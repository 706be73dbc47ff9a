# The driver of a HumanEval test run (slmmux.tasks.humaneval): two
# processes, a judge and the candidate's server. Why two: a verdict computed
# in the candidate's own process can be forged from there -- the candidate
# can read the pass token out of its caller's stack frame (sys._getframe,
# gc), or return an object whose __eq__ is always true, so that every
# `assert candidate(x) == y` holds. So the hidden test never runs beside the
# candidate:
#
#   candidate  forked first, before the judge has read anything: its memory
#              holds no token, no test, no expected value (fork copies only
#              what is there). It drops the run's stdin and stdout, waits
#              for the judge's word, runs prog.py and serves calls: it reads
#              the arguments of a call, calls the function, writes the
#              result back;
#   judge      (the parent, trusted) makes itself non-dumpable (no ptrace,
#              /proc/<pid>/mem or /proc/<pid>/fd for a process of its uid;
#              an fd opened earlier would keep working, hence before it
#              reads), then reads all of stdin -- the run's token, the
#              prompt's helpers, the hidden test --, and runs check() with a
#              stand-in that calls the candidate.
#
# Results cross a pipe as tagged JSON of plain values (None, bool, int,
# float, str, bytes, complex, list, tuple, set, frozenset, dict), parsed by
# json and rebuilt by the judge as builtin objects of its own, so no object,
# method or __eq__ of the candidate's ever reaches check(), and a result that
# is not a plain value is no result. The candidate sees only the arguments of
# its calls; the expected values and the helpers check() uses (poly,
# encode_cyclic: the prompt's, not the candidate's copies) stay in the
# judge. Arguments go the other way as marshal data (the judge's: trusted
# there). Neither process imports json: the module pulls in re, which costs
# more CPU than a test (measured: 20 ms of a 50 ms run); both use json's own
# C scanner and string encoder (_json) directly, and the fork saves the
# start of a second interpreter. The candidate's stdout and stderr are the
# run's stderr; the run's stdout carries only the judge's verdict, its last
# line:
#   <token> ["pass" | "fail" | "timeout" | "crash" | "error", reason or null]
import os
import sys

MAX_DEPTH = 200


# ---- values by value -------------------------------------------------------

def _enc(v, depth=0):
    if depth > MAX_DEPTH:
        raise TypeError("nested deeper than %d" % MAX_DEPTH)
    if v is None:
        return None
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int) or (not isinstance(v, float) and hasattr(type(v), "__index__")):
        import operator
        i = int(operator.index(v))
        # json refuses ints of more than 4300 digits; hex has no such limit
        return i if i.bit_length() < 10000 else {"x": format(i, "x")}
    if isinstance(v, float):
        return float(v)
    if isinstance(v, str):
        return str.__str__(v)
    if isinstance(v, (bytes, bytearray)):
        return {"b": bytes(v).hex()}
    if isinstance(v, complex):
        return {"c": [float(v.real), float(v.imag)]}
    if isinstance(v, list):
        return [_enc(x, depth + 1) for x in v]
    for tag, kind in (("t", tuple), ("f", frozenset), ("s", set)):
        if isinstance(v, kind):
            return {tag: [_enc(x, depth + 1) for x in v]}
    if isinstance(v, dict):
        return {"d": [[_enc(k, depth + 1), _enc(x, depth + 1)] for k, x in v.items()]}
    raise TypeError("a %s is not a plain value" % type(v).__name__)


_MAKE = {"t": tuple, "f": frozenset, "s": set}


def _dec(j, depth=0):
    """Plain builtin values from what json.loads made of a line; anything
    else raises TypeError."""
    if depth > MAX_DEPTH:
        raise TypeError("nested deeper than %d" % MAX_DEPTH)
    t = type(j)
    if j is None or t in (bool, int, float, str):
        return j
    if t is list:
        return [_dec(x, depth + 1) for x in j]
    if t is dict and len(j) == 1:
        (tag, x), = j.items()
        if tag in _MAKE and type(x) is list:
            return _MAKE[tag](_dec(y, depth + 1) for y in x)
        if tag == "d" and type(x) is list and all(type(p) is list and len(p) == 2 for p in x):
            return {_dec(k, depth + 1): _dec(y, depth + 1) for k, y in x}
        if tag == "x" and type(x) is str:
            return int(x, 16)
        if tag == "b" and type(x) is str:
            return bytes.fromhex(x)
        if tag == "c" and type(x) is list and len(x) == 2 and all(type(y) in (int, float) for y in x):
            return complex(x[0], x[1])
    raise TypeError("not a plain value")


def _loads(text):
    """json.loads(text) with the C scanner json.loads itself runs, without
    json's import of re (json.loads is the fallback where _json is
    missing). ValueError when text is not one JSON value."""
    try:
        from _json import make_scanner
    except ImportError:
        import json
        return json.loads(text)

    class Context:
        strict = True
        object_hook = object_pairs_hook = None
        parse_float, parse_int = float, int
        parse_constant = {"NaN": float("nan"), "Infinity": float("inf"),
                          "-Infinity": float("-inf")}.__getitem__
    text = text.strip(" \t\n\r")   # JSON's whitespace, as json.loads allows
    try:
        value, end = make_scanner(Context())(text, 0)
    except StopIteration:
        raise ValueError("no JSON value")
    if end != len(text):
        raise ValueError("more than one JSON value")
    return value


# ---- the candidate's side ------------------------------------------------------

def _text(j):
    """JSON text of what _enc made, without the json module: its C string
    encoder, and floats as repr writes them (json's NaN and Infinity)."""
    from _json import encode_basestring_ascii as string
    t = type(j)
    if j is None:
        return "null"
    if t is bool:
        return "true" if j else "false"
    if t is int:
        return str(j)
    if t is float:
        if j != j:
            return "NaN"
        return repr(j) if abs(j) != float("inf") else ("Infinity" if j > 0 else "-Infinity")
    if t is str:
        return string(j)
    if t is list:
        return "[" + ",".join(_text(x) for x in j) + "]"
    return "{" + ",".join(string(k) + ":" + _text(x) for k, x in j.items()) + "}"


def _serve(requests, replies):
    """The candidate's process: fds requests (read) and replies (write)."""
    import marshal
    nul = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nul, 0)             # not the run's stdin: that is the judge's
    os.close(nul)
    os.dup2(2, 1)               # not the run's stdout: that is the verdict's
    requests = os.fdopen(requests, "rb")
    replies = os.fdopen(replies, "w")
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")     # the OOM killer takes this process, not the judge
    except OSError:
        pass                    # a label's accuracy, not a protection

    def reply(*msg):
        replies.write(_text(list(msg)) + "\n")
        replies.flush()

    entry = requests.readline().decode().strip()    # the judge's word
    if not entry:
        return
    ns = {"__name__": "__candidate__"}
    try:
        with open("prog.py") as f:
            src = f.read()
        exec(compile(src, "prog.py", "exec"), ns)
        fn = ns[entry]
        if not callable(fn):
            raise TypeError("not callable")
    except BaseException as e:
        reply("nodef", type(e).__name__)
        return
    reply("ready")
    while True:
        size = requests.readline()
        if not size:
            return
        args, kwargs = marshal.loads(requests.read(int(size)))
        try:
            value = fn(*args, **kwargs)
        except BaseException as e:
            reply("raise", type(e).__name__)
            continue
        try:
            value = _enc(value)
        except BaseException:
            reply("raise", "TypeError")
            continue
        reply("ok", value)


# ---- the judge's side -------------------------------------------------------------

class _Gone(BaseException):
    """The candidate's process ended (or closed its end)."""


class _Raised(Exception):
    """The candidate's call raised; args[0] is the exception's type name."""


class _Unjudgeable(BaseException):
    """The judge's own failure (args[0] says what): never the candidate's."""


def _nodump():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(4, 0, 0, 0, 0) != 0:      # PR_SET_DUMPABLE, 0
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0)")


class _Candidate:
    """The judge's end of the candidate's process, forked by start()."""

    def __init__(self, pid, req, resp):
        self.pid, self.req, self.resp = pid, req, resp
        self.pidfd = os.pidfd_open(pid)
        self.buf = bytearray()
        self.ended = None

    def begin(self, entry):
        self.send(entry.encode() + b"\n")

    def send(self, data):
        try:
            while data:
                data = data[os.write(self.req, data):]
        except OSError:
            raise _Gone()

    def line(self):
        import select
        while b"\n" not in self.buf:
            p = select.poll()
            p.register(self.resp, select.POLLIN)
            p.register(self.pidfd, select.POLLIN)
            ready = [fd for fd, _ in p.poll()]
            if self.resp not in ready:
                raise _Gone()   # exited; a child of its may hold the pipe open
            chunk = os.read(self.resp, 1 << 16)
            if not chunk:
                raise _Gone()
            self.buf += chunk
        at = self.buf.index(b"\n")
        line = bytes(self.buf[:at])
        del self.buf[:at + 1]
        try:
            msg = _loads(line.decode("utf-8"))
        except Exception:       # a scanner error, a decoding error, RecursionError
            raise _Raised("ProtocolError")
        if type(msg) is not list or not msg or type(msg[0]) is not str:
            raise _Raised("ProtocolError")
        return msg

    def call(self, *args, **kwargs):
        import marshal
        try:
            data = marshal.dumps((args, kwargs))
        except ValueError:
            raise _Unjudgeable("check() passes an argument marshal cannot carry")
        self.send(b"%d\n" % len(data) + data)
        msg = self.line()
        if msg[0] == "ok" and len(msg) == 2:
            try:
                return _dec(msg[1])
            except (TypeError, ValueError, RecursionError):
                raise _Raised("TypeError")
        if msg[0] == "raise" and len(msg) == 2 and type(msg[1]) is str:
            raise _Raised(msg[1][:100])
        raise _Raised("ProtocolError")

    def end(self, grace_ms=0):
        """Reaps the candidate (killed if still alive after grace_ms) and says
        how its process ended: (outcome, reason). Once; later calls repeat it."""
        if self.ended is None:
            self.ended = self._end(grace_ms)
        return self.ended

    def _end(self, grace_ms):
        import resource
        import select
        # _signal: the numbers without the enum module signal.py loads (a
        # fifth of a run's CPU time)
        from _signal import SIGKILL, SIGXCPU
        p = select.poll()
        p.register(self.pidfd, select.POLLIN)
        alive = not p.poll(grace_ms)
        if alive:
            os.kill(self.pid, SIGKILL)
        _, ws, ru = os.wait4(self.pid, 0)
        if alive:
            return "fail", "ProtocolError"      # it closed its end of the pipes
        if os.WIFEXITED(ws):
            code = os.WEXITSTATUS(ws)
            return "fail", "exited before the tests finished" if code == 0 else "exit %d" % code
        sig = os.WTERMSIG(ws)
        soft = resource.getrlimit(resource.RLIMIT_CPU)[0]
        cpu = ru.ru_utime + ru.ru_stime
        # RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one
        if sig == SIGXCPU or (sig == SIGKILL and soft != resource.RLIM_INFINITY
                                     and cpu >= soft):
            return "timeout", "cpu limit"
        return "crash", "signal %d" % sig


def _check(ns, entry, cand):
    msg = cand.line()
    if msg[0] != "ready":
        return "fail", str(msg[1])[:100] if len(msg) > 1 else "ProtocolError"
    # the prompt's own code may call the function by name (HumanEval/33)
    ns[entry] = cand.call
    try:
        ns["check"](cand.call)
    except _Raised as e:
        return "fail", e.args[0]
    except (_Gone, _Unjudgeable):
        raise
    except BaseException as e:
        return "fail", type(e).__name__
    return "pass", None


def _verdict(spec, cand):
    ns = {"__name__": "__judge__"}
    try:
        exec(compile(spec["helpers"], "prompt", "exec"), ns)
        exec(compile(spec["test"], "test", "exec"), ns)
    except BaseException as e:
        return "error", "the hidden test does not load: %s" % type(e).__name__
    try:
        cand.begin(spec["entry_point"])
        verdict = _check(ns, spec["entry_point"], cand)
    except _Gone:
        return cand.end(1000)
    except _Raised as e:
        verdict = "fail", e.args[0]
    except _Unjudgeable as e:
        verdict = "error", e.args[0]
    cand.end()
    return verdict


def _judge(cand):
    try:
        _nodump()
        refused = None
    except Exception as e:
        refused = "cannot make the judge non-dumpable: %s" % e
    spec = _loads(sys.stdin.buffer.read().decode("utf-8"))
    verdict_fd = os.dup(1)
    nul = os.open(os.devnull, os.O_RDWR)
    os.dup2(nul, 0)
    os.dup2(nul, 1)             # check()'s prints; the verdict alone goes out
    os.close(nul)
    outcome, reason = ("error", refused) if refused else _verdict(spec, cand)
    cand.end()
    line = "\n%s %s\n" % (spec["token"], _text([outcome, reason]))
    os.write(verdict_fd, line.encode())


def _start():
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(req_w)
        os.close(resp_r)
        try:
            _serve(req_r, resp_w)
        finally:
            os._exit(0)
    os.close(req_r)
    os.close(resp_w)
    _judge(_Candidate(pid, req_w, resp_r))


_start()
