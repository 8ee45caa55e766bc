#!/usr/bin/env bats
# mapcp --clean-temps DIR: removes the temporaries a killed mapcp leaves
# (.NAME.mapcp-XXXXXX, regular files carrying mapcp's mark), and nothing
# else: not a lookalike, not a live temporary, not another user's file in
# a sticky directory.

load helpers

# mark FILE...: give each FILE the mark a mapcp gives its temporaries.
mark() {
	local f
	for f; do
		setfattr -n user.mapcp.temp -v "ino:$(stat -c %i "$f")" "$f"
	done
}

@test "--clean-temps removes exactly the .NAME.mapcp-XXXXXX files" {
	mkdir d
	touch d/.a.mapcp-abc123 d/.b.c.mapcp-XYZ789 d/.a.mapcp-abc12 \
		d/.a.mapcp-abc1234 d/a.mapcp-abc123 d/.mapcp-abc123 \
		d/.a.mapcp-abc12_ d/.a.mapcp-abc12- d/.a.mapcp-ab\ 123 \
		d/keep
	mkdir d/sub && touch d/sub/.x.mapcp-QQQQQQ
	mark d/.a.mapcp-abc123 d/.b.c.mapcp-XYZ789 d/.a.mapcp-abc12 d/keep \
		d/sub/.x.mapcp-QQQQQQ
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
	mkdir d && touch d/.busy.mapcp-DDDDDD && mark d/.busy.mapcp-DDDDDD
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

@test "--clean-temps leaves a lookalike: a name that fits but no mark, or a moved mark" {
	mkdir d
	echo precious >d/.notes.mapcp-ABC123
	echo also >d/.copied.mapcp-XYZ789
	# a mark copied from another file names that file's inode, not this one
	touch other && mark other
	setfattr -n user.mapcp.temp -v "$(getfattr --only-values -n user.mapcp.temp other)" \
		d/.copied.mapcp-XYZ789
	run "$MAPCP" --clean-temps d
	[ "$status" -eq 1 ]
	[[ "$output" == *"mapcp: not removing 'd/.notes.mapcp-ABC123': not marked as a mapcp temporary (no user.mapcp.temp xattr)"* ]]
	[[ "$output" == *"mapcp: not removing 'd/.copied.mapcp-XYZ789': not marked"* ]]
	[ "$(cat d/.notes.mapcp-ABC123)" = precious ]
	[ "$(cat d/.copied.mapcp-XYZ789)" = also ]
}

@test "--clean-temps in a sticky directory removes only the caller's own" {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot make another user's file"
	need_unprivileged
	mkdir -m 1777 tmp
	echo theirs >tmp/.a.mapcp-AAAAAA && chown 65534 tmp/.a.mapcp-AAAAAA
	echo mine >tmp/.b.mapcp-BBBBBB
	mark tmp/.a.mapcp-AAAAAA tmp/.b.mapcp-BBBBBB
	run "$MAPCP" -v --clean-temps tmp
	[ "$status" -eq 1 ]
	[[ "$output" == *"removed 'tmp/.b.mapcp-BBBBBB'"* ]]
	[[ "$output" == *"mapcp: not removing 'tmp/.a.mapcp-AAAAAA': another user's file in a sticky directory"* ]]
	[ -e tmp/.a.mapcp-AAAAAA ] && [ ! -e tmp/.b.mapcp-BBBBBB ]
	# its owner may
	run as_nobody "$MAPCP" --clean-temps tmp
	[ "$status" -eq 0 ]
	[ ! -e tmp/.a.mapcp-AAAAAA ]
}

@test "a killed copy's named temporary is marked and removed; DEST never is" {
	local shim=${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/fault-shim.so
	[ -e "$shim" ] || skip "no fault shim at $shim (make fault-tools builds it)"
	mkfifo src
	echo old >dst
	LD_PRELOAD=$shim MAPCP_FAULT_NOTMPFILE=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		"$MAPCP" src dst &
	local pid=$! tmp i
	exec 5>src
	echo hello >&5
	for i in $(seq 50); do
		tmp=$(ls -A | grep '^\.dst\.mapcp-' || true)
		[ -n "$tmp" ] && break
		sleep 0.1
	done
	[ -n "$tmp" ]
	[ "$(getfattr --only-values -n user.mapcp.temp "$tmp")" = "ino:$(stat -c %i "$tmp")" ]
	kill -9 "$pid"
	wait "$pid" || true
	exec 5>&-
	run "$MAPCP" -v --clean-temps .
	[ "$status" -eq 0 ]
	[ "$output" = "removed './$tmp'" ]
	[ "$(cat dst)" = old ]
	# and a finished copy carries no mark
	echo new >src2
	LD_PRELOAD=$shim MAPCP_FAULT_NOTMPFILE=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		"$MAPCP" src2 dst
	[ "$(cat dst)" = new ]
	! getfattr -n user.mapcp.temp dst 2>/dev/null
	"$MAPCP" -a src2 dst3
	! getfattr -n user.mapcp.temp dst3 2>/dev/null
}

@test "a named temporary is locked before it is marked: no window for --clean-temps" {
	local shim=${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/fault-shim.so
	[ -e "$shim" ] || skip "no fault shim at $shim (make fault-tools builds it)"
	command -v strace >/dev/null || skip "no strace"
	echo data >src
	LD_PRELOAD=$shim MAPCP_FAULT_NOTMPFILE=1 \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0:detect_leaks=0 \
		strace -o trace -e trace=openat,flock,fsetxattr,fremovexattr,rename,renameat,renameat2 \
		"$MAPCP" src dst
	cmp src dst
	# the O_EXCL open, then the shared lock, then the mark, then unmarked
	# just before the rename
	run grep -oE 'O_EXCL|flock\([0-9]+, LOCK_SH\|LOCK_NB\)|fsetxattr|fremovexattr|rename' trace
	[ "$(echo "$output" | tr '\n' ' ' | sed 's/flock([0-9]*,/flock(N,/')" = "O_EXCL flock(N, LOCK_SH|LOCK_NB) fsetxattr fremovexattr rename " ]
}

@test "a source's mark is never copied: DEST is no temporary" {
	echo data >s
	mark s
	"$MAPCP" -a s new
	! getfattr -n user.mapcp.temp new 2>/dev/null
	echo old >.d.mapcp-AAAAAA
	"$MAPCP" --inplace -a s .d.mapcp-AAAAAA
	! getfattr -n user.mapcp.temp .d.mapcp-AAAAAA 2>/dev/null
	run "$MAPCP" --clean-temps .
	[ "$status" -eq 1 ]
	[ "$(cat .d.mapcp-AAAAAA)" = data ]
}
