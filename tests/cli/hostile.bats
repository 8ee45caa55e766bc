#!/usr/bin/env bats
# Hostile paths and inputs, with GNU cp (9.1) as the reference, after its
# own tests thru-dangling, abuse, same-file, into-self, file-perm-race and
# existing-perm-race: DEST a dangling symlink or one this very command just
# made, SOURCE and DEST one file by every route, a directory in the way or
# copied into itself, names with newlines, dashes and bytes that are not
# UTF-8, sources that cannot be read, and DEST watched for its mode and size
# while it is written. Every failure must be one line and exit 1, DEST
# untouched, no .NAME.mapcp-XXXXXX temporary left.

load helpers

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
}

# Bind mounts made by a test, taken away before its directory is removed.
MOUNTS=()

teardown() {
	local m
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" && umount "$m"
	done
	cd / && rm -rf "$T"
}

MKSOCK() {
	"${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/mksock" "$@"
}

TREECMP() {
	"${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/treecmp" "$@"
}

need_strace() {
	command -v strace >/dev/null || skip "strace is not installed"
}

# gnu_cp ARGS...: the reference, called "cp" in its messages.
gnu_cp() {
	command cp "$@"
}

# like_cp ARGS...: run GNU cp, then mapcp, with ARGS (stdin /dev/null);
# both must end with the same status and say the same, "cp" for "mapcp".
# For cases that change nothing (errors): cp runs first. Leaves mapcp's
# status and output.
like_cp() {
	local cp_status=0 cp_out
	cp_out=$(gnu_cp "$@" 2>&1 </dev/null) || cp_status=$?
	run "$MAPCP" "$@" </dev/null
	if [ "$status" -ne "$cp_status" ] ||
		[ "${output//mapcp:/cp:}" != "$cp_out" ]; then
		echo "cp $*: status $cp_status: $cp_out"
		echo "mapcp: status $status: $output"
		return 1
	fi
}

# no_temps DIR...: no .NAME.mapcp-XXXXXX temporary anywhere below DIR.
no_temps() {
	local left
	left=$(find "$@" -name '.*.mapcp-*' -print)
	[ -z "$left" ] || {
		echo "temporaries left: $left"
		return 1
	}
}

# one_line: the last run printed exactly one line.
one_line() {
	[ "${#lines[@]}" -eq 1 ] || {
		printf 'not one line: %s\n' "$output" | cat -A
		return 1
	}
}

# The engines --help lists, auto included.
engines() {
	"$MAPCP" --help | sed -n '/engines:/,/--force/p' | sed '1d;$d' |
		tr -s ' ' '\n' | grep -v '^$'
}

# named_temp CMD...: run CMD with open(O_TMPFILE) failing with EOPNOTSUPP,
# as on a filesystem without it, so that mapcp writes a named temporary.
# strace fails every openat of the path "." for it: in a single file's
# copy that is the O_TMPFILE one and no other.
named_temp() {
	local err rc=0
	err=$(mktemp)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -o /dev/null -P . -e trace=openat \
		-e inject=openat:error=EOPNOTSUPP "$@" 2>"$err" || rc=$?
	grep -v '^strace: ' "$err" >&2 || true
	rm -f "$err"
	return $rc
}

@test "DEST a dangling symlink: refused as cp refuses it, nothing made" {
	random_file f 1000
	ln -s nowhere dangle
	for opt in "" -f -n -u -p -a -r -L --inplace; do
		if [ "$opt" != --inplace ]; then
			like_cp $opt f dangle
		else
			run "$MAPCP" $opt f dangle
		fi
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: not writing through dangling symlink 'dangle'" ]
		[ ! -e nowhere ] && [ -L dangle ]
	done
	for e in $(engines); do
		run "$MAPCP" -e "$e" f dangle
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: not writing through dangling symlink 'dangle'" ]
		[ ! -e nowhere ]
	done
	# Into a directory, and in a tree: the rest is copied.
	mkdir d
	ln -s ../nowhere d/f
	like_cp f d
	[ "$output" = "mapcp: not writing through dangling symlink 'd/f'" ]
	mkdir -p s out
	random_file s/f 100
	random_file s/g 100
	ln -s ../nowhere out/f
	# Below a command-line DEST nothing is followed: the link is replaced
	# by the copy, as rsync does (cp refuses, and writes through a live
	# link, outside the tree; see the threat model in
	# docs/guarantees.md).
	run "$MAPCP" -r s/. out
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ ! -L out/f ] && [ ! -e nowhere ]
	cmp s/f out/f
	cmp s/g out/g
	no_temps .
}

