#!/usr/bin/env bats
# Full disk: small filesystems made for this file (a tmpfs with size=, and
# ext4 and XFS on loop devices, plus an ext4 without extents, where
# fallocate(2) is not supported and mmap's writes meet the full disk as
# SIGBUS), filled with fallocate(2) until a few MiB are left. Every engine
# copies a file larger than the free space, alone and in a tree: each
# failure must be exit 1 with one line naming the file and "No space left
# on device", DEST as it was, the space given back, no temporary left.
# Needs root (mount, losetup); without it each case is skipped, saying so.

load helpers

ENGINES="auto reflink copy_file_range rw sendfile splice mmap-write mmap io_uring"
# noext: ext4 made without extents: no fallocate(2), so the mmap engine
# cannot reserve DEST's blocks and its stores fault on the full disk.
FULL_FS="tmpfs ext4 xfs noext"
MiB=1048576

# make_small_fs NAME: make and mount NAME under $FS_ROOT/NAME, or write why
# not to $FS_ROOT/NAME.skip. A loop device is remembered in NAME.loop.
make_small_fs() {
	local name=$1 dir=$FS_ROOT/$1 img=$FS_ROOT/$1.img out loop type=$1
	mkdir -p "$dir"
	if [ "$name" = tmpfs ]; then
		out=$(mount -t tmpfs -o size=40M tmpfs "$dir" 2>&1) && return 0
		echo "cannot mount tmpfs: $out" >"$FS_ROOT/$name.skip"
		return 0
	fi
	case $name in
	xfs) # mkfs.xfs refuses filesystems under 300 MB; the image is sparse
		truncate -s 320M "$img"
		out=$(mkfs.xfs -q -f -m reflink=1 "$img" 2>&1) ;;
	ext4)
		truncate -s 64M "$img"
		out=$(mkfs.ext4 -q -F -b 4096 -m 0 "$img" 2>&1) ;;
	noext)
		type=ext4
		truncate -s 64M "$img"
		out=$(mkfs.ext4 -q -F -b 4096 -m 0 -O ^extent,^64bit,^flex_bg \
			"$img" 2>&1) ;;
	esac || {
		echo "mkfs for $name failed: $out" >"$FS_ROOT/$name.skip"
		return 0
	}
	loop=$(losetup -f --show "$img" 2>&1) || {
		echo "losetup failed: $loop" >"$FS_ROOT/$name.skip"
		return 0
	}
	echo "$loop" >"$FS_ROOT/$name.loop"
	out=$(mount -t "$type" "$loop" "$dir" 2>&1) && return 0
	echo "cannot mount $name: $out" >"$FS_ROOT/$name.skip"
}

setup_file() {
	FS_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-full-XXXXXX")
	export FS_ROOT
	local fs
	for fs in $FULL_FS; do
		if [ "$(id -u)" -ne 0 ]; then
			echo "not root: cannot mount filesystems" >"$FS_ROOT/$fs.skip"
		else
			make_small_fs "$fs"
		fi
	done
}

teardown_file() {
	local fs
	for fs in $FULL_FS; do
		if mountpoint -q "$FS_ROOT/$fs"; then
			umount "$FS_ROOT/$fs" || umount -l "$FS_ROOT/$fs"
		fi
		if [ -f "$FS_ROOT/$fs.loop" ]; then
			losetup -d "$(cat "$FS_ROOT/$fs.loop")"
		fi
	done
	rm -rf "$FS_ROOT"
}

# on FS: skip unless FS is mounted; then empty it and work in $D on it.
on() {
	need_root
	[ -f "$FS_ROOT/$1.skip" ] && skip "$1: $(cat "$FS_ROOT/$1.skip")"
	find "$FS_ROOT/$1" -mindepth 1 -maxdepth 1 ! -name lost+found \
		-exec rm -rf {} +
	D=$FS_ROOT/$1/work
	mkdir "$D"
	sync -f "$D"
}

# avail DIR: the bytes free for us on DIR's filesystem (statfs f_bavail).
avail() {
	local a s
	read -r a s < <(stat -f -c '%a %S' "$1")
	echo $((a * s))
}

