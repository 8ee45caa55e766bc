#!/usr/bin/env bats
# Never lose data: a copy that fails midway or meets a source that changes
# size leaves DEST exactly as it was and no temporary behind.

load helpers

# old_dest: a DEST with known bytes, and a reference copy of them.
old_dest() {
	random_file dst 7000
	cp dst dst.ref
}

@test "a copy failing after N bytes leaves DEST untouched and no temporary" {
	random_file src $((3 * 1024 * 1024))
	old_dest
	before=$(entries)
	for n in 0 1 65536 $((3 * 1024 * 1024 - 1)); do
		MAPCP_FAIL=EIO:$n run "$MAPCP_HOOKS" -e fail src dst
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: error writing 'dst': Input/output error" ]
		cmp dst dst.ref
		[ "$(entries)" -eq "$before" ]
	done
	MAPCP_FAIL=ENOSPC:4096 run "$MAPCP_HOOKS" -e fail src dst
	[ "$output" = "mapcp: error writing 'dst': No space left on device" ]
	cmp dst dst.ref
	[ "$(entries)" -eq "$before" ]
}

@test "a failed copy to a new DEST leaves nothing" {
	random_file src 100000
	MAPCP_FAIL=EIO:50000 run "$MAPCP_HOOKS" -e fail src new
	[ "$status" -eq 1 ]
	[ ! -e new ]
	[ "$(entries)" -eq 1 ]
}

# change_during_copy ENGINE CHANGE: pause after the first window, change
# the source with the shell command CHANGE, then let the copy go on.
change_during_copy() {
	random_file src $((1024 * 1024))
	old_dest
	mkfifo ctl
	"$MAPCP" -e "$1" --window=64K --pause src dst <ctl >out 2>err &
	pid=$!
	exec 7>ctl
	wait_for out "Press ENTER"
	eval "$2"
	echo >&7
	exec 7>&-
	status=0
	wait "$pid" || status=$?
}

@test "a source that shrinks under the mmap engines: error, DEST untouched" {
	for e in mmap mmap-write; do
		rm -f src dst dst.ref ctl out err
		change_during_copy "$e" "truncate -s 100K src"
		[ "$status" -eq 1 ]
		[ "$(cat err)" = "mapcp: 'src' changed size during the copy (1048576 bytes when opened, 102400 now)" ]
		cmp dst dst.ref
		[ "$(entries)" -eq 6 ] # src dst dst.ref ctl out err
	done
}

@test "a source that shrinks inside the window being copied: no SIGBUS" {
	change_during_copy mmap "truncate -s 1000 src"
	[ "$status" -eq 1 ]
	[[ "$(cat err)" == "mapcp: 'src' changed size during the copy"* ]]
	cmp dst dst.ref
}

@test "a source that grows under the copy is noticed" {
	for e in mmap mmap-write; do
		rm -f src dst dst.ref ctl out err
		change_during_copy "$e" "head -c 5000 /dev/urandom >>src"
		[ "$status" -eq 1 ]
		[ "$(cat err)" = "mapcp: 'src' changed size during the copy (1048576 bytes when opened, 1053576 now)" ]
		cmp dst dst.ref
	done
}

@test "a source written over in place under the copy (same size) is noticed" {
	for e in mmap mmap-write; do
		rm -f src dst dst.ref ctl out err
		change_during_copy "$e" "head -c 4096 /dev/urandom | dd of=src bs=4096 seek=200 conv=notrunc status=none"
		[ "$status" -eq 1 ]
		[ "$(cat err)" = "mapcp: 'src' changed during the copy (written to while being read)" ]
		cmp dst dst.ref
		[ "$(entries)" -eq 6 ] # src dst dst.ref ctl out err
	done
}

@test "non-mappable sources are streamed through rw, whatever the engine" {
	run "$MAPCP" --debug -e mmap /proc/self/status st
	[ "$status" -eq 0 ]
	[[ "$output" == *"engine rw (stream: the source is a /proc or /sys file"* ]]
	[ "$(head -c 5 st)" = "Name:" ]
	mkfifo fifo
	(head -c 300000 /dev/urandom | tee sent >fifo &)
	run "$MAPCP" --debug -e copy_file_range fifo got
	[ "$status" -eq 0 ]
	[[ "$output" == *"engine rw (stream: the source is a FIFO)"* ]]
	cmp sent got
	run "$MAPCP" /dev/null empty
	[ "$status" -eq 0 ]
	[ -f empty ] && [ ! -s empty ]
}

@test "a special DEST is written, not replaced" {
	random_file a 10000
	run "$MAPCP" a /dev/null
	[ "$status" -eq 0 ]
	[ -c /dev/null ]
	mkfifo fifo
	cat fifo >got &
	run "$MAPCP" -e mmap a fifo
	[ "$status" -eq 0 ]
	wait
	cmp a got
	[ -p fifo ]
}
