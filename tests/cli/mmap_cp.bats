#!/usr/bin/env bats
# mmap_cp: the exercise's program, its interface kept and its bugs gone.

load helpers

@test "mmap_cp with any other number of arguments prints the usage" {
	random_file a 10
	for args in "" "a" "a b c" "--help"; do
		# shellcheck disable=SC2086
		run "$MMAP_CP" $args
		[ "$status" -eq 1 ]
		[ "$output" = "Usage: ./mmap_cp <from_file> <to_file>" ]
	done
}

@test "mmap_cp copies by mapping both files" {
	random_file a $((1024 * 1024))
	run "$MMAP_CP" a b
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	cmp a b
}

@test "mmap_cp really maps both files" {
	random_file a $((1024 * 1024))
	traced trace mmap,copy_file_range "$MMAP_CP" a c
	cmp a c
	[ "$(grep -c 'PROT_READ|PROT_WRITE, MAP_SHARED' trace)" -ge 1 ]
	[ "$(grep -c 'PROT_READ, MAP_SHARED' trace)" -ge 1 ]
	! grep -q 'copy_file_range' trace
}

@test "mmap_cp copies an empty file (the exercise's fails with EINVAL)" {
	: >empty
	run "$MMAP_CP" empty out
	[ "$status" -eq 0 ]
	[ -f out ]
	[ ! -s out ]
}

@test "mmap_cp copies sizes that are not page multiples" {
	for size in 1 4095 4097 12345 $((8 * 1024 * 1024 + 1)); do
		random_file "a$size" "$size"
		run "$MMAP_CP" "a$size" "b$size"
		[ "$status" -eq 0 ]
		cmp "a$size" "b$size"
	done
}

@test "mmap_cp refuses to copy a file onto itself (the exercise's truncates it)" {
	random_file a 5000
	cp a ref
	run "$MMAP_CP" a a
	[ "$status" -eq 1 ]
	[ "$output" = "mmap_cp: 'a' and 'a' are the same file" ]
	cmp a ref
}

@test "mmap_cp copies what flows through a FIFO" {
	mkfifo fifo
	(printf 'through the pipe\n' >fifo &)
	run "$MMAP_CP" fifo out
	[ "$status" -eq 0 ]
	[ "$(cat out)" = "through the pipe" ]
}

@test "mmap_cp reports a missing source in one line" {
	run "$MMAP_CP" missing out
	[ "$status" -eq 1 ]
	[ "$output" = "mmap_cp: cannot stat 'missing': No such file or directory" ]
	[ ! -e out ]
}