# fill_to DIR BYTES: take DIR's filesystem down to BYTES free or a block
# under: one fallocate(2) (or written zeros where there is none), then
# single blocks. Never gives space back: go down only.
fill_to() {
	local dir=$1 want=$2 have blk n
	sync -f "$dir"
	have=$(avail "$dir")
	if [ "$have" -gt $((want + 128 * 1024)) ]; then
		n=$((have - want - 64 * 1024))
		fallocate -l "$n" "$dir/.fill.$RANDOM" 2>/dev/null ||
			head -c "$n" /dev/zero >"$dir/.fill.$RANDOM"
		sync -f "$dir"
	fi
	blk=$(stat -f -c %S "$dir")
	n=0
	while [ "$(avail "$dir")" -gt "$want" ]; do
		n=$((n + 1))
		head -c "$blk" /dev/zero >"$dir/.fill.b$n.$RANDOM" 2>/dev/null || break
		sync -f "$dir"
	done
}

# space_back DIR BYTES: DIR's free space is BYTES again (within 10 s:
# XFS and ext4 may give freed blocks back a little later).
space_back() {
	local i
	for i in $(seq 100); do
		sync -f "$1"
		[ "$(avail "$1")" -eq "$2" ] && return 0
		sleep 0.1
	done
	echo "free space on $1: $(avail "$1") bytes, $2 before the copy"
	return 1
}

# leftovers DIR: mapcp's temporaries anywhere under DIR.
leftovers() {
	find "$1" -name '.*.mapcp-??????' | wc -l
}

# lines FILE: how many lines FILE has.
lines() {
	wc -l <"$1"
}

# says TEXT: the last run's stderr holds TEXT.
says() {
	grep -qF -- "$1" "$ERR"
}

# clones FS ENGINE SRC DST: do ENGINE's copies on FS share SRC's blocks
# rather than take space (XFS with reflink, SOURCE on it too)?
clones() {
	[ "$1" = xfs ] || return 1
	[ "$(stat -c %d "$3")" = "$(stat -c %d "$(dirname "$4")")" ] || return 1
	case $2 in auto | reflink | copy_file_range) return 0 ;; esac
	return 1
}

# the_error FS ENGINE SRC DST: the words the failure must have.
the_error() {
	local same=0
	[ "$(stat -c %d "$3")" = "$(stat -c %d "$(dirname "$4")")" ] && same=1
	case $2 in
	reflink)
		if [ $same = 1 ]; then
			echo "failed to clone '$4' from '$3': Operation not supported"
		else
			echo "failed to clone '$4' from '$3': Invalid cross-device link"
		fi
		;;
	copy_file_range)
		if [ $same = 1 ]; then
			echo "No space left on device"
		else
			echo "error copying '$3' to '$4': Invalid cross-device link"
		fi
		;;
	*) echo "No space left on device" ;;
	esac
}

# every_engine FS: a file larger than the free space, from FS itself and
# from another filesystem (the test directory), onto an old DEST and onto
# a new one, with every engine.
every_engine() {
	local fs=$1 src dst e old before words
	on "$fs"
	random_file "$T/old" 65536
	random_file "$T/far" $((12 * MiB))
	random_file "$D/src" $((12 * MiB))
	cp "$T/old" "$D/dest"
	fill_to "$D" $((8 * MiB))
	before=$(avail "$D")
	echo "# $fs: $before bytes free, copying 12 MiB"
	counts_reset
	for src in "$D/src" "$T/far"; do
		for e in $ENGINES; do
			for dst in "$D/dest" "$D/new"; do
				WHAT="$fs: mapcp -e $e $src $dst"
				old=-
				[ "$dst" = "$D/dest" ] && old=$T/old
				attempt "$MAPCP" -e "$e" "$src" "$dst"
				FAULTS=$((FAULTS + 1))
				judged "$status" "$ERR" "$dst" "$old" "$src"
				if clones "$fs" "$e" "$src" "$dst"; then
					# Shared blocks need no space: a complete copy.
					expect [ "$status" -eq 0 ]
					expect [ "$(avail "$D")" -gt $((before - MiB)) ]
					rm -f "$dst"
					[ "$old" = - ] || cp "$T/old" "$dst"
					sync -f "$D"
					before=$(avail "$D")
					continue
				fi
				words=$(the_error "$fs" "$e" "$src" "$dst")
				expect [ "$status" -eq 1 ]
				expect [ "$(lines "$ERR")" -eq 1 ]
				expect says "$words"
				expect says "'$dst'"
				expect space_back "$D" "$before"
				expect [ "$(leftovers "$D")" -eq 0 ]
			done
		done
	done
	tally_counts "fulldisk:$fs:every-engine"
	echo "# $RUNS runs: $COMPLETE complete, $CLEAN clean, $BAD bad"
	[ "$BAD" -eq 0 ]
}

