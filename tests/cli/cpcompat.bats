#!/usr/bin/env bats
# cp's options as cp means them, each case checked against GNU cp run on
# the same input in a twin directory: what is left on disk, and what is
# said.

load helpers

# twins: make c/ (for cp) and m/ (for mapcp) from the commands in "$1",
# run in each.
twins() {
	mkdir c m
	(cd c && eval "$1")
	(cd m && eval "$1")
}

# state DIR: every entry's type, mode, link target or contents, and how
# many names its inode has (not inode numbers: those differ).
state() {
	(cd "$1" && for f in $(ls -A | sort); do
		if [ -L "$f" ]; then
			echo "$f link $(readlink "$f")"
		elif [ -f "$f" ]; then
			echo "$f file $(stat -c '%A %h' "$f") $(cat "$f")"
		else
			echo "$f $(stat -c '%F %A' "$f")"
		fi
	done)
}

@test "abbreviations of cp's long options mean what they mean to cp" {
	echo data >src
	run "$MAPCP" --pr=mode src a # --preserve, though --progress exists too
	[ "$status" -eq 0 ]
	run "$MAPCP" --verb src b
	[ "$output" = "'src' -> 'b'" ]
	run "$MAPCP" --rem src b
	[ "$status" -eq 0 ]
	# mapcp's own options abbreviate too, where cp has no such prefix
	run "$MAPCP" --buf=1M src c
	[ "$status" -eq 0 ]
	# --preserve's names abbreviate as in cp
	run "$MAPCP" --preserve=link,mo,t src d
	[ "$status" -eq 0 ]
	LC_ALL=C run "$MAPCP" --preserve=lonks src e
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: invalid argument 'lonks' for '--preserve'" ]
}

@test "--remove-destination: a symlink, a FIFO, a read-only file and a hard link are replaced, as cp does" {
	twins 'echo src >a; echo tgt >t; chmod 444 t; ln -s t l; mkfifo ff;
		echo ro >ro; chmod 444 ro; ln a hl'
	for d in l ff ro hl; do
		(cd c && cp --remove-destination a "$d")
		(cd m && "$MAPCP" --remove-destination a "$d")
	done
	[ "$(state c)" = "$(state m)" ]
	[ "$(cat m/t)" = tgt ] # the symlink's target is not written
	# the source under its own name is still the same file
	run "$MAPCP" --remove-destination m/a m/./a
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'm/a' and 'm/./a' are the same file" ]
}

@test "-b, --backup=CONTROL, -S: the backups GNU cp makes, and what -v says" {
	twins 'echo new >a; echo old >b; echo x >c; echo y >c.~1~; echo t >tg;
		ln -s tg l; echo F >F'
	for args in "-b a b" "--backup=numbered a b" "--backup=t a b" \
		"--backup=existing a c" "--backup=simple -S .orig a b" \
		"--backup=none a b" "-S _s a c" "--backup=nil a l" \
		"--force --backup=simple --suffix=.b F F"; do
		# shellcheck disable=SC2086
		(cd c && cp -v $args >>out 2>&1) || true
		# shellcheck disable=SC2086
		(cd m && "$MAPCP" -v $args >>out 2>&1) || true
	done
	sed -i 's/^cp:/X:/' c/out
	sed -i 's/^mapcp:/X:/' m/out
	diff c/out m/out
	[ "$(state c)" = "$(state m)" ]
	[ "$(cat m/tg)" = t ] # a symlink DEST is backed up, not written through
	# VERSION_CONTROL and SIMPLE_BACKUP_SUFFIX, as in cp
	(cd c && VERSION_CONTROL=numbered cp -b a b && SIMPLE_BACKUP_SUFFIX=.s cp --backup=simple a b)
	(cd m && VERSION_CONTROL=numbered "$MAPCP" -b a b && SIMPLE_BACKUP_SUFFIX=.s "$MAPCP" --backup=simple a b)
	[ "$(state c)" = "$(state m)" ]
}

