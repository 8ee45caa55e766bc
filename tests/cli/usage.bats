#!/usr/bin/env bats
# The command line's forms, usage errors and their messages.

load helpers

@test "--help lists every engine within 80 columns" {
	run "$MAPCP" --help
	[ "$status" -eq 0 ]
	for e in auto mmap mmap-write rw copy_file_range; do
		[[ "$output" == *" $e"* ]]
	done
	[ -z "$(printf '%s\n' "$output" | awk 'length > 80')" ]
	[[ "$output" != *fail* ]] # the test engine stays hidden
}

@test "--version" {
	run "$MAPCP" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^mapcp\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "no operands" {
	run "$MAPCP"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: missing file operand" ]
	[ "${lines[1]}" = "Try 'mapcp --help' for more information." ]
}

@test "one operand" {
	random_file a 10
	run "$MAPCP" a
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: missing destination file operand after 'a'" ]
}

@test "unknown option" {
	run "$MAPCP" --frobnicate a b
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == *"unrecognized option '--frobnicate'"* ]]
	[ "${lines[1]}" = "Try 'mapcp --help' for more information." ]
}

@test "bad sizes are usage errors" {
	random_file a 10
	for bad in 12Q 0 -5 1.5M ""; do
		run "$MAPCP" --window="$bad" a b
		[ "$status" -eq 1 ]
		[ "${lines[0]}" = "mapcp: invalid window size '$bad'" ]
		run "$MAPCP" --buffer="$bad" a b
		[ "$status" -eq 1 ]
		[ "${lines[0]}" = "mapcp: invalid buffer size '$bad'" ]
	done
	[ ! -e b ]
}

@test "sizes take suffixes" {
	random_file a 300000
	run "$MAPCP" -e mmap --window=64K a b
	[ "$status" -eq 0 ]
	cmp a b
	run "$MAPCP" -e rw --buffer=1M a c
	[ "$status" -eq 0 ]
	cmp a c
}

@test "unknown engine" {
	random_file a 10
	run "$MAPCP" -e warp a b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: unknown engine in 'warp'" ]
	run "$MAPCP" --engine=mmap, a b
	[ "$status" -eq 1 ]
	[ ! -e b ]
}

@test "several sources need a directory" {
	random_file a 10
	random_file b 10
	run "$MAPCP" a b c
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: target 'c' is not a directory" ]
	run "$MAPCP" -t nodir a
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: target 'nodir' is not a directory" ]
	mkdir d
	run "$MAPCP" -t d
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: missing file operand" ]
}
