#!/usr/bin/env bats
# Where DEST cannot be replaced by a rename, mapcp writes it in place as cp
# does and says why on one line (or, with --atomic, refuses and leaves it
# as it was); where DEST is one of /proc's links to an open file
# (/dev/stdout, /dev/fd/N), it writes what that link opens.

load helpers

# A bind mount made by a case goes, whatever the case's outcome.
teardown() {
	cd /
	mountpoint -q "$T/inner" && umount "$T/inner"
	rm -rf "$T"
}

# need_root: skip, saying why, unless running as root.
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot make other users' files"
	need_unprivileged
}

@test "DEST in a directory we cannot write: written in place, and said" {
	need_root
	random_file src 300000
	chmod 644 src
	mkdir nd && echo old >nd/config && chmod 666 nd/config
	chown 65534 nd && chmod 555 nd
	run as_nobody "$MAPCP" --atomic src nd/config
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot replace 'nd/config' atomically: its directory is not writable, so no temporary can be made there (--atomic)" ]
	[ "$(cat nd/config)" = old ]
	run as_nobody "$MAPCP" src nd/config
	[ "$status" -eq 0 ]
	[ "$output" = "mapcp: 'nd/config' written in place, not replaced atomically: its directory is not writable, so no temporary can be made there" ]
	cmp src nd/config
	[ "$(stat -c %u nd/config)" = 0 ] # the same inode, still root's
	[ "$(ls -A nd)" = config ]
	# cp agrees on the outcome
	echo old >nd/config
	as_nobody cp src nd/config && cmp src nd/config
	# --debug says it too
	run as_nobody "$MAPCP" --debug src nd/config
	[[ "${lines[0]}" == *"; written in place (its directory is not writable, so no temporary can be made there)" ]]
}

@test "another user's file in a sticky directory: written in place, and said" {
	need_root
	random_file src 70000
	chmod 644 src
	mkdir -m 1777 sticky
	echo old >sticky/theirs && chmod 666 sticky/theirs
	chown 65534 sticky/theirs
	# daemon (uid 1) owns neither the file nor the directory
	run setpriv --reuid=1 --regid=1 --clear-groups "$MAPCP" --atomic src sticky/theirs
	[ "$status" -eq 1 ]
	[[ "$output" == *"its directory is sticky and it belongs to another user, so it cannot be replaced (--atomic)" ]]
	[ "$(cat sticky/theirs)" = old ]
	run setpriv --reuid=1 --regid=1 --clear-groups "$MAPCP" src sticky/theirs
	[ "$status" -eq 0 ]
	[[ "$output" == *"'sticky/theirs' written in place, not replaced atomically: its directory is sticky"* ]]
	cmp src sticky/theirs
	[ "$(stat -c %u sticky/theirs)" = 65534 ]
	[ "$(ls -A sticky)" = theirs ]
	# the owner itself replaces it atomically, silently
	run as_nobody "$MAPCP" src sticky/theirs
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a bind-mounted file (a container's resolv.conf): written in place, and said" {
	need_root
	random_file src 5000
	echo old >outer
	: >inner
	mount --bind outer inner || skip "cannot bind-mount a file here"
	run "$MAPCP" --atomic src inner
	[ "$status" -eq 1 ]
	[[ "$output" == *"'inner' atomically: it is a mount point (a bind-mounted file), which cannot be replaced (--atomic)" ]]
	[ "$(cat outer)" = old ]
	run "$MAPCP" src inner
	[ "$status" -eq 0 ]
	[[ "$output" == *"'inner' written in place, not replaced atomically: it is a mount point"* ]]
	umount inner
	cmp src outer
}

@test "a writable DEST that can be replaced is replaced atomically, with nothing said" {
	random_file src 5000
	echo old >dst
	ino=$(stat -c %i dst)
	run "$MAPCP" src dst
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(stat -c %i dst)" != "$ino" ]
	cmp src dst
}

@test "/dev/stdout, /dev/fd/1 and /proc/self/fd/1 into a pipe" {
	random_file src 200000
	for d in /dev/stdout /dev/fd/1 /proc/self/fd/1; do
		for e in auto rw mmap splice; do
			run bash -c '"$0" -e "$1" src "$2" | cat >out' "$MAPCP" "$e" "$d"
			[ "$status" -eq 0 ]
			[ -z "$output" ]
			cmp src out
		done
	done
}

@test "/dev/fd/N of a regular file: the file it opens is written, whole" {
	random_file src 300000
	head -c 1000000 /dev/urandom >big
	run bash -c '"$0" src /dev/fd/5 5>>big' "$MAPCP"
	[ "$status" -eq 0 ]
	cmp src big # truncated to the source's size, as cp does
	run bash -c '"$0" src /dev/stdout >same; "$0" same /dev/stdout >>same' "$MAPCP"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'same' and '/dev/stdout' are the same file" ]
	cmp src same
	# a closed descriptor is no file to make
	run "$MAPCP" src /dev/fd/9
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot create regular file '/dev/fd/9': No such file or directory" ]
}

@test "--inplace writes the DEST it looked at: swapped for a symlink since, it is left alone" {
	local shim=${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/fault-shim.so
	[ -e "$shim" ] || skip "no fault shim at $shim (make fault-tools builds it)"
	random_file src 5000
	echo old >dst
	echo secret >victim
	LD_PRELOAD=$shim MAPCP_FAULT_SWAP=dst:$T/victim \
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
		run "$MAPCP" --inplace src dst
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'dst' was replaced by something else during the copy: left as it is" ]
	[ "$(cat victim)" = secret ]
	[ -L dst ]
}

@test "--inplace and an engine that cannot copy here: DEST as it was, no new file" {
	[ "$(stat -f -c %T .)" != btrfs ] && [ "$(stat -f -c %T .)" != xfs ] ||
		skip "this filesystem can share blocks: -e reflink would copy"
	random_file src 300000
	echo important >dst
	run "$MAPCP" -e reflink --inplace src dst
	[ "$status" -eq 1 ]
	[[ "$output" == "mapcp: failed to clone 'dst' from 'src': Operation not supported"* ]]
	[ "$(cat dst)" = important ]
	run "$MAPCP" -e reflink --inplace src new
	[ "$status" -eq 1 ]
	[ ! -e new ]
	# and DEST's size is not set either, for a sparse source
	truncate -s 1G sparse
	run "$MAPCP" --reflink=always --inplace sparse dst
	[ "$status" -eq 1 ]
	[ "$(cat dst)" = important ]
}

@test "an append-only directory: DEST written in place, and said; --atomic refuses" {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot chattr +a"
	mkdir ad && echo old >ad/d
	chattr +a ad 2>/dev/null || skip "this filesystem has no append-only attribute"
	echo new >src
	run "$MAPCP" --atomic src ad/d
	[ "$status" -eq 1 ]
	[[ "$output" == *"its directory is append-only, so nothing in it can be renamed over (--atomic)" ]]
	[ "$(cat ad/d)" = old ]
	run "$MAPCP" src ad/d
	[ "$status" -eq 0 ]
	[[ "$output" == *"'ad/d' written in place, not replaced atomically: its directory is append-only"* ]]
	[ "$(cat ad/d)" = new ]
	[ "$(ls -A ad)" = d ] # no temporary left behind
	chattr -a ad
}

@test "--atomic and --inplace together are a usage error" {
	echo new >src
	run "$MAPCP" --atomic --inplace src dst
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: --atomic and --inplace cannot be used together" ]
	[ ! -e dst ]
}
