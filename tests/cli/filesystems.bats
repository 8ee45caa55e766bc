#!/usr/bin/env bats
# Every engine on real filesystems: XFS with reflink, btrfs, ext4 (each in
# a loop device) and tmpfs, made fresh for this file when running as root.
# Without root, or without a tool or kernel feature, each case is skipped
# with the reason.

load helpers

ENGINES="auto reflink copy_file_range rw io_uring mmap-write mmap sendfile splice"
FILESYSTEMS="xfs btrfs ext4 tmpfs"

setup_file() {
	make_filesystems $FILESYSTEMS
}

teardown_file() {
	remove_filesystems $FILESYSTEMS
}

# on FS: skip unless FS is mounted; then work in a fresh directory on it.
# The name mapcp --debug gives a filesystem made by setup.
fs_name() {
	case $1 in
	xfs) echo XFS ;;
	*) echo "$1" ;;
	esac
}

on() {
	[ -f "$FS_ROOT/$1.skip" ] && skip "$1: $(cat "$FS_ROOT/$1.skip")"
	D=$FS_ROOT/$1/$BATS_TEST_NUMBER
	rm -rf "$D"
	mkdir -p "$D"
}

HOLEMAP() { "${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/holemap" "$@"; }

# layout FILE: data, a run of written zeros, a hole, data around a zero
# block, a trailing hole; 2 MiB in all, 4 KiB blocks.
layout() {
	truncate -s 2M "$1"
	head -c 65536 /dev/urandom | dd of="$1" conv=notrunc status=none
	dd if=/dev/zero of="$1" bs=4096 seek=16 count=8 conv=notrunc status=none
	head -c 4096 /dev/urandom | dd of="$1" bs=4096 seek=256 conv=notrunc status=none
	dd if=/dev/zero of="$1" bs=4096 seek=257 count=1 conv=notrunc status=none
	head -c 4096 /dev/urandom | dd of="$1" bs=4096 seek=258 conv=notrunc status=none
	sync "$1"
}

# A copy that keeps the source's holes allocates no more than the source
# plus a block per extent.
blocks_within() { # SRC DST
	local src dst extents
	src=$(HOLEMAP "$1" | sed -n 's/^size .* allocated //p')
	dst=$(HOLEMAP "$2" | sed -n 's/^size .* allocated //p')
	extents=$(HOLEMAP "$1" | grep -vc '^size')
	[ "$dst" -le $((src + extents * 4096)) ] || {
		echo "$2 allocates $dst bytes, $1 $src in $extents extents" >&2
		return 1
	}
}

# may_share ENGINE: does ENGINE clone rather than copy, where it can?
may_share() { [ "$1" = reflink ] || [ "$1" = copy_file_range ]; }

clones() { [ "$1" = xfs ] || [ "$1" = btrfs ]; }

@test "every engine x sparse mode x filesystem: the bytes, and the holes as the mode says" {
	local ran=0
	for fs in $FILESYSTEMS; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		layout "$D/src"
		HOLEMAP "$D/src" >"$D/src.map"
		for e in $ENGINES; do
			for mode in auto always never; do
				rm -f "$D/dst"
				run "$MAPCP" -e "$e" --sparse="$mode" "$D/src" "$D/dst"
				if [ "$mode" = never ] && may_share "$e"; then
					[ "$status" -eq 1 ] # a usage error: may share blocks
					[[ "$output" == *"--sparse=never excludes"* ]]
					continue
				fi
				if [ "$e" = reflink ] && ! clones "$fs"; then
					[ "$status" -eq 1 ]
					[[ "$output" == "mapcp: failed to clone '$D/dst' from '$D/src': "* ]]
					[ ! -e "$D/dst" ]
					continue
				fi
				[ "$status" -eq 0 ] || { echo "$fs $e $mode: $output"; return 1; }
				echo "checking $fs, engine $e, --sparse=$mode"
				"$SPARSECMP" "$D/src" "$D/dst"
				HOLEMAP "$D/dst" >"$D/dst.map"
				case $mode in
				auto)
					# The source's data extents, the same holes.
					diff <(grep -v '^size' "$D/src.map") <(grep -v '^size' "$D/dst.map")
					blocks_within "$D/src" "$D/dst"
					;;
				always)
					# The written zeros became holes too.
					diff <(grep -v '^size' "$D/dst.map") - <<-EOF
					0 65536
					1048576 4096
					1056768 4096
					EOF
					;;
				never)
					[ "$(grep -vc '^size' "$D/dst.map")" -eq 1 ]
					grep -q '^0 2097152$' "$D/dst.map"
					;;
				esac
				ran=$((ran + 1))
			done
		done
		# No engine changed the source, holes included (reading a
		# tmpfs hole through a mapping would allocate it).
		diff "$D/src.map" <(HOLEMAP "$D/src")
	done
	[ "$ran" -gt 0 ] || skip "no filesystem could be made"
}

