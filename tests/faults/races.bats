#!/usr/bin/env bats
# The source changes under the copy: while mapcp copies a 64 MiB file, a
# background shell truncates it, appends to it, renames another file over
# it, or writes other bytes over it in place, after a random delay spread
# over the time a copy takes (measured per engine first). Every engine,
# several runs per engine and change. Each run may end only as:
#   exit 0, DEST a whole copy of the source as it was when opened (or, if
#     the change came before mapcp opened it, as it was after the change;
#     for a rename, the opened file's bytes or the new file's), or
#   exit 1 with "'SOURCE' changed ..." and DEST as it was (old or absent).
# A crash, a DEST mixing the two, or a short copy of a file that shrank is
# a bug. The files are on a tmpfs (as root) or in the test directory.

load helpers

ENGINES="auto reflink copy_file_range rw sendfile splice mmap-write mmap io_uring"
# Runs per engine and change; MAPCP_RACE_RUNS=30 for a longer hunt.
RUNS_EACH=${MAPCP_RACE_RUNS:-6}
SIZE=$((64 << 20))
MiB=1048576

setup_file() {
	RACE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-race-XXXXXX")
	export RACE_DIR
	if [ "$(id -u)" -eq 0 ]; then
		mount -t tmpfs -o size=600M tmpfs "$RACE_DIR"
	fi
	head -c "$SIZE" /dev/urandom >"$RACE_DIR/orig"
	head -c "$SIZE" /dev/urandom >"$RACE_DIR/other"
	{ cat "$RACE_DIR/orig"; head -c "$MiB" "$RACE_DIR/other"; } >"$RACE_DIR/grown"
	head -c 65536 /dev/urandom >"$RACE_DIR/old"
}

teardown_file() {
	if mountpoint -q "$RACE_DIR"; then
		umount "$RACE_DIR" || umount -l "$RACE_DIR"
	fi
	rm -rf "$RACE_DIR"
}

# src_open PID: has process PID the source open? Builtins only ([ -ef ]
# compares device and inode), so that polling it costs no fork.
src_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$fd" -ef "$RACE_DIR/src" ] && return 0
	done
	return 1
}

# alive PID: is PID running (not gone, not a zombie)?
alive() {
	local s
	{ read -r _ _ s _ </proc/"$1"/stat; } 2>/dev/null || return 1
	[ "$s" != Z ]
}

# open_for PID: wait for PID to open the source; then how many us it kept
# it open (0 if it never did).
open_for() {
	local t0 t1
	while ! src_open "$1"; do alive "$1" || { echo 0; return; }; done
	t0=${EPOCHREALTIME/./}
	while src_open "$1"; do :; done
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}

# copy_time ENGINE: how long mapcp with ENGINE keeps the source open in a
# quiet copy, in us (the longer of two), so that the changes can be spread
# over that time; measured once for the file. An engine that cannot copy
# here (reflink on tmpfs) leaves its message in $RACE_DIR/cannot.ENGINE.
copy_time() {
	local r=$RACE_DIR worst=1000 i mp t st
	if [ ! -f "$r/time.$1" ]; then
		for i in 1 2; do
			rm -f "$r/src" "$r/dst"
			ln "$r/orig" "$r/src"
			"$MAPCP" -e "$1" "$r/src" "$r/dst" 2>"$r/cannot.$1" &
			mp=$!
			t=$(open_for "$mp")
			st=0
			wait "$mp" || st=$?
			if [ "$st" -eq 0 ]; then
				rm "$r/cannot.$1"
			else
				[ "$(wc -l <"$r/cannot.$1")" -eq 1 ]
			fi
			[ "$t" -gt "$worst" ] && worst=$t
		done
		echo "$worst" >"$r/time.$1"
	fi
	cat "$r/time.$1"
}

# change ACTION PID US ARG: once process PID has opened the source, wait US
# microseconds (busy: sleep(1) is too coarse), then change the source as
# ACTION says (US < 0: at once, most likely before mapcp opens it). Notes
# in $T/opened whether PID had the source open just before the change.
change() {
	local r=$RACE_DIR opened=0 end
	if [ "$3" -ge 0 ]; then
		while ! src_open "$2"; do alive "$2" || break; done
		end=$((${EPOCHREALTIME/./} + $3))
		while [ "${EPOCHREALTIME/./}" -lt "$end" ]; do :; done
	fi
	src_open "$2" && opened=1
	case $1 in
	truncate) truncate -s "$4" "$r/src" ;;
	grow) head -c "$MiB" "$r/other" >>"$r/src" ;;
	rename) mv -f "$r/new" "$r/src" ;;
	overwrite) dd if="$r/other" of="$r/src" bs=1M conv=notrunc status=none ;;
	esac
	echo "$opened" >"$T/opened"
}