@test "full tmpfs: every engine fails cleanly, DEST kept, space back" {
	every_engine tmpfs
}

@test "full ext4: every engine fails cleanly, DEST kept, space back" {
	every_engine ext4
}

@test "full XFS: every engine fails cleanly (or clones), DEST kept, space back" {
	every_engine xfs
}

@test "full ext4 without extents (no fallocate): every engine fails cleanly" {
	every_engine noext
}

# A tree for tree_copy: ten files of 256 KiB that fit, three of 12 MiB
# that cannot (8 MiB are free), in two directories.
make_tree() {
	local i
	mkdir -p "$T/tree/sub"
	for i in 1 2 3 4 5 6; do random_file "$T/tree/s$i" $((256 * 1024)); done
	for i in 7 8 9 10; do random_file "$T/tree/sub/s$i" $((256 * 1024)); done
	random_file "$T/tree/big1" $((12 * MiB))
	random_file "$T/tree/sub/big2" $((12 * MiB))
	random_file "$T/tree/sub/big3" $((12 * MiB))
	TREE_FILES="s1 s2 s3 s4 s5 s6 sub/s7 sub/s8 sub/s9 sub/s10 big1 sub/big2 sub/big3"
}

# line_says NAME WORDS: the last run's stderr has a line naming NAME (in
# quotes, as messages do) that says WORDS.
line_says() {
	grep -F -- "'$1'" "$ERR" | grep -qF -- "$2"
}

# tree_copy FS: mapcp -r of the tree onto the full FS, every engine, on one
# thread (the small files fit, the big ones do not) and on four (files
# race for the space: a file not reported must be complete). A directory
# that cannot be made (the space taken by a file in flight) is reported
# once for the files below it.
tree_copy() {
	local fs=$1 e j f d before own dirline reported
	on "$fs"
	make_tree
	fill_to "$D" $((8 * MiB))
	before=$(avail "$D")
	counts_reset
	for e in $ENGINES; do
		for j in 1 4; do
			WHAT="$fs: mapcp -r -j $j -e $e"
			attempt "$MAPCP" -r -j "$j" -e "$e" "$T/tree" "$D/copy"
			reported=0
			for f in $TREE_FILES; do
				d=$D/copy/$f
				WHAT="$fs: mapcp -r -j $j -e $e: $f"
				FAULTS=$((FAULTS + 1))
				own=$(grep -cF -- "'$d'" "$ERR" || true)
				dirline=0
				if [ "$own" -eq 0 ] && [ "${f%/*}" != "$f" ] &&
					says "cannot create directory '$D/copy/${f%/*}'"; then
					dirline=1
				fi
				reported=$((reported + own))
				if [ $((own + dirline)) -gt 0 ]; then
					judged 1 "$ERR" "$d" - "$T/tree/$f"
				else
					judged 0 "$ERR" "$d" - "$T/tree/$f"
				fi
				expect [ "$own" -le 1 ]
				case $e:$j:$f in
				reflink:* | copy_file_range:*) # across filesystems
					expect [ "$own" -eq 1 ]
					expect line_says "$d" "Invalid cross-device link"
					;;
				*:*:big* | *:*:*/big*) # cannot fit
					expect [ $((own + dirline)) -eq 1 ]
					[ "$own" -eq 0 ] ||
						expect line_says "$d" "No space left on device"
					;;
				*:1:*) expect [ $((own + dirline)) -eq 0 ] ;; # fits
				esac
			done
			WHAT="$fs: mapcp -r -j $j -e $e"
			reported=$((reported + $(grep -c "^mapcp: cannot create directory" "$ERR" || true)))
			expect [ "$status" -eq 1 ]
			# One line per failure, each a mapcp message.
			expect [ "$(grep -vc '^mapcp: ' "$ERR" || true)" -eq 0 ]
			expect [ "$(lines "$ERR")" -eq "$reported" ]
			expect [ "$(leftovers "$D")" -eq 0 ]
			rm -rf "$D/copy"
			expect space_back "$D" "$before"
		done
	done
	tally_counts "fulldisk:$fs:trees"
	echo "# $RUNS files judged: $COMPLETE complete, $CLEAN clean, $BAD bad"
	[ "$BAD" -eq 0 ]
}

