#!/usr/bin/env bats
# Trees: mapcp -r and -a against cp -r and cp -a on a tree holding every
# file type and every awkward name, trees deeper than PATH_MAX, a directory
# copied into itself, and the options that decide what happens to each
# entry (-i, -u, -T, --parents, -H/-L/-P, --preserve).

load helpers

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
}

TREECMP() {
	"${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/treecmp" "$@"
}

# make_tree DIR: every kind of entry a tree can hold, with set modes and
# times to the nanosecond, and user xattrs where the filesystem keeps them.
make_tree() {
	local d=$1 i
	mkdir -p "$d/deep/a/b/c/d/e/f/g/h/i/j" "$d/empty" "$d/sub dir"
	random_file "$d/deep/a/b/c/d/e/f/g/h/i/j/leaf" 5000
	random_file "$d/file" 100000
	random_file "$d/big" $((3 * 1024 * 1024 + 17))
	: >"$d/empty-file"
	truncate -s 10M "$d/sparse"
	printf 'middle' | dd of="$d/sparse" bs=1 seek=5000000 conv=notrunc \
		status=none
	random_file "$d/sub dir/with space" 300
	random_file "$d/"$'new\nline' 301
	random_file "$d/-leading-dash" 302
	random_file "$d/"$'non-utf8-\xff\xfe' 303
	random_file "$d/private" 304
	chmod 600 "$d/private"
	random_file "$d/script" 305
	chmod 755 "$d/script"
	chmod 750 "$d/sub dir"
	for i in $(seq 40); do random_file "$d/sub dir/small$i" "$i"; done
	# Hard links: a group of three across directories, and a pair.
	random_file "$d/linked" 4096
	ln "$d/linked" "$d/sub dir/linked2"
	ln "$d/linked" "$d/deep/a/linked3"
	random_file "$d/pair1" 10
	ln "$d/pair1" "$d/pair2"
	# Symlinks: relative, absolute, to a directory, dangling, to itself.
	ln -s file "$d/rel-link"
	ln -s /etc/hostname "$d/abs-link"
	ln -s "sub dir" "$d/dir-link"
	ln -s does-not-exist "$d/dangling"
	ln -s loop "$d/loop"
	mkfifo "$d/fifo"
	"${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/mksock" "$d/socket"
	setfattr -n user.mapcp -v tree "$d/file" 2>/dev/null || true
	# Times last, directories after what is in them.
	find "$d" -depth -exec touch -h -d '2001-02-03 04:05:06.123456789' {} +
	touch -d '2011-12-13 14:15:16.987654321' "$d/file" "$d/sub dir"
}

@test "mapcp -a makes the tree cp -a makes: content, types, modes, times, links, owners, xattrs" {
	make_tree src
	if [ "$(id -u)" -eq 0 ]; then
		mknod src/chardev c 1 3
		mknod src/blockdev b 7 200
		chown 1234:5678 src/file src/fifo
		chown -h 4321:8765 src/rel-link
	fi
	cp -a src ref
	run "$MAPCP" -a src out
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	TREECMP -t -o -x ref out
	TREECMP -t -o -x src out
	# The checks above could pass by accident if the tree were poor.
	[ "$(stat -c %h out/linked)" -eq 3 ]
	[ "$(stat -c %i out/linked)" = "$(stat -c %i 'out/sub dir/linked2')" ]
	[ "$(readlink out/dangling)" = does-not-exist ]
	[ -p out/fifo ] && [ -S out/socket ]
	[ "$(stat -c %y out/file)" = "$(stat -c %y src/file)" ]
	[ "$(stat -c %a 'out/sub dir')" = 750 ]
}

@test "mapcp -r makes the tree cp -r makes, for -j 1, 2 and 8" {
	make_tree src
	cp -r src ref
	for j in 1 2 8; do
		run "$MAPCP" -r -j "$j" src "out$j"
		echo "$output"
		[ "$status" -eq 0 ]
		TREECMP ref "out$j"
		# cp -r keeps no hard links and no times: neither do we.
		[ "$(stat -c %h "out$j/linked")" -eq 1 ]
		[ "$(stat -c %Y "out$j/file")" != "$(stat -c %Y src/file)" ]
		"$SPARSECMP" src/sparse "out$j/sparse"
	done
}

@test "a tree copied onto an existing copy of itself replaces every file" {
	make_tree src
	run "$MAPCP" -a src out
	[ "$status" -eq 0 ]
	random_file src/file 100001
	echo new >"src/sub dir/small1"
	touch -d '2021-01-01' src/file "src/sub dir/small1" "src/sub dir" src
	run "$MAPCP" -a src/. out
	echo "$output"
	[ "$status" -eq 0 ]
	TREECMP -t src out
}