@test "backups: a backup that would be the source, -n, bad CONTROL" {
	echo A >a~
	: >a
	run "$MAPCP" --b=simple a~ a
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: backing up 'a' might destroy source;  'a~' not copied" ]
	[ "$(cat a~)" = A ]
	run "$MAPCP" -bn a~ b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: options --backup and --no-clobber are mutually exclusive" ]
	LC_ALL=C run "$MAPCP" --backup=bogus a~ b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: invalid argument 'bogus' for 'backup type'" ]
	LC_ALL=C run "$MAPCP" --backup=n a~ b
	[ "${lines[0]}" = "mapcp: ambiguous argument 'n' for 'backup type'" ]
	[ ! -e b ]
}

@test "backups with several SOURCEs and of symlinks, as cp makes them" {
	twins 'mkdir a b d; echo a >a/f; echo b >b/f; touch x; echo r >reg;
		ln -s "$PWD/reg" sl'
	for args in "--backup=numbered a/f b/f d" "--backup a/f b/f d" \
		"--backup=numbered x x d" "-bd sl reg"; do
		# shellcheck disable=SC2086
		(cd c && cp $args >>out 2>&1) || true
		# shellcheck disable=SC2086
		(cd m && "$MAPCP" $args >>out 2>&1) || true
	done
	sed -i 's/^cp:/X:/' c/out
	sed -i 's/^mapcp:/X:/' m/out
	diff c/out m/out
	[ "$(state c/d)" = "$(state m/d)" ]
	[ "$(state c | sed "s,$PWD/c,,")" = "$(state m | sed "s,$PWD/m,,")" ]
}

@test "-v names the directories it makes, not those already there, as cp -v" {
	twins 'mkdir -p s/d t/d x y; echo f >s/d/f'
	(cd c && cp -rv s/d t/ >out && cd y && cp -v -ab ../x/. . >>../out)
	(cd m && "$MAPCP" -rv s/d t/ >out && cd y && "$MAPCP" -v -ab ../x/. . >>../out)
	diff c/out m/out
	[ "$(cat m/out)" = "'s/d/f' -> 't/d/f'" ]
}

@test "POSIXLY_CORRECT: a dangling symlink DEST is written through, as cp does then" {
	ln -s no-such dangle
	echo hi >f
	run "$MAPCP" f dangle
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: not writing through dangling symlink 'dangle'" ]
	[ ! -e no-such ]
	POSIXLY_CORRECT=1 run "$MAPCP" f dangle
	[ "$status" -eq 0 ]
	[ "$(cat no-such)" = hi ]
	[ -L dangle ]
}

# tree_state DIR: every entry below DIR, recursively, as state() shows
# one, with the hard links among them named by the first path of each
# inode (inode numbers differ between the twins).
tree_state() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r f; do
		local ino first
		ino=$(stat -c %i "$f")
		first=$(find . -inum "$ino" | LC_ALL=C sort | head -n 1)
		if [ -L "$f" ]; then
			echo "$f link $(readlink "$f") =$first"
		elif [ -f "$f" ]; then
			echo "$f file $(stat -c '%A %h' "$f") =$first $(cat "$f")"
		else
			echo "$f $(stat -c '%F %A' "$f")"
		fi
	done)
}

# both CMD...: CMD as "cp ..." in c/ and as "mapcp ..." in m/, each with
# what is on stdin, each one's status and messages (the program's name
# made X) appended to its out.
both() {
	local in
	in=$(cat)
	(cd c && { cp "$@" <<<"$in"; echo "status $?"; } >>out 2>&1) || true
	(cd m && { "$MAPCP" "$@" <<<"$in"; echo "status $?"; } >>out 2>&1) ||
		true
	sed -i "s/mapcp: /X: /g; s/cp: /X: /g; s/'cp --help'/'X --help'/;
		s/'mapcp --help'/'X --help'/" c/out m/out
}

