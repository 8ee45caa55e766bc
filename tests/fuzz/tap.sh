#!/bin/bash
# Replay a fuzz target's corpus as a regression test, one TAP line per
# input (seeds, and every crash once found and fixed), for tests/run.sh.
#
#   tests/fuzz/tap.sh PROGRAM DIR
#
# PROGRAM is a target built with replay.c; an input passes if it runs to
# the end with status 0: no broken property, no sanitizer report.
set -u
prog=$1 dir=$2
shopt -s nullglob
inputs=("$dir"/*)
if [ ${#inputs[@]} -eq 0 ]; then
	echo "1..0 # SKIP no inputs in $dir"
	exit 0
fi
echo "1..${#inputs[@]}"
n=0
for f in "${inputs[@]}"; do
	n=$((n + 1))
	if out=$(timeout --kill-after=5 60 "$prog" "$f" 2>&1); then
		echo "ok $n - ${f##*/}"
	else
		echo "not ok $n - ${f##*/}"
		sed 's/^/# /' <<<"$out"
	fi
done
