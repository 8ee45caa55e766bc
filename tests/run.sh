#!/bin/bash
# Run mapcp's tests against one or more builds and end with one line:
# "N passed, N failed, N skipped".
#
#   tests/run.sh LABEL BINDIR TESTDIR [LABEL BINDIR TESTDIR]...
#
# BINDIR holds mapcp and mmap_cp, TESTDIR the cmocka programs, the fuzz
# targets built to replay their corpora (tests/fuzz/) and the sparsecmp
# tool. Every program runs under a timeout and speaks TAP; a program that
# dies before reporting all it planned counts as a failure.
set -u
cd "$(dirname "$0")/.." || exit 1

passed=0 failed=0 skipped=0
failures=()
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

# Sanitizer reports must never look like an expected "exit 1".
export ASAN_OPTIONS=exitcode=86:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=exitcode=87:print_stacktrace=1:halt_on_error=1

# run_tap LABEL NAME COMMAND...: run one TAP producer and count its results.
run_tap() {
	local label=$1 name=$2 log="$log_dir/out" rc planned results
	shift 2
	echo "== $label: $name"
	timeout --kill-after=10 1200 "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	local ok notok skip
	ok=$(grep -Ec '^ok ' "$log")
	skip=$(grep -Eic '^ok .*# skip' "$log")
	notok=$(grep -Ec '^not ok ' "$log")
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$log" | head -n 1)
	results=$((ok + notok))
	passed=$((passed + ok - skip))
	skipped=$((skipped + skip))
	failed=$((failed + notok))
	if [ "$notok" -gt 0 ]; then
		failures+=("$label: $name: $(grep -E '^not ok ' "$log" | tr '\n' ' ')")
	fi
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		failed=$((failed + 1))
		failures+=("$label: $name exited with status $rc")
	elif [ -n "$planned" ] && [ "$results" -lt "$planned" ]; then
		failed=$((failed + 1))
		failures+=("$label: $name reported $results of $planned tests")
	fi
}

while [ $# -ge 3 ]; do
	label=$1 bin=$(realpath "$2") tests=$(realpath "$3")
	shift 3
	for t in "$tests"/test_*; do
		case $t in *.d) continue ;; esac
		CMOCKA_MESSAGE_OUTPUT=TAP run_tap "$label" "$(basename "$t")" "$t"
	done
	# Fuzz targets, replayed over their corpora: one result per input.
	for t in "$tests"/fuzz_*; do
		case $t in *.d) continue ;; esac
		[ -x "$t" ] || continue
		name=$(basename "$t")
		run_tap "$label" "$name corpus" tests/fuzz/tap.sh "$t" \
			"tests/fuzz/corpus/${name#fuzz_}"
	done
	MAPCP_BIN=$bin MAPCP_TESTS=$tests \
		run_tap "$label" "cli (bats)" bats --tap tests/cli
done

echo
for f in "${failures[@]}"; do
	echo "FAILED $f"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