@test "copying a directory into itself is refused and nothing is made" {
	mkdir -p src/a
	echo hi >src/a/f
	run "$MAPCP" -r src src/a/src
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot copy a directory, 'src', into itself, 'src/a/src'" ]
	[ ! -e src/a/src ]
	run "$MAPCP" -r src src
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot copy a directory, 'src', into itself, 'src/src'" ]
	[ "$(ls src)" = a ]
	# Through a symlink to the same directory, too.
	ln -s src alias
	run "$MAPCP" -r src alias/a/x
	[ "$status" -eq 1 ]
	[[ "$output" == *"into itself"* ]]
	[ ! -e src/a/x ]
}

@test "a tree deeper than PATH_MAX is copied whole" {
	local name i
	name=$(printf 'd%.0s' $(seq 200))
	mkdir top
	(
		cd top || exit 1
		for i in $(seq 30); do
			mkdir "$name" && cd "$name" || exit 1
			echo "level $i" >file
		done
		ln -s file link
	)
	# 30 levels of 201 bytes: 6,000 bytes, past PATH_MAX (4096).
	run "$MAPCP" -a top copy
	echo "$output"
	[ "$status" -eq 0 ]
	TREECMP -t top copy
	[ "$(find copy -name file | wc -l)" -eq 30 ]
}

@test "an unreadable file is reported, the rest of the tree is copied, exit 1" {
	need_unprivileged
	mkdir src out
	random_file src/a 1000
	random_file src/secret 1000
	random_file src/z 1000
	chmod 000 src/secret
	chmod -R a+rX src 2>/dev/null || true
	chmod 000 src/secret
	chmod 777 out
	run as_nobody "$MAPCP" -r src out/copy
	echo "$output"
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot open 'src/secret' for reading: Permission denied" ]
	cmp src/a out/copy/a
	cmp src/z out/copy/z
	[ ! -e out/copy/secret ]
	[ "$(ls -A out/copy | wc -l)" -eq 2 ]
}

@test "-P, -H and -L decide which symlinks are followed, as in cp" {
	mkdir -p real/sub
	echo data >real/f
	ln -s ../f real/sub/up
	ln -s real arg
	run "$MAPCP" -r arg p
	[ "$status" -eq 0 ]
	[ -L p ] && [ "$(readlink p)" = real ]
	run "$MAPCP" -rH arg h
	[ "$status" -eq 0 ]
	[ -d h ] && [ ! -L h ] && [ -L h/sub/up ]
	run "$MAPCP" -rL arg l
	[ "$status" -eq 0 ]
	[ -d l ] && [ ! -L l/sub/up ] && [ "$(cat l/sub/up)" = data ]
	# Without -r a symlink is followed, unless -P or -d says otherwise.
	run "$MAPCP" arg/f plain
	[ "$status" -eq 0 ]
	[ ! -L plain ]
	run "$MAPCP" -P real/sub/up kept
	[ "$status" -eq 0 ]
	[ "$(readlink kept)" = ../f ]
}

@test "-p keeps mode, times to the nanosecond and, as root, owners; --no-preserve drops them" {
	random_file f 1000
	chmod 640 f
	touch -d '2001-02-03 04:05:06.123456789' f
	if [ "$(id -u)" -eq 0 ]; then chown 1234:5678 f; fi
	run "$MAPCP" -p f g
	[ "$status" -eq 0 ]
	[ "$(stat -c '%a %y %u %g' g)" = "$(stat -c '%a %y %u %g' f)" ]
	run "$MAPCP" -p --no-preserve=timestamps f h
	[ "$status" -eq 0 ]
	[ "$(stat -c %Y h)" != "$(stat -c %Y f)" ]
	[ "$(stat -c %a h)" = 640 ]
	LC_ALL=C run "$MAPCP" --preserve=bogus f i
	[ "$status" -eq 1 ]
	[[ "$output" == "mapcp: invalid argument 'bogus' for '--preserve'"* ]]
	[ ! -e i ]
}

@test "--preserve=xattr keeps user extended attributes" {
	random_file f 100
	setfattr -n user.colour -v blue f 2>/dev/null ||
		skip "this filesystem ($(stat -f -c %T .)) keeps no user xattrs"
	run "$MAPCP" --preserve=xattr f g
	[ "$status" -eq 0 ]
	[ "$(getfattr --only-values -n user.colour g)" = blue ]
	run "$MAPCP" f plain
	[ "$status" -eq 0 ]
	! getfattr --only-values -n user.colour plain 2>/dev/null
}