@test "-l, -s: hard and symbolic links instead of copies, with cp's rules for what is in the way" {
	twins 'echo a >a; echo b >b; echo o >old; ln -s a sl; ln -s nowhere dl;
		mkdir d; echo f >d/f; ln -s f d/s; mkdir e'
	for args in "-l a n1" "-l a b" "-lf a b" "-s a n2" "-s a old" \
		"-sf a old" "-l sl n3" "-lP sl n4" "-l dl n5" "-lP dl n6" \
		"-l a a" "-s a a" "-li a old" "-ln a old" "-l -s a n7" \
		"-rl d dl1" "-rlP d dl2" "-rs d ds" "-l d n8" "-lbf a a" \
		"-lb a old" "-sv a n9" "-lv a n10"; do
		# shellcheck disable=SC2086
		echo n | both $args
	done
	diff c/out m/out
	diff <(tree_state c) <(tree_state m)
	# with an absolute SOURCE, -rs makes its links anywhere
	(cd c && cp -rs "$PWD/d" e/ds) && (cd m && "$MAPCP" -rs "$PWD/d" e/ds)
	[ "$(tree_state c | sed "s,$PWD/c,,")" = "$(tree_state m | sed "s,$PWD/m,,")" ]
	[ "$(readlink m/e/ds/f)" = "$PWD/m/d/f" ]
}

@test "--attributes-only: no data copied, an existing DEST's kept, attributes as asked" {
	twins 'printf 1 >f1; printf 22 >f2; chmod 640 f1; touch -d 2001-01-01 f1;
		ln f2 l2; ln -s f1 s1; mkdir d; printf 3 >d/x'
	for args in "--attributes-only f1 new" "--attributes-only f1 f2" \
		"-p --attributes-only f1 f2" "-a --attributes-only s1 f2" \
		"-a --remove-destination --attributes-only s1 l2" \
		"-a --attributes-only d d2"; do
		# shellcheck disable=SC2086
		both $args </dev/null
	done
	diff c/out m/out
	diff <(tree_state c) <(tree_state m)
	[ "$(stat -c %y m/f2)" = "$(stat -c %y m/f1)" ]
	[ ! -s m/new ] && [ ! -s m/d2/x ] && [ "$(cat m/f2)" = 22 ]
}

@test "--no-preserve=mode: what is made gets the default modes, as cp gives" {
	twins 'umask 022; echo x >f; chmod 600 f; mkdir d; chmod 705 d;
		mkfifo p; chmod 600 p; echo y >old; chmod 604 old; chmod 1777 d'
	for args in "--no-preserve=mode f f2" "--no-preserve=mode f old" \
		"-r --no-preserve=mode d d2" "-a --no-preserve=mode p p2" \
		"--no-preserve=mode --preserve=all f f3" \
		"--preserve=ownership f f4" "-p --no-preserve=mode f f5"; do
		# shellcheck disable=SC2086
		(umask 022 && both $args </dev/null)
	done
	diff c/out m/out
	diff <(tree_state c) <(tree_state m)
	[ "$(stat -c %a m/f2)" = 644 ] && [ "$(stat -c %a m/d2)" = 1755 ]
}

@test "-p and -a keep POSIX ACLs, of files and directories, as cp does" {
	command -v setfacl >/dev/null || skip "no setfacl (Debian package acl)"
	mkdir s
	echo x >s/f
	setfacl -m u:bin:rw- s/f 2>/dev/null ||
		skip "this filesystem has no POSIX ACLs"
	mkdir s/d
	setfacl -m u:bin:r-x s/d
	setfacl -d -m u:bin:rwx s/d
	cp -a s c
	"$MAPCP" -a s m
	for f in f d; do
		[ "$(cd c && getfacl -p "$f")" = "$(cd m && getfacl -p "$f")" ]
	done
	[ "$(cd m && getfacl -pd d)" = "$(cd c && getfacl -pd d)" ]
	getfacl -p m/f | grep -q '^user:bin:rw-'
	# without -p, none: the copy gets what a new file gets
	"$MAPCP" s/f plain
	[ "$(getfacl -p plain | grep -c '^user:bin')" -eq 0 ]
	# with -p, an ACL the temporary inherited from its directory goes
	echo y >g
	mkdir inh
	setfacl -d -m u:bin:rwx inh
	cp -p g inh/c && "$MAPCP" -p g inh/m
	[ "$(getfacl -p inh/c | sed 1d)" = "$(getfacl -p inh/m | sed 1d)" ]
}

