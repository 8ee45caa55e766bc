#!/bin/bash
# make fuzz: build each fuzz target with clang, libFuzzer, ASan and UBSan
# (in build/fuzz/), then fuzz each for FUZZ_SECONDS (default 25) on a
# corpus seeded from tests/fuzz/corpus/NAME and kept in build/fuzz/corpus,
# with the dictionary tests/fuzz/NAME.dict if there is one.
#
#   tests/fuzz/run.sh NAME...
#
# One line per target; with $MAPCP_TALLY set, also one line there:
# "fuzz-NAME RUNS 0 RUNS 0 BAD 0", BAD 1 if it crashed. Exits 1 if any
# target crashed (or broke a property), saying where the input is: copy it
# to tests/fuzz/corpus/NAME/crash-WHAT once fixed, and make test replays it.
set -u
cd "$(dirname "$0")/../.." || exit 1

out=${FUZZ_OUT:-build/fuzz}
seconds=${FUZZ_SECONDS:-25}
[ $# -gt 0 ] || set -- bench cli engines extents preserve size temps window

mkdir -p "$out" || exit 1
bins=()
for name; do
	bins+=("$out/obj/tests/fuzz_$name")
done
# The Makefile's own rules, with libFuzzer's main() instead of replay.c's.
make --no-print-directory CC=clang CFLAGS='-O1 -g -Wall -Wextra' \
	SANITIZE=fuzzer-no-link,address,undefined LDFLAGS=-fsanitize=fuzzer \
	FUZZ_MAIN= O="$out/obj" B="$out/obj" "${bins[@]}" >"$out/build.log" 2>&1
status=$?
if [ "$status" -ne 0 ]; then
	cat "$out/build.log"
	echo "fuzz: the build failed" >&2
	exit 1
fi

# Sanitizer reports must end the run: libFuzzer saves the input then.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

crashed=0
for name; do
	corpus=$out/corpus/$name crashes=$out/crashes/$name log=$out/$name.log
	mkdir -p "$corpus" "$crashes"
	cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
	dict=()
	[ ! -f "tests/fuzz/$name.dict" ] || dict=(-dict="tests/fuzz/$name.dict")
	"$out/obj/tests/fuzz_$name" -max_total_time="$seconds" -timeout=20 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" \
		"$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n \
		's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" |
		tail -n 1)
	[ -n "$runs" ] || runs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" |
		tail -n 1)
	runs=${runs:-0}
	input=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
		tail -n 1)
	bad=0
	if [ "$rc" -ne 0 ] || [ -n "$input" ]; then
		bad=1 crashed=1
		grep -E 'property broken|ERROR|SUMMARY|runtime error' "$log" |
			head -n 5
		echo "fuzz-$name: FAILED after $runs runs (status $rc)," \
			"input: ${input:-none saved}, log: $log"
		[ -z "$input" ] || echo "  replay: $out/obj/tests/fuzz_$name $input"
	else
		echo "fuzz-$name: $runs runs in ${seconds}s, no crash" \
			"(corpus: $(find "$corpus" -type f | wc -l) inputs)"
	fi
	if [ -n "${MAPCP_TALLY:-}" ]; then
		echo "fuzz-$name $runs 0 $runs 0 $bad 0" >>"$MAPCP_TALLY"
	fi
done
exit "$crashed"