@test "-i asks on stderr and reads the answer from stdin" {
	echo old >dst
	echo new >src
	run bash -c "echo n | '$MAPCP' -i src dst"
	[ "$status" -eq 0 ]
	[ "$output" = "mapcp: overwrite 'dst'? " ]
	[ "$(cat dst)" = old ]
	run bash -c "echo y | '$MAPCP' -i src dst"
	[ "$status" -eq 0 ]
	[ "$(cat dst)" = new ]
	# No DEST, no question.
	run bash -c "'$MAPCP' -i src fresh </dev/null"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ "$(cat fresh)" = new ]
}

@test "-i in a tree: one question per existing file, answered in turn" {
	mkdir -p src out/src
	echo 1 >src/a
	echo 2 >src/b
	echo old >out/src/a
	echo old >out/src/b
	run bash -c "printf 'y\nn\n' | '$MAPCP' -r -j1 -i src out"
	[ "$status" -eq 0 ]
	[ "$(grep -o "overwrite" <<<"$output" | wc -l)" -eq 2 ]
	# readdir's order decides which was asked first.
	[ "$(cat out/src/a out/src/b | sort | tr '\n' ' ')" = "1 old " ] ||
		[ "$(cat out/src/a out/src/b | sort | tr '\n' ' ')" = "2 old " ]
}

@test "-u copies only over older destinations" {
	echo new >src
	echo newer >dst_newer
	echo older >dst_older
	touch -d '2020-01-01' src
	touch -d '2021-01-01' dst_newer
	touch -d '2019-01-01' dst_older
	run "$MAPCP" -uv src dst_newer
	[ "$status" -eq 0 ]
	[ -z "$output" ] # cp 9.1's -v says nothing of what it skips
	[ "$(cat dst_newer)" = newer ]
	run "$MAPCP" -u src dst_older
	[ "$status" -eq 0 ]
	[ "$(cat dst_older)" = new ]
	run "$MAPCP" -u src absent
	[ "$status" -eq 0 ]
	[ "$(cat absent)" = new ]
}

@test "-T copies onto a directory, --parents keeps the source's path" {
	mkdir -p src/x existing
	echo hi >src/x/f
	run "$MAPCP" -rT src existing
	[ "$status" -eq 0 ]
	[ "$(cat existing/x/f)" = hi ]
	[ ! -e existing/src ]
	echo a >file
	run "$MAPCP" -T file existing
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot overwrite directory 'existing' with non-directory" ]
	mkdir into
	run "$MAPCP" --parents src/x/f into
	[ "$status" -eq 0 ]
	[ "$(cat into/src/x/f)" = hi ]
	run "$MAPCP" --parents src/x/f file
	[ "$status" -eq 1 ]
	[[ "$output" == *"--parents"* ]]
	run "$MAPCP" -t existing -T file
	[ "$status" -eq 1 ]
}

@test "directories: -r needed, a file is not replaced by a directory" {
	mkdir d
	echo x >d/f
	run "$MAPCP" d e
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: -r not specified; omitting directory 'd'" ]
	echo file >e
	run "$MAPCP" -r d e
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot overwrite non-directory 'e' with directory 'd'" ]
	[ "$(cat e)" = file ]
}

@test "-v in a tree: one whole line per entry, whatever -j" {
	mkdir src
	for i in $(seq 200); do echo "$i" >"src/f$i"; done
	run "$MAPCP" -rv -j 8 src out
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 201 ]
	[ "$(grep -c "^'src/f[0-9]*' -> 'out/f[0-9]*'\$" <<<"$output")" -eq 200 ]
}

@test "a tree asks the filesystem once whether it can share blocks, not per file" {
	mkdir src
	for i in $(seq 50); do random_file "src/f$i" 5000; done
	traced trace ioctl,copy_file_range "$MAPCP" -r -j 2 --debug src out
	n=$(grep -c 'FICLONE' trace || true)
	[ "$(grep -c '^copy_file_range\|copy_file_range(' trace)" -ge 50 ]
	diff -r src out
	case $(stat -f -c %T .) in
	ext2/ext3 | tmpfs)
		# known not to share: never asked, and --debug says why
		[ "$n" -eq 0 ]
		run "$MAPCP" -r --debug src out2
		[ "$(grep -c 'engine copy_file_range (auto: [a-z0-9]* cannot share blocks' <<<"$output")" -eq 50 ]
		return
		;;
	esac
	if grep -q 'FICLONE.* = 0$' trace; then
		skip "$(stat -f -c %T .) shares blocks: every file is cloned"
	fi
	# Once per worker at most, racing; never once per file.
	[ "$n" -ge 1 ] && [ "$n" -le 2 ]
	# --debug still says, for every file, why reflink was passed over.
	run "$MAPCP" -r --debug src out2
	[ "$(grep -c 'fell back from reflink' <<<"$output")" -eq 50 ]
}
