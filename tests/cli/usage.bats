#!/usr/bin/env bats
# The command line's forms, usage errors and their messages.

load helpers

@test "--help lists every engine within 80 columns" {
	run "$MAPCP" --help
	[ "$status" -eq 0 ]
	for e in auto reflink copy_file_range rw io_uring mmap-write mmap \
		sendfile splice; do
		[[ "$output" == *" $e"* ]]
	done
	[ -z "$(printf '%s\n' "$output" | awk 'length > 80')" ]
	# The test engine stays hidden from the list.
	engines=$(printf '%s\n' "$output" | grep -E '^ {27}[a-z_ -]+$')
	[ -n "$engines" ]
	[[ "$engines" != *fail* ]]
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
	[ "${lines[1]}" = "mapcp: there is no option --frobnicate in mapcp (nor in cp)" ]
	[ "${lines[2]}" = "Try 'mapcp --help' for more information." ]
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

@test "memory is bounded by every option: --buffer above 64M, --window above 1G refused" {
	random_file a 300000
	for big in 65M 20G 65537K 67108865; do
		run "$MAPCP" --buffer="$big" a b
		[ "$status" -eq 1 ]
		[ "${lines[0]}" = "mapcp: invalid buffer size '$big': at most 64M, so that memory stays bounded" ]
	done
	run "$MAPCP" --window=1025M a b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: invalid window size '1025M': at most 1G, so that memory stays bounded" ]
	[ ! -e b ]
	"$MAPCP" -e rw --buffer=64M a b && cmp a b
	"$MAPCP" -e mmap --window=1G a c && cmp a c
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
	[[ "${lines[0]}" = "mapcp: unknown engine 'warp'; the engines are: "*", auto" ]]
	run "$MAPCP" --engine=mmap, a b
	[ "$status" -eq 1 ]
	[ ! -e b ]
}

@test "several sources need a directory" {
	random_file a 10
	random_file b 10
	run "$MAPCP" a b c
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: target 'c': No such file or directory" ]
	run "$MAPCP" -t nodir a
	[ "$status" -eq 1 ]
	[ "$output" = "mapcp: target directory 'nodir': No such file or directory" ]
	run "$MAPCP" -t a b
	[ "$output" = "mapcp: target directory 'a': Not a directory" ]
	mkdir d
	run "$MAPCP" -t d
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: missing file operand" ]
}

@test "--sparse and --reflink take auto, always or never" {
	random_file a 10
	LC_ALL=C run "$MAPCP" --sparse=sometimes a b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: invalid argument 'sometimes' for '--sparse'" ]
	[ "${lines[1]}" = "Valid arguments are:" ]
	[ "${lines[2]}" = "  - 'never'" ]
	LC_ALL=C run "$MAPCP" --reflink=perhaps a b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: invalid argument 'perhaps' for '--reflink'" ]
	[ ! -e b ]
}

@test "options that contradict each other are usage errors" {
	random_file a 10
	run "$MAPCP" --reflink --sparse=always a b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: --reflink can be used only with --sparse=auto" ]
	run "$MAPCP" --reflink=always -e mmap a b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: --reflink=always copies with the reflink engine only" ]
	run "$MAPCP" --reflink=never -e copy_file_range a b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "mapcp: --reflink=never excludes the engines reflink and copy_file_range" ]
	run "$MAPCP" --sparse=never -e reflink a b
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "mapcp: --sparse=never excludes the engines reflink and copy_file_range"* ]]
	[ ! -e b ]
}

@test "--queue-depth takes 1 to 1024" {
	random_file a 100000
	for bad in 0 1025 -1 x 4k ""; do
		run "$MAPCP" -e io_uring --queue-depth="$bad" a b
		[ "$status" -eq 1 ]
		[ "${lines[0]}" = "mapcp: invalid queue depth '$bad' (1 to 1024)" ]
	done
	run "$MAPCP" -e io_uring --queue-depth=1024 a b
	[ "$status" -eq 0 ]
	cmp a b
}

@test "--reflink=never and --sparse=never still copy, without sharing" {
	random_file a 100000
	run "$MAPCP" --debug --reflink=never a b
	[ "$status" -eq 0 ]
	# copy_file_range shares nothing where the filesystem cannot share
	case $(stat -f -c %T .) in
	ext2/ext3 | tmpfs)
		[[ "$output" == "'a' -> 'b': engine copy_file_range (auto: "*"cannot share blocks"* ]] ;;
	*)
		[[ "$output" == "'a' -> 'b': engine rw (auto's first choice that may not share blocks)"* ]] ;;
	esac
	cmp a b
	truncate -s 1M h
	run "$MAPCP" --debug --sparse=never h n
	[ "$status" -eq 0 ]
	cmp h n
	[ "$(stat -c %b n)" -ge 2048 ]
}

@test "--help and the man pages name the same options" {
	root=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	help=$("$MAPCP" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	# mdoc writes a long option as "Fl \-name".
	man=$(grep -o 'Fl \\-[a-z][a-z-]*' "$root/man/mapcp.1" |
		sed 's/^Fl \\/-/' | sort -u)
	echo "help: $help"
	echo "man:  $man"
	[ "$help" = "$man" ]
	[ "$(echo "$help" | wc -l)" -ge 30 ]
	# And every short option.
	for o in $("$MAPCP" --help | grep -Eo '^  -[a-zA-Z]' | tr -d ' -'); do
		grep -q "Fl $o\b" "$root/man/mapcp.1" || { echo "no -$o"; false; }
	done
	bench_help=$("$MAPCP-bench" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
	bench_man=$(grep -o 'Fl \\-[a-z][a-z-]*' "$root/man/mapcp-bench.1" |
		sed 's/^Fl \\/-/' | sort -u)
	[ "$bench_help" = "$bench_man" ]
}

@test "messages carry the name mapcp was run by: installed as cp, they read cp:" {
	ln -s "$MAPCP" cp
	run ./cp nowhere x
	[ "$status" -eq 1 ]
	[ "$output" = "cp: cannot stat 'nowhere': No such file or directory" ]
	run ./cp --frobnicate a b
	[ "$status" -eq 1 ]
	[ "${lines[1]}" = "Try 'cp --help' for more information." ]
	run ./cp --help
	[ "${lines[0]}" = "Usage: cp [OPTION]... SOURCE DEST" ]
}