@test "full tmpfs: a tree, every engine: each failure reported, the rest complete" {
	tree_copy tmpfs
}

@test "full ext4: a tree, every engine: each failure reported, the rest complete" {
	tree_copy ext4
}

@test "full XFS: a tree, every engine: each failure reported, the rest complete" {
	tree_copy xfs
}

@test "hostile: -e mmap onto an old DEST on a completely full disk: ENOSPC, no SIGBUS" {
	local fs ran=0 before
	need_root
	counts_reset
	random_file "$T/old" 65536
	random_file "$T/src" $((8 * MiB))
	for fs in $FULL_FS; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		cp "$T/old" "$D/dest"
		fill_to "$D" 0
		before=$(avail "$D")
		for w in 8M 64K; do
			WHAT="$fs, full ($before bytes free): mapcp -e mmap --window=$w"
			attempt "$MAPCP" -e mmap --window="$w" "$T/src" "$D/dest"
			FAULTS=$((FAULTS + 1))
			judged "$status" "$ERR" "$D/dest" "$T/old" "$T/src"
			expect [ "$status" -eq 1 ]
			expect says "'$D/dest'"
			expect says "No space left on device"
			expect space_back "$D" "$before"
		done
		ran=$((ran + 1))
	done
	tally_counts "fulldisk:hostile-mmap-full"
	[ "$ran" -gt 0 ] || skip "no filesystem could be made"
	[ "$BAD" -eq 0 ]
}

# Without fallocate(2), DEST's blocks are allocated as mmap's stores fault
# them in; when that fails the store raises SIGBUS, which the guard turns
# into an error. Its errno is a guess from statfs: with a block needing
# index blocks too (ext4 without extents: block 12 needs an indirect
# block, block 1036 a double-indirect and an indirect one), the disk is
# full with a block or two still free. Every free space from 1030 to 1046
# blocks is tried, so that an 8 MiB copy fails at and around block 1036.
@test "hostile: -e mmap where DEST's blocks are allocated by the faults: always ENOSPC" {
	local F before
	on noext
	random_file "$T/old" 4096
	random_file "$T/src" $((8 * MiB))
	cp "$T/old" "$D/dest"
	counts_reset
	for F in $(seq 1046 -1 1030); do
		fill_to "$D" $((F * 4096))
		before=$(avail "$D")
		WHAT="noext, $((before / 4096)) blocks free: mapcp -e mmap"
		attempt "$MAPCP" -e mmap "$T/src" "$D/dest"
		FAULTS=$((FAULTS + 1))
		judged "$status" "$ERR" "$D/dest" "$T/old" "$T/src"
		expect [ "$status" -eq 1 ]
		expect [ "$(lines "$ERR")" -eq 1 ]
		expect [ "$(cat "$ERR")" = "mapcp: error writing '$D/dest': No space left on device" ]
		expect space_back "$D" "$before"
	done
	tally_counts "fulldisk:hostile-mmap-index-blocks"
	[ "$BAD" -eq 0 ]
}