@test "reflink shares extents on XFS and btrfs, and costs no space" {
	local ran=0
	for fs in xfs btrfs; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		head -c 100M /dev/urandom >"$D/big"
		sync
		before=$(df --output=avail -B1 "$D" | tail -n 1)
		run "$MAPCP" --reflink=always --debug "$D/big" "$D/copy"
		[ "$status" -eq 0 ]
		[[ "$output" == *"engine reflink (--reflink=always)"* ]]
		cmp "$D/big" "$D/copy"
		sync
		after=$(df --output=avail -B1 "$D" | tail -n 1)
		# Not the 100 MiB a copy would take.
		[ $((before - after)) -lt $((10 << 20)) ]
		filefrag -v "$D/copy" | grep -q shared
		# auto shares too, and says so.
		run "$MAPCP" --debug "$D/big" "$D/copy2"
		[[ "$output" == *"engine reflink (auto: $(fs_name "$fs") shares blocks between files)"* ]]
		filefrag -v "$D/copy2" | grep -q shared
		# --reflink=never copies the bytes.
		run "$MAPCP" --reflink=never "$D/big" "$D/copy3"
		[ "$status" -eq 0 ]
		! filefrag -v "$D/copy3" | grep -q shared
		# btrfs subvolumes are devices of their own, and still share
		if [ "$fs" = btrfs ]; then
			btrfs -q subvolume create "$D/sv1"
			btrfs -q subvolume create "$D/sv2"
			cp --reflink=never "$D/big" "$D/sv1/big"
			[ "$(stat -c %d "$D/sv1")" != "$(stat -c %d "$D/sv2")" ]
			run "$MAPCP" --debug "$D/sv1/big" "$D/sv2/copy"
			[ "$status" -eq 0 ]
			[[ "$output" == *"engine reflink (auto: btrfs shares blocks between files)"* ]]
			cmp "$D/big" "$D/sv2/copy"
		fi
		ran=$((ran + 1))
	done
	[ "$ran" -gt 0 ] || skip "neither XFS nor btrfs could be made"
}

@test "auto on ext4 and tmpfs: copy_file_range, says why, never asks for a clone" {
	local ran=0 fs
	for fs in ext4 tmpfs; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		head -c 300000 /dev/urandom >"$D/a"
		mkdir "$D/t"
		for i in 1 2 3; do cp "$D/a" "$D/t/f$i"; done
		traced "$D/trace" ioctl,copy_file_range "$MAPCP" --debug "$D/a" "$D/b"
		cmp "$D/a" "$D/b"
		! grep -q FICLONE "$D/trace"
		grep -q 'copy_file_range(' "$D/trace"
		run "$MAPCP" --debug "$D/a" "$D/c"
		[ "$status" -eq 0 ]
		[[ "$output" == *"engine copy_file_range (auto: $fs cannot share blocks; copy_file_range copies in the kernel, measured fastest there); 300000 bytes in 1 extent; replaced atomically" ]]
		# --reflink=never: copy_file_range cannot share here, so it stays
		run "$MAPCP" --debug --reflink=never "$D/a" "$D/d"
		[[ "$output" == *"engine copy_file_range (auto: $fs cannot share"* ]]
		# a tree: every file says so, none asks for a clone
		traced "$D/trace2" ioctl "$MAPCP" -r "$D/t" "$D/t2"
		! grep -q FICLONE "$D/trace2"
		diff -r "$D/t" "$D/t2"
		ran=$((ran + 1))
	done
	[ "$ran" -gt 0 ] || skip "neither ext4 nor tmpfs could be made"
}