# race ACTION: every engine, RUNS_EACH runs each: the first changes the
# source at once, the others once mapcp has it open, each after a delay in
# its own slice of 1.2 times the engine's copy time; each run judged.
race() {
	local action=$1 r=$RACE_DIR e i span delay mp cp_pid old arg opened
	counts_reset
	[ "$(id -u)" -eq 0 ] || echo "# not root: racing in the test directory"
	for e in $ENGINES; do
		span=$(($(copy_time "$e") * 12 / 10))
		for i in $(seq 0 $((RUNS_EACH - 1))); do
			rm -f "$r/src" "$r/dst" "$r/new" "$r/after"
			if [ "$action" = rename ]; then
				ln "$r/orig" "$r/src" # a rename changes no bytes of it
			else
				cp "$r/orig" "$r/src"
			fi
			# An old mtime: a write, however soon, gives a new one
			# even where timestamps are coarse (a jiffy).
			touch -d @1000000000 "$r/src"
			old=-
			if [ $((i % 2)) -eq 1 ]; then
				cp "$r/old" "$r/dst"
				old=$r/old
			fi
			arg=
			case $action in
			truncate)
				arg=$(((RANDOM * 32768 + RANDOM) % SIZE))
				head -c "$arg" "$r/orig" >"$r/after"
				;;
			grow) ln "$r/grown" "$r/after" ;;
			rename)
				ln "$r/other" "$r/new"
				ln "$r/other" "$r/after"
				;;
			overwrite) ln "$r/other" "$r/after" ;;
			esac
			# Stratified: run i > 0 changes the source in slice i.
			delay=-1
			[ "$i" -eq 0 ] || delay=$((((i - 1) * 1000 + RANDOM % 1000) * span / ((RUNS_EACH - 1) * 1000)))
			WHAT="-e $e, $action after $delay us of ~$span, run $i"
			"$MAPCP" -e "$e" "$r/src" "$r/dst" 2>"$T/err" &
			mp=$!
			change "$action" "$mp" "$delay" "$arg" &
			cp_pid=$!
			status=0
			wait "$mp" || status=$?
			wait "$cp_pid"
			ERR=$T/err
			opened=$(cat "$T/opened")
			FAULTS=$((FAULTS + opened))
			WHAT="$WHAT, source open then: $opened"
			if [ "$opened" -eq 1 ]; then
				# Changed while open: the bytes it had when opened.
				judged "$status" "$ERR" "$r/dst" "$old" "$r/orig"
			else
				judged "$status" "$ERR" "$r/dst" "$old" "$r/orig" "$r/after"
			fi
			if [ -f "$r/cannot.$e" ]; then
				# It cannot copy here at all: only its own refusal
				# (or a copy of a source cut to 0 bytes, a stream).
				[ "$status" -eq 0 ] ||
					expect cmp -s "$ERR" "$r/cannot.$e"
			elif [ "$action" = rename ]; then
				# The open file never changes: nothing to fail for.
				expect [ "$status" -eq 0 ]
			elif [ "$status" -eq 1 ]; then
				expect [ "$(wc -l <"$ERR")" -eq 1 ]
				expect grep -qF "mapcp: '$r/src' changed" "$ERR"
			fi
			expect [ "$(temps "$r")" -eq 0 ]
		done
	done
	tally_counts "races:$action"
	echo "# $action: $RUNS runs, $FAULTS hit an open copy: $COMPLETE complete, $CLEAN clean, $BAD bad"
	[ "$BAD" -eq 0 ]
}

@test "source truncated during the copy, every engine: a whole copy or a clean error" {
	race truncate
}

@test "source appended to during the copy, every engine: a whole copy or a clean error" {
	race grow
}

@test "another file renamed over the source during the copy, every engine: the opened file's bytes" {
	race rename
}

@test "source written over in place (same size) during the copy, every engine: never mixed" {
	race overwrite
}