@test "DEST a symlink loop: cannot stat it, but -f replaces it (cp's thru-dangling)" {
	random_file f 1000
	ln -s loop loop
	like_cp f loop
	[ "$output" = "mapcp: cannot stat 'loop': Too many levels of symbolic links" ]
	[ -L loop ]
	run "$MAPCP" -f f loop
	[ "$status" -eq 0 ]
	[ ! -L loop ]
	cmp f loop
	# A loop of two: the name given is replaced, the other link kept.
	ln -s b a
	ln -s a b
	run "$MAPCP" -f f a
	[ "$status" -eq 0 ]
	cmp f a
	[ "$(readlink b)" = a ]
	no_temps .
}

@test "a symlink this command just made is not written through (cp's abuse test)" {
	mkdir a b c
	ln -s ../t a/1
	echo payload >b/1
	for dest in dangling existing; do
		rm -f c/1 t
		[ "$dest" = dangling ] || echo i >t
		like_cp -dR a/1 b/1 c
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: will not copy 'b/1' through just-created symlink 'c/1'" ]
		[ "$(readlink c/1)" = ../t ]
		if [ "$dest" = dangling ]; then
			[ ! -e t ]
		else
			[ "$(cat t)" = i ]
		fi
	done
	# Without -d, a/1 is followed: c/1 is a file, and not overwritten.
	rm -f c/1
	like_cp a/1 b/1 c
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: will not overwrite just-created 'c/1' with 'b/1'" ]
	[ "$(cat t)" = i ] && [ "$(cat c/1)" = i ]
	no_temps .
}

@test "a file this command just made is not overwritten; a source given twice is copied once" {
	mkdir x y z
	echo A >x/f
	echo B >y/f
	like_cp x/f y/f z
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: will not overwrite just-created 'z/f' with 'y/f'" ]
	[ "$(cat z/f)" = A ]
	rm z/f
	like_cp x/f ./x/f z
	[ "$status" -eq 0 ]
	[ "$output" = "mapcp: warning: source file './x/f' specified more than once" ]
	[ "$(cat z/f)" = A ]
	cd x
	like_cp f f ../z
	[ "$output" = "mapcp: warning: source file 'f' specified more than once" ]
	cd ..
	# -n and -u keep DEST quietly first, as in cp.
	rm z/f
	run "$MAPCP" -n x/f y/f z
	[ "$status" -eq 0 ] && [ -z "$output" ] && [ "$(cat z/f)" = A ]
	# Directories of one name are merged.
	mkdir -p p/d q/d
	echo 1 >p/d/one
	echo 2 >q/d/two
	run "$MAPCP" -r p/d q/d z
	[ "$status" -eq 0 ]
	[ "$(ls z/d)" = "$(printf 'one\ntwo')" ]
	no_temps .
}

