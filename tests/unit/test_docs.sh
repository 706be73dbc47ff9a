#!/usr/bin/env bash
# No comment or document of the project points outside it: no file of the
# project (README.md, Makefile, data/README.md, .ci/, src/, lua/, recipes/,
# tests/) refers to a sibling checkout, to a design or style document the
# project does not have, or names a project path (recipes/..., lua/...,
# src/..., tests/..., data/...) that does not exist. Globs (src/*/*.c),
# make patterns (src/%.c) and Lua path templates (lua/?.lua) must match
# something. tests/fixtures/ is not scanned: it holds other projects' data
# verbatim, whose paths are theirs. The checker is first shown to catch each
# kind on a planted tree.
set -u
shopt -s globstar   # a make pattern's % spans folders: src/%.c is src/**/*.c
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# Spelled in pieces so that this file does not name them itself.
outside='\.\./shar''ed|DESI''GN\.md|STY''LE\.md'
prefixes='recipes|lua|src|tests|data'

scan() {   # root: prints "file:line: problem" for each bad reference
  local root=$1 files
  # not this file: it names bad references on purpose
  files=$(cd "$root" && for p in README.md Makefile data/README.md .ci src lua recipes tests; do
            [ -e "$p" ] && find "$p" -type f ! -path tests/unit/test_docs.sh \
              ! -path 'tests/fixtures/*'; done | sort)
  [ -n "$files" ] || return 0
  (cd "$root" && grep -nIHoE "$outside" $files) | sed 's/$/: points outside the project/'
  (cd "$root" && grep -nIHoE "(^|[^A-Za-z0-9_./-])($prefixes)/[A-Za-z0-9_./*?%-]*" $files) |
  while IFS= read -r hit; do
    local where=${hit%%:*} rest=${hit#*:}
    local line=${rest%%:*} token=${rest#*:}
    token=${token#"${token%%[a-z]*}"}          # the character before the path
    while [[ "$token" == *. ]]; do token=${token%.}; done   # a sentence's full stop
    if [[ "$token" == *[*?%]* ]]; then
      local glob=${token//\%/**\/*}; glob=${glob//\?/*}
      compgen -G "$root/$glob" >/dev/null && continue
    else
      [ -e "$root/$token" ] && continue
    fi
    echo "$where:$line: $token does not exist"
  done
}

check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; cat "$tmp/out"; fi; }

# The planted tree: one good reference of each kind, one bad.
t=$tmp/tree
mkdir -p "$t/src/base" "$t/lua/slmmux" "$t/tests/unit" "$t/recipes" "$t/data"
touch "$t/src/base/loop.c" "$t/lua/slmmux/init.lua" "$t/recipes/math.lua" "$t/data/README.md"
{
  echo "good: src/base/loop.c, lua/slmmux/init.lua. recipes/math.lua: and src/*/*.c, src/%.c, lua/?/init.lua"
  echo "good: ../src/base/loop.c and https://example.org/src/none.c are not project paths"
} >"$t/README.md"
printf '%s\n' "-- see rec""ipes/search.lua" >"$t/recipes/math.lua"
printf '%s\n' "/* as DESI""GN.md says */" "/* and s""rc/lmux*.c */" >"$t/src/base/loop.c"
printf '%s\n' "load('../shar""ed/data/x.json')" "# tests/unit/*.lua" >"$t/tests/unit/test_x.sh"
printf '%s\n' "STY""LE.md: ok" >"$t/data/README.md"
scan "$t" >"$tmp/out"
check "a missing recipe is named with file and line" "grep -qx 'recipes/math.lua:1: recipes/search.lua does not exist' '$tmp/out'"
check "a design document the project lacks is caught" "grep -qx 'src/base/loop.c:1:DESI""GN.md: points outside the project' '$tmp/out'"
check "a glob that matches nothing is caught" "grep -qx 'src/base/loop.c:2: src/lmux\*.c does not exist' '$tmp/out'"
check "a sibling checkout is caught" "grep -q '^tests/unit/test_x.sh:1:\.\./shar''ed: points outside' '$tmp/out'"
check "a style document is caught in data/README.md" "grep -q '^data/README.md:1:STY''LE.md' '$tmp/out'"
check "a glob that matches nothing in tests/ is caught" "grep -qx 'tests/unit/test_x.sh:2: tests/unit/\*.lua does not exist' '$tmp/out'"
check "good references, URLs and relative paths are not reported" "! grep -q '^README.md' '$tmp/out' && [ \$(wc -l <'$tmp/out') = 6 ]"

scan . >"$tmp/out"
check "every reference in the project points inside it, at something that exists" "[ ! -s '$tmp/out' ]"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
