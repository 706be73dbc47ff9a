#!/bin/sh
# mutation.sh: proof that each security test guards something. For every
# protection, rebuild the sandbox without it (-DSANDBOX_WEAKEN=bits, see
# src/sandbox/internal.h) and run the tests that name it: they must FAIL. Then the
# intact build must pass them. Where one protection backs up another (the
# memfd/shm refusal without a memory cgroup), the fallbacks list removes only
# the upper one and the test must still pass. Exit status 0 only if every
# mutant was caught and every fallback held. The HumanEval verdict's own
# protections (driver.py, the task) are mutated the same way, by line.
# Run from the repository root after `make build/libslmmux.a` (make mutation).
set -u
CC=${CC:-cc}
CFLAGS="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror"
out=build/mutation
mkdir -p "$out"

# bits            tests that must fail without it
mutants='
0x2010 fork_bomb_bounded
0x2020 fork_bomb_bounded
0x040 infinite_loop_timeout
0x080 cpu_limit
0x008 alloc_10gb
0x800 mem_forked
0x1800 shm_1gb
0x1800 memfd_2gb
0x400 write_outside
0x400 read_secret
0x003 socket_loopback
0x002 socket_denied_by_seccomp
0x001 netns_only_lo
0x004 env_secret
0x420 proc_environ
0x200 daemon_outlives
0x100 output_100mb
'
# bits            tests that must still pass without it: the other layer holds
# (no memory cgroup: memfd and SysV shm are refused instead; no RLIMIT_NPROC
# or no per-run uid: the pids cgroup), where the isolation has that layer
fallbacks='
0x800 shm_1gb refused
0x800 memfd_2gb refused
0x010 fork_bomb_bounded pids.max
0x020 fork_bomb_bounded pids.max
'
names='0x001=net-namespace 0x002=seccomp 0x003=net-namespace+seccomp 0x004=clean-env
0x008=RLIMIT_AS 0x010=RLIMIT_NPROC 0x020=per-run-uid 0x040=wall-timer 0x080=RLIMIT_CPU
0x100=output-cap 0x200=pid-ns+group-kill+uid-sweep 0x400=bwrap(mount-ns) 0x420=bwrap+per-run-uid
0x800=memory-cgroup 0x1800=memory-cgroup+memfd/shm-refusal 0x2010=RLIMIT_NPROC+pids-cgroup
0x2020=per-run-uid+pids-cgroup'

# The HumanEval verdict's protections live in Lua and Python, not in C: a
# mutant is a copy of lua/ with one line changed (a sed expression), used as
# SLMMUX_HOME by tests/security/test_humaneval_verdict.lua's case, which must
# then fail (the hostile candidate passes).
# name case file (under lua/slmmux/) sed expression
harness='
judge-non-dumpable test_forge tasks/humaneval/driver.py s/^        _nodump()$/        pass/
check-outside-the-candidate frame_token tasks/humaneval/driver.py s/^        ns\["check"\](cand.call)$/        exec(compile(open("prog.py").read(), "prog.py", "exec"), ns); ns["check"](ns[entry])/
check-outside-the-candidate always_equal tasks/humaneval/driver.py s/^        ns\["check"\](cand.call)$/        exec(compile(open("prog.py").read(), "prog.py", "exec"), ns); ns["check"](ns[entry])/
test-only-on-stdin test_forge tasks/humaneval/init.lua s/\["prog.py"\] = t.source(code, p)}/["prog.py"] = t.source(code, p), ["test.py"] = p.test}/
verdict-alone-on-stdout print_64k tasks/humaneval/driver.py s/^    os.dup2(2, 1) .*/    pass/
cpu-kill-label cpu_limit_timeout tasks/humaneval/driver.py s/^        if sig == SIGXCPU or /        if False and /
flood-label flood_truncated tasks/humaneval/init.lua s/^  if r.limit == "output" then/  if false then/
memory-label memory_limit_crash tasks/humaneval/init.lua s/^  if r.limit == "memory" or .* then$/  if false then/
'