@test "auto on ext4: a large source in the page cache goes by mmap-write, a cold one by copy_file_range" {
	local v
	[ -f "$FS_ROOT/ext4.skip" ] && skip "$(cat "$FS_ROOT/ext4.skip")"
	v=$(uname -r)
	v=${v%%-*}
	if [ "$(printf '%s\n' 6.5 "$v" | sort -V | head -n 1)" != 6.5 ]; then
		skip "Linux $v has no cachestat(2) (6.5+): auto cannot tell warm from cold"
	fi
	on ext4
	head -c $((80 << 20)) /dev/urandom >"$D/big"
	head -c $((1 << 20)) /dev/urandom >"$D/small"
	sync
	cat "$D/big" "$D/small" >/dev/null
	run "$MAPCP" --debug "$D/big" "$D/warm"
	[ "$status" -eq 0 ]
	[[ "$output" == *"engine mmap-write (auto: ext4 cannot share blocks, and the source is large and in the page cache: mmap-write, measured fastest there)"* ]]
	cmp "$D/big" "$D/warm"
	# small, however warm: the kernel's copy
	run "$MAPCP" --debug "$D/small" "$D/s2"
	[[ "$output" == *"engine copy_file_range (auto: ext4 cannot share"* ]]
	# the same file, dropped from the page cache
	dd if="$D/big" iflag=nocache count=0 status=none
	run "$MAPCP" --debug "$D/big" "$D/cold"
	[ "$status" -eq 0 ]
	[[ "$output" == *"engine copy_file_range (auto: ext4 cannot share"* ]]
	cmp "$D/big" "$D/cold"
}

@test "--reflink=always where blocks cannot be shared: a clear error, no file" {
	local ran=0
	for fs in ext4 tmpfs; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		head -c 100000 /dev/urandom >"$D/a"
		run "$MAPCP" --reflink=always "$D/a" "$D/b"
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: failed to clone '$D/b' from '$D/a': Operation not supported (this filesystem cannot share blocks)" ]
		[ "$(ls -A "$D")" = a ]
		ran=$((ran + 1))
	done
	[ "$ran" -gt 0 ] || skip "neither ext4 nor tmpfs could be made"
}

@test "copies between filesystems use sendfile, and every engine copies or says why" {
	local pairs="xfs:btrfs btrfs:ext4 ext4:tmpfs tmpfs:xfs" ran=0
	for pair in $pairs; do
		from=${pair%:*} to=${pair#*:}
		[ -f "$FS_ROOT/$from.skip" ] || [ -f "$FS_ROOT/$to.skip" ] && continue
		on "$from"
		S=$D
		on "$to"
		layout "$S/src"
		run "$MAPCP" --debug "$S/src" "$D/auto"
		[ "$status" -eq 0 ]
		# no clone or copy_file_range is tried: they cannot work here
		[[ "$output" == *"engine sendfile (auto: SOURCE and DEST are on different filesystems, where copy_file_range and clones cannot work; sendfile copies in the kernel, measured fastest there); "[0-9]*" bytes in "* ]]
		[[ "$output" != *"fell back"* ]]
		"$SPARSECMP" "$S/src" "$D/auto"
		for e in $ENGINES; do
			run "$MAPCP" -e "$e" "$S/src" "$D/$e"
			case $e in
			reflink)
				[ "$status" -eq 1 ]
				[[ "$output" == *"failed to clone"*"Invalid cross-device link (the files are on different filesystems)" ]]
				[ ! -e "$D/$e" ]
				;;
			copy_file_range)
				[ "$status" -eq 1 ]
				[[ "$output" == *"error copying"*"Invalid cross-device link" ]]
				[ ! -e "$D/$e" ]
				;;
			*)
				[ "$status" -eq 0 ]
				"$SPARSECMP" "$S/src" "$D/$e"
				;;
			esac
		done
		ran=$((ran + 1))
	done
	[ "$ran" -gt 0 ] || skip "no two filesystems could be made"
}

@test "a 500 GiB sparse file with a few MiB of data, every engine, every filesystem" {
	local ran=0
	for fs in $FILESYSTEMS; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		truncate -s 500G "$D/huge"
		for at in 0 1 100 250 499; do
			head -c 1M /dev/urandom |
				dd of="$D/huge" bs=1M seek=$((at * 1024)) conv=notrunc status=none
		done
		printf end | dd of="$D/huge" bs=1 seek=$((500 * 1024 * 1024 * 1024 - 3)) \
			conv=notrunc status=none
		for e in $ENGINES; do
			[ "$e" = reflink ] && ! clones "$fs" && continue
			run "$MAPCP" -e "$e" "$D/huge" "$D/copy"
			[ "$status" -eq 0 ] || { echo "$fs $e: $output"; return 1; }
			"$SPARSECMP" "$D/huge" "$D/copy"
			blocks_within "$D/huge" "$D/copy"
			rm "$D/copy"
		done
		ran=$((ran + 1))
	done
	[ "$ran" -gt 0 ] || skip "no filesystem could be made"
}