@test "SOURCE and DEST one file through every route, every engine: refused, intact" {
	mkdir -p dir/sub
	cd dir
	random_file x 100000
	cp x ../ref
	ln x hard
	ln -s x soft
	ln -s "$PWD/x" abs
	before=$(ls -A)
	for dst in x ./x hard soft abs sub/../x ../dir/x "$PWD/x" "$PWD//x"; do
		like_cp x "$dst"
		[ "$output" = "mapcp: 'x' and '$dst' are the same file" ]
		for e in $(engines); do
			run "$MAPCP" -e "$e" x "$dst"
			[ "$status" -eq 1 ]
			[ "$output" = "mapcp: 'x' and '$dst' are the same file" ]
			cmp x ../ref
		done
		for e in auto rw mmap; do
			for opt in -f --inplace -p -u -r --sparse=always --verify; do
				run "$MAPCP" $opt -e "$e" x "$dst"
				[ "$status" -eq 1 ]
				[ "$output" = "mapcp: 'x' and '$dst' are the same file" ]
				cmp x ../ref
			done
		done
		run "$MMAP_CP" x "$dst"
		[ "$status" -eq 1 ]
		[ "$output" = "mmap_cp: 'x' and '$dst' are the same file" ]
		cmp x ../ref
	done
	# -n: DEST exists, so it is kept, quietly (cp's way).
	like_cp -n x hard
	[ "$status" -eq 0 ]
	cmp x ../ref
	[ "$(ls -A)" = "$before" ]
	no_temps .
}

@test "a symlink copied onto the file it points to: refused, the file kept" {
	random_file x 5000
	cp x ref
	ln -s x soft
	for opt in -d -P -r -a; do
		like_cp $opt soft x
		[ "$status" -eq 1 ]
		[ "$output" = "mapcp: 'soft' and 'x' are the same file" ]
		[ ! -L x ] && cmp x ref
	done
	like_cp -d soft soft
	[ "$output" = "mapcp: 'soft' and 'soft' are the same file" ]
	# Another symlink to the same file may be replaced.
	ln -s x soft2
	like_cp -d soft soft2
	[ "$status" -eq 0 ] && [ -L soft2 ]
	# One FIFO under two names.
	mkfifo fifo
	ln fifo fifo2
	like_cp -r fifo fifo2
	[ "$output" = "mapcp: 'fifo' and 'fifo2' are the same file" ]
	# In a tree: s/t points at out/t.
	mkdir s out
	random_file out/t 3000
	cp out/t t.ref
	ln -s ../out/t s/t
	like_cp -r s/. out
	[ "$output" = "mapcp: 's/./t' and 'out/./t' are the same file" ]
	cmp out/t t.ref
	no_temps .
}

@test "a bind mount's view of the same directory: same file, into itself" {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot bind-mount"
	mkdir -p d/sub view
	random_file d/x 10000
	cp d/x ref
	mount --bind d view 2>err || skip "cannot bind-mount: $(cat err)"
	MOUNTS+=("$T/view")
	like_cp d/x view/x
	[ "$output" = "mapcp: 'd/x' and 'view/x' are the same file" ]
	for e in $(engines); do
		run "$MAPCP" -e "$e" --inplace d/x view/x
		[ "$status" -eq 1 ]
		cmp d/x ref
	done
	run "$MMAP_CP" view/x d/x
	[ "$output" = "mmap_cp: 'view/x' and 'd/x' are the same file" ]
	like_cp -rT d view
	[ "$output" = "mapcp: 'd' and 'view' are the same file" ]
	like_cp -r d/. view
	[ "$output" = "mapcp: 'd/.' and 'view/.' are the same file" ]
	# Not inside its own view either (cp makes view/copy and d/d, empty).
	run "$MAPCP" -r d view/copy
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot copy a directory, 'd', into itself, 'view/copy'" ]
	run "$MAPCP" -r d view
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot copy a directory, 'd', into itself, 'view/d'" ]
	[ "$(ls d)" = "$(printf 'sub\nx')" ]
	cmp d/x ref
	no_temps d
}