build() { # bits -> binary path
    bin=$out/test_sandbox_security_$1
    objs=""
    for src in src/sandbox/*.c; do
        o=$out/$(basename "$src" .c)_$1.o
        $CC $CFLAGS -DSANDBOX_WEAKEN=$1 -Isrc -c "$src" -o "$o" || return 1
        objs="$objs $o"
    done
    $CC $CFLAGS -Isrc -Itests/unit -o $bin tests/security/test_sandbox_security.c \
        $objs build/base/loop.o build/base/buf.o build/base/oom.o -lm && echo $bin
}

rm -f "$out/tally"
intact=$(build 0) || exit 1
echo "$mutants" | while read -r bits test; do
    [ -n "$bits" ] || continue
    what=$(echo "$names" | tr ' ' '\n' | sed -n "s/^$bits=//p")
    if [ "$bits" = 0x020 ] || [ "$bits" = 0x420 ] || [ "$bits" = 0x2020 ]; then
        if [ "$(id -u)" != 0 ]; then echo "skip  $test without $what (only meaningful as root)"; continue; fi
    fi
    bin=$(build "$bits") || { echo "BUILD FAILED for $bits"; exit 1; }
    if "$bin" "$test" >"$out/$bits-$test.log" 2>&1; then
        echo "MISSED  $test still passes without $what   (log: $out/$bits-$test.log)"
        echo missed >>"$out/tally"
    else
        echo "caught  $test fails without $what: $(grep -m1 'check failed' "$out/$bits-$test.log" | cut -c1-150)"
        echo caught >>"$out/tally"
    fi
    if "$intact" "$test" >"$out/0-$test.log" 2>&1; then :; else
        echo "BROKEN  $test fails on the intact build (log: $out/0-$test.log)"
        echo missed >>"$out/tally"
    fi
done
echo "$fallbacks" | while read -r bits test layer; do
    [ -n "$bits" ] || continue
    what=$(echo "$names" | tr ' ' '\n' | sed -n "s/^$bits=//p")
    if [ "$bits" = 0x020 ] && [ "$(id -u)" != 0 ]; then echo "skip  $test without $what (only meaningful as root)"; continue; fi
    bin=$(build "$bits") || { echo "BUILD FAILED for $bits"; exit 1; }
    if ! "$bin" --isolation | grep -q "$layer"; then
        echo "skip  $test without $what: no '$layer' here ($("$bin" --isolation | cut -c1-100)...)"
        continue
    fi
    if "$bin" "$test" >"$out/$bits-$test.log" 2>&1; then
        echo "holds   $test still passes without $what: $(grep -m1 "^$test:" "$out/$bits-$test.log" | cut -c1-150)"
        echo caught >>"$out/tally"
    else
        echo "BROKEN  $test fails without $what, the layer beneath should hold (log: $out/$bits-$test.log)"
        echo missed >>"$out/tally"
    fi
done
${MAKE:-make} -s --no-print-directory slmmux || exit 1
printf "%s\n" "$harness" | while read -r what test file expr; do
    [ -n "$what" ] || continue
    home=$out/home-$what-$test
    rm -rf "$home" && mkdir -p "$home" && cp -R lua "$home/" || exit 1
    sed -i "$expr" "$home/lua/slmmux/$file"
    log=$out/$what-$test.log
    if cmp -s "lua/slmmux/$file" "$home/lua/slmmux/$file"; then
        echo "BROKEN  the mutant $what changes nothing in $file (sed: $expr)"
        echo missed >>"$out/tally"
    elif SLMMUX_HOME=$PWD/$home SLMMUX_TEST_ONLY=$test ./slmmux run tests/security/test_humaneval_verdict.lua \
            --no-store >"$log" 2>&1; then
        echo "MISSED  $test still passes without $what   (log: $log)"
        echo missed >>"$out/tally"
    else
        echo "caught  $test fails without $what: $(grep -m1 FAILED "$log" | cut -c1-150)"
        echo caught >>"$out/tally"
    fi
    rm -rf "$home"
done
c=$(grep -c caught "$out/tally" 2>/dev/null) || true
m=$(grep -c missed "$out/tally" 2>/dev/null) || true
: "${c:=0}" "${m:=0}"
rm -f "$out/tally"
echo "mutants caught and fallbacks held: $c, missed or broken: $m"
[ "$m" = 0 ]