@test "xattrs of a read-only source are kept for a user too, as cp keeps them" {
	command -v setfattr >/dev/null || skip "no setfattr (Debian package attr)"
	need_unprivileged
	echo x >f
	setfattr -n user.k -v v f 2>/dev/null ||
		skip "this filesystem has no user xattrs"
	chmod 444 f
	chown 65534:65534 f "$T"
	as_nobody "$MAPCP" --preserve=xattr f g
	as_nobody "$MAPCP" -a f h
	[ "$(getfattr --only-values -n user.k g)" = v ]
	[ "$(getfattr --only-values -n user.k h)" = v ]
	[ "$(stat -c %a g)" = 444 ] && [ "$(stat -c %a h)" = 444 ]
}

@test "--copy-contents: a FIFO in a tree is read as a file; without it, made as a FIFO" {
	mkdir s
	mkfifo s/p
	echo f >s/f
	"$MAPCP" -r --copy-contents s m &
	pid=$!
	echo through the fifo >s/p
	wait "$pid"
	[ -f m/p ] && [ "$(cat m/p)" = "through the fifo" ]
	timeout 20 "$MAPCP" -r s n
	[ -p n/p ]
	# --copy-contents without -r changes nothing: a FIFO is read anyway
	"$MAPCP" --copy-contents s/f one
	[ "$(cat one)" = f ]
}

@test "-x: a directory on another filesystem is made, left empty, as cp -x does" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a filesystem needs root"
	mkdir -p s/mnt s/here
	echo a >s/here/a
	mount -t tmpfs -o size=1M mapcp-x s/mnt ||
		skip "cannot mount a tmpfs here"
	echo b >s/mnt/b
	mkdir s/mnt/sub
	cp -rx s c
	"$MAPCP" -rx s m
	"$MAPCP" -r s all
	umount s/mnt
	diff <(tree_state c) <(tree_state m)
	[ -d m/mnt ] && [ -z "$(ls -A m/mnt)" ] && [ "$(cat m/here/a)" = a ]
	[ "$(cat all/mnt/b)" = b ]
}

@test "--update=all, none, none-fail, older: coreutils 9.5's meanings" {
	echo new >src
	touch -d 2000-01-01 old
	echo newer >newer
	touch -d 2030-01-01 newer
	run "$MAPCP" --update=none src old
	[ "$status" -eq 0 ] && [ ! -s old ] && [ -z "$output" ]
	run "$MAPCP" --update=none-fail src old
	[ "$status" -eq 1 ] && [ ! -s old ]
	[ "$output" = "mapcp: not replacing 'old'" ]
	run "$MAPCP" --update=older src newer
	[ "$status" -eq 0 ] && [ "$(cat newer)" = newer ]
	run "$MAPCP" --update src newer
	[ "$(cat newer)" = newer ]
	run "$MAPCP" -u --update=all src newer
	[ "$status" -eq 0 ] && [ "$(cat newer)" = new ]
	run "$MAPCP" --update=older src old
	[ "$(cat old)" = new ]
	# -n before it wins; --update=all after -i stops the question
	echo x >k
	run "$MAPCP" -n --update=all src k
	[ "$(cat k)" = x ]
	run "$MAPCP" -i --update=all src k </dev/null
	[ "$status" -eq 0 ] && [ "$(cat k)" = new ] && [ -z "$output" ]
	LC_ALL=C run "$MAPCP" --update=no src k
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: ambiguous argument 'no' for '--update'" ]
	LC_ALL=C run "$MAPCP" --update=bogus src k
	[ "${lines[0]}" = "mapcp: invalid argument 'bogus' for '--update'" ]
}

