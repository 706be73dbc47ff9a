#!/usr/bin/env bash
# The process holds API keys: it writes no core file (RLIMIT_CORE = 0) and is
# not dumpable, so even a process of the same user cannot read its memory or
# environment through /proc (checked against a plain process as the control).
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

cat > "$tmp/limits.lua" <<'LUA'
for l in io.lines("/proc/self/limits") do
  if l:find("^Max core file size") then print(l) end
end
os.execute("sleep 1")
LUA
./slmmux run "$tmp/limits.lua" --no-store >"$tmp/out" 2>&1
check "the core file size limit is 0 (soft and hard)" \
  "grep -Eq '^Max core file size +0 +0 ' '$tmp/out'"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  cat > "$tmp/dump.py" <<'PY'
import subprocess, sys, time
def readable(argv):
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        open("/proc/%d/environ" % p.pid, "rb").read()
        ok = True
    except PermissionError:
        ok = False
    p.wait()
    return ok
print("control", readable(["sleep", "1"]))
print("slmmux", readable(sys.argv[1:]))
PY
  setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$tmp/dump.py" \
    "$PWD/slmmux" run "$tmp/limits.lua" --no-store >"$tmp/dump" 2>&1
  check "control: a dumpable process's environment is readable by its user" "grep -qx 'control True' '$tmp/dump'"
  check "slmmux is not dumpable: its environment is not" "grep -qx 'slmmux False' '$tmp/dump'"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
