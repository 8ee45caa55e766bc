#!/usr/bin/env bats
# The oracle (tests/oracle/oracle.c): mapcp's single-file copies against
# GNU cp run on the same generated input, every engine, sparse mode, DEST
# state, in and between XFS (reflink), btrfs, ext4 and tmpfs made fresh
# for this file when running as root. Without root or a mkfs tool it runs
# in $BATS_TEST_TMPDIR only, and the case below says what was skipped.
# A failure prints the command that replays it.

load helpers

FILESYSTEMS="xfs btrfs ext4 tmpfs"
# A fixed seed: the same cases in every run, so a failure is a change.
ORACLE_SEED=${ORACLE_SEED:-1}
ORACLE_CASES=${ORACLE_CASES:-300}

setup_file() {
	local fs dev
	make_filesystems $FILESYSTEMS
	# Read ahead 2.5 MiB, not make_fs's 8 MiB (filesystems.bats has
	# those): the page cache's large folios come in other sizes, and the
	# mmap engines must keep holes at their edges too (regressions).
	for fs in xfs ext4; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		dev=$(findmnt -no SOURCE "$FS_ROOT/$fs") &&
			blockdev --setra 5120 "$dev" || true
	done
}

teardown_file() {
	remove_filesystems $FILESYSTEMS
}

ORACLE() { "${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/oracle" "$@"; }

# oracle_dirs: DIRS, the filesystems made, else $BATS_TEST_TMPDIR.
oracle_dirs() {
	local fs
	DIRS=()
	for fs in $FILESYSTEMS; do
		[ -f "$FS_ROOT/$fs.skip" ] || DIRS+=("$FS_ROOT/$fs")
	done
	[ "${#DIRS[@]}" -gt 0 ] || DIRS=("$BATS_TEST_TMPDIR")
}

@test "oracle: the filesystems it runs on" {
	local fs why=
	for fs in $FILESYSTEMS; do
		[ -f "$FS_ROOT/$fs.skip" ] && why="$why${why:+; }$fs: $(cat "$FS_ROOT/$fs.skip")"
	done
	[ -z "$why" ] || skip "oracle without $why (runs on what is left, or in \$BATS_TEST_TMPDIR)"
}

@test "oracle: $ORACLE_CASES cases of seed $ORACLE_SEED, mapcp against cp" {
	oracle_dirs
	run ORACLE --seed "$ORACLE_SEED" --cases "$ORACLE_CASES" "$MAPCP" "${DIRS[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"oracle: $ORACLE_CASES cases, 0 failed"* ]]
}

@test "oracle: every case that once failed (tests/oracle/regressions)" {
	oracle_dirs
	run ORACLE --regressions "$BATS_TEST_DIRNAME/../oracle/regressions" \
		"$MAPCP" "${DIRS[@]}"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *" cases, 0 failed"* ]]
}