@test "--strip-trailing-slashes, -Z, --context, --preserve=context, target messages: as cp says them" {
	twins 'mkdir d; echo x >d/f; ln -s d sd; echo y >g'
	mkdir i1 i2
	both -r --strip-trailing-slashes sd/ s1 </dev/null
	both -r --strip-trailing-slashes sd/ d/ i1 </dev/null
	both -r sd/ i2 </dev/null
	both -Z g z1 </dev/null
	both --context=user_u:object_r:tmp_t:s0 g z2 </dev/null
	both -a g z3 </dev/null
	both -t nowhere g </dev/null
	both -t g d </dev/null
	both g g d/f </dev/null
	if [ ! -e /sys/fs/selinux/enforce ]; then
		both --preserve=context g z4 </dev/null
	fi
	diff c/out m/out
	diff <(tree_state c) <(tree_state m)
}

@test "-i: the question cp asks, before a directory in the way is refused" {
	twins 'mkdir -p a b/a/c; touch a/c; echo s >s; echo d >ro; chmod 0 ro'
	echo n | both -iR a b
	echo y | both -iR a b
	echo n | both -vi s ro
	echo n | both -vfi s ro
	echo y | both -vn s ro
	diff c/out m/out
	diff <(tree_state c) <(tree_state m)
}

@test "a bad word for an option: cp's message, in the locale's quotes" {
	mkdir c m
	echo x >c/a && echo x >m/a
	for loc in C C.UTF-8; do
		for args in "--preserve=acl" "--preserve=" "--no-preserve=mode,"  \
			"--sparse=bogus" "--reflink=" "--backup=x" "--backup=n"; do
			# shellcheck disable=SC2086
			LC_ALL=$loc both $args a b </dev/null
		done
	done
	diff c/out m/out
	grep -q "invalid argument ‘acl’ for ‘--preserve’" m/out
}

# meta DIR: each entry's ACL, user xattrs, owner and mode, for twins.
meta() {
	(cd "$1" && for f in $(ls -A | sort); do
		echo "$f $(stat -c '%U:%G %a' "$f")"
		getfacl -cp "$f" 2>/dev/null
		getfattr -d "$f" 2>/dev/null | grep -v '^#'
	done)
}

@test "an existing DEST keeps what cp keeps of it: its ACL, xattrs, owner, set-ID bits" {
	command -v setfacl >/dev/null && command -v setfattr >/dev/null ||
		skip "no setfacl or setfattr (Debian packages acl, attr)"
	[ "$(id -u)" -eq 0 ] || skip "giving files to another owner needs root"
	twins 'echo new >f; echo old >acl; echo old >xa; echo old >own;
		echo old >suid; chmod 4755 suid; chown 65534:65534 own xa;
		setfattr -n user.keep -v k xa;
		setfacl -m u::rw,u:65534:r,g::-,m::rw,o::- acl'
	for args in "f acl" "f xa" "--preserve=timestamps f own" "f suid" \
		"-p --no-preserve=ownership f xa"; do
		# shellcheck disable=SC2086
		both $args </dev/null
	done
	diff c/out m/out
	diff <(meta c) <(meta m)
	getfacl -cp m/acl | grep -q '^group::---'
}

@test "--no-preserve=mode: an ACL inherited from the directory is removed, as cp does" {
	command -v setfacl >/dev/null || skip "no setfacl (Debian package acl)"
	twins 'mkdir t; setfacl -d -m u:65534:rwx t 2>/dev/null || exit 0;
		echo hi >f; mkdir d'
	getfacl -cpn m/t | grep -q '^default:user:65534' ||
		skip "this filesystem has no default ACLs"
	(umask 022 && both --no-preserve=mode f t/ </dev/null)
	(umask 022 && both -r --no-preserve=mode d t/ </dev/null)
	diff c/out m/out
	diff <(meta c/t) <(meta m/t)
	[ "$(stat -c %a m/t/f)" = 644 ]
}

