#!/usr/bin/env bats
# Copies through the command line: every engine at sizes around pages and
# windows, sparse files past 4 GiB, the directory forms, and the options
# that change what happens to DEST.

load helpers

# reflink is tested on filesystems that can clone: filesystems.bats.
ENGINES="auto copy_file_range rw io_uring mmap-write mmap sendfile splice"

@test "every engine, sizes around pages and a 64K window" {
	for size in 0 1 4095 4096 4097 $((1048576 + 13)) 65535 65536 65537 \
		$((3 * 65536 + 7)); do
		random_file "src$size" "$size"
		for e in $ENGINES; do
			run "$MAPCP" -e "$e" --window=64K "src$size" "dst"
			[ "$status" -eq 0 ]
			[ -z "$output" ]
			cmp "src$size" dst
			rm dst
		done
	done
}

@test "every engine, a 5 GiB sparse file with data at 0, 4 GiB - 1 and the end" {
	truncate -s 5G big
	printf 'head' | dd of=big conv=notrunc status=none
	printf 'X' | dd of=big bs=1 seek=$((4 * 1024 * 1024 * 1024 - 1)) \
		conv=notrunc status=none
	printf 'tail' | dd of=big bs=1 seek=$((5 * 1024 * 1024 * 1024 - 4)) \
		conv=notrunc status=none
	for e in $ENGINES; do
		run "$MAPCP" -e "$e" big copy
		[ "$status" -eq 0 ]
		[ "$(stat -c %s copy)" -eq $((5 * 1024 * 1024 * 1024)) ]
		"$SPARSECMP" big copy
		[ "$(dd if=copy bs=1 skip=$((4 * 1024 * 1024 * 1024 - 1)) count=1 status=none)" = X ]
		# Holes stay holes: the copy allocates about what the source does.
		[ "$(du -k copy | cut -f1)" -lt 1024 ]
		rm copy
	done
}

@test "SOURCE... DIRECTORY and -t DIRECTORY" {
	random_file a 1000
	random_file b 2000
	mkdir d e
	run "$MAPCP" a b d
	[ "$status" -eq 0 ]
	cmp a d/a
	cmp b d/b
	run "$MAPCP" -t e a ./b
	[ "$status" -eq 0 ]
	cmp a e/a
	cmp b e/b
	run "$MAPCP" a d/
	[ "$status" -eq 0 ]
}

@test "errors are one line each, the rest is still copied, exit 1" {
	random_file a 1000
	mkdir d out
	run "$MAPCP" missing a d out
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 2 ]
	[ "${lines[0]}" = "mapcp: cannot stat 'missing': No such file or directory" ]
	[ "${lines[1]}" = "mapcp: -r not specified; omitting directory 'd'" ]
	cmp a out/a
	run "$MAPCP" a nodir/b
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot create regular file 'nodir/b': No such file or directory" ]
	run "$MAPCP" a a/b
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot create regular file 'a/b': Not a directory" ]
	run "$MAPCP" a newdir/
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot create regular file 'newdir/': Not a directory" ]
}

@test "the exit status is 0 when every source was copied" {
	random_file a 10
	run "$MAPCP" a b
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "-v names each copy" {
	random_file a 10
	random_file b 10
	mkdir d
	run "$MAPCP" -v a b d
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "'a' -> 'd/a'" ]
	[ "${lines[1]}" = "'b' -> 'd/b'" ]
}

@test "--debug says which engine ran and why" {
	random_file a 100000
	run "$MAPCP" --debug a b
	[ "$status" -eq 0 ]
	# auto shares blocks where it can, else copies in the kernel, and
	# names the filesystem that decided it.
	case $(stat -f -c %T .) in
	ext2/ext3)
		[[ "$output" == "'a' -> 'b': engine copy_file_range (auto: ext4 cannot share blocks; copy_file_range copies in the kernel, measured fastest there)"* ]] ;;
	tmpfs)
		[[ "$output" == "'a' -> 'b': engine copy_file_range (auto: tmpfs cannot share blocks; copy_file_range copies in the kernel, measured fastest there)"* ]] ;;
	*)
		[[ "$output" == "'a' -> 'b': engine reflink (auto"* ]] ||
			[[ "$output" == "'a' -> 'b': engine copy_file_range (auto's next choice, after a fallback); fell back from reflink: Operation not supported (this filesystem cannot share blocks)"* ]] ;;
	esac
	[[ "$output" == *"100000 bytes in 1 extent; replaced atomically" ]]
	for e in rw mmap mmap-write copy_file_range; do
		run "$MAPCP" --debug -e "$e" a "b.$e"
		[ "$status" -eq 0 ]
		[[ "$output" == "'a' -> 'b.$e': engine $e (chosen with --engine)"* ]]
	done
}

