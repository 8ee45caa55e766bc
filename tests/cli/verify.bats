#!/usr/bin/env bats
# --verify and --progress: a corrupted copy is caught and discarded, and the
# progress line's plain form (stderr not a terminal) says what it should.

load helpers

@test "--verify catches a byte flipped by the test engine and keeps DEST" {
	random_file src 3000000
	echo old >dst
	# The test engine really corrupts: without --verify the copy differs.
	MAPCP_FAIL=FLIP:100 run "$MAPCP_HOOKS" -e fail src flipped
	[ "$status" -eq 0 ]
	! cmp -s src flipped
	MAPCP_FAIL=FLIP:2999999 run "$MAPCP_HOOKS" -e fail --verify src dst
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'dst' read back differs from 'src' (xxh3-128): the copy was discarded" ]
	[ "$(cat dst)" = old ]
	[ "$(entries)" -eq 3 ] # src, dst, flipped: no temporary left
	MAPCP_FAIL=FLIP:0 run "$MAPCP_HOOKS" -e fail --verify src new
	[ "$status" -eq 1 ]
	[ ! -e new ]
}

@test "--verify passes good copies by every engine and says so with --debug" {
	random_file src 1000000
	truncate -s 5M src
	for e in auto copy_file_range rw io_uring mmap-write mmap sendfile splice; do
		run "$MAPCP" -e "$e" --verify --debug src "dst-$e"
		[ "$status" -eq 0 ]
		[[ "$output" == *"read back, xxh3-128 matched"* ]]
		"$SPARSECMP" src "dst-$e"
	done
}

@test "--verify in a tree: the corrupted files fail, the others land" {
	mkdir src
	random_file src/small 50
	random_file src/big 500000
	MAPCP_FAIL=FLIP:1000 run "$MAPCP_HOOKS" -r -e fail --verify src out
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: 'out/big' read back differs from 'src/big' (xxh3-128): the copy was discarded" ]
	cmp src/small out/small
	[ ! -e out/big ]
}

@test "--verify on a stream says it could not read it twice" {
	mkfifo fifo
	head -c 10000 /dev/urandom >data
	cat data >fifo &
	run "$MAPCP" --verify --debug fifo copy
	[ "$status" -eq 0 ]
	[[ "$output" == *"not verified: a stream cannot be read twice"* ]]
	cmp data copy
}

@test "--progress=always on a pipe: a summary, no escapes" {
	mkdir src
	for i in $(seq 20); do random_file "src/f$i" 100000; done
	"$MAPCP" -r --progress=always src out 2>err | cat
	cat err
	# No terminal: no carriage returns and no escape sequences.
	! grep -q $'[\r\033]' err
	tail -n 1 err | grep -Eq '^mapcp: 20 copied, 0 skipped, 0 failed: 1\.9 MiB in [0-9.]+ s, .*/s$'
	diff -r src out
}

@test "--progress=auto and never print nothing when stderr is not a terminal" {
	random_file src 100000
	run "$MAPCP" --progress src a
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run "$MAPCP" --progress=never src b
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	LC_ALL=C run "$MAPCP" --progress=sometimes src c
	[ "$status" -eq 1 ]
	[[ "$output" == "mapcp: invalid argument 'sometimes' for '--progress'"* ]]
}

@test "--progress=auto on a terminal redraws one line, then the summary" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	# Slow enough to be seen: a FIFO fed for about a second and a half.
	mkfifo slow
	(for i in $(seq 15); do head -c 100000 /dev/urandom; sleep 0.1; done >slow) &
	run script -qec "'$MAPCP' --progress slow copy" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\r'* ]]
	[[ "$output" == *"mapcp: 1 copied, 0 skipped, 0 failed: 1.4 MiB in "* ]]
	[ "$(stat -c %s copy)" -eq 1500000 ]
}