@test "ACLs and xattrs a filesystem cannot hold are an error, as in cp" {
	command -v setfacl >/dev/null && command -v setfattr >/dev/null ||
		skip "no setfacl or setfattr (Debian packages acl, attr)"
	[ "$(id -u)" -eq 0 ] || skip "mounting a ramfs needs root"
	mkdir rf
	mount -t ramfs mapcp-rf rf || skip "cannot mount a ramfs here"
	echo x >f
	setfacl -m u:65534:rw f && setfattr -n user.a -v 1 f
	for o in -p -a --preserve=xattr --preserve=mode --preserve=timestamps; do
		cp "$o" f rf/c 2>/dev/null && c=0 || c=$?
		"$MAPCP" "$o" f rf/m 2>/dev/null && m=0 || m=$?
		rm -f rf/c rf/m
		[ "$c" = "$m" ] || { umount rf; echo "$o: cp $c, mapcp $m"; false; }
	done
	LC_ALL=C run "$MAPCP" -p f rf/m
	umount rf
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot preserve permissions of 'rf/m': Operation not supported" ]
}

@test "-b: when the link or copy cannot be made, DEST stays where it was and no backup is left" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
	mkdir full
	mount -t tmpfs -o size=2M,nr_inodes=4 mapcp-full full ||
		skip "cannot mount a tmpfs here"
	mkdir full/s
	echo 1 >full/s/f1
	echo old >full/o
	for args in "-sb $PWD/full/s/f1" "-lb full/s/f1"; do
		# shellcheck disable=SC2086
		run "$MAPCP" $args full/o
		[ "$status" -eq 1 ] || { umount full; false; }
		[ "$(cat full/o)" = old ] && [ ! -e full/o~ ] ||
			{ umount full; false; }
	done
	umount full
}

@test "-n, -u, -i with a DEST the user may not write: cp's answers, in cp's order" {
	need_unprivileged
	mkdir c m
	for d in c m; do
		echo a >$d/f && echo b >$d/o && chmod 444 $d/o
		touch -d 2000-01-01 $d/f
	done
	chown -R 65534:65534 c m
	for args in "-n f o" "-u f o" "-i f o" "-fi f o"; do
		# shellcheck disable=SC2086
		(cd c && echo n | as_nobody cp $args >>out 2>&1; echo "status $?" >>out)
		# shellcheck disable=SC2086
		(cd m && echo n | as_nobody "$MAPCP" $args >>out 2>&1; echo "status $?" >>out)
	done
	sed -i "s/mapcp: /X: /g; s/cp: /X: /g" c/out m/out
	diff c/out m/out
	[ "$(cat m/o)" = b ]
	run as_nobody "$MAPCP" --update=none-fail m/f m/o
	[ "$status" -eq 1 ] && [ "$output" = "mapcp: not replacing 'm/o'" ]
}

@test "-s and -i: a yes does not replace what is in the way of a symlink, as in cp; of a hard link it does" {
	twins 'echo new >f; echo old >o; echo old >p'
	echo y | both -is "$PWD/c/f" o
	echo y | both -il f p
	sed -i "s,$PWD/[cm]/,/,g" c/out m/out
	diff c/out m/out
	diff <(tree_state c) <(tree_state m)
}

@test "-T, -t and trailing slashes: what cp makes of each combination" {
	twins 'mkdir -p d/x e f; echo 1 >d/x/1; echo a >file; ln -s d dl'
	for args in "-T file e" "-rT d e" "-T d f" "-rT d file" \
		"-T file file2 x" "-rT dl e2" "-rT d/ f/" "-T -t e file" \
		"-rT d nonexist/" "-r d nonexist2/" "-r file nodir/" \
		"file nodir2/" "-r d e/" "-rt e d file"; do
		# shellcheck disable=SC2086
		both $args </dev/null
	done
	diff c/out m/out
	diff <(tree_state c) <(tree_state m)
}