@test "--debug shows a fallback and its errno" {
	random_file a 100000
	MAPCP_FAIL=EXDEV:0 run "$MAPCP_HOOKS" --debug -e fail,rw a b
	[ "$status" -eq 0 ]
	[[ "$output" == *"engine rw (next in the --engine list, after a fallback); fell back from fail: Invalid cross-device link"* ]]
	cmp a b
	# After a byte is written there is no falling back.
	MAPCP_FAIL=EXDEV:4096 run "$MAPCP_HOOKS" -e fail,rw a c
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: error writing 'c': Invalid cross-device link" ]
	[ ! -e c ]
}

@test "-n keeps an existing DEST" {
	random_file a 100
	echo old >b
	run "$MAPCP" -n a b
	[ "$status" -eq 0 ]
	[ "$(cat b)" = old ]
	run "$MAPCP" -n --debug a b
	[[ "$output" == *"skipped, DEST exists (--no-clobber)" ]]
	run "$MAPCP" -n a c
	[ "$status" -eq 0 ]
	cmp a c
}

@test "a DEST we may not write needs -f" {
	need_unprivileged
	mkdir w
	chmod 777 w
	random_file w/a 100
	echo old >w/b
	chmod 444 w/b
	chown 65534:65534 w/a w/b 2>/dev/null || true
	run as_nobody "$MAPCP" w/a w/b
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot create regular file 'w/b': Permission denied" ]
	[ "$(cat w/b)" = old ]
	run as_nobody "$MAPCP" -f w/a w/b
	[ "$status" -eq 0 ]
	cmp w/a w/b
}

@test "an unreadable source" {
	need_unprivileged
	mkdir w
	chmod 777 w
	random_file w/a 100
	chmod 000 w/a
	run as_nobody "$MAPCP" w/a w/b
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot open 'w/a' for reading: Permission denied" ]
	[ ! -e w/b ]
}

@test "--inplace writes into DEST's own inode" {
	random_file a 5000
	random_file b 90000
	ino=$(stat -c %i b)
	run "$MAPCP" --inplace a b
	[ "$status" -eq 0 ]
	cmp a b
	[ "$(stat -c %i b)" = "$ino" ]
	run "$MAPCP" a b
	[ "$(stat -c %i b)" != "$ino" ] # the default replaces it
	cmp a b
}

@test "--fsync flushes the copy and its directory" {
	random_file a 5000
	run traced trace fsync "$MAPCP" --fsync a b
	[ "$status" -eq 0 ]
	cmp a b
	[ "$(grep -c '^[0-9]* *fsync(' trace)" -ge 2 ]
	run traced trace2 fsync "$MAPCP" a c
	[ "$status" -eq 0 ]
	! grep -q 'fsync(' trace2
}

@test "modes: a new DEST gets SOURCE's minus the umask, an old one keeps its own" {
	random_file a 100
	chmod 666 a
	(umask 027 && "$MAPCP" a new)
	[ "$(stat -c %a new)" = 640 ]
	echo old >old
	chmod 604 old
	"$MAPCP" a old
	[ "$(stat -c %a old)" = 604 ]
	cmp a old
}

@test "the same file through a hard link, a symlink, the same path and ./" {
	random_file a 4096
	cp a ref
	ln a hard
	ln -s a soft
	for dst in a hard soft ./a "$T/a"; do
		run "$MAPCP" a "$dst"
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: 'a' and '$dst' are the same file" ]
		cmp a ref
	done
	run "$MAPCP" --inplace -e mmap a hard
	[ "$status" -eq 1 ]
	cmp a ref
}

@test "a symlink DEST: its target is replaced, a dangling one is refused" {
	random_file a 100
	echo old >target
	ln -s target link
	run "$MAPCP" a link
	[ "$status" -eq 0 ]
	[ -L link ]
	cmp a target
	ln -s nowhere dangling
	run "$MAPCP" a dangling
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: not writing through dangling symlink 'dangling'" ]
	[ ! -e nowhere ]
}
