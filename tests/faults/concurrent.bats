#!/usr/bin/env bats
# Concurrent writers: 20 mapcp processes copy 20 different 4 MiB sources to
# one DEST at the same moment, 20 rounds, with DEST there beforehand
# (rename over it) and not (O_TMPFILE + linkat, which meets EEXIST when
# another writer got there first and must then replace DEST all the same).
# As with GNU cp, every writer succeeds and the last one wins: each exits
# 0 with no message, and DEST ends byte-identical to one of the sources,
# whole, a regular file with one link and the mode cp would give it, with
# no temporary left beside it. On a tmpfs (as root) and in the test
# directory; the same with every engine at once, and with named
# temporaries (the fault shim makes O_TMPFILE fail).

load helpers

WRITERS=20
ROUNDS=${MAPCP_CONCURRENT_ROUNDS:-20}
# copy_file_range and reflink fall back to rw where DEST is on another
# filesystem than the sources (the tmpfs).
ALL_ENGINES=(auto "copy_file_range,rw" rw sendfile splice mmap-write mmap io_uring "reflink,rw")

setup_file() {
	CONC_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mapcp-conc-XXXXXX")
	export CONC_DIR
	mkdir "$CONC_DIR/src" "$CONC_DIR/tmpfs"
	if [ "$(id -u)" -eq 0 ]; then
		mount -t tmpfs -o size=256M tmpfs "$CONC_DIR/tmpfs"
	fi
	local i
	for i in $(seq "$WRITERS"); do
		head -c $((4 << 20)) /dev/urandom >"$CONC_DIR/src/s$i"
		chmod 644 "$CONC_DIR/src/s$i"
	done
	(cd "$CONC_DIR/src" && cksum s*) >"$CONC_DIR/sums"
	head -c 100000 /dev/urandom >"$CONC_DIR/old"
}

teardown_file() {
	if mountpoint -q "$CONC_DIR/tmpfs"; then
		umount "$CONC_DIR/tmpfs" || umount -l "$CONC_DIR/tmpfs"
	fi
	rm -rf "$CONC_DIR"
}

# sources_matching FILE: every source, the one FILE's checksum says it is
# first, so that judging 20 writers costs 20 cmp(1), not 400.
sources_matching() {
	local sum size name first= s z
	read -r sum size _ < <(cksum <"$1")
	while read -r s z name; do
		[ "$s $z" = "$sum $size" ] && first=$CONC_DIR/src/$name
	done <"$CONC_DIR/sums"
	[ -z "$first" ] || echo "$first"
	for name in "$CONC_DIR"/src/s*; do
		[ "$name" = "$first" ] || echo "$name"
	done
}

# writers DIR ENGINE...: WRITERS mapcp at once, writer i copying source i to
# DIR/dest with the i-th ENGINE (round robin); then judge each.
writers() {
	local dir=$1 i old=-
	local -a pids st engines sources
	shift
	engines=("$@")
	[ -e "$dir/dest" ] && old=$CONC_DIR/old
	for i in $(seq "$WRITERS"); do
		${PRELOAD:+env LD_PRELOAD=$PRELOAD MAPCP_FAULT_NOTMPFILE=1} \
			"$MAPCP" -e "${engines[(i - 1) % ${#engines[@]}]}" \
			"$CONC_DIR/src/s$i" "$dir/dest" 2>"$T/err.$i" &
		pids[i]=$!
	done
	for i in $(seq "$WRITERS"); do
		st[i]=0
		wait "${pids[i]}" || st[i]=$?
	done
	mapfile -t sources < <(sources_matching "$dir/dest")
	for i in $(seq "$WRITERS"); do
		WHAT="$ROUND, writer $i (-e ${engines[(i - 1) % ${#engines[@]}]})"
		ERR=$T/err.$i
		FAULTS=$((FAULTS + 1))
		judged "${st[i]}" "$ERR" "$dir/dest" "$old" "${sources[@]}"
		# As cp: the writer that loses the race still succeeds.
		expect [ "${st[i]}" -eq 0 ]
		expect [ ! -s "$ERR" ]
	done
}