@test "io_uring at queue depths 1, 4 and 64 on every filesystem" {
	local ran=0
	for fs in $FILESYSTEMS; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		head -c $((5 * 1024 * 1024 + 77)) /dev/urandom >"$D/src"
		for qd in 1 4 64; do
			run "$MAPCP" -e io_uring --queue-depth="$qd" --buffer=64K \
				--debug "$D/src" "$D/q$qd"
			[ "$status" -eq 0 ]
			[[ "$output" == *"engine io_uring (chosen with --engine)"* ]]
			cmp "$D/src" "$D/q$qd"
		done
		ran=$((ran + 1))
	done
	[ "$ran" -gt 0 ] || skip "no filesystem could be made"
}

# A file whose end is not data that an extent gives: a run of zeros that
# --sparse=always leaves out, a preallocated tail. DEST's size must be
# SOURCE's all the same, with every engine and with --inplace.
@test "DEST's size is SOURCE's whatever ends it: zeros, preallocation; every engine, every mode" {
	local ran=0 f
	for fs in $FILESYSTEMS; do
		[ -f "$FS_ROOT/$fs.skip" ] && continue
		on "$fs"
		# 1 MiB + 100 random bytes, 4 MiB - 50 zeros, 1 MiB - 50
		# random, 2 MiB of zeros, all written: 8 MiB, dense
		{ head -c $((1048576 + 100)) /dev/urandom
		  head -c $((4194304 - 50)) /dev/zero
		  head -c $((1048576 - 50)) /dev/urandom
		  head -c 2097152 /dev/zero; } >"$D/mixed"
		head -c 1M /dev/zero >"$D/zeros"
		printf 'hello' >"$D/prealloc"
		fallocate -o 4096 -l 1M "$D/prealloc" 2>/dev/null ||
			truncate -s $((4096 + 1048576)) "$D/prealloc"
		for f in mixed zeros prealloc; do
			for e in $ENGINES; do
				for mode in auto always never; do
					for place in "" --inplace; do
						rm -f "$D/out"
						[ -n "$place" ] && echo longer >"$D/out" &&
							truncate -s 10M "$D/out"
						run "$MAPCP" -e "$e" --sparse="$mode" $place "$D/$f" "$D/out"
						# Refused (as tested above), unless nothing
						# was left to clone (all zeros, always).
						if { [ "$mode" = never ] && may_share "$e"; } ||
							{ [ "$e" = reflink ] && ! clones "$fs" &&
								[ "$status" -ne 0 ]; }; then
							[ "$status" -eq 1 ] || { echo "$fs $f $e $mode $place: $status $output"; return 1; }
							continue
						fi
						[ "$status" -eq 0 ] || { echo "$fs $f $e $mode $place: $output"; return 1; }
						[ "$(stat -c %s "$D/out")" -eq "$(stat -c %s "$D/$f")" ] || {
							echo "$fs $f -e $e --sparse=$mode $place: $(stat -c %s "$D/out") bytes"
							return 1
						}
						cmp "$D/$f" "$D/out"
						ran=$((ran + 1))
					done
				done
			done
		done
	done
	[ "$ran" -gt 0 ] || skip "no filesystem could be made"
}

# A write fault dirties a whole folio (up to 2 MiB), and writeback then
# allocates all of it: the mmap engines must not let a folio of DEST reach
# from data into a hole (issue 12: 260 KiB allocated became 35 MiB).
# The loop devices read ahead 128 KiB; a disk such as virtio's reads ahead
# 8 MiB, and the folios grow with it: so also where the tests run ($T).
@test "the mmap engines keep holes: 4 KiB of data every 1 MiB of 64 MiB" {
	local ran=0 e
	for fs in here $FILESYSTEMS; do
		if [ "$fs" = here ]; then
			D=$T
		else
			[ -f "$FS_ROOT/$fs.skip" ] && continue
			on "$fs"
		fi
		truncate -s 64M "$D/src"
		for i in $(seq 0 63); do
			head -c 4096 /dev/urandom |
				dd of="$D/src" bs=4096 seek=$((i * 256)) conv=notrunc status=none
		done
		head -c 100 /dev/urandom >>"$D/src" # and data at the very end
		sync "$D/src"
		for e in mmap mmap-write; do
			rm -f "$D/dst"
			"$MAPCP" -e "$e" "$D/src" "$D/dst"
			sync "$D/dst"
			cmp "$D/src" "$D/dst"
			blocks_within "$D/src" "$D/dst" || { echo "$fs -e $e"; return 1; }
			ran=$((ran + 1))
		done
		rm -f "$D/dst"
		"$MMAP_CP" "$D/src" "$D/dst"
		sync "$D/dst"
		cmp "$D/src" "$D/dst"
		blocks_within "$D/src" "$D/dst" || { echo "$fs mmap_cp"; return 1; }
	done
	[ "$ran" -gt 0 ] || skip "no filesystem could be made"
}