@test "DEST a directory holding a directory of SOURCE's name" {
	random_file x 1000
	mkdir -p d/x
	ln -s d dl
	for args in "x d" "-T x d/x" "-t d x" "-r x d" "x d/" "--parents x d" \
		"x dl" "-T x dl"; do
		like_cp $args
		[ "$status" -eq 1 ]
		[[ "$output" == "mapcp: cannot overwrite directory '"*"' with non-directory" ]]
		[ -d d/x ] && [ -z "$(ls -A d/x)" ]
	done
	# A tree: directories in the way of a file, a symlink and a FIFO; a file
	# in the way of a directory. The rest is copied; cp says the same.
	mkdir -p s/sub
	random_file s/f 100
	ln -s f s/l
	mkfifo s/p
	random_file s/sub/y 100
	random_file s/z 100
	mkdir -p out/f out/l out/p/keep
	echo notdir >out/sub
	gnu_cp -r s/. out 2>cp.err && false
	rm -f out/z
	run "$MAPCP" -r s/. out
	[ "$status" -eq 1 ]
	[ "$(sort <<<"${output//mapcp:/cp:}")" = "$(sort cp.err)" ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "$output" == *"mapcp: cannot overwrite directory 'out/./l' with non-directory"* ]]
	[[ "$output" == *"mapcp: cannot overwrite non-directory 'out/./sub' with directory 's/./sub'"* ]]
	[ -d out/f ] && [ -d out/l ] && [ -d out/p/keep ] && [ "$(cat out/sub)" = notdir ]
	cmp s/z out/z
	no_temps .
}

@test "a directory copied into itself: refused before anything is made" {
	mkdir -p a/b a/c
	random_file a/c/f 100
	cp -a a pristine
	for args in "a a/b" "a a" "a/ a/b/" "a a/c/../b"; do
		# cp says it too, but leaves an empty a/b/a behind: a is made
		# again before mapcp's turn.
		cp_out=$(gnu_cp -r $args 2>&1) && false
		rm -rf a && cp -a pristine a
		run "$MAPCP" -r $args
		[ "$status" -eq 1 ]
		one_line
		[ "$output" = "${cp_out//cp:/mapcp:}" ]
		[[ "$output" == "mapcp: cannot copy a directory, 'a"*"', into itself, 'a/"* ]]
		TREECMP pristine a
	done
	# Through a symlink to it.
	ln -s a alias
	run "$MAPCP" -r a alias/b/x
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot copy a directory, 'a', into itself, 'alias/b/x'" ]
	[ ! -e a/b/x ]
	# Onto itself: the same file, as cp says.
	like_cp -rT a a
	[ "$output" = "mapcp: 'a' and 'a' are the same file" ]
	like_cp -r a/. a
	[ "$output" = "mapcp: 'a/.' and 'a/.' are the same file" ]
	# a/c/.. is a itself, not inside a/c: copied, as by cp.
	run "$MAPCP" -rT a/c a/c/..
	[ "$status" -eq 0 ]
	cmp a/c/f a/f
	no_temps .
}

# Names that cp quotes; each stays one line. (cp 9.1 mangles some names
# holding both ' and a byte it escapes at their end or start, a gnulib
# quirk: mapcp writes those the plain way, and they are not compared.)
NAMES=($'new\nline' 'with space' ' lead' 'trail ' '-dash' '--' '-' \
	$'bad-\xff\xfe' $'\xe9t\xe9' $'tab\there' $'esc\e[31m' "it's" \
	$'del\x7f' 'é-utf8' $'cut-\xe2\x82' $'it\'s\nnew' '$(x)' '*' '#x' \
	'a"b' 'a\b' $'\u2028sep')

@test "awkward names are copied, alone, into a directory and in a tree" {
	mkdir dir src
	for n in "${NAMES[@]}"; do
		printf '%s' "data $n" >"src/$n"
		run "$MAPCP" -- "src/$n" "copy-$n"
		[ "$status" -eq 0 ] && [ -z "$output" ]
		cmp -- "src/$n" "copy-$n"
		run "$MAPCP" -t dir -- "src/$n"
		[ "$status" -eq 0 ]
		cmp -- "src/$n" "dir/$n"
	done
	# A leading dash: after --, or as ./-dash; and a file called --.
	echo dashes >--
	run "$MAPCP" -- -- dashes
	[ "$status" -eq 0 ]
	[ "$(cat dashes)" = dashes ]
	run "$MAPCP" ./src/-dash ./-dash2
	[ "$status" -eq 0 ]
	cmp ./src/-dash ./-dash2
	mkdir "src/"$'sub\ndir'
	ln -s $'new\nline' "src/"$'link\n'
	mkfifo "src/"$'fifo\001'
	printf x >"src/"$'sub\ndir/'$'\xff'
	run "$MAPCP" -a src out
	[ "$status" -eq 0 ]
	TREECMP -t src out
	# -v: one line per entry, quoted, the lines cp -v prints.
	LC_ALL=C.UTF-8 gnu_cp -rv src cp-out | sed 's/cp-out/v-out/' | sort >cp.v
	LC_ALL=C.UTF-8 "$MAPCP" -rv src v-out | sort >mapcp.v
	diff cp.v mapcp.v
	[ "$(wc -l <mapcp.v)" -eq $((${#NAMES[@]} + 5)) ]
	no_temps .
}

@test "messages about awkward names are one line, quoted as cp quotes them" {
	random_file a 10
	for loc in C.UTF-8 C; do
		export LC_ALL=$loc
		for n in "${NAMES[@]}"; do
			like_cp -- "$n" x
			one_line
			[[ "$output" == "mapcp: cannot stat "*": No such file or directory" ]]
			like_cp -- a "no/$n"
			one_line
			like_cp -r -- "$n" x
			one_line
			# mapcp's own words, too: -i, --debug, -v.
			echo data >"$n"
			run "$MAPCP" -i -- a "$n" <<<n
			[ "${output//$'\n'/}" = "$output" ]
			run "$MAPCP" --debug -- a "$n"
			one_line
			run "$MAPCP" -v -- "$n" "$n.copy"
			one_line
			run "$MAPCP" -- "$n" "$n"
			one_line
			[[ "$output" == *" are the same file" ]]
			rm -f -- "$n" "$n.copy"
		done
	done
	unset LC_ALL
	# A name that is not UTF-8 is escaped, octal, and one that is printed
	# as itself in a UTF-8 locale only.
	mkdir x
	LC_ALL=C.UTF-8 run "$MAPCP" $'bad\xff' $'\xc3\xa9t\xc3\xa9' x
	[ "${lines[0]}" = "mapcp: cannot stat 'bad'\$'\\377': No such file or directory" ]
	[ "${lines[1]}" = "mapcp: cannot stat 'été': No such file or directory" ]
	LC_ALL=C run "$MAPCP" $'\xc3\xa9' $'a\nb' x
	[ "${lines[0]}" = "mapcp: cannot stat ''\$'\\303\\251': No such file or directory" ]
	[ "${lines[1]}" = "mapcp: cannot stat 'a'\$'\\n''b': No such file or directory" ]
	# Usage errors quote their operands too.
	run "$MAPCP" $'b\n'
	[ "${lines[0]}" = "mapcp: missing destination file operand after 'b'\$'\\n'" ]
	run "$MAPCP" -e $'no\nengine' a b
	[[ "${lines[0]}" = "mapcp: unknown engine 'no'\$'\\n''engine'; the engines are: "* ]]
}

@test "unreadable source, unwritable destination directory: cp's messages, nothing made" {
	need_unprivileged
	random_file sec 1000
	chmod 600 sec
	random_file pub 1000
	mkdir ro w tree
	random_file tree/f 100
	chmod 555 ro
	chmod 777 w
	echo old >w/old
	chmod 666 w/old
	run as_nobody "$MAPCP" sec w/x
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot open 'sec' for reading: Permission denied" ]
	run as_nobody cp sec w/x
	[ "$output" = "cp: cannot open 'sec' for reading: Permission denied" ]
	run as_nobody "$MAPCP" sec w/old
	[ "$status" -eq 1 ]
	[ "$(cat w/old)" = old ]
	for args in "pub ro/x" "pub ro" "-r tree ro/t" "-t ro pub"; do
		run as_nobody "$MAPCP" $args
		[ "$status" -eq 1 ]
		one_line
		[[ "$output" == "mapcp: cannot create "*"'ro/"*"': Permission denied" ]]
		cp_out=$output
		run as_nobody cp $args
		[ "$output" = "${cp_out//mapcp:/cp:}" ]
	done
	[ -z "$(ls -A ro)" ]
	[ "$(ls -A w)" = old ]
	no_temps .
}

@test "a directory without -r, a socket, a FIFO with -r: as cp does" {
	mkdir d
	like_cp d x
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: -r not specified; omitting directory 'd'" ]
	MKSOCK sock
	like_cp sock x
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: cannot open 'sock' for reading: No such device or address" ]
	[ ! -e x ]
	# -r makes them again, a socket as a socket and a FIFO as a FIFO (cp
	# reads a FIFO's data only with --copy-contents, which mapcp has not):
	# nothing waits on a writer.
	mkfifo fifo
	run timeout 10 "$MAPCP" -r sock fifo d
	[ "$status" -eq 0 ]
	[ -S d/sock ] && [ -p d/fifo ]
	run timeout 10 "$MAPCP" -a fifo fifo2
	[ "$status" -eq 0 ] && [ -p fifo2 ]
	[ "$(stat -c %a fifo)" = "$(stat -c %a fifo2)" ]
	no_temps .
}

# watch_dest DIR NAME SIZE LOG [OLD]: until LOG.stop exists, look again and
# again at DIR/NAME and at its temporaries (.NAME.mapcp-XXXXXX); write to
# LOG each sighting with a mode looser than 0600, or of DIR/NAME at another
# size than SIZE (or OLD, the size of the DEST being replaced). LOG.rounds
# counts the looks, LOG.seen holds what was seen.
watch_dest() {
	local dir=$1 name=$2 size=$3 log=$4 old=${5:--1} rounds=0 f mode sz
	: >"$log"
	: >"$log.seen"
	while [ ! -e "$log.stop" ]; do
		rounds=$((rounds + 1))
		for f in "$dir/$name" "$dir/.$name".mapcp-??????; do
			[ -e "$f" ] || continue
			read -r mode sz < <(stat -c '%a %s' -- "$f" 2>/dev/null) ||
				continue
			echo "$mode $sz $f" >>"$log.seen"
			if (((8#$mode & 8#177) != 0)); then
				echo "mode $mode: $f" >>"$log"
			fi
			if [ "$f" = "$dir/$name" ] && [ "$sz" -ne "$size" ] &&
				[ "$sz" -ne "$old" ]; then
				echo "size $sz of $size: $f" >>"$log"
			fi
		done
		[ "$rounds" -eq 1 ] && : >"$log.started"
	done
	echo "$rounds" >"$log.rounds"
}

# watched LOG CMD...: run CMD while watch_dest (already started, logging to
# LOG) looks; fail if it saw anything.
watched() {
	local log=$1 rc=0
	shift
	wait_for_file "$log.started"
	"$@" || rc=$?
	: >"$log.stop"
	wait
	[ ! -s "$log" ] || {
		cat "$log"
		return 1
	}
	return $rc
}

wait_for_file() {
	local i
	for i in $(seq 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "no $1" >&2
	return 1
}

@test "permission race: a new DEST is never seen looser than 0600, nor partly written" {
	need_strace
	local size=$((200 * 1024 * 1024))
	random_file big "$size"
	chmod 600 big
	mkdir out
	for e in auto rw mmap; do
		for way in tmpfile named; do
			rm -f out/big log*
			watch_dest out big "$size" log &
			if [ "$way" = tmpfile ]; then
				watched log "$MAPCP" -e "$e" big out/big
			else
				watched log named_temp "$MAPCP" -e "$e" big out/big
			fi
			cmp big out/big
			[ "$(stat -c %a out/big)" = 600 ]
			[ "$(ls -A out)" = big ]
			[ "$(cat log.rounds)" -gt 1 ]
		done
	done
	no_temps .
}

# hold_copy CMD...: start CMD (a copy from the FIFO "fifo") in the
# background, feed it 1 MiB, and return while it waits for the rest, with
# the fd 7 open on the FIFO; sent holds what was fed. finish_copy ends it.
hold_copy() {
	"$@" &
	COPY_PID=$!
	exec 7>fifo
	head -c 1048576 /dev/urandom | tee sent >&7
}

finish_copy() {
	head -c 1000 /dev/urandom | tee -a sent >&7
	exec 7>&-
	COPY_STATUS=0
	wait "$COPY_PID" || COPY_STATUS=$?
}

@test "permission race: a copy in progress is not DEST yet; a named temporary is 0600" {
	need_strace
	mkfifo -m 600 fifo
	# O_TMPFILE: nothing with a name until the copy is complete.
	hold_copy "$MAPCP" fifo copy
	[ "$(ls -A)" = "$(printf 'fifo\nsent')" ]
	finish_copy
	[ "$COPY_STATUS" -eq 0 ]
	cmp sent copy
	[ "$(stat -c %a copy)" = 600 ]
	# The named fallback: .copy.mapcp-XXXXXX, 0600 whatever the umask,
	# partly written, and no copy yet.
	rm copy
	umask 0
	hold_copy named_temp "$MAPCP" fifo copy
	temp=$(echo .copy.mapcp-??????)
	[ "$(stat -c %a "$temp")" = 600 ]
	[ "$(stat -c %s "$temp")" -gt 0 ]
	[ ! -e copy ]
	finish_copy
	[ "$COPY_STATUS" -eq 0 ]
	cmp sent copy
	[ "$(stat -c %a copy)" = 600 ]
	no_temps .
}

@test "permission race: an existing DEST is not opened to the new data's readers (cp's existing-perm-race)" {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot give files two groups"
	need_strace
	umask 077
	for way in replace inplace named; do
		rm -f fifo copy sent .copy.mapcp-*
		mkfifo fifo # 0600, group 1: the new data's
		echo old >copy
		chgrp 1 fifo
		chgrp 2 copy # 0640, group 2: the old DEST's readers
		chmod g+r copy
		ino=$(stat -c %i copy)
		case $way in
		replace) hold_copy "$MAPCP" -p fifo copy ;;
		inplace) hold_copy "$MAPCP" -p --inplace fifo copy ;;
		named) hold_copy named_temp "$MAPCP" -p fifo copy ;;
		esac
		if [ "$way" = inplace ]; then
			# cp's own state: written in place, group 2, not 1.
			[ "$(stat -c '%a %g' copy)" = "640 2" ]
		else
			[ "$(stat -c '%a %g %i' copy)" = "640 2 $ino" ]
			[ "$(cat copy)" = old ]
		fi
		for t in .copy.mapcp-??????; do
			[ ! -e "$t" ] || [ "$(stat -c %a "$t")" = 600 ]
		done
		finish_copy
		[ "$COPY_STATUS" -eq 0 ]
		cmp sent copy
		[ "$(stat -c '%a %g' copy)" = "600 1" ]
		no_temps .
	done
}

@test "permission race: an existing DEST 0600 owned by nobody stays so, never looser" {
	[ "$(id -u)" -eq 0 ] || skip "not root: cannot give DEST to nobody"
	need_strace
	local size=$((64 * 1024 * 1024))
	random_file src "$size"
	chmod 644 src
	mkdir out
	for way in tmpfile named; do
		echo old >out/dst
		chmod 600 out/dst
		chown 65534:65534 out/dst
		rm -f log*
		watch_dest out dst "$size" log 4 &
		if [ "$way" = tmpfile ]; then
			watched log "$MAPCP" -e rw --buffer=64K src out/dst
		else
			watched log named_temp "$MAPCP" -e rw --buffer=64K src \
				out/dst
		fi
		cmp src out/dst
		[ "$(stat -c '%a %u %g' out/dst)" = "600 65534 65534" ]
		[ "$(cat log.rounds)" -gt 1 ]
	done
	no_temps .
}