# rounds DIR EXISTS N ENGINE...: N rounds of writers into DIR, DEST there
# beforehand (mode 0640, which it keeps) if EXISTS is 1; DEST checked after
# each round.
rounds() {
	local dir=$1 exists=$2 n=$3 r mode
	shift 3
	for r in $(seq "$n"); do
		rm -f "$dir/dest"
		mode=$(printf '%o' $((0644 & ~0$(umask))))
		if [ "$exists" -eq 1 ]; then
			cp "$CONC_DIR/old" "$dir/dest"
			chmod 640 "$dir/dest"
			mode=640
		fi
		ROUND="$dir, DEST there: $exists, round $r"
		writers "$dir" "$@"
		WHAT=$ROUND
		expect [ "$(stat -c %F "$dir/dest")" = "regular file" ]
		expect [ "$(stat -c %h "$dir/dest")" -eq 1 ]
		expect [ "$(stat -c %a "$dir/dest")" = "$mode" ]
		expect [ "$(temps "$dir")" -eq 0 ]
		expect [ "$(ls -A "$dir")" = dest ] # nothing else at all
	done
}

# Where to race, and how many rounds there out of N: the tmpfs (as root)
# all N, the test directory (a disk) a quarter, or all N without the tmpfs.
places() {
	mkdir -p "$T/here"
	if mountpoint -q "$CONC_DIR/tmpfs"; then
		echo "$CONC_DIR/tmpfs $1"
		echo "$T/here $((($1 + 3) / 4))"
	else
		echo "$T/here $1"
	fi
}

@test "20 writers at once onto a DEST that exists: all exit 0, DEST one source, whole" {
	local dir n
	counts_reset
	while read -r dir n; do
		rounds "$dir" 1 "$n" auto
	done < <(places "$ROUNDS")
	tally_counts "concurrent:dest-exists"
	echo "# $RUNS writers: $COMPLETE complete, $CLEAN clean, $BAD bad"
	[ "$BAD" -eq 0 ]
}

@test "20 writers at once onto a new DEST (O_TMPFILE, linkat meets EEXIST): all exit 0" {
	local dir n
	counts_reset
	while read -r dir n; do
		rounds "$dir" 0 "$n" auto
	done < <(places "$ROUNDS")
	tally_counts "concurrent:dest-new"
	echo "# $RUNS writers: $COMPLETE complete, $CLEAN clean, $BAD bad"
	[ "$BAD" -eq 0 ]
}

@test "20 writers at once, every engine among them: all exit 0, DEST one source, whole" {
	local dir n
	counts_reset
	while read -r dir n; do
		rounds "$dir" 1 "$n" "${ALL_ENGINES[@]}"
		rounds "$dir" 0 "$n" "${ALL_ENGINES[@]}"
	done < <(places 4)
	tally_counts "concurrent:mixed-engines"
	echo "# $RUNS writers: $COMPLETE complete, $CLEAN clean, $BAD bad"
	[ "$BAD" -eq 0 ]
}

@test "20 writers at once with named temporaries (no O_TMPFILE): all exit 0, none left" {
	local dir n
	PRELOAD=${MAPCP_TESTS:-$BATS_TEST_DIRNAME/../../build/tests}/fault-shim.so
	[ -e "$PRELOAD" ] || skip "no fault shim at $PRELOAD (make check-faults builds it)"
	counts_reset
	while read -r dir n; do
		rounds "$dir" 1 "$n" auto rw mmap
		rounds "$dir" 0 "$n" auto rw mmap
	done < <(places 8)
	tally_counts "concurrent:named-temps"
	echo "# $RUNS writers: $COMPLETE complete, $CLEAN clean, $BAD bad"
	[ "$BAD" -eq 0 ]
}
