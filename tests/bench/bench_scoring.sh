#!/usr/bin/env bash
# bench_scoring: the SLM-MUX reference's extraction and scoring (compat =
# "reference": first \boxed, normalised string equality; the last number
# after "####") against slmmux's (last \boxed and MATH equivalence; GSM8K
# numbers compared as numbers) on the worked solutions of MATH-500 and of
# the GSM8K 500 subset, and the answers each accepts across problems
# (tests/bench/bench_scoring.lua). Figures only.
set -eu
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
[ -n "${NO_MAKE:-}" ] || make -s slmmux
./slmmux run tests/bench/bench_scoring.lua --no-store
