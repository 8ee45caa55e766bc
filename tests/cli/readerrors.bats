#!/usr/bin/env bats
# What mapcp blames when a copy fails: failing media (a read that returns
# EIO) is an I/O error under every engine, the mmap ones included, never
# "changed during the copy"; under --verify, a source rewritten or cut
# short during the read-back is a changed source, never an I/O error or a
# DEST that "read back differs". The misbehaving files come from
# tests/support/eiofs.c, a FUSE filesystem.

load helpers

# (not copy_file_range alone: it cannot copy across filesystems at all)
ENGINES="auto rw mmap mmap-write io_uring sendfile splice"
MiB=1048576

# mount_eiofs: eiofs on ./fs, 8 MiB files failing reads from 4 MiB on; or
# skip saying why.
mount_eiofs() {
	local eiofs=${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/eiofs i
	[ -x "$eiofs" ] || skip "no $eiofs (make unit-tests builds it)"
	[ -e /dev/fuse ] || skip "no /dev/fuse: this kernel or container has no FUSE"
	mkdir fs
	env "$eiofs" "$T/fs" $((8 * MiB)) $((4 * MiB)) 2>"$T/eiofs.err" &
	for i in $(seq 50); do
		[ -e fs/eio ] && return 0
		sleep 0.1
	done
	skip "cannot mount a FUSE filesystem here: $(cat "$T/eiofs.err")"
}

teardown() {
	cd /
	mountpoint -q "$T/fs" && umount "$T/fs"
	rm -rf "$T"
}

@test "a read error is an I/O error under every engine, as cp says it" {
	mount_eiofs
	run cp fs/eio cp-out
	[ "$status" -eq 1 ]
	[ "$output" = "cp: error reading 'fs/eio': Input/output error" ]
	for e in $ENGINES; do
		run "$MAPCP" -e "$e" fs/eio "out-$e"
		[ "$status" -eq 1 ]
		# one line, naming the read (or the in-kernel copy) and EIO
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "mapcp: error reading 'fs/eio': Input/output error" ||
			"$output" == "mapcp: error copying 'fs/eio' to 'out-$e': Input/output error" ]]
		[ ! -e "out-$e" ]
		# an existing DEST stays as it was
		echo old >"old-$e"
		run "$MAPCP" -e "$e" fs/eio "old-$e"
		[ "$status" -eq 1 ]
		[[ "$output" == *"Input/output error" ]]
		[ "$(cat "old-$e")" = old ]
	done
	# mmap_cp, the exercise's interface, says the same
	run "$MMAP_CP" fs/eio out-mmap_cp
	[ "$status" -eq 1 ]
	[[ "$output" == *"'fs/eio': Input/output error" ]]
}

@test "--verify: a source rewritten in place during the read-back is a changed source" {
	mount_eiofs
	echo old >dst
	run "$MAPCP" -e rw --verify fs/shifty dst
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'fs/shifty' changed during the copy (written to while being read)" ]
	[ "$(cat dst)" = old ]
	[ -z "$(ls -A | grep mapcp- || true)" ]
}

@test "--verify: a source cut short during the read-back is a changed size, not EIO" {
	mount_eiofs
	run "$MAPCP" -e rw --verify fs/shrinky dst
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'fs/shrinky' changed size during the copy ($((8 * MiB)) bytes when opened, $((4 * MiB)) now)" ]
	[ ! -e dst ]
}

@test "--verify: a DEST that reads back wrong is still blamed on DEST" {
	random_file src 300000
	MAPCP_FAIL=FLIP:1000 run "$MAPCP_HOOKS" -e fail --verify src dst
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'dst' read back differs from 'src' (xxh3-128): the copy was discarded" ]
	[ ! -e dst ]
}
