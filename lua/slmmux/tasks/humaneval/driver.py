# The driver of a HumanEval test run (slmmux.tasks.humaneval): reads the
# run's token from stdin before the program runs, runs prog.py (the program,
# the hidden test, the call of check) with its output sent to /dev/null, and
# prints the token only if that returned: a program that exits early never
# prints it.
import sys, os

def _main():
    token = sys.stdin.readline().strip()
    real = sys.stdout
    sys.stdout = open(os.devnull, "w")
    with open("prog.py") as f:
        src = f.read()
    exec(compile(src, "prog.py", "exec"), {"__name__": "__candidate__"})
    real.write("\n" + token + "\n")
    real.flush()

_main()
