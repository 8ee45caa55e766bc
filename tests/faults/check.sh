#!/bin/bash
# make check-faults: mapcp under faults, with proof that nothing is lost.
#
#   tests/faults/check.sh BINDIR TESTDIR SANBINDIR
#
# BINDIR holds the -Werror build's mapcp, TESTDIR its test tools (the fault
# shim, the injection driver), SANBINDIR the AddressSanitizer + UBSan build.
# Runs, in order:
#   1. every syscall of the copy path failed at its 1st, 2nd, ... last call
#      (tests/faults/inject.c + shim.c), plus libfiu's random faults;
#   2. the same injection against the sanitized build;
#   3. real faults: full disks, sources changing under the copy, kill -9,
#      concurrent writers (tests/faults/*.bats), and hostile paths
#      (tests/cli/hostile.bats, tests/cli/attacked.bats);
#   4. an attacker (another user) racing mapcp -r, -a, -rL, -j 1, -j 4
#      run as root over trees it can write (tests/faults/attack.c), for
#      ATTACK_RUNS copies (default 250);
#   5. each libFuzzer target for FUZZ_SECONDS (make fuzz);
#   6. the oracle (tests/oracle/oracle.c): mapcp against GNU cp on
#      generated files, in and between XFS, btrfs, ext4 and tmpfs (as
#      root; else in the work directory), a random seed, ORACLE_SECONDS
#      (default 300).
# and ends with the counts: faults injected, runs, outcomes, bytes lost.
# Fails if any run was bad, any byte was lost or any test failed.
set -u
cd "$(dirname "$0")/../.." || exit 1

bin=$(realpath "$1") tools=$(realpath "$2") san=$(realpath "$3")
work=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-faults-XXXXXX")
export MAPCP_TALLY=$work/tally
: >"$MAPCP_TALLY"
# the oracle's filesystems are mounted below $work while it runs
trap '[ -z "${FS_ROOT:-}" ] || remove_filesystems xfs btrfs ext4 tmpfs
	rm -rf "$work"' EXIT
failed=()
start=$SECONDS

step() {
	echo
	echo "== $* ($((SECONDS - start)) s)"
}

step "injection: every call of the copy path, -Werror build"
INJECT_FIU_RUNS=${INJECT_FIU_RUNS:-24} \
	"$tools/inject" "$bin/mapcp" "$tools/fault-shim.so" "$work/plain" ||
	failed+=("injection (plain build)")

step "injection: every call of the copy path, ASan + UBSan build"
ASAN_OPTIONS=detect_leaks=1 \
	"$tools/inject" "$san/mapcp" "$tools/fault-shim.so" "$work/san" ||
	failed+=("injection (sanitized build)")

step "real faults and hostile paths (bats)"
MAPCP_BIN=$bin MAPCP_TESTS=$tools \
	bats --tap tests/faults tests/cli/hostile.bats tests/cli/attacked.bats |
	tee "$work/bats.tap"
notok=$(grep -c '^not ok' "$work/bats.tap")
planned=$(sed -n 's/^1\.\.\([0-9]*\).*/\1/p' "$work/bats.tap" | head -n 1)
results=$(grep -Ec '^(not )?ok ' "$work/bats.tap")
if [ "$notok" -ne 0 ] || [ "${planned:-0}" -ne "$results" ]; then
	failed+=("bats: $notok failed, $results of ${planned:-?} reported")
fi

step "an attacker racing the tree copier"
chmod 755 "$work"
"$tools/attack" "$bin/mapcp" "$work" "${ATTACK_RUNS:-250}" | tee "$work/attack.out"
case ${PIPESTATUS[0]} in
0) ;;
77) echo "(skipped: not root)" ;;
*) failed+=("attacker: changes outside DEST, reads, hangs or crashes") ;;
esac
echo "-- the same against the ASan + UBSan build"
"$tools/attack" "$san/mapcp" "$work" "${ATTACK_SAN_RUNS:-50}" | tee -a "$work/attack.out"
case ${PIPESTATUS[0]} in
0 | 77) ;;
*) failed+=("attacker, sanitized build") ;;
esac

step "fuzzing"
"${MAKE:-make}" --no-print-directory fuzz || failed+=("fuzzing")

step "the oracle: mapcp against GNU cp for ${ORACLE_SECONDS:-300} s"
# make_fs and make_filesystems, as the bats files make them
. tests/cli/helpers.bash
oracle_fs="xfs btrfs ext4 tmpfs"
TMPDIR=$work make_filesystems $oracle_fs
dirs=()
for fs in $oracle_fs; do
	if [ -f "$FS_ROOT/$fs.skip" ]; then
		echo "(skipped $fs: $(cat "$FS_ROOT/$fs.skip"))"
	else
		dirs+=("$FS_ROOT/$fs")
	fi
done
[ "${#dirs[@]}" -gt 0 ] || dirs=("$FS_ROOT")
"$tools/oracle" --seconds "${ORACLE_SECONDS:-300}" "$bin/mapcp" "${dirs[@]}" |
	tee "$work/oracle.out"
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
	failed+=("oracle: $(grep -Eo '[0-9]+ cases, [0-9]+ failed' \
		"$work/oracle.out" | tail -n 1), $(grep -o 'seed [0-9]*' \
		"$work/oracle.out" | head -n 1)")
fi
remove_filesystems $oracle_fs

step "counts"
awk '
	/^fuzz-/ { if (!($1 in fuzz)) forder[nf++] = $1
		   fuzz[$1] = $2; fbad += $6; next }
	{ if (!($1 in runs)) order[n++] = $1
	  runs[$1] += $2; faults[$1] += $3; ok[$1] += $4; clean[$1] += $5;
	  bad[$1] += $6; lost[$1] += $7
	  R += $2; F += $3; O += $4; C += $5; B += $6; L += $7 }
	END {
		printf "%-36s %8s %7s %8s %7s %4s %5s\n", "", "runs",
		       "faults", "complete", "clean", "bad", "lost"
		for (i = 0; i < n; i++) {
			k = order[i]
			printf "%-36s %8d %7d %8d %7d %4d %5d\n", k, runs[k],
			       faults[k], ok[k], clean[k], bad[k], lost[k]
		}
		printf "%-36s %8d %7d %8d %7d %4d %5d\n", "total", R, F, O,
		       C, B, L
		for (i = 0; i < nf; i++)
			printf "%-36s %8d executions\n", forder[i],
			       fuzz[forder[i]]
		printf "\nfaults injected %d, runs %d: %d complete, %d failed " \
		       "cleanly, %d bad; bytes lost %d\n", F, R, O, C, B, L
		exit B != 0 || L != 0 || fbad != 0
	}' "$MAPCP_TALLY" || failed+=("counts: bad runs or bytes lost")
grep '^attack: [0-9]' "$work/attack.out" 2>/dev/null || true
grep -E '^oracle: (seed|[0-9]+ cases)' "$work/oracle.out" 2>/dev/null || true

echo
for f in "${failed[@]}"; do
	echo "FAILED $f"
done
echo "check-faults: $((SECONDS - start)) s, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
