#!/usr/bin/env bats
# mapcp --clean-temps DIR: removes the temporaries a killed mapcp leaves
# (.NAME.mapcp-XXXXXX, regular files), and nothing else.

load helpers

@test "--clean-temps removes exactly the .NAME.mapcp-XXXXXX files" {
	mkdir d
	touch d/.a.mapcp-abc123 d/.b.c.mapcp-XYZ789 d/.a.mapcp-abc12 \
		d/.a.mapcp-abc1234 d/a.mapcp-abc123 d/.mapcp-abc123 \
		d/.a.mapcp-abc12_ d/.a.mapcp-abc12- d/.a.mapcp-ab\ 123 \
		d/keep
	mkdir d/sub && touch d/sub/.x.mapcp-QQQQQQ
	run "$MAPCP" -v --clean-temps d
	[ "$status" -eq 0 ]
	[ "${lines[*]}" = "removed 'd/.a.mapcp-abc123' removed 'd/.b.c.mapcp-XYZ789'" ] ||
		[ "${lines[*]}" = "removed 'd/.b.c.mapcp-XYZ789' removed 'd/.a.mapcp-abc123'" ]
	[ ! -e d/.a.mapcp-abc123 ] && [ ! -e d/.b.c.mapcp-XYZ789 ]
	# Near misses, other names and subdirectories are left alone.
	[ "$(ls -A d | wc -l)" -eq 9 ]
	[ -e d/sub/.x.mapcp-QQQQQQ ]
}

@test "--clean-temps refuses a matching name that is not a regular file" {
	mkdir d d/.dir.mapcp-AAAAAA
	ln -s /etc/passwd d/.link.mapcp-BBBBBB
	mkfifo d/.fifo.mapcp-CCCCCC
	run "$MAPCP" --clean-temps d
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" == *"not removing 'd/.link.mapcp-BBBBBB': not a regular file"* ]]
	[ -d d/.dir.mapcp-AAAAAA ] && [ -L d/.link.mapcp-BBBBBB ] &&
		[ -p d/.fifo.mapcp-CCCCCC ]
	[ -e /etc/passwd ]
}

@test "--clean-temps leaves the temporary of a running copy alone" {
	command -v flock >/dev/null || skip "no flock(1) to hold a lock with"
	mkdir d && touch d/.busy.mapcp-DDDDDD
	# A running mapcp holds a shared lock on its temporary: so do we.
	exec 4<d/.busy.mapcp-DDDDDD
	flock -s 4
	run "$MAPCP" --clean-temps d
	exec 4<&-
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: not removing 'd/.busy.mapcp-DDDDDD': in use by a running copy" ]
	[ -e d/.busy.mapcp-DDDDDD ]
	run "$MAPCP" --clean-temps d
	[ "$status" -eq 0 ]
	[ ! -e d/.busy.mapcp-DDDDDD ]
}

@test "--clean-temps: a missing directory or no operand is an error" {
	run "$MAPCP" --clean-temps nowhere
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot read directory 'nowhere': No such file or directory" ]
	run "$MAPCP" --clean-temps
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: missing directory operand" ]
}

@test "a named temporary is locked while mapcp writes it" {
	command -v flock >/dev/null || skip "no flock(1) to test a lock with"
	local shim=${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/fault-shim.so
	[ -e "$shim" ] || skip "no fault shim at $shim (make fault-tools builds it)"
	mkfifo src
	# O_TMPFILE made to fail: a named temporary; the FIFO keeps it open.
	LD_PRELOAD=$shim MAPCP_FAULT_NOTMPFILE=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		"$MAPCP" src dst &
	exec 5>src
	echo hello >&5
	local tmp i
	for i in $(seq 50); do
		tmp=$(ls -A | grep '^\.dst\.mapcp-' || true)
		[ -n "$tmp" ] && break
		sleep 0.1
	done
	[ -n "$tmp" ]
	run flock -n -x "$tmp" true
	[ "$status" -ne 0 ]
	run "$MAPCP" --clean-temps .
	[ "$status" -eq 1 ]
	exec 5>&-
	wait %1
	[ "$(cat dst)" = hello ]
	[ -z "$(ls -A | grep mapcp- || true)" ]
}
