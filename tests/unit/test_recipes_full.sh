#!/usr/bin/env bash
# Every recipe scores its whole benchmark by default: none holds problems
# out of the evaluation for tie-breaks (validation = N or {limit = N} take
# records of the evaluated data) and none caps the problems (limit = N);
# tie-break accuracies come from the task's disjoint validation source, or
# the recipe says it needs none (validation = false). --limit is the user's.
set -u
cd "$(dirname "$0")/../.."
pass=0 fail=0
for r in recipes/*.lua; do
  bad=$(grep -nE '^[^-]*\b(validation[[:space:]]*=[[:space:]]*(\{[^}]*limit|[0-9])|limit[[:space:]]*=[[:space:]]*[0-9])' "$r")
  if [ -z "$bad" ]; then pass=$((pass + 1)); echo "ok   $r scores the whole benchmark"
  else fail=$((fail + 1)); echo "FAIL $r holds out or caps problems: $bad"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
